package e2e

// The Django fixture (e2e/testdata/django): a real web application to log
// in to, Debian's python3-django serving Django's own LoginView behind its
// session, authentication and CSRF middleware. A login flow in a load plan
// (cookie jar, CSRF token, redirect) is only proven against a server whose
// CSRF check and session rotation are the ones users meet, not a Go stub
// that agrees with lab by construction. Django writes its own request log
// (labsite/requestlog.py), so tests judge from the server's side: who
// logged in, how often, and which session each request carried.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/runtime/needs"
)

// djangoRequest is one line of the fixture's request log.
type djangoRequest struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Status  int    `json:"status"`
	User    string `json:"user"`    // "" when anonymous after the request
	Session string `json:"session"` // the session cookie it arrived with, "" if none
	Login   bool   `json:"login"`   // a login POST that succeeded
}

// djangoProbe is the path startDjango polls until Django answers.
const djangoProbe = "/lab-ready/"

// startDjango runs the fixture on a free loopback port with users
// user1..userN (password secret-pw) in a fresh SQLite database, and returns
// its base URL and a function that reads Django's request log so far.
// Without Python or Django the test skips, or fails under CI.
func startDjango(t *testing.T, users int) (host string, requests func() []djangoRequest) {
	t.Helper()
	python := djangoPython(t)
	project, err := filepath.Abs("e2e/testdata/django")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "requests.jsonl")
	env := append(os.Environ(),
		"LAB_DJANGO_DB="+filepath.Join(dir, "db.sqlite3"),
		"LAB_DJANGO_REQUEST_LOG="+logPath,
		"DJANGO_SETTINGS_MODULE=labsite.settings",
		// No __pycache__ folders left in the repository.
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
	)
	manage := func(args ...string) *exec.Cmd {
		cmd := exec.Command(python, append([]string{"manage.py"}, args...)...)
		cmd.Dir, cmd.Env = project, env
		return cmd
	}
	if out, err := manage("mkusers", "--migrate", strconv.Itoa(users)).CombinedOutput(); err != nil {
		t.Fatalf("django migrate and mkusers: %v\n%s", err, out)
	}

	addr := clitest.FreePort(t)
	// --noreload: one process, the one we kill; the autoreloader would
	// fork a child that outlives it. Threaded (the default), as many
	// virtual users arrive at once.
	cmd := manage("runserver", addr, "--noreload")
	out := &clitest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("django runserver output:\n%s", out.String())
		}
	})

	host = "http://" + addr
	// Generous: Python and Django start slowly on a busy 2-core machine.
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		// Any answer from Django will do: a 404 of a path the log
		// reader drops, so probes never count as the test's requests.
		resp, err := client.Get(host + djangoProbe)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				break
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-exited:
			t.Fatalf("django runserver exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("django did not answer within 30s (%v): %s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	requests = func() []djangoRequest {
		t.Helper()
		data, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		var rs []djangoRequest
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var r djangoRequest
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("django request log: %v: %q", err, sc.Text())
			}
			if r.Path != djangoProbe {
				rs = append(rs, r)
			}
		}
		return rs
	}
	return host, requests
}

// djangoPython returns a python3 that imports Django. Debian's
// python3-django lives in /usr/lib/python3/dist-packages, which only
// Debian's /usr/bin/python3 sees: a python3 earlier on PATH (pyenv, a
// virtualenv) does not, so that one is tried after it.
func djangoPython(t *testing.T) string {
	t.Helper()
	candidates := []string{needs.Tool(t, "python3", "Debian package python3")}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		candidates = append(candidates, "/usr/bin/python3")
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import django").Run() == nil {
			return py
		}
	}
	needs.Missing(t, "Django is not importable by %v (Debian package python3-django)", candidates)
	return ""
}

var csrfField = regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`)

// djangoLogin logs user in as a browser does: the form's CSRF token with
// the csrftoken cookie, then Django's redirect to LOGIN_REDIRECT_URL.
// It returns the session key /whoami/ reports.
func djangoLogin(c *http.Client, host, user string) (string, error) {
	resp, err := c.Get(host + "/accounts/login/")
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("login page: %s, no csrfmiddlewaretoken in\n%s", resp.Status, page)
	}
	form := url.Values{"csrfmiddlewaretoken": {string(m[1])}, "username": {user}, "password": {"secret-pw"}, "next": {""}}
	resp, err = c.PostForm(host+"/accounts/login/", form)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/whoami/" {
		return "", fmt.Errorf("login POST: %s to %q, want 302 to /whoami/", resp.Status, loc)
	}
	var who struct{ User, Session string }
	if err := djangoJSON(c, host+"/whoami/", &who); err != nil {
		return "", err
	}
	if who.User != user || who.Session == "" {
		return "", fmt.Errorf("/whoami/ says %+v, want user %s with a session", who, user)
	}
	return who.Session, nil
}

func djangoJSON(c *http.Client, u string, v any) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s\n%s", u, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}

// djangoClient is one browser: its own cookie jar, and redirects left to
// the caller, who checks where the login sends it.
func djangoClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       20 * time.Second, // generous: CI runs load tests beside it
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestDjangoHarness proves the Django fixture with Go's own client, not
// lab: three users log in at once and browse; Django's request log shows
// one login each and one session per user, its own. POSTs without the
// CSRF token are refused, at the login form (LoginView's own check) and at
// logout (only CsrfViewMiddleware guards it), so the middleware is on.
func TestDjangoHarness(t *testing.T) {
	t.Parallel()
	host, requests := startDjango(t, 3)
	users := []string{"user1", "user2", "user3"}
	sessions := make([]string, len(users))
	clients := make([]*http.Client, len(users))
	var wg sync.WaitGroup
	for i, user := range users {
		clients[i] = djangoClient(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[i]
			s, err := djangoLogin(c, host, user)
			if err != nil {
				t.Errorf("%s: %v", user, err)
				return
			}
			sessions[i] = s
			for range 2 {
				var item struct {
					ID   int
					User string
				}
				if err := djangoJSON(c, host+"/items/1/", &item); err != nil {
					t.Errorf("%s: %v", user, err)
				} else if item.ID != 1 || item.User != user {
					t.Errorf("%s: /items/1/ says %+v", user, item)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	get := func(c *http.Client, path string) *http.Response {
		t.Helper()
		resp, err := c.Get(host + path)
		if err != nil {
			t.Fatal(err)
		}
		// Read to the end: the connection is reused, and Django does
		// not log a broken pipe.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	post := func(c *http.Client, path string, form url.Values, header http.Header) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, host+path, bytes.NewBufferString(form.Encode()))
		req.Header = header
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// The csrftoken cookie is there but the form's token is not.
	anon := djangoClient(t)
	get(anon, "/accounts/login/")
	if resp := post(anon, "/accounts/login/", url.Values{"username": {"user1"}, "password": {"secret-pw"}}, http.Header{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login POST without the CSRF token: %s, want 403 Forbidden", resp.Status)
	}
	c := clients[0]
	if resp := post(c, "/accounts/logout/", nil, http.Header{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout POST without the CSRF token: %s, want 403 Forbidden", resp.Status)
	}
	// With the token in X-CSRFToken, as a page's script sends it.
	var token string
	u, _ := url.Parse(host)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "csrftoken" {
			token = k.Value
		}
	}
	if resp := post(c, "/accounts/logout/", nil, http.Header{"X-Csrftoken": {token}}); resp.StatusCode != http.StatusFound {
		t.Errorf("logout POST with the CSRF token: %s, want 302 Found", resp.Status)
	}
	if resp := get(c, "/whoami/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/accounts/login/?next=/whoami/" {
		t.Errorf("/whoami/ after logout: %s to %q, want 302 to the login page", resp.Status, resp.Header.Get("Location"))
	}

	logins := map[string]int{}
	later := map[string]map[string]bool{} // user → the sessions its requests carried
	refused := 0
	loggedOut := false
	for _, r := range requests() {
		switch {
		case r.Login:
			logins[r.User]++
		case r.User != "":
			if later[r.User] == nil {
				later[r.User] = map[string]bool{}
			}
			later[r.User][r.Session] = true
		case r.Path == "/accounts/logout/" && r.Status == http.StatusFound:
			loggedOut = r.Session == sessions[0]
		}
		if r.Method == http.MethodPost && r.Status == http.StatusForbidden {
			refused++
		}
	}
	owner := map[string]string{}
	for i, user := range users {
		if logins[user] != 1 {
			t.Errorf("%s logged in %d times, want once", user, logins[user])
		}
		if len(later[user]) != 1 || !later[user][sessions[i]] {
			t.Errorf("%s's later requests carried sessions %v, want only %q (its /whoami/)", user, later[user], sessions[i])
		}
		if other, ok := owner[sessions[i]]; ok {
			t.Errorf("%s and %s share session %q", other, user, sessions[i])
		}
		owner[sessions[i]] = user
	}
	if len(logins) != len(users) || refused != 2 || !loggedOut {
		t.Errorf("logins %v, %d refused POSTs, logout of %s's session logged: %v; want one login each, 2 refusals, the logout\n%+v",
			logins, refused, users[0], loggedOut, requests())
	}
}

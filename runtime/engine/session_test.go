package engine_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/runtime/engine"
	"lab/runtime/result"
)

// loginTarget is a target with Django's login pattern: GET /login sets a
// csrftoken cookie; POST /login must send it back as a cookie and as the
// form's csrfmiddlewaretoken, then gets a sessionid cookie, a rotated
// csrftoken and a 302; GET /account needs the session. It counts, from
// its own side, the logins per user and the requests per session.
type loginTarget struct {
	mu       sync.Mutex
	csrf     map[string]bool   // tokens handed out
	sessions map[string]string // session → user
	logins   map[string]int    // user → logins
	perSess  map[string]int    // session → requests to /account
	refused  int               // requests refused for a missing session or token
	ctypes   map[string]int    // Content-Type of POST /echo
}

func newLoginTarget() *loginTarget {
	return &loginTarget{csrf: map[string]bool{}, sessions: map[string]string{}, logins: map[string]int{},
		perSess: map[string]int{}, ctypes: map[string]int{}}
}

func token() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (lt *loginTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	switch {
	case r.URL.Path == "/login" && r.Method == "GET":
		t := token()
		lt.csrf[t] = true
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: t, Path: "/"})
		fmt.Fprintf(w, `<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="%s"></form>`, t)
	case r.URL.Path == "/login" && r.Method == "POST":
		c, err := r.Cookie("csrftoken")
		if err != nil || !lt.csrf[c.Value] || r.FormValue("csrfmiddlewaretoken") != c.Value {
			lt.refused++
			http.Error(w, "CSRF verification failed", http.StatusForbidden)
			return
		}
		user := r.FormValue("username")
		sid := token()
		lt.sessions[sid] = user
		lt.logins[user]++
		delete(lt.csrf, c.Value)
		t := token()
		lt.csrf[t] = true
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: sid, Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: t, Path: "/"})
		w.Header().Set("Location", "/account")
		w.WriteHeader(http.StatusFound)
	case r.URL.Path == "/account":
		c, err := r.Cookie("sessionid")
		user, ok := "", false
		if err == nil {
			user, ok = lt.sessions[c.Value]
		}
		if !ok {
			lt.refused++
			w.Header().Set("Location", "/login?next=/account")
			w.WriteHeader(http.StatusFound)
			return
		}
		lt.perSess[c.Value]++
		fmt.Fprintf(w, `{"user": %q}`, user)
	case r.URL.Path == "/echo":
		io.Copy(io.Discard, r.Body)
		lt.ctypes[r.Header.Get("Content-Type")]++
		w.Write([]byte("ok"))
	default:
		http.NotFound(w, r)
	}
}

const loginWorkload = `
variable "host" {
  default = "http://127.0.0.1:1"
}
variable "jar" {
  default = "user"
}
workload "w" {
  host    = var.host
  cookies = var.jar
  user "u" {
    wait = constant("100ms")
    start {
      step "login page" {
        get = "/login"
      }
      step "login" {
        post = "/login"
        form = {
          username            = "user${user.id}"
          password            = "secret"
          csrfmiddlewaretoken = cookie("csrftoken")
        }
        capture = { session = response.cookies["sessionid"], n = length(response.header_values["set-cookie"]) }
        expect {
          status = 302
        }
      }
    }
    task "account" {
      get = "/account"
      headers = { "X-Session-Seen" = captured.session }
      expect {
        status = 200
        json   = ["user"]
      }
    }
  }
}
`

// TestStartLogsInOncePerUser: a start block logs each user in once, with
// the CSRF token read from the cookie jar, and every later pass carries
// the session cookie it set, under cookies = "user" and "pass" alike;
// proved from the target's side (its logins per user and its requests
// per session), not from lab's counters. In the open model every arrival
// is a new user and logs in once.
func TestStartLogsInOncePerUser(t *testing.T) {
	shapes := map[string]string{"closed": `
shape "s" {
  stage {
    until = "2s"
    users = 5
  }
}`, "open": `
shape "s" {
  stage {
    until = "2s"
    rate  = "20/s"
  }
}`}
	for _, c := range []struct{ model, jar string }{{"closed", "user"}, {"closed", "pass"}, {"open", "user"}} {
		lt := newLoginTarget()
		host := serve(t, lt)
		r := runSrc(t, loginWorkload+shapes[c.model], "host="+host, "jar="+c.jar)
		counts := map[string][2]int64{}
		for _, q := range r.Requests {
			counts[q.Name] = [2]int64{q.Count, q.Failures}
		}
		lt.mu.Lock()
		logins, sessions, refused := lt.logins, lt.perSess, lt.refused
		var accountReqs int
		for _, n := range sessions {
			accountReqs += n
		}
		lt.mu.Unlock()
		name := c.model + "/" + c.jar
		if refused != 0 || counts["POST /login"][1] != 0 || counts["GET /account"][1] != 0 {
			t.Errorf("%s: the target refused %d requests; lab counted %v", name, refused, counts)
		}
		for u, n := range logins {
			if n != 1 {
				t.Errorf("%s: %s logged in %d times, want once", name, u, n)
			}
		}
		wantLogins := 5
		if c.model == "open" {
			wantLogins = int(counts["POST /login"][0])
		}
		if len(logins) != wantLogins || int64(len(logins)) != counts["POST /login"][0] {
			t.Errorf("%s: the target saw %d users log in, lab sent %d logins; want %d", name, len(logins), counts["POST /login"][0], wantLogins)
		}
		if int64(accountReqs) != counts["GET /account"][0] || accountReqs < wantLogins {
			t.Errorf("%s: the target served %d pages to a session; lab counted %d", name, accountReqs, counts["GET /account"][0])
		}
		if c.model == "closed" {
			for s, n := range sessions {
				if n < 3 {
					t.Errorf("%s: session %s… carried only %d passes in 2 s: the session is not kept between passes", name, s[:6], n)
				}
			}
		}
	}
}

// TestNoJarSendsNoCookie: without a jar (the default), a cookie the target
// set is not sent back, so the CSRF check refuses the login: the start
// fails and is counted, and the user's tasks never run.
func TestNoJarSendsNoCookie(t *testing.T) {
	lt := newLoginTarget()
	host := serve(t, lt)
	src := strings.Replace(loginWorkload, "cookie(\"csrftoken\")", "\"none\"", 1) + `
shape "s" {
  stage {
    until = "1s"
    users = 2
  }
}`
	r := runSrc(t, src, "host="+host, "jar=none")
	for _, q := range r.Requests {
		switch q.Name {
		case "POST /login":
			if q.Count == 0 || q.Failures != q.Count {
				t.Errorf("POST /login: %d sent, %d failed; want every login refused", q.Count, q.Failures)
			}
		case "GET /account":
			if q.Count != 0 {
				t.Errorf("GET /account was sent %d times by users whose start failed", q.Count)
			}
		}
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if len(lt.logins) != 0 {
		t.Errorf("the target logged in %v without the CSRF cookie", lt.logins)
	}
}

// TestWrittenContentTypeWins: a Content-Type the plan writes is the one
// sent, on the request or on the workload, over the type of the body kind
// (it was replaced by text/plain before).
func TestWrittenContentTypeWins(t *testing.T) {
	lt := newLoginTarget()
	host := serve(t, lt)
	src := `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    task "xml" {
      post    = "/echo"
      name    = "/echo xml"
      headers = { "content-type" = "application/xml" }
      body    = "<a>${user.id}</a>"
    }
    task "soap" {
      post    = "/echo"
      name    = "/echo soap"
      headers = { "Content-Type" = "application/soap+xml; charset=utf-8" }
      body    = "<Envelope/>"
    }
    task "plain" {
      post = "/echo"
      name = "/echo plain"
      body = "x"
    }
    task "json" {
      post = "/echo"
      name = "/echo json"
      json = { a = 1 }
    }
  }
}
shape "s" {
  stage {
    until = "1s"
    rate  = "40/s"
  }
}`
	runSrc(t, src, "host="+host)
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for _, want := range []string{"application/xml", "application/soap+xml; charset=utf-8", "text/plain; charset=utf-8", "application/json"} {
		if lt.ctypes[want] == 0 {
			t.Errorf("no request arrived with Content-Type %q; the target saw %v", want, lt.ctypes)
		}
	}
	if len(lt.ctypes) != 4 {
		t.Errorf("the target saw the types %v; want exactly the four written", lt.ctypes)
	}
}

// TestPassValuesAreSharedByAPass: a value drawn in a pass block is the
// same in every request of the pass and drawn anew for the next, in both
// models; seen from the target, which gets each user's requests in order.
func TestPassValuesAreSharedByAPass(t *testing.T) {
	var mu sync.Mutex
	byUser := map[string][]string{}
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		u := r.Header.Get("X-User")
		byUser[u] = append(byUser[u], r.URL.Path)
		mu.Unlock()
	}))
	const src = `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    sequence "buy" {
      pass {
        product = random_int(1, 1000000)
        twice   = pass.product * 2
      }
      step "view" {
        get     = "/view/${pass.product}"
        name    = "/view/:id"
        headers = { "X-User" = "${user.id}" }
      }
      step "add" {
        post    = "/add/${pass.twice}"
        name    = "/add/:id"
        headers = { "X-User" = "${user.id}" }
      }
    }
  }
}
`
	shapes := map[string]string{"closed": "shape \"s\" {\n  stage {\n    until = \"1s\"\n    users = 3\n  }\n}\n",
		"open": "shape \"s\" {\n  stage {\n    until = \"1s\"\n    rate = \"30/s\"\n  }\n}\n"}
	for _, model := range []string{"closed", "open"} {
		mu.Lock()
		clear(byUser)
		mu.Unlock()
		runSrc(t, src+shapes[model], "host="+host)
		mu.Lock()
		passes, distinct := 0, map[string]bool{}
		for u, paths := range byUser {
			for i := 0; i+1 < len(paths); i += 2 {
				var a, b int
				fmt.Sscanf(paths[i], "/view/%d", &a)
				fmt.Sscanf(paths[i+1], "/add/%d", &b)
				if a == 0 || b != 2*a {
					t.Errorf("%s model, user %s: a pass viewed %s and added %s", model, u, paths[i], paths[i+1])
				}
				passes++
				distinct[paths[i]] = true
			}
		}
		mu.Unlock()
		if passes < 10 || len(distinct) < passes*9/10 {
			t.Errorf("%s model: %d passes viewed %d distinct products: not drawn anew per pass", model, passes, len(distinct))
		}
	}
}

// TestRepeatSendsAStepNTimes: repeat = random_int(2, 4) sends the step two
// to four times in a row, repeat.index counting 0, 1, …, drawn anew per
// pass; repeat = 0 sends nothing; a repeat that is not a number fails the
// step, unsent, with the reason. Seen from the target, in both models.
func TestRepeatSendsAStepNTimes(t *testing.T) {
	var mu sync.Mutex
	byUser := map[string][]string{}
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		u := r.Header.Get("X-User")
		byUser[u] = append(byUser[u], r.URL.Path)
		mu.Unlock()
		w.Write([]byte(`{"n": "many"}`))
	}))
	const src = `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    sequence "browse" {
      step "home" {
        get     = "/home"
        headers = { "X-User" = "${user.id}" }
        capture = { n = response.json.n }
      }
      step "list" {
        get     = "/list/${repeat.index}"
        name    = "/list/:page"
        repeat  = random_int(2, 4)
        headers = { "X-User" = "${user.id}" }
      }
      step "never" {
        get    = "/never"
        repeat = 0
      }
      step "end" {
        get     = "/end"
        headers = { "X-User" = "${user.id}" }
      }
    }
    task "bad" {
      weight = 0
      get    = "/bad"
    }
  }
}
`
	shapes := map[string]string{"closed": "shape \"s\" {\n  stage {\n    until = \"1s\"\n    users = 3\n  }\n}\n",
		"open": "shape \"s\" {\n  stage {\n    until = \"1s\"\n    rate = \"30/s\"\n  }\n}\n"}
	for _, model := range []string{"closed", "open"} {
		mu.Lock()
		clear(byUser)
		mu.Unlock()
		r := runSrc(t, src+shapes[model], "host="+host)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", model, err)
		}
		mu.Lock()
		lengths := map[int]int{}
		for u, paths := range byUser {
			for i := 0; i < len(paths); {
				if paths[i] != "/home" {
					t.Fatalf("%s model, user %s: a pass starts with %s: %v", model, u, paths[i], paths)
				}
				k := 0
				for i+1+k < len(paths) && paths[i+1+k] == fmt.Sprintf("/list/%d", k) {
					k++
				}
				end := i + 1 + k
				if end == len(paths) {
					break // the run ended in this pass
				}
				if paths[end] != "/end" || k < 2 || k > 4 {
					t.Fatalf("%s model, user %s: a pass sent %v", model, u, paths[i:end+1])
				}
				lengths[k]++
				i = end + 1
			}
		}
		mu.Unlock()
		if len(lengths) != 3 {
			t.Errorf("%s model: passes repeated the step %v times: want 2, 3 and 4, drawn per pass", model, lengths)
		}
	}
	// A repeat drawn from a capture that is not a number fails the step.
	bad := strings.Replace(src, "random_int(2, 4)", "captured.n", 1)
	r := runSrc(t, bad+shapes["closed"], "host="+host)
	for _, q := range r.Requests {
		if q.Name == "GET /list/:page" && (q.Count == 0 || q.Failures != q.Count) {
			t.Errorf("a repeat that is not a number: %d sent, %d failed", q.Count, q.Failures)
		}
	}
	found := false
	for _, f := range r.Failures {
		found = found || strings.Contains(f.Reason, "repeat:") && strings.Contains(f.Reason, "not a number")
	}
	if !found {
		t.Errorf("no failure says the repeat is not a number: %+v", r.Failures)
	}
}

// TestWhenSkipsAndOnFailureGoesOn: a step whose when is false is not sent
// and counts as skipped (sent + skipped = passes that reached it, seen at
// the target); a sequence with on_failure = "continue" goes on after a
// failed step, as Locust and k6 do, where the default ends the pass.
func TestWhenSkipsAndOnFailureGoesOn(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/broken") {
			w.WriteHeader(500)
		}
	}))
	const src = `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    sequence "visit" {
      on_failure = "continue"
      pass {
        vote = random_int(1, 10) <= 3
      }
      step "home" {
        get = "/home"
      }
      step "vote" {
        post = "/vote"
        when = pass.vote
      }
      step "broken" {
        get = "/broken"
      }
      step "after" {
        get = "/after"
      }
    }
    sequence "strict" {
      step "broken" {
        get  = "/broken-strict"
      }
      step "never" {
        get = "/never"
      }
    }
  }
}
`
	shapes := map[string]string{"closed": "shape \"s\" {\n  stage {\n    until = \"1s\"\n    users = 3\n  }\n}\n",
		"open": "shape \"s\" {\n  stage {\n    until = \"1s\"\n    rate = \"100/s\"\n  }\n}\n"}
	for _, model := range []string{"closed", "open"} {
		mu.Lock()
		clear(hits)
		mu.Unlock()
		r := runSrc(t, src+shapes[model], "host="+host)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", model, err)
		}
		vote := r.RequestByName("POST /vote")
		home := r.RequestByName("GET /home")
		mu.Lock()
		h := map[string]int{}
		for k, v := range hits {
			h[k] = v
		}
		mu.Unlock()
		if vote == nil || home == nil || vote.Failures != 0 {
			t.Fatalf("%s: no vote or home in the Run: %+v", model, r.Requests)
		}
		// A pass or two per user may be cut short by the end of the run.
		if d := home.Count - vote.Count - vote.Skipped; int64(h["/vote"]) != vote.Count || d < 0 || d > 3 {
			t.Errorf("%s: the target got %d votes; lab counts %d sent and %d skipped of %d passes", model, h["/vote"], vote.Count, vote.Skipped, home.Count)
		}
		if share := float64(vote.Count) / float64(home.Count); share < 0.15 || share > 0.45 {
			t.Errorf("%s: %.0f%% of passes voted, want about 30%%", model, share*100)
		}
		// on_failure = "continue": every pass that reached /broken went on.
		if d := h["/broken"] - h["/after"]; d < 0 || d > 3 || h["/after"] == 0 {
			t.Errorf("%s: %d passes failed at /broken, %d went on to /after", model, h["/broken"], h["/after"])
		}
		if h["/never"] != 0 {
			t.Errorf("%s: the strict sequence sent %d requests after its failed step", model, h["/never"])
		}
	}
}

// TestExpectHeadersCookiesThat: a response fails when it lacks a header
// value, a cookie or a condition the plan expects, with the reason; and
// passes when it has them.
func TestExpectHeadersCookiesThat(t *testing.T) {
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/good" {
			http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "x"})
			w.Write([]byte(`{"total": 20, "items": [1, 2]}`))
			return
		}
		w.Write([]byte(`{"total": 19, "items": []}`))
	}))
	src := `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    sequence "s" {
      on_failure = "continue"
      pass {
        qty = 2
      }
%s
    }
  }
}
shape "s" {
  stage {
    until = "500ms"
    users = 1
  }
}
`
	step := func(path string) string {
		return fmt.Sprintf(`      step %[1]q {
        get = "/%[1]s"
        expect {
          headers = { "Content-Type" = "application/json" }
          cookies = ["sessionid"]
          that    = [response.json.total == pass.qty * 10, length(response.json.items) > 0]
        }
      }
`, path)
	}
	r := runSrc(t, fmt.Sprintf(src, step("good")+step("bad")), "host="+host)
	good, bad := r.RequestByName("GET /good"), r.RequestByName("GET /bad")
	if good == nil || bad == nil || good.Count == 0 || good.Failures != 0 || bad.Failures != bad.Count {
		t.Fatalf("good %+v, bad %+v: want every good one to pass and every bad one to fail", good, bad)
	}
	for _, f := range r.Failures {
		if f.Name == "GET /bad" && f.Reason != "no cookie sessionid set" {
			t.Errorf("GET /bad failed with %q; want the first unmet expectation, the cookie", f.Reason)
		}
	}
	// Without the cookie expectation, the condition decides.
	r = runSrc(t, strings.ReplaceAll(fmt.Sprintf(src, step("bad")), `cookies = ["sessionid"]`, ""), "host="+host)
	if len(r.Failures) != 1 || r.Failures[0].Reason != "expect that response.json.total == pass.qty * 10 is false" {
		t.Errorf("failures %+v; want the condition as written", r.Failures)
	}
}

// TestInsecureSkipVerify: an https target with a self-signed certificate
// fails every request, unless the workload says insecure_skip_verify; and
// an https target is reached at all (fasthttp refused every request whose
// URI said http before).
func TestInsecureSkipVerify(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	for _, insecure := range []bool{false, true} {
		src := fmt.Sprintf(`
variable "host" {
  default = "https://127.0.0.1:1"
}
workload "w" {
  host                 = var.host
  insecure_skip_verify = %v
  user "u" {
    task "t" {
      get = "/"
    }
  }
}
shape "s" {
  stage {
    until = "300ms"
    users = 1
  }
}
`, insecure)
		r := runSrc(t, src, "host="+srv.URL)
		q := r.RequestByName("GET /")
		if !insecure && (len(r.Failures) == 0 || !strings.Contains(r.Failures[0].Reason, "certificate")) {
			t.Errorf("a self-signed certificate: failures %+v, want the certificate named", r.Failures)
		}
		if q == nil || q.Count == 0 || (q.Failures == 0) != insecure {
			t.Errorf("insecure_skip_verify = %v: %d sent, %d failed: %+v", insecure, q.Count, q.Failures, r.Failures)
		}
	}
}

// TestRedirects: a request follows redirects to its own host, up to its
// limit, as one request timed to the last answer: 302 turns a POST into a
// GET without its body, 307 keeps the method and body, the jar takes each
// hop's cookies, a redirect to another host is not followed (its 3xx is
// the answer), one hop too many fails. Counted at the target: each hop
// is a request it served, and the Run's count plus redirects equal them.
func TestRedirects(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Method+" "+r.URL.Path+" "+string(body)]++
		mu.Unlock()
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "s1", Path: "/"})
			http.Redirect(w, r, "/mid", http.StatusFound)
		case "/mid":
			http.Redirect(w, r, "http://"+r.Host+"/end", http.StatusTemporaryRedirect)
		case "/end":
			if c, err := r.Cookie("sessionid"); err != nil || c.Value != "s1" {
				http.Error(w, "no session", 403)
				return
			}
			w.Write([]byte(`{"at": "end"}`))
		case "/keep":
			http.Redirect(w, r, "/kept", http.StatusPermanentRedirect)
		case "/kept":
			w.Write(body)
		case "/away":
			http.Redirect(w, r, "http://example.invalid/x", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	const src = `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host      = var.host
  cookies   = "pass"
  redirects = 5
  user "u" {
    sequence "s" {
      on_failure = "continue"
      step "login" {
        post    = "/login"
        form    = { user = "a" }
        capture = { at = response.json.at }
        expect {
          status = 200
        }
      }
      step "keep" {
        post = "/keep"
        body = "payload"
        expect {
          body_contains = "payload"
        }
      }
      step "away" {
        get = "/away"
        expect {
          status = 302
        }
      }
      step "loop" {
        get       = "/loop"
        redirects = 3
      }
      step "none" {
        get       = "/away"
        name      = "/away (not followed)"
        redirects = 0
      }
    }
  }
}
shape "s" {
  stage {
    until = "1s"
    users = 2
  }
}
`
	r := runSrc(t, src, "host="+host)
	mu.Lock()
	defer mu.Unlock()
	login, keep, loop := r.RequestByName("POST /login"), r.RequestByName("POST /keep"), r.RequestByName("GET /loop")
	if login.Count == 0 || login.Failures != 0 || login.Redirects != 2*login.Count {
		t.Errorf("POST /login: %d sent, %d failed, %d redirects: want each to follow two to a 200 (%+v)", login.Count, login.Failures, login.Redirects, r.Failures)
	}
	if int64(seen["POST /login user=a"]) != login.Count || int64(seen["GET /mid "]) != login.Count || int64(seen["GET /end "]) != login.Count {
		t.Errorf("the target saw %v; want each login, then GET /mid (302 drops the body) and GET /end", seen)
	}
	if keep.Failures != 0 || int64(seen["POST /kept payload"]) != keep.Count {
		t.Errorf("308: %d failures, the target got %d POSTs with the body at /kept of %d", keep.Failures, seen["POST /kept payload"], keep.Count)
	}
	if q := r.RequestByName("GET /away"); q.Failures != 0 || q.Redirects != 0 {
		t.Errorf("a redirect to another host: %+v", q)
	}
	if loop.Failures != loop.Count || loop.Redirects != 3*loop.Count || int64(seen["GET /loop "]) != 4*loop.Count {
		t.Errorf("a redirect loop with redirects = 3: %d sent, %d failed, %d redirects, the target served %d", loop.Count, loop.Failures, loop.Redirects, seen["GET /loop "])
	}
	for _, f := range r.Failures {
		if f.Name == "GET /loop" && f.Reason != "more than 3 redirects" {
			t.Errorf("the loop failed with %q", f.Reason)
		}
	}
	var served, counted int64
	for _, n := range seen {
		served += int64(n)
	}
	for _, q := range r.Requests {
		counted += q.Count + q.Redirects
	}
	if served != counted {
		t.Errorf("the target served %d requests; the Run counts %d plus redirects", served, counted)
	}
}

// TestSeveralHosts: a user class with a host of its own sends there, a
// host's path prefix goes before every path, and each host gets only its
// classes' requests (counted by each server).
func TestSeveralHosts(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]string{}
	handler := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[name] = append(got[name], r.URL.Path)
			mu.Unlock()
		})
	}
	shop, flags := serve(t, handler("shop")), serve(t, handler("flags"))
	src := `
variable "host" {
  default = "http://127.0.0.1:1"
}
variable "flags" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = "${var.host}/api/"
  user "shopper" {
    task "products" {
      get = "/products"
    }
  }
  user "flagger" {
    host = "${var.flags}/ofrep/v1"
    task "flag" {
      post = "/evaluate/flags/${random_choice(["a", "b"])}"
      name = "/evaluate/flags/:flag"
    }
  }
}
shape "s" {
  stage {
    until = "500ms"
    users = 4
  }
}
`
	r := runSrc(t, src, "host="+shop, "flags="+flags)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range got["shop"] {
		if p != "/api/products" {
			t.Errorf("the shop got %s", p)
		}
	}
	for _, p := range got["flags"] {
		if p != "/ofrep/v1/evaluate/flags/a" && p != "/ofrep/v1/evaluate/flags/b" {
			t.Errorf("the flag service got %s", p)
		}
	}
	products, flag := r.RequestByName("GET /products"), r.RequestByName("POST /evaluate/flags/:flag")
	if products == nil || flag == nil || int64(len(got["shop"])) != products.Count || int64(len(got["flags"])) != flag.Count || products.Count == 0 || flag.Count == 0 {
		t.Errorf("the shop served %d, the flag service %d; the Run counts %+v and %+v", len(got["shop"]), len(got["flags"]), products, flag)
	}
}

// TestForEach: for_each makes a copy of a step or a task per element,
// named after it, whose expressions read each.key and each.value — in
// constant parts, in the fast path, and through HCL at run time (a
// condition over the response). Seen by the target.
func TestForEach(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.Method+" "+r.URL.Path+" "+string(b)]++
		mu.Unlock()
		fmt.Fprintf(w, `{"path": %q}`, r.URL.Path)
	}))
	const src = `
variable "host" {
  default = "http://127.0.0.1:1"
}
variable "limits" {
  default = { small = 1, big = 9 }
}
workload "w" {
  host = var.host
  user "u" {
    sequence "browse" {
      step "category" {
        for_each = ["books", "music"]
        get      = "/category/${each.value}"
        expect {
          that = response.json.path == "/category/${each.value}"
        }
      }
    }
    task "order" {
      for_each = var.limits
      post     = "/order/${each.key}"
      json     = { n = random_int(each.value, each.value), user = user.id }
    }
  }
}
shape "s" {
  stage {
    until = "500ms"
    users = 2
  }
}
`
	plan := writePlan(t, map[string]string{"plan.hcl": src})
	p := load(t, plan, "host="+host)
	names := p.Workload.Requests
	want := []string{"GET /category/books", "GET /category/music", "POST /order/big", "POST /order/small"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("request names %v, want %v", names, want)
	}
	e, err := engine.New(engine.Options{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range r.Requests {
		if q.Count == 0 || q.Failures != 0 {
			t.Errorf("%s: %d sent, %d failed %+v", q.Name, q.Count, q.Failures, r.Failures)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for k := range got {
		ok := strings.HasPrefix(k, "GET /category/books ") || strings.HasPrefix(k, "GET /category/music ") ||
			strings.HasPrefix(k, `POST /order/small {"n":1,`) || strings.HasPrefix(k, `POST /order/big {"n":9,`)
		if !ok {
			t.Errorf("the target got %q", k)
		}
	}
}

// TestIterations: iterations = 5 runs five passes per user and then ends
// the run, complete, long before the shape's end; shared_iterations = 12
// runs twelve passes between all users. Counted by the target.
func TestIterations(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	for _, c := range []struct {
		attr string
		want int
	}{{"iterations = 5", 15}, {"shared_iterations = 12", 12}} {
		mu.Lock()
		hits = 0
		mu.Unlock()
		src := fmt.Sprintf(`
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    wait = constant("20ms")
    sequence "s" {
      step "a" {
        get = "/a"
      }
      step "b" {
        get = "/b"
      }
    }
  }
}
shape "s" {
  %s
  stage {
    until = "30s"
    users = 3
  }
}
`, c.attr)
		plan := writePlan(t, map[string]string{"plan.hcl": src})
		e, err := engine.New(engine.Options{Plan: load(t, plan, "host="+host)})
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		r, err := e.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(began)
		mu.Lock()
		got := hits
		mu.Unlock()
		if got != 2*c.want || took > 10*time.Second || r.Status != "complete" {
			t.Errorf("%s: the target got %d requests (want %d passes of 2), the run took %s, status %s (%s)", c.attr, got, c.want, took, r.Status, r.Reason)
		}
	}
}

// TestWhenCanReadsAFailedCapture: after a failed step, which captures
// nothing, a step with when = can(captured.token) is skipped, not failed;
// after a good one it goes. random_choice draws from lists of lists of
// different lengths.
func TestWhenCanReadsAFailedCapture(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		n := hits["/login"]
		mu.Unlock()
		if r.URL.Path == "/login" && n%2 == 0 {
			w.WriteHeader(500)
			return
		}
		w.Write([]byte(`{"token": "t"}`))
	}))
	const src = `
variable "host" {
  default = "http://127.0.0.1:1"
}
variable "words" {
  default = [["a", "b", "c"], ["d", "e"]]
}
workload "w" {
  host = var.host
  user "u" {
    sequence "s" {
      on_failure = "continue"
      pass {
        words = random_choice(var.words)
      }
      step "login" {
        post    = "/login"
        capture = { token = response.json.token }
      }
      step "cart" {
        get  = "/cart?w=${join(",", pass.words)}"
        name = "/cart"
        when = can(captured.token)
      }
    }
  }
}
shape "s" {
  stage {
    until = "500ms"
    users = 1
  }
}
`
	r := runSrc(t, src, "host="+host)
	login, cart := r.RequestByName("POST /login"), r.RequestByName("GET /cart")
	// The last pass may end with the run between its two steps.
	if login == nil || cart == nil || login.Failures == 0 || cart.Failures != 0 || cart.Skipped == 0 ||
		login.Count-cart.Count-cart.Skipped > 1 || login.Count < cart.Count+cart.Skipped || cart.Count+cart.Skipped < login.Count-1 {
		t.Errorf("login %+v, cart %+v: want the cart skipped after each failed login and sent after each good one", login, cart)
	}
}

// TestStartPassAndOnFailure: a start block's pass values are drawn once per
// user and read by every later request as captured.NAME (one session id a
// user, seen by the target on each of its requests); with on_failure =
// "continue" a failed start step does not hold the user back.
func TestStartPassAndOnFailure(t *testing.T) {
	var mu sync.Mutex
	sids := map[string]map[string]bool{} // user → session ids it sent
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		u := r.Header.Get("X-User")
		if sids[u] == nil {
			sids[u] = map[string]bool{}
		}
		sids[u][r.Header.Get("X-Session")] = true
		mu.Unlock()
		if r.URL.Path == "/flaky" {
			w.WriteHeader(503)
		}
	}))
	const src = `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    wait = constant("20ms")
    start {
      on_failure = "continue"
      pass {
        sid = uuid()
      }
      step "flaky" {
        get     = "/flaky"
        headers = { "X-User" = "${user.id}", "X-Session" = captured.sid }
      }
      step "hello" {
        get     = "/hello"
        headers = { "X-User" = "${user.id}", "X-Session" = captured.sid }
      }
    }
    task "page" {
      get     = "/page"
      headers = { "X-User" = "${user.id}", "X-Session" = captured.sid }
    }
  }
}
shape "s" {
  stage {
    until = "500ms"
    users = 3
  }
}
`
	r := runSrc(t, src, "host="+host)
	if q := r.RequestByName("GET /flaky"); q == nil || q.Count != 3 || q.Failures != 3 {
		t.Errorf("the failed start step: %+v; want once per user, not tried again", q)
	}
	if q := r.RequestByName("GET /page"); q == nil || q.Count < 6 {
		t.Errorf("the users' passes after a failed start: %+v", q)
	}
	mu.Lock()
	defer mu.Unlock()
	all := map[string]bool{}
	for u, ids := range sids {
		if len(ids) != 1 {
			t.Errorf("user %s sent %d session ids: %v", u, len(ids), ids)
		}
		for id := range ids {
			if id == "" || all[id] {
				t.Errorf("session id %q is empty or shared", id)
			}
			all[id] = true
		}
	}
	if len(sids) != 3 {
		t.Errorf("%d users seen", len(sids))
	}
}

// runSrc runs a plan written as src, with its variables, and returns the Run.
func runSrc(t *testing.T, src string, vars ...string) *result.Run {
	t.Helper()
	plan := writePlan(t, map[string]string{"plan.hcl": src})
	e, err := engine.New(engine.Options{Plan: load(t, plan, vars...)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

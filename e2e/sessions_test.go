package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lab/cli/clitest"
	"lab/sut"
)

// The shop's login (a CSRF token in a cookie and in the form, a 302 with a
// session cookie, a cart keyed on the session) run by lab with a start
// block and a cookie jar: every user logs in once, its later requests
// carry its own session, and its orders come from its own cart — proved
// by the shop's /admin/sessions, not by lab's counters (issue 20).
func TestShopLoginOncePerUser(t *testing.T) {
	t.Parallel()
	const token = "t0ken-for-the-test"
	host := clitest.Shop(t, func(k *sut.Knobs) { k.AdminToken = token })
	dir := t.TempDir()
	// Two workers for the second run: a user's start, jar and session stay
	// on its worker, and user ids are unique across workers.
	for _, c := range []struct{ jar, workers string }{{"user", "1"}, {"pass", "2"}} {
		jar := c.jar
		// The binary, not this test: workers are processes of their own.
		out, err := exec.Command(clitest.Binary(t), "apply", "e2e/testdata/plans/shop-login.hcl", "-var", "host="+host, "-var", "jar="+jar,
			"-var", "duration=4s", "-var", "users=4", "--results", filepath.Join(dir, jar), "--quiet", "--workers", c.workers, "--metrics", "off").CombinedOutput()
		if err != nil {
			t.Fatalf("cookies = %q, %s workers: %v\n%s", jar, c.workers, err, out)
		}
		_, run := clitest.LatestRun(t, filepath.Join(dir, jar))
		counts := map[string]int64{}
		for _, q := range run.Requests {
			counts[q.Name] = q.Count
			if q.Failures != 0 {
				t.Errorf("cookies = %q: %s failed %d of %d", jar, q.Name, q.Failures, q.Count)
			}
		}
		if counts["POST /login"] != 4 {
			t.Errorf("cookies = %q: lab sent %d logins for 4 users", jar, counts["POST /login"])
		}
	}
	req, _ := http.NewRequest("GET", host+"/admin/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Sessions []struct {
			Session, User string
			Requests      int
		}
		Logins map[string]int
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	// Two runs of 4 users each: member1…member4 twice, one session each time.
	if len(got.Sessions) != 8 || len(got.Logins) != 4 {
		t.Fatalf("the shop has %d sessions and logins %v; want 8 sessions of member1…member4", len(got.Sessions), got.Logins)
	}
	for u, n := range got.Logins {
		if !strings.HasPrefix(u, "member") || n != 2 {
			t.Errorf("the shop saw %s log in %d times; want once per run", u, n)
		}
	}
	for _, s := range got.Sessions {
		// 4 s of passes of three steps each, 100 ms apart: dozens of
		// requests each; a session lost after the first pass has 3.
		if s.Requests < 9 {
			t.Errorf("session of %s carried %d requests: the jar did not keep it", s.User, s.Requests)
		}
	}
}

// A real Django (Debian's python3-django) with its own auth views and
// CSRF middleware: lab's start block reads the CSRF cookie, logs each
// user in once and follows on with the session cookie Django set. Judged
// from Django's own request log: one login per user, and every later
// request of that user carries the session the login created — no
// request is redirected to the login page (issue 20).
func TestDjangoLoginWithLab(t *testing.T) {
	t.Parallel()
	host, requests := startDjango(t, 5)
	dir := t.TempDir()
	code, out, errs := lab(t, nil, "apply", "e2e/testdata/plans/django-login.hcl", "-var", "host="+host,
		"-var", "duration=5s", "-var", "users=5", "--results", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	_, run := clitest.LatestRun(t, dir)
	var sent int64
	for _, q := range run.Requests {
		sent += q.Count
	}
	log := requests()
	logins := map[string]int{}
	sessionOf := map[string]string{} // user → the session its login created
	byUser := map[string]int{}
	for _, r := range log {
		if r.Login {
			logins[r.User]++
		}
	}
	for _, r := range log {
		if r.Session == "" || r.Login {
			continue
		}
		if prev, ok := sessionOf[r.User]; ok && prev != r.Session {
			t.Errorf("%s's requests came with two sessions: %s… and %s…", r.User, prev[:6], r.Session[:6])
		}
		sessionOf[r.User] = r.Session
		byUser[r.User]++
		if r.Status != 200 {
			t.Errorf("%s %s with %s's session: status %d", r.Method, r.Path, r.User, r.Status)
		}
	}
	if int64(len(log)) != sent {
		t.Errorf("Django logged %d requests, lab counted %d", len(log), sent)
	}
	for i := 1; i <= 5; i++ {
		u := "user" + string(rune('0'+i))
		if logins[u] != 1 {
			t.Errorf("Django logged %d logins of %s, want 1", logins[u], u)
		}
		if byUser[u] < 3 {
			t.Errorf("%s made %d requests with its session after logging in", u, byUser[u])
		}
	}
	seen := map[string]string{}
	for u, s := range sessionOf {
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s share one session", u, other)
		}
		seen[s] = u
	}
	for _, r := range log {
		if strings.HasPrefix(r.Path, "/whoami") || strings.HasPrefix(r.Path, "/items") {
			if r.User == "" {
				t.Errorf("%s %s reached Django without a logged-in session (status %d)", r.Method, r.Path, r.Status)
			}
		}
	}
}

// shopRouteCount is how many requests the shop served on route, by its
// own counter (shop_http_requests_total, every code).
func shopRouteCount(t *testing.T, host, route string) int {
	t.Helper()
	return int(shopMetric(t, host, "shop_http_requests_total{", `route="`+route+`"`))
}

// shopMetric adds up the shop's series whose line starts with prefix and
// holds match (a label), from one scrape of its /metrics.
func shopMetric(t *testing.T, host, prefix, match string) float64 {
	t.Helper()
	resp, err := http.Get(host + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var n float64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, match) {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			n += v
		}
	}
	return n
}

// A workload's setup runs once before the load, on the master of a
// distributed run too, and every user on every worker reads what it
// captured; the teardown runs once after. Counted by the shop: one cart
// opened, one checkout, and every cart read the run counts was of that
// cart. A setup that fails exits 3 and sends no load (issue 20).
func TestSetupOnceTeardownOnce(t *testing.T) {
	t.Parallel()
	bin := clitest.Binary(t)
	for _, workers := range []string{"1", "2"} {
		host := clitest.Shop(t, func(*sut.Knobs) {})
		dir := t.TempDir()
		out, err := exec.Command(bin, "apply", "e2e/testdata/plans/shop-setup.hcl", "-var", "host="+host, "-var", "duration=3s",
			"--workers", workers, "--results", dir, "--quiet", "--metrics", "off").CombinedOutput()
		if err != nil {
			t.Fatalf("%s workers: %v\n%s", workers, err, out)
		}
		_, run := clitest.LatestRun(t, dir)
		q := run.RequestByName("GET /cart/:id")
		if q == nil || q.Count == 0 || q.Failures != 0 {
			t.Fatalf("%s workers: %+v", workers, q)
		}
		carts, checkouts, reads := shopRouteCount(t, host, "POST /cart"), shopRouteCount(t, host, "POST /checkout"), shopRouteCount(t, host, "GET /cart/{id}")
		if carts != 1 || checkouts != 1 || int64(reads) != q.Count {
			t.Errorf("%s workers: the shop opened %d carts, checked out %d, served %d cart reads; lab counts %d reads; want one setup, one teardown",
				workers, carts, checkouts, reads, q.Count)
		}
		if run.RequestByName("POST /cart") != nil || run.RequestByName("GET /healthz") != nil {
			t.Errorf("the setup's request is in the Run's statistics")
		}
	}
	// A setup that fails: an unknown product.
	host := clitest.Shop(t, func(*sut.Knobs) {})
	code, _, errs := lab(t, nil, "apply", "e2e/testdata/plans/shop-setup.hcl", "-var", "host="+host, "-var", "product=999999",
		"--results", t.TempDir(), "--quiet", "--metrics", "off")
	if code != 3 || !strings.Contains(errs, "setup failed at cart (POST /cart)") {
		t.Errorf("a failed setup: exit %d, %s", code, errs)
	}
	if n := shopRouteCount(t, host, "GET /cart/{id}"); n != 0 {
		t.Errorf("after a failed setup the shop served %d cart reads", n)
	}
}

// A multipart upload of a file and a field, and an XML body sent with the
// type the plan wrote, judged by the shop's own account of what it got:
// its sha256 of the file, the field, the Content-Type (issue 20).
func TestShopUploadAndWrittenContentType(t *testing.T) {
	t.Parallel()
	host := clitest.Shop(t, func(*sut.Knobs) {})
	dir := t.TempDir()
	code, out, errs := lab(t, nil, "apply", "e2e/testdata/plans/shop-upload.hcl", "-var", "host="+host, "-var", "duration=2s",
		"--results", dir, "--quiet", "--metrics", "off")
	_, run := clitest.LatestRun(t, dir)
	up, xml := run.RequestByName("POST /upload"), run.RequestByName("POST /echo")
	if code != 0 || up == nil || xml == nil || up.Count == 0 || xml.Count == 0 {
		t.Fatalf("exit %d, upload %+v, xml %+v\n%s\n%s", code, up, xml, out, errs)
	}
	if n := shopRouteCount(t, host, "POST /upload"); int64(n) != up.Count {
		t.Errorf("the shop served %d uploads; lab counts %d", n, up.Count)
	}
}

// Loops and conditions against the shop, counted by its own counters:
// each user logs in once and follows the login's redirect to its account
// page; exactly three passes a user (iterations); two catalogue pages a
// pass (for_each); one to three products a pass (repeat) and a cart only
// in passes with two or more (when) — lab's counts, sent and skipped, are
// the shop's (issue 20).
func TestShopBrowseLoopsAndConditions(t *testing.T) {
	t.Parallel()
	host := clitest.Shop(t, func(*sut.Knobs) {})
	dir := t.TempDir()
	code, out, errs := lab(t, nil, "apply", "e2e/testdata/plans/shop-browse.hcl", "-var", "host="+host, "-var", "users=3",
		"--results", dir, "--quiet", "--metrics", "off")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	_, run := clitest.LatestRun(t, dir)
	count := func(name string) int64 {
		if q := run.RequestByName(name); q != nil {
			return q.Count
		}
		return -1
	}
	const users, passes = 3, 9
	shop := func(route string) int64 { return int64(shopRouteCount(t, host, route)) }
	if shop("GET /login") != users || shop("POST /login") != users || shop("GET /account") != users {
		t.Errorf("the shop saw %d login pages, %d logins, %d account pages; want one each per user (the redirect followed)",
			shop("GET /login"), shop("POST /login"), shop("GET /account"))
	}
	if q := run.RequestByName("POST /login"); q == nil || q.Redirects != users {
		t.Errorf("POST /login: %+v; want %d redirects followed", q, users)
	}
	if shop("GET /products") != 2*passes || count("GET /products") != 2*passes {
		t.Errorf("catalogue pages: the shop served %d, lab counts %d; want 2 a pass, %d passes", shop("GET /products"), count("GET /products"), passes)
	}
	products := count("GET /products/:id")
	if products < passes || products > 3*passes || shop("GET /products/{id}") != products {
		t.Errorf("products: lab counts %d, the shop served %d; want 1 to 3 a pass", products, shop("GET /products/{id}"))
	}
	cart := run.RequestByName("POST /cart")
	if cart == nil || cart.Count+cart.Skipped != passes || shop("POST /cart") != cart.Count {
		t.Errorf("cart: %+v, the shop served %d; want sent + skipped = %d passes", cart, shop("POST /cart"), passes)
	}
}

// TestShopMeasuresJudged: numbers taken from the shop's answers (a new
// cart's total and lines) are recorded once per answer the shop gave, as
// its own counter says, and their budgets decide the exit: every budget
// met exits 0; a p50 budget the totals exceed fails the run (exit 1) in a
// Measures table of its own.
func TestShopMeasuresJudged(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		maxTotal string
		code     int
	}{{"1000000", 0}, {"0.01", 1}} {
		host := clitest.Shop(t, func(*sut.Knobs) {})
		dir := t.TempDir()
		code, out, errs := lab(t, nil, "apply", "e2e/testdata/plans/shop-measure.hcl", "-var", "host="+host, "-var", "duration=12s",
			"-var", "max_total="+c.maxTotal, "--results", dir, "--quiet", "--metrics", "off")
		runDir, run := clitest.LatestRun(t, dir)
		// Recorded by window too, and drawn so in report.html.
		if m := run.MeasureByName("cart_total"); m == nil || len(m.Windows) < 2 {
			t.Errorf("cart_total's windows: %+v", m)
		}
		if page, err := os.ReadFile(filepath.Join(runDir, "report.html")); err != nil || !strings.Contains(string(page), `id="chart-measure-cart_total"`) {
			t.Errorf("report.html draws no cart_total chart (%v)", err)
		}
		if code != c.code {
			t.Fatalf("max_total %s: exit %d, want %d\n%s\n%s", c.maxTotal, code, c.code, out, errs)
		}
		served := int64(shopRouteCount(t, host, "POST /cart"))
		for _, name := range []string{"cart_total", "lines"} {
			m := run.MeasureByName(name)
			if m == nil || m.Count == 0 || m.Count != served || m.Missing != 0 {
				t.Errorf("measure %s: %+v; the shop answered %d carts", name, m, served)
			}
		}
		if m := run.MeasureByName("lines"); m != nil && (m.Min != 1 || m.Max != 1) {
			t.Errorf("a new cart has one line; lines %v…%v", m.Min, m.Max)
		}
		if !strings.Contains(out, "Measures") || !strings.Contains(out, "cart_total") {
			t.Errorf("no Measures table:\n%s", out)
		}
		want := "pass"
		if c.code == 1 {
			want = "fail"
		}
		for _, v := range run.Verdicts {
			if v.Gate == "measure" && v.Subject == "cart_total" && v.Outcome != want {
				t.Errorf("max_total %s: cart_total %s %s, want %s: %s", c.maxTotal, v.Budget, v.Outcome, want, v.Detail)
			}
		}
	}
}

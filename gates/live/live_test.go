package live

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/lang"
	"lab/runtime/result"
)

func testPlan(t testing.TB) *lang.Plan {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"w.hcl": "user \"u\" {\n  task \"home\" {\n    get = \"/\"\n  }\n  task \"buy\" {\n    post = \"/checkout\"\n  }\n}\n",
		"p.hcl": `workload "w" {
  source = "w.hcl"
  host   = "http://127.0.0.1:1"
}
shape "s" {
  duration = "1m"
  stage {
    until = "1m"
    users = 10
  }
}
sla "GET /" {
  p95 = "5ms"
}
sla "all" {
  error_rate = "50%"
}
`,
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan, diags := lang.Load(filepath.Join(dir, "p.hcl"), lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return plan
}

func window(t testing.TB, at int64, n int, us int64) *result.Window {
	t.Helper()
	h := result.NewHist()
	for range n {
		_ = h.RecordValue(us)
	}
	s, err := result.Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	return &result.Window{T: at, Count: int64(n), Hist: s}
}

// fed is a page fed 20 seconds of a run whose GET / answers in 10 ms
// (its budget is 5 ms) and POST /checkout in 1 ms.
func fed(t *testing.T) (*Page, *[]string) {
	t.Helper()
	p := New(testPlan(t), 10*time.Second)
	start := time.Unix(1_800_000_000, 0)
	var stops []string
	p.SetStop(func(why string) { stops = append(stops, why) })
	p.Start(start)
	for i := range 20 {
		p.Tick(Status{Elapsed: time.Duration(i+1) * time.Second, Total: time.Minute, Stage: 1, Stages: 1, Users: 10, Target: 10, Workers: 1},
			result.Second{T: start.Unix() + int64(i), Users: 10, Requests: 20, P50: 5000, P95: 10000},
			[][2]int64{{10, 0}, {10, 1}})
		if i%10 == 9 {
			at := start.Unix() + int64(i) - 9
			ck := window(t, at, 100, 1000)
			ck.Failures = 10
			if err := p.Window([]*result.Window{window(t, at, 100, 10_000), ck},
				[]result.Failure{{Name: "POST /checkout", Reason: "HTTP 500", Count: 10}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p, &stops
}

// The page judges what it was fed as the final gates would, and draws it.
func TestViewJudgesAndDrawsTheRunSoFar(t *testing.T) {
	p, _ := fed(t)
	v := p.View()
	if v.State != Running || v.Seconds != 20 || v.Requests != 400 || v.Failures != 20 || v.LeftS != 40 {
		t.Fatalf("header: %+v", v)
	}
	var getP95, errRate *result.Verdict
	for i := range v.Verdicts {
		switch vd := &v.Verdicts[i]; vd.Subject + " " + vd.Budget {
		case "GET / p95 ≤ 5ms":
			getP95 = vd
		case "all error_rate ≤ 50%":
			errRate = vd
		}
	}
	if getP95 == nil || getP95.Outcome != result.OutcomeFail || errRate == nil || errRate.Outcome != result.OutcomePass {
		t.Fatalf("verdicts so far: %+v", v.Verdicts)
	}
	if v.Exit != 1 || v.Failing != 1 || !strings.Contains(v.Summary, "so far 1 of 2") {
		t.Fatalf("exit %d, failing %d, summary %q", v.Exit, v.Failing, v.Summary)
	}
	for _, want := range []string{`id="chart-throughput"`, `data-points="20"`, `GET / p95 ≤ 5ms`, `id="chart-failures"`} {
		if !strings.Contains(string(v.Parts.Charts), want) {
			t.Errorf("charts lack %s", want)
		}
	}
	if !strings.Contains(string(v.Parts.Verdicts), "so far") || !strings.Contains(string(v.Parts.Failures), "HTTP 500") {
		t.Errorf("verdicts or failures part: %s %s", v.Parts.Verdicts, v.Parts.Failures)
	}
	again := p.View()
	if again.Parts != v.Parts {
		t.Error("a second view with no new second drew something else")
	}

	run := &result.Run{Plan: result.PlanInfo{Name: "p"}, Status: result.Complete, Verdicts: []result.Verdict{{Gate: "sla", Subject: "all", Budget: "p95", Outcome: result.OutcomePass}}}
	p.Finish(run, 0, "results/p/1")
	done := p.View()
	if done.State != Done || done.Exit != 0 || done.Dir != "results/p/1" || len(done.Verdicts) != 1 || done.Summary != "all 1 budgets met (exit 0)" {
		t.Fatalf("after Finish: %+v", done)
	}
}

func request(method, target, host string, header ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// Who may see the page and stop the run.
func TestAccess(t *testing.T) {
	p, stops := fed(t)
	local := p.Handler(Access{Local: true})
	shared := p.Handler(Access{Token: "a-long-enough-token"})
	cases := []struct {
		name string
		h    http.Handler
		r    *http.Request
		code int
	}{
		{"page on loopback", local, request("GET", "/", "127.0.0.1:8089"), 200},
		{"state on loopback", local, request("GET", "/api/state", "localhost:8089"), 200},
		{"script", local, request("GET", "/app.js", "[::1]:8089"), 200},
		{"a DNS name that points at loopback", local, request("GET", "/api/state", "evil.example:8089"), 403},
		{"stop from a form elsewhere", local, request("POST", "/api/stop", "127.0.0.1:8089"), 403},
		{"stop from another origin", local, request("POST", "/api/stop", "127.0.0.1:8089", "X-Lab-Stop", "1", "Origin", "http://evil.example"), 403},
		{"stop, no token", shared, request("POST", "/api/stop", "10.0.0.1:8089", "X-Lab-Stop", "1"), 401},
		{"stop, token in the address", shared, request("POST", "/api/stop?token=a-long-enough-token", "10.0.0.1:8089", "X-Lab-Stop", "1"), 401},
		{"page, no token", shared, request("GET", "/", "10.0.0.1:8089"), 401},
		{"page, wrong token", shared, request("GET", "/?token=nope", "10.0.0.1:8089"), 401},
		{"page, token in the address", shared, request("GET", "/?token=a-long-enough-token", "10.0.0.1:8089"), 200},
		{"state, bearer token", shared, request("GET", "/api/state", "10.0.0.1:8089", "Authorization", "Bearer a-long-enough-token"), 200},
		{"unknown path", local, request("GET", "/nope", "127.0.0.1:8089"), 404},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, c.r)
		if w.Code != c.code {
			t.Errorf("%s: %d, want %d (%s)", c.name, w.Code, c.code, strings.TrimSpace(w.Body.String()))
		}
	}
	if len(*stops) != 0 {
		t.Fatalf("refused requests stopped the run: %q", *stops)
	}
	w := httptest.NewRecorder()
	shared.ServeHTTP(w, request("POST", "/api/stop", "10.0.0.1:8089", "X-Lab-Stop", "1", "Authorization", "Bearer a-long-enough-token",
		"Origin", "http://10.0.0.1:8089"))
	if w.Code != 202 || len(*stops) != 1 || !strings.Contains((*stops)[0], "live page") {
		t.Fatalf("the page's own stop: %d %q, stops %q", w.Code, w.Body.String(), *stops)
	}
	w = httptest.NewRecorder()
	local.ServeHTTP(w, request("POST", "/api/stop", "127.0.0.1:8089", "X-Lab-Stop", "1"))
	if w.Code != 409 || len(*stops) != 1 {
		t.Fatalf("a second stop: %d, stops %q", w.Code, *stops)
	}
	var v View
	w = httptest.NewRecorder()
	local.ServeHTTP(w, request("GET", "/api/state", "127.0.0.1:8089"))
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v.State != Stopping || v.Stopped == "" {
		t.Fatalf("state after the stop: %v %+v", err, v)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("no content security policy: %q", csp)
	}
}

// Before the run starts, the stop button has nothing to stop.
func TestStopBeforeTheStart(t *testing.T) {
	p := New(testPlan(t), 10*time.Second)
	w := httptest.NewRecorder()
	p.Handler(Access{Local: true}).ServeHTTP(w, request("POST", "/api/stop", "127.0.0.1:1", "X-Lab-Stop", "1"))
	if w.Code != 409 || !strings.Contains(w.Body.String(), "not started") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

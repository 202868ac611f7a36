package gates

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lab/gates/exitcode"
	"lab/gates/locust"
	"lab/gates/sla"
	"lab/gates/synth"
	"lab/lang"
	"lab/runtime/needs"
	"lab/runtime/result"
)

// writePlan writes the files (name → text) to a temporary folder and
// loads the plan in p.hcl.
func writePlan(tb testing.TB, files map[string]string) *lang.Plan {
	tb.Helper()
	dir := tb.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	plan, diags := lang.Load(filepath.Join(dir, "p.hcl"), lang.Options{})
	if diags.HasErrors() {
		tb.Fatalf("plan: %v", diags)
	}
	return plan
}

// loadPlan loads a plan of a three-route workload at 100 arrivals/s for
// 3 minutes, with body (its budgets).
func loadPlan(t *testing.T, body string) *lang.Plan {
	t.Helper()
	wl := `
user "u" {
  wait = constant("1s")
  task "home" {
    get = "/"
  }
  task "product" {
    get  = "/products/${random_int(1, 9)}"
    name = "/products/:id"
  }
  task "buy" {
    post = "/checkout"
    json = { cart_id = 1 }
  }
}
`
	src := `
workload "w" {
  source = "w.hcl"
  host   = "http://127.0.0.1:9"
}
shape "s" {
  duration = "3m"
  stage {
    until = "3m"
    rate  = "100/s"
  }
}
` + body
	return writePlan(t, map[string]string{"w.hcl": wl, "p.hcl": src})
}

func find(t *testing.T, vs []result.Verdict, gate, subject, budget string) result.Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Gate == gate && strings.HasPrefix(v.Subject, subject) && strings.HasPrefix(v.Budget, budget) {
			return v
		}
	}
	t.Fatalf("no %s verdict for %s %q in %+v", gate, subject, budget, vs)
	return result.Verdict{}
}

// The shop's five request names under leak-test.hcl's load: 400 arrivals/s,
// a quarter of them buyers running list → cart → checkout.
func leakRun(leakPerCheckout float64, churn bool, seed uint64) *result.Run {
	run := synth.Run(synth.Spec{Duration: 3 * time.Minute, Seed: seed, Pool: 4, Requests: []synth.Request{
		{Name: "GET /", Rate: 120, MedianUS: 2000, Sigma: 0.2},
		{Name: "GET /products/:id", Rate: 180, MedianUS: 2000, Sigma: 0.2},
		{Name: "GET /products", Rate: 100, MedianUS: 2000, Sigma: 0.2},
		{Name: "POST /cart", Rate: 100, MedianUS: 2000, Sigma: 0.2},
		{Name: "POST /checkout", Rate: 100, MedianUS: 2000, Sigma: 0.2},
	}})
	m := synth.Memory{Duration: 3 * time.Minute, Kind: "heap_live", Base: 30e6, Rate: 600,
		LeakPerRequest: leakPerCheckout * 100 / 600, GCEvery: time.Second, Noise: 1e6, Seed: seed}
	if churn {
		// gc_churn = 64KB per request: a resident-memory sawtooth of ~40 MB between collections.
		m.Kind, m.Sawtooth, m.GCEvery = "rss", 40e6, 1500*time.Millisecond
	}
	run.Memory = synth.MemorySeries(m)
	run.Memory.Source = "shop"
	return run
}

const leakBlock = `
leak {
  memory          = pid(1)
  warmup          = "30s"
  window          = "2m"
  max_growth_rate = "10MB/min"
  max_growth      = "50MB"
}
`

// 50 KB kept per checkout at 100 checkouts/s fails within 3 minutes, with
// the leak per request of the 600/s estimated at 35–65 KB / 6; which
// request leaks cannot be told, since the five names' counts move together
// (issue 19, defect 14: every name used to get the same figure); the same
// load with no leak and a GC sawtooth passes.
func TestLeakGate(t *testing.T) {
	plan := loadPlan(t, leakBlock)
	perCheckout := regexp.MustCompile(`≈ \+([0-9.]+) KB per request`)
	for seed := uint64(1); seed <= 6; seed++ {
		run := leakRun(50e3, seed%2 == 0, seed)
		vs, err := Judge(plan, run, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := find(t, vs, "leak", "memory", "growth ≤ 10MB/min")
		if v.Outcome != result.OutcomeFail || ExitCode(vs) != exitcode.Breach {
			t.Fatalf("seed %d: leak of 50 KB per checkout: %s (%s)", seed, v.Outcome, v.Detail)
		}
		m := perCheckout.FindStringSubmatch(v.Detail)
		if m == nil {
			t.Fatalf("seed %d: no per-checkout estimate in %q", seed, v.Detail)
		}
		if kb, _ := strconv.ParseFloat(m[1], 64); kb < 35.0/6 || kb > 65.0/6 {
			t.Errorf("seed %d: %v KB per request, want 35–65 KB / 6", seed, kb)
		}
		if strings.Contains(v.Detail, "POST /checkout") || strings.Contains(v.Detail, "GET /products") {
			t.Errorf("seed %d: a figure per request name the counts cannot give: %s", seed, v.Detail)
		}
		for _, want := range []string{"trend p =", "99% bounds", "samples used", "/min", "warm-up cut at",
			"which request leaks cannot be told", "moved together", "memory read:", "of shop"} {
			if !strings.Contains(v.Detail, want) {
				t.Errorf("seed %d: detail lacks %q: %s", seed, want, v.Detail)
			}
		}

		healthy := leakRun(0, true, seed)
		vs, _ = Judge(plan, healthy, Options{})
		if v := find(t, vs, "leak", "memory", "growth"); v.Outcome != result.OutcomePass || ExitCode(vs) != exitcode.OK {
			t.Errorf("seed %d: no leak, GC churn: %s (%s)", seed, v.Outcome, v.Detail)
		}
	}
}

func TestLeakGateNeverPassesSilently(t *testing.T) {
	plan := loadPlan(t, leakBlock)
	run := leakRun(50e3, false, 1)
	run.Memory = nil
	vs, _ := Judge(plan, run, Options{})
	if v := find(t, vs, "leak", "memory", "growth"); v.Outcome != result.OutcomeNoSamples || !strings.Contains(v.Detail, "no memory samples") {
		t.Errorf("no sampler: %+v", v)
	}
	if ExitCode(vs) != exitcode.Breach {
		t.Error("a leak block without samples exits 0")
	}
	// A minute is too short for a 30 s warm-up and a 2-minute window.
	run = leakRun(50e3, false, 1)
	run.Memory = synth.MemorySeries(synth.Memory{Duration: time.Minute, Kind: "heap_live", Base: 30e6, Rate: 600})
	vs, _ = Judge(plan, run, Options{})
	if v := find(t, vs, "leak", "memory", "growth"); v.Outcome != result.OutcomeInconclusive || !strings.Contains(v.Detail, "run for at least 3m") {
		t.Errorf("short run: %+v", v)
	}
}

// The memory sampler failing partway: what it read is judged, but a run
// whose memory was not read to its end cannot pass (the tail may hold the
// growth), and how many readings failed is in the verdict.
func TestLeakGateSamplerStoppedMidRun(t *testing.T) {
	plan := loadPlan(t, leakBlock)
	run := synth.Run(synth.Spec{Duration: 8 * time.Minute, Seed: 1, Pool: 4, Requests: []synth.Request{
		{Name: "POST /checkout", Rate: 100, MedianUS: 2000, Sigma: 0.2},
	}})
	full := synth.MemorySeries(synth.Memory{Duration: 8 * time.Minute, Kind: "heap_live", Base: 30e6, Rate: 100, GCEvery: time.Second, Noise: 1e6, Seed: 1})

	// Every reading read: a pass, and no word of failures.
	run.Memory = full
	vs, _ := Judge(plan, run, Options{})
	if v := find(t, vs, "leak", "memory", "growth"); v.Outcome != result.OutcomePass || strings.Contains(v.Detail, "failed") {
		t.Fatalf("all read: %s: %s", v.Outcome, v.Detail)
	}
	// A few readings failed: still a pass, and the count shows.
	run.Memory = &result.MemorySeries{Kind: full.Kind, Samples: full.Samples, Failed: 12, LastError: "context deadline exceeded"}
	vs, _ = Judge(plan, run, Options{})
	if v := find(t, vs, "leak", "memory", "growth"); v.Outcome != result.OutcomePass || !strings.Contains(v.Detail, "12 readings failed (the last: context deadline exceeded)") {
		t.Errorf("12 failed: %s: %s", v.Outcome, v.Detail)
	}
	// The sampler stopped at 5 minutes of 8: the last 3 are unread.
	run.Memory = &result.MemorySeries{Kind: full.Kind, Samples: full.Samples[:301], Failed: 180, LastError: "connection refused"}
	vs, _ = Judge(plan, run, Options{})
	v := find(t, vs, "leak", "memory", "growth")
	for _, want := range []string{"not read after 5m", "the last 3m", "180 readings failed (the last: connection refused)"} {
		if !strings.Contains(v.Detail, want) {
			t.Errorf("stopped mid-run: detail lacks %q: %s", want, v.Detail)
		}
	}
	if v.Outcome != result.OutcomeInconclusive || ExitCode(vs) != exitcode.Breach {
		t.Errorf("stopped mid-run: %s, exit %d", v.Outcome, ExitCode(vs))
	}
	// No reading at all: why is said from the series.
	run.Memory = &result.MemorySeries{Kind: full.Kind, Samples: []result.MemorySample{}, Failed: 480, LastError: "No such container: shop"}
	vs, _ = Judge(plan, run, Options{})
	if v := find(t, vs, "leak", "memory", "growth"); v.Outcome != result.OutcomeNoSamples || !strings.Contains(v.Detail, "480 readings failed (the last: No such container: shop)") {
		t.Errorf("none read: %s: %s", v.Outcome, v.Detail)
	}
}

// regressionRuns are two runs of a steady open-model load of three
// routes, 8 minutes each (48 windows).
func regressionRun(seed uint64, slowProduct, errRate float64) *result.Run {
	reqs := []synth.Request{
		{Name: "GET /", Rate: 60, MedianUS: 5000, Sigma: 0.3, ErrorRate: errRate},
		{Name: "GET /products/:id", Rate: 60, MedianUS: 8000 * slowProduct, Sigma: 0.3, ErrorRate: errRate},
		{Name: "POST /checkout", Rate: 45, MedianUS: 20000, Sigma: 0.3, ErrorRate: errRate},
	}
	return synth.Run(synth.Spec{Duration: 8 * time.Minute, Seed: seed, Requests: reqs, Pool: 48, PerWindowNoise: 0.04})
}

const regressionBlock = `
regression {
  baseline       = "nowhere"
  p95_growth     = "10%"
  error_rate_inc = "0.5%"
}
`

func TestRegressionGate(t *testing.T) {
	plan := loadPlan(t, regressionBlock)
	base := regressionRun(1, 1, 0)

	// The same process again: every comparison passes.
	vs, err := Judge(plan, regressionRun(2, 1, 0), Options{Baseline: base})
	if err != nil {
		t.Fatal(err)
	}
	if bad := Failing(vs); len(bad) > 0 {
		t.Errorf("same process: %+v", bad)
	}
	if len(vs) != 9 {
		t.Errorf("%d verdicts, want 3 requests × 3 metrics", len(vs))
	}

	// One route 30% slower: that route fails on latency, nothing else does.
	vs, _ = Judge(plan, regressionRun(3, 1.3, 0), Options{Baseline: base})
	bad := Failing(vs)
	if len(bad) != 1 || bad[0].Subject != "GET /products/:id" || !strings.HasPrefix(bad[0].Budget, "p95 growth") {
		t.Fatalf("one route slower: failing %+v", bad)
	}
	if !strings.Contains(bad[0].Detail, "slower") || !strings.Contains(bad[0].Measured, "+") {
		t.Errorf("latency verdict %+v", bad[0])
	}

	// Errors from 0 to 2%: every route fails on its error rate (and on the
	// new class of error, HTTP 500), nothing else.
	vs, _ = Judge(plan, regressionRun(4, 1, 0.02), Options{Baseline: base})
	for _, v := range Failing(vs) {
		if !strings.HasPrefix(v.Budget, "error rate") && !strings.HasPrefix(v.Budget, "no new error class") {
			t.Errorf("errors 0 → 2%%: unexpected failure %+v", v)
		}
	}
	if v := find(t, vs, "regression", "POST /checkout", "error rate"); v.Outcome != result.OutcomeFail || !strings.Contains(v.Detail, "more errors") {
		t.Errorf("errors 0 → 2%%: %+v", v)
	}
}

func TestRegressionMissingSaturatedAndNoBaseline(t *testing.T) {
	plan := loadPlan(t, regressionBlock)
	base := regressionRun(1, 1, 0)
	cur := regressionRun(2, 1, 0)
	cur.Requests = cur.Requests[:2] // POST /checkout never completed
	vs, _ := Judge(plan, cur, Options{Baseline: base})
	if v := find(t, vs, "regression", "POST /checkout", "completed in both"); v.Outcome != result.OutcomeMissing {
		t.Errorf("missing request: %+v", v)
	}
	if ExitCode(vs) != exitcode.Breach {
		t.Error("a request missing from the current run exits 0")
	}

	cur = regressionRun(2, 1, 0)
	base.Generator.Saturated, base.Generator.Why = true, "lag"
	vs, _ = Judge(plan, cur, Options{Baseline: base})
	for _, v := range vs {
		if v.Outcome != result.OutcomeInvalid || !strings.Contains(v.Detail, "generator saturated in the baseline") {
			t.Errorf("saturated baseline: %+v", v)
		}
	}
	if ExitCode(vs) != exitcode.CouldNotRun {
		t.Errorf("saturated baseline exits %d", ExitCode(vs))
	}

	vs, _ = Judge(plan, cur, Options{NoBaseline: "no baseline run at nowhere"})
	if len(vs) != 1 || vs[0].Outcome != result.OutcomeAdvisory || ExitCode(vs) != exitcode.OK || !strings.Contains(vs[0].Detail, "nowhere") {
		t.Errorf("no baseline yet: %+v", vs)
	}
}

func TestRunVerdictsAndExitCodes(t *testing.T) {
	plan := loadPlan(t, `
sla "all" {
  p99 = "10s"
}
`)
	cases := []struct {
		status result.Status
		exit   int
	}{
		{result.Complete, exitcode.OK},
		{result.Interrupted, exitcode.Breach}, // judged on what it has, never 0
		{result.Aborted, exitcode.Breach},
		{result.Invalid, exitcode.CouldNotRun}, // a saturated generator
		{result.Failed, exitcode.CouldNotRun},
	}
	for _, c := range cases {
		run := regressionRun(1, 1, 0)
		run.Status, run.Reason = c.status, "why"
		vs, err := Judge(plan, run, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := ExitCode(vs); got != c.exit {
			t.Errorf("%s: exit %d, want %d (%+v)", c.status, got, c.exit, vs)
		}
		if v := find(t, vs, "sla", "all", "p99"); v.Outcome != result.OutcomePass {
			t.Errorf("%s: the budgets are still judged: %+v", c.status, v)
		}
	}
}

// A complete run with requests cut off at the end of the grace period is
// inconclusive (exit 1), and says how many; a run that was not complete
// anyway says it too.
func TestRequestsCutOffNeverPass(t *testing.T) {
	plan := loadPlan(t, `
sla "all" {
  p99 = "10s"
}
`)
	for _, status := range []result.Status{result.Complete, result.Interrupted} {
		run := regressionRun(1, 1, 0)
		run.Status, run.Reason = status, "why"
		q := run.Requests[0]
		q.CutOff, q.Failures = 3, q.Failures+3
		vs, err := Judge(plan, run, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := find(t, vs, "run", "status", "run completes")
		if ExitCode(vs) != exitcode.Breach || v.Outcome != result.OutcomeInconclusive || !strings.Contains(v.Detail, "3 of ") || !strings.Contains(v.Detail, "cut off") {
			t.Errorf("%s with 3 requests cut off: exit %d, %+v", status, ExitCode(vs), v)
		}
	}
}

func TestFindBaseline(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "plan", "20260101T000000Z")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, "result.json"), []byte("{}"), 0o644)
	os.Symlink("20260101T000000Z", filepath.Join(root, "plan", "latest"))
	for _, p := range []string{run, filepath.Join(root, "plan"), filepath.Join(root, "plan", "latest")} {
		if got, err := FindBaseline(p); err != nil || got != run {
			t.Errorf("%s: %q, %v", p, got, err)
		}
	}
	if _, err := FindBaseline(filepath.Join(root, "none")); err == nil || !strings.Contains(err.Error(), "no baseline") {
		t.Errorf("missing: %v", err)
	}
}

// A run judged under a regression block keeps its per-window counts of
// requests slower than its own p95s; read back from result.json they give
// the very same comparison. Judged against a baseline, it also keeps its
// counts above the baseline's p95s, so comparing the two again decodes no
// window histogram of either.
func TestSlowCountsKept(t *testing.T) {
	needs.NoRace(t, "a single-goroutine simulation")
	plan := loadPlan(t, regressionBlock)
	base := regressionRun(1, 1, 0)
	if _, err := Judge(plan, base, Options{NoBaseline: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := base.Extra[SlowKey]; !ok {
		t.Fatal("no counts kept")
	}
	dir := t.TempDir()
	if err := result.Write(dir, base); err != nil {
		t.Fatal(err)
	}
	stored, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fresh := regressionRun(1, 1, 0)
	own, _ := wholeP95s(fresh)
	cached := cachedSlow(stored, own)
	scanned := newSlowCounts(fresh, own)
	if err := sla.Scan(fresh, scanned.hook(fresh)); err != nil {
		t.Fatal(err)
	}
	if !cached.complete() {
		t.Fatal("counts not read back")
	}
	for i := range scanned.n {
		if !slices.Equal(cached.n[i], scanned.n[i]) {
			t.Fatalf("request %d: cached %v, scanned %v", i, cached.n[i], scanned.n[i])
		}
	}
	a, _ := Compare(stored, regressionRun(3, 1.3, 0), DefaultThresholds())
	b, _ := Compare(regressionRun(1, 1, 0), regressionRun(3, 1.3, 0), DefaultThresholds())
	if !slices.Equal(a, b) {
		t.Errorf("cached %+v\nscanned %+v", a, b)
	}

	// Judged against the baseline, the current run keeps both thresholds'
	// counts: with every window histogram gone, the compare still works.
	cur := regressionRun(3, 1.3, 0)
	vs, err := Judge(plan, cur, Options{Baseline: stored})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []*result.Run{stored, cur} {
		for _, q := range run.Requests {
			for k := range q.Windows {
				q.Windows[k].Hist = "not a histogram"
			}
		}
	}
	again, err := Compare(stored, cur, DefaultThresholds())
	if err != nil {
		t.Fatalf("a compare of two judged runs decoded their windows again: %v", err)
	}
	var judged []result.Verdict
	for _, v := range vs {
		if v.Gate == "regression" {
			judged = append(judged, v)
		}
	}
	if !slices.Equal(again, judged) {
		t.Errorf("again %+v\njudged %+v", again, judged)
	}

	// Counts that do not fit the run are ignored.
	stored.Requests[0].Windows = stored.Requests[0].Windows[1:]
	if cachedSlow(stored, own).n[0] != nil {
		t.Error("counts of the wrong length were used")
	}
}

// Issue 8, defect 12: Locust's CSV has no window histograms, so its p95s
// are compared by the threshold alone, and the verdict says so; what the
// data does support (error rates, req/s over its 10 s windows) is still
// tested. A real Locust run of 100 s (20 users, --csv-full-history, the
// shop at 5 ms with 5% wrong checkouts) compared with itself passes; the
// ten-second sample is too short for the req/s test, which says how long
// to run.
func TestCompareLocustRuns(t *testing.T) {
	long, _, err := locust.Load("locust/testdata/shop100s")
	if err != nil {
		t.Fatal(err)
	}
	same, _, _ := locust.Load("locust/testdata/shop100s")
	vs, err := Compare(long, same, DefaultThresholds())
	if err != nil {
		t.Fatal(err)
	}
	if ExitCode(vs) != exitcode.OK || len(vs) != 15 {
		t.Errorf("a 100 s Locust run against itself: exit %d, %d verdicts, failing %+v", ExitCode(vs), len(vs), Failing(vs))
	}
	if v := find(t, vs, "regression", "POST /checkout", "p95 growth"); !strings.Contains(v.Detail, "by the threshold alone") {
		t.Errorf("the p95 verdict does not say how it was judged: %+v", v)
	}

	a, _, err := locust.Load("locust/testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := locust.Load("locust/testdata/shop")
	if vs, err = Compare(a, b, DefaultThresholds()); err != nil {
		t.Fatal(err)
	}
	for _, q := range a.Requests {
		v := find(t, vs, "regression", q.Name, "p95 growth")
		if v.Outcome != result.OutcomePass || !strings.Contains(v.Detail, "by the threshold alone") || !strings.Contains(v.Detail, "no significance test") {
			t.Errorf("latency: %+v", v)
		}
		if v := find(t, vs, "regression", q.Name, "error rate"); v.Outcome != result.OutcomePass {
			t.Errorf("error rate: %+v", v)
		}
		if v := find(t, vs, "regression", q.Name, "req/s drop"); v.Outcome != result.OutcomeInconclusive || !strings.Contains(v.Detail, "at least 50s") {
			t.Errorf("req/s of a 10 s run: %+v", v)
		}
	}

	// POST /cart's p95 from 10 ms to 15 ms: over τ by the threshold alone.
	slow, _, _ := locust.Load("locust/testdata/shop")
	slow.RequestByName("POST /cart").Response.P95 = 15000
	vs, _ = Compare(a, slow, DefaultThresholds())
	if v := find(t, vs, "regression", "POST /cart", "p95 growth"); v.Outcome != result.OutcomeFail || v.Measured != "10ms → 15ms (+50.0%)" ||
		!strings.Contains(v.Detail, "by the threshold alone") {
		t.Errorf("+50%%: %+v", v)
	}
	if v := find(t, vs, "regression", "GET /", "p95 growth"); v.Outcome != result.OutcomePass {
		t.Errorf("GET /: %+v", v)
	}

	// Locust's whole milliseconds: 2 ms → 3 ms is one step of its
	// rounding, never a regression, whichever run is the baseline; two
	// steps (2 ms → 4 ms) are (issue 19, defect 10).
	for _, c := range []struct {
		base, cur float64
		want      string
	}{{2000, 3000, result.OutcomePass}, {3000, 2000, result.OutcomePass}, {2000, 4000, result.OutcomeFail}} {
		x, _, _ := locust.Load("locust/testdata/shop")
		y, _, _ := locust.Load("locust/testdata/shop")
		x.RequestByName("GET /").Response.P95 = int64(c.base)
		y.RequestByName("GET /").Response.P95 = int64(c.cur)
		vs, _ = Compare(x, y, DefaultThresholds())
		if v := find(t, vs, "regression", "GET /", "p95 growth"); v.Outcome != c.want {
			t.Errorf("Locust p95 %v µs → %v µs: %+v, want %s", c.base, c.cur, v, c.want)
		}
	}
}

// A worker a distributed run lost is noted beside the verdicts, with when
// and why, without failing a run that went on without it.
func TestLostWorkersAreNoted(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	run := &result.Run{Start: start, WorkerLog: []result.Worker{
		{ID: 1, Host: "a", Requests: 500},
		{ID: 2, Host: "b", Requests: 120, Left: start.Add(12 * time.Second), Lost: "no heartbeat for 3s"},
	}}
	vs := LostWorkers(run)
	if len(vs) != 1 || vs[0].Subject != "worker 2 (b)" || vs[0].Outcome != result.OutcomeAdvisory || vs[0].Measured != "lost after 12s" ||
		!strings.Contains(vs[0].Detail, "no heartbeat for 3s") || !strings.Contains(vs[0].Detail, "120 requests") {
		t.Fatalf("got %+v", vs)
	}
	if ExitCode(vs) != exitcode.OK {
		t.Error("a lost worker alone must not fail the run")
	}
}

// Failures no error_rate budget judges fail the run, naming the requests;
// a budget that covers them (by name or "all") or a regression block
// leaves them to it. A plan without budgets against a dead service is not
// a pass (issue 19, defect 11).
func TestUnjudgedFailuresFailTheRun(t *testing.T) {
	run := regressionRun(1, 1, 0.5)
	cases := []struct {
		body string
		fail bool
		name string // a request the verdict must name
	}{
		{"", true, "POST /checkout"},                                  // no budget at all
		{`sla "all" { p99 = "10s" }`, true, "GET /"},                  // latency budgets only
		{`sla "GET /" { error_rate = "1%" }`, true, "POST /checkout"}, // one name covered, two not
		{`sla "all" { error_rate = "100%" }`, false, ""},              // all covered, even if loosely
		{`sla "GET /*" { error_rate = "1%" }` + "\n" + `sla "GET /" { error_rate = "1%" }` + "\n" + `sla "POST /checkout" { error_rate = "1%" }`, false, ""},
		{regressionBlock, false, ""}, // the baseline's error rate judges them
	}
	for _, c := range cases {
		vs, err := Judge(loadPlan(t, c.body), run, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got *result.Verdict
		for i := range vs {
			if vs[i].Gate == "run" && vs[i].Subject == "failures" {
				got = &vs[i]
			}
		}
		switch {
		case c.fail && (got == nil || got.Outcome != result.OutcomeFail || ExitCode(vs) != exitcode.Breach):
			t.Errorf("%q: failures no budget judges: %+v, exit %d; want a failing verdict", c.body, got, ExitCode(vs))
		case c.fail && !strings.Contains(got.Detail, c.name):
			t.Errorf("%q: the verdict does not name %s: %s", c.body, c.name, got.Detail)
		case c.fail && strings.Contains(c.body, `"GET /"`) && strings.Contains(got.Detail, "GET / "):
			t.Errorf("%q: the verdict names a covered request: %s", c.body, got.Detail)
		case !c.fail && got != nil:
			t.Errorf("%q: failures a budget judges are failed again: %+v", c.body, got)
		}
	}
}

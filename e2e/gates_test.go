package e2e

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/exitcode"
	"lab/gates/sla"
	"lab/gates/synth"
	"lab/runtime/needs"
	"lab/runtime/result"
	"lab/sut"
)

// These tests run lab apply, gate and compare in-process against shops
// served in-process on 127.0.0.1, each run bounded by its plan's shape.

// Smoke with budgets the shop meets exits 0 and stores its verdicts; the
// same run re-judged with a p95 budget below the shop's latency exits 1,
// naming the request and both numbers.
func TestApplySmokeThenRejudge(t *testing.T) {
	t.Parallel()
	host := clitest.Shop(t, func(k *sut.Knobs) { k.Latency = 5 * time.Millisecond })
	dir := t.TempDir()
	budgets := `
sla "all" {
  p95        = "250ms"
  error_rate = "5%"
}

sla "POST /checkout" {
  p99        = "500ms"
  error_rate = "5%"
}
`
	plan := clitest.WritePlan(t, dir, "smoke.hcl", clitest.FunnelWorkload, host, clitest.ClosedShape("6s", 10)+budgets)
	results := filepath.Join(dir, "results")
	summary := filepath.Join(dir, "step-summary.md")
	code, stdout, stderr := lab(t, map[string]string{"GITHUB_STEP_SUMMARY": summary, "NO_COLOR": "1"}, "apply", plan, "--results", results, "--quiet")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	runDir, run := clitest.LatestRun(t, results)
	if run.Status != result.Complete || len(run.Verdicts) != 4 {
		t.Fatalf("stored run: %s, verdicts %+v", run.Status, run.Verdicts)
	}
	for _, v := range run.Verdicts {
		if v.Outcome != "pass" {
			t.Errorf("stored verdict %+v", v)
		}
	}
	for _, f := range []string{"summary.md", "junit.xml"} {
		if b, err := os.ReadFile(filepath.Join(runDir, f)); err != nil || !strings.Contains(string(b), "POST /checkout") {
			t.Errorf("%s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(summary); !strings.Contains(string(b), "all 4 budgets met (exit 0)") {
		t.Errorf("$GITHUB_STEP_SUMMARY:\n%s", b)
	}
	if !strings.Contains(stdout, "SLA") || !strings.Contains(stdout, "✓ pass") || strings.Contains(stdout, "\x1b[") {
		t.Errorf("table:\n%s", stdout)
	}

	// The stored plan judges it the same way.
	if code, out, errOut := lab(t, nil, "gate", runDir); code != 0 {
		t.Errorf("gate with the stored plan: exit %d\n%s%s", code, out, errOut)
	}

	// A p95 budget below the shop's 5 ms latency.
	tight := clitest.WritePlan(t, dir, "tight.hcl", clitest.FunnelWorkload, host, clitest.ClosedShape("6s", 10)+budgets+`
sla "POST /cart" {
  p95 = "2ms"
}
`)
	code, stdout, stderr = lab(t, nil, "gate", runDir, "--plan", tight)
	if code != 1 {
		t.Fatalf("tight budget: exit %d\n%s%s", code, stdout, stderr)
	}
	h, err := result.Decode(run.RequestByName("POST /cart").Hist)
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /cart p95 " + sla.Micros(float64(h.ValueAtPercentile(95))) + " > budget 2ms"
	if !strings.Contains(stdout, want) {
		t.Errorf("the breach is not named as %q:\n%s", want, stdout)
	}
	if strings.Count(stdout, "✗ FAIL") != 1 {
		t.Errorf("only the new budget fails:\n%s", stdout)
	}
}

// An abort rule stops a run against a shop failing half its requests
// within its window count, and the run says when and why.
func TestAbortRuleStopsTheRun(t *testing.T) {
	t.Parallel()
	host := clitest.Shop(t, func(k *sut.Knobs) { k.ErrorRate = 0.5 })
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "abort.hcl", clitest.TwoRoutes, host, clitest.OpenShape("90s", "40/s")+`
sla "all" {
  error_rate  = "5%"
  window      = "10s"
  abort_after = 2
}
`)
	results := filepath.Join(dir, "results")
	code, stdout, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet")
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	_, run := clitest.LatestRun(t, results)
	if run.Status != result.Aborted || !strings.HasPrefix(run.Reason, `sla "all": error_rate `) ||
		!strings.Contains(run.Reason, "> 5% in 2 consecutive 10s windows") {
		t.Fatalf("status %s, reason %q", run.Status, run.Reason)
	}
	// Two judged windows after at most one partial one, then a second to collect.
	if d := run.End.Sub(run.Start); d > 32*time.Second {
		t.Errorf("the run went on for %v after its abort rule should have fired", d)
	}
	if !strings.Contains(stderr, "abort: "+run.Reason) || !strings.Contains(stdout, "stopped early") {
		t.Errorf("the abort is not reported:\nstdout %s\nstderr %s", stdout, stderr)
	}
}

// Regression, end to end, on the shipped baseline (plans/baseline.hcl: its
// workload of five request names at 50 arrivals/s, its budgets and its
// regression block): two-minute runs, the length docs/STATISTICS.md's
// power figures are for. Two runs of the same shop pass; a
// run with POST /cart's latency doubled fails on that route's p95 only, by
// lab compare and by the plan's regression block through lab gate; a run
// with 2% errors fails on errors. Per-window p95s could not tell a doubled
// p95 in three minutes (issue 8, defect 1).
//
// The four runs go side by side, each against its own shop, as
// docs/STATISTICS.md recommends: one after the other they would take 8
// minutes, side by side 2½. The shops answer in 40 ms, not the plan's 5 ms:
// a shop's timer and a busy machine shift latencies by up to a millisecond
// or so between shops — at 6 ms, all the 1 ms floor allows (measured:
// +17–19% on two routes between two same-build shops in this process) — and
// beside 40 ms that stays well inside τ.
func TestRegressionCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("2 minutes of load (-short)")
	}
	t.Parallel()
	dir := t.TempDir()
	shop := func(tune func(*sut.Knobs)) string {
		return clitest.Shop(t, func(k *sut.Knobs) { k.Latency = 40 * time.Millisecond; tune(k) })
	}
	hosts := map[string]string{
		"a":      shop(func(*sut.Knobs) {}),
		"b":      shop(func(*sut.Knobs) {}),
		"slow":   shop(func(k *sut.Knobs) { k.RouteLatency = map[string]time.Duration{"POST /cart": 80 * time.Millisecond} }),
		"errors": shop(func(k *sut.Knobs) { k.ErrorRate = 0.02 }),
	}
	dirs := map[string]string{}
	var mu sync.Mutex
	// runAll runs the four side by side; it says whether a run came out
	// invalid because this machine's other tests starved its generator
	// (lag p99 over 10 ms): then all four go again, once, since the pairs
	// must run side by side.
	runAll := func(attempt int, last bool) (starved bool) {
		var wg sync.WaitGroup
		// Start on a window boundary, so 2 minutes make 12 whole windows.
		time.Sleep(time.Until(time.Now().Truncate(10 * time.Second).Add(10*time.Second + 200*time.Millisecond)))
		for name, host := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results := filepath.Join(dir, name, fmt.Sprint(attempt)) // LatestRun wants one run a folder
				code, out, errOut := lab(t, nil, "apply", "plans/baseline.hcl", "--no-sut", "--quiet", "--results", results,
					"-var", "host="+host, "-var", "duration=2m", "-var", "baseline="+filepath.Join(dir, "none"))
				want := 0
				if name == "errors" {
					want = 1 // the plan's error_rate budget of 0.5%
				}
				if code == 3 && !last && strings.Contains(out+errOut, "the generator started arrivals late") {
					t.Logf("%s: the generator was starved (invalid run); the four go again", name)
					mu.Lock()
					starved = true
					mu.Unlock()
					return
				}
				if code != want {
					t.Errorf("%s: exit %d\n%s%s", name, code, out, errOut)
					return
				}
				runDir, _ := clitest.LatestRun(t, results)
				mu.Lock()
				dirs[name] = runDir
				mu.Unlock()
			}()
		}
		wg.Wait()
		return starved
	}
	if runAll(1, false) && !t.Failed() {
		runAll(2, true)
	}
	if t.Failed() {
		return
	}
	failing := func(out string) []string {
		var rows []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "✗ FAIL") || strings.Contains(l, "INCONCLUSIVE") {
				rows = append(rows, strings.Join(strings.Fields(l), " "))
			}
		}
		return rows
	}
	code, stdout, stderr := lab(t, nil, "compare", dirs["a"], dirs["b"])
	if code != 0 || !strings.Contains(stdout, "POST /cart") {
		t.Errorf("same shop twice: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("same shop twice:\n%s", stdout)
	code, stdout, _ = lab(t, nil, "compare", dirs["a"], dirs["slow"])
	t.Logf("POST /cart doubled:\n%s", stdout)
	rows := failing(stdout)
	if code != 1 || len(rows) != 1 || !strings.HasPrefix(rows[0], "POST /cart p95 growth") ||
		!strings.Contains(stdout, "✗ POST /cart: slower: p95 ") {
		t.Errorf("POST /cart's p95 doubled: exit %d, failing %q\n%s", code, rows, stdout)
	}
	code, stdout, _ = lab(t, nil, "compare", dirs["a"], dirs["errors"])
	rows = failing(stdout)
	if code != 1 || len(rows) == 0 {
		t.Errorf("errors 0 → 2%%: exit %d\n%s", code, stdout)
	}
	for _, r := range rows {
		if !strings.Contains(r, "error rate increase") && !strings.Contains(r, "no new error class") {
			t.Errorf("errors 0 → 2%%: fails on something else: %q", r)
		}
	}
	if !strings.Contains(stdout, "more errors") {
		t.Errorf("no error-rate failure named:\n%s", stdout)
	}

	// The plan's regression block, through lab gate, says the same.
	code, stdout, _ = lab(t, nil, "gate", dirs["slow"], "--plan", "plans/baseline.hcl", "-var", "baseline="+dirs["a"])
	if rows := failing(stdout); code != 1 || len(rows) != 1 || !strings.HasPrefix(rows[0], "POST /cart p95 growth") {
		t.Errorf("regression block: exit %d, failing %q\n%s", code, rows, stdout)
	}
}

// A Locust user's CSV files, judged by the same budgets, give the same
// verdicts as lab's own run of the same workload against the same shop.
func TestLocustCSVSameVerdicts(t *testing.T) {
	locust := needs.Tool(t, "locust", "Debian package python3-locust")
	t.Parallel()
	// 5% of checkouts answer 200 without an order id: a wrong answer both count as a failure.
	host := clitest.Shop(t, func(k *sut.Knobs) { k.Latency = 5 * time.Millisecond; k.WrongRate = 0.05 })
	dir := t.TempDir()
	budgets := `
sla "all" {
  p95        = "250ms"
  error_rate = "5%"
}

sla "POST /checkout" {
  p99        = "500ms"
  error_rate = "0.5%"
}

sla "GET /products*" {
  p90 = "1ms"
}

sla "GET /" {
  error_rate = "5%"
  window     = "10s"
}
`
	plan := clitest.WritePlan(t, dir, "locust.hcl", clitest.FunnelWorkload, host, clitest.ClosedShape("14s", 20)+budgets)
	locustfile, _ := filepath.Abs("gates/locust/testdata/locustfile.py")
	prefix := filepath.Join(dir, "loc")
	var wg sync.WaitGroup
	var locustErr error
	var locustOut []byte
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, locust, "--headless", "-f", locustfile, "--csv", prefix, "--csv-full-history",
			"-u", "20", "-r", "20", "-t", "14s", "--host", host, "--only-summary")
		cmd.Dir = dir
		locustOut, locustErr = cmd.CombinedOutput()
	}()
	results := filepath.Join(dir, "results")
	code, stdout, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet")
	wg.Wait()
	var exitErr *exec.ExitError
	if locustErr != nil && !errors.As(locustErr, &exitErr) { // Locust exits 1 when any request failed
		t.Fatalf("locust: %v\n%s", locustErr, locustOut)
	}
	if code != 1 {
		t.Fatalf("lab apply: exit %d\n%s%s", code, stdout, stderr)
	}
	_, own := clitest.LatestRun(t, results)

	junit := filepath.Join(dir, "locust-junit.xml")
	code, stdout, stderr = lab(t, nil, "gate", "--csv", prefix, "--plan", plan, "--junit", junit)
	if code != 1 {
		t.Fatalf("lab gate --csv: exit %d\n%s%s\nlocust:\n%s", code, stdout, stderr, locustOut)
	}
	fromLocust := parseTable(stdout)
	if len(fromLocust) != len(own.Verdicts) {
		t.Fatalf("%d verdicts from Locust's files, %d from lab's run\n%s", len(fromLocust), len(own.Verdicts), stdout)
	}
	for _, v := range own.Verdicts {
		key := v.Subject + " | " + v.Budget
		if got, ok := fromLocust[key]; !ok || got != v.Outcome {
			t.Errorf("%s: lab %s (%s), Locust %q", key, v.Outcome, v.Measured, got)
		}
	}
	if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), `failures="`) {
		t.Errorf("junit: %v", err)
	}
	// Where the figures come from is said.
	if !strings.Contains(stdout, "Locust's stats.csv") {
		t.Errorf("the verdicts do not say the figures are Locust's:\n%s", stdout)
	}
}

// parseTable reads "subject | budget" → outcome from the SLA table printed without colour.
func parseTable(out string) map[string]string {
	m := map[string]string{}
	row := regexp.MustCompile(`^  (.+?)  +(\S.*?)  +(✗ )?(\S+|–)  +(✓ pass|✗ FAIL|✗ NO SAMPLES|\? INCONCLUSIVE)$`)
	for _, l := range strings.Split(out, "\n") {
		if g := row.FindStringSubmatch(l); g != nil {
			outcome := map[string]string{"✓ pass": "pass", "✗ FAIL": "fail", "✗ NO SAMPLES": "no samples", "? INCONCLUSIVE": "inconclusive"}[g[5]]
			m[strings.TrimSpace(g[1])+" | "+strings.TrimSpace(g[2])] = outcome
		}
	}
	return m
}

// Bad command lines exit 2 with a message, before anything is judged.
func TestGateAndCompareCommandLines(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"gate"}, "give one run folder"},
		{[]string{"gate", "a", "b"}, "give one run folder"},
		{[]string{"gate", dir}, "holds no result.json"},
		{[]string{"gate", "--csv", "x"}, "--csv needs --plan"},
		{[]string{"gate", "--csv", "x", dir}, "not both"},
		{[]string{"gate", "--csv", filepath.Join(dir, "none"), "--plan", "plans/smoke.hcl"}, "none_stats.csv not found"},
		{[]string{"compare", dir}, "give two runs"},
		{[]string{"compare", dir, dir}, "holds no result.json"},
		{[]string{"compare", "a", "b", "--p95-growth", "lots"}, "--p95-growth"},
		{[]string{"compare", "a", "b", "--rps-drop", "100%"}, "--rps-drop"},
	}
	for _, c := range cases {
		code, _, stderr := lab(t, nil, c.args...)
		if code != exitcode.BadInput || !strings.Contains(stderr, c.want) {
			t.Errorf("lab %s: exit %d, stderr %q (want 2 and %q)", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
	for _, cmd := range []string{"gate", "compare"} {
		if code, stdout, _ := lab(t, nil, cmd, "-h"); code != 0 || !strings.Contains(stdout, "--csv") {
			t.Errorf("lab %s -h: exit %d\n%s", cmd, code, stdout)
		}
	}
}

// Issue 8, defect 3: the runs stored beside the baseline measure the
// runner's noise only when they ran the same plan (sources, shape,
// variables) and are no newer than the baseline. Ten runs after a
// regression (newer than the baseline) and ten runs of the plan at another
// rate (much slower) made the history look noisy, widened τ past 25% and
// turned a persistent +32% regression into "advisory, runner too noisy",
// exit 0. It keeps failing.
func TestHistoryKeepsAPersistentRegressionFailing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "results")
	start := time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
	plan := result.PlanInfo{Name: "p", File: "p.hcl", Shape: "steady", Vars: map[string]string{"rate": `"50/s"`},
		Sources: map[string]string{"p.hcl": "plan text", "shop.workload.hcl": "workload text"}}
	rng := rand.New(rand.NewPCG(3, 3))
	store := func(i int, scale float64, info result.PlanInfo) string {
		run := synth.Run(synth.Spec{Start: start.Add(time.Duration(i) * time.Hour), Duration: 3 * time.Minute, Seed: uint64(i),
			Pool: 16, PerWindowNoise: 0.03, Requests: []synth.Request{
				{Name: "GET /", Rate: 40, MedianUS: 5000 * scale, Sigma: 0.3},
				{Name: "GET /products/:id", Rate: 40, MedianUS: 8000 * scale, Sigma: 0.3},
			}})
		run.Plan = info
		dir := result.DirFor(root, "p", run.Start)
		if err := result.Write(dir, run); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	other := plan
	other.Vars = map[string]string{"rate": `"500/s"`}
	for i := 0; i < 10; i++ {
		store(i, 3*math.Exp(0.03*rng.NormFloat64()), other) // the same plan at ten times the rate
	}
	var baseline string
	for i := 10; i < 20; i++ {
		baseline = store(i, math.Exp(0.03*rng.NormFloat64()), plan)
	}
	for i := 20; i < 30; i++ {
		store(i, 1.32*math.Exp(0.03*rng.NormFloat64()), plan) // the regression, run after run
	}
	current := store(30, 1.32, plan)
	code, stdout, stderr := lab(t, map[string]string{"NO_COLOR": "1"}, "compare", baseline, current, "--history", filepath.Join(root, "p"))
	if code != 1 || strings.Contains(stdout, "too noisy") || !strings.Contains(stdout, "slower") {
		t.Errorf("a persistent +32%% regression: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A baseline that is there but cannot be read (truncated result.json) is
// never a pass: lab gate's regression verdict is inconclusive (exit 1),
// not the advisory "no baseline yet" that bootstraps a gate (exit 0).
func TestUnreadableBaselineIsNotAPass(t *testing.T) {
	dir := t.TempDir()
	run := synth.Run(synth.Spec{Duration: time.Minute, Seed: 4, Requests: []synth.Request{{Name: "GET /", Rate: 20, MedianUS: 5000, Sigma: 0.3}}})
	cur := filepath.Join(dir, "current")
	if err := result.Write(cur, run); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "baseline")
	if err := result.Write(base, run); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(base, "result.json"))
	os.WriteFile(filepath.Join(base, "result.json"), data[:len(data)/2], 0o644)
	plan := clitest.WritePlan(t, dir, "p.hcl", clitest.OneRoute, "http://127.0.0.1:1", clitest.OpenShape("1m", "20/s")+fmt.Sprintf("regression {\n  baseline = %q\n}\n", base))
	code, stdout, stderr := lab(t, map[string]string{"NO_COLOR": "1"}, "gate", cur, "--plan", plan)
	if code != 1 || !strings.Contains(stdout, "cannot be read") || strings.Contains(stdout, "no baseline yet") {
		t.Errorf("truncated baseline: exit %d\n%s%s", code, stdout, stderr)
	}
	// A baseline not stored yet stays advisory: the first run bootstraps it.
	os.RemoveAll(base)
	if code, stdout, _ := lab(t, map[string]string{"NO_COLOR": "1"}, "gate", cur, "--plan", plan); code != 0 || !strings.Contains(stdout, "no baseline yet") {
		t.Errorf("no baseline yet: exit %d\n%s", code, stdout)
	}
}

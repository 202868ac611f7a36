package gates

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/gates/synth"
	"lab/runtime/needs"
	"lab/runtime/result"
)

// noisyRun is a run of the regression test's three routes whose latencies
// are all scaled by one factor: the drift between runs on a noisy runner.
func noisyRun(seed uint64, scale float64, start time.Time) *result.Run {
	reqs := []synth.Request{
		{Name: "GET /", Rate: 60, MedianUS: 5000 * scale, Sigma: 0.3},
		{Name: "GET /products/:id", Rate: 60, MedianUS: 8000 * scale, Sigma: 0.3},
		{Name: "POST /checkout", Rate: 45, MedianUS: 20000 * scale, Sigma: 0.3},
	}
	run := synth.Run(synth.Spec{Start: start, Duration: 8 * time.Minute, Seed: seed, Requests: reqs, Pool: 48, PerWindowNoise: 0.04})
	run.Plan = planInfo()
	return run
}

// planInfo is the plan the history's runs ran.
func planInfo() result.PlanInfo {
	return result.PlanInfo{Name: "p", File: "plans/p.hcl", Shape: "steady", Vars: map[string]string{"rate": `"60/s"`},
		Sources: map[string]string{"plans/p.hcl": "plan", "plans/shop.workload.hcl": "workload"}}
}

// On a runner whose runs drift ±15% from one another, a candidate 25%
// slower than the baseline fails against the plan's 10% alone; with a
// history of twelve earlier runs the threshold widens to the drift, and the
// verdict says the runner is too noisy to judge 10% instead of failing.
func TestHistoryWidensThresholdsToTheRunnersNoise(t *testing.T) {
	needs.NoRace(t, "a single-goroutine simulation")
	plan := loadPlan(t, regressionBlock)
	dir := filepath.Join(t.TempDir(), "results", "p")
	rng := rand.New(rand.NewPCG(7, 7))
	start := time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
	var base *result.Run
	var baseScale float64
	for i := 0; i < 12; i++ {
		scale := math.Exp(0.15 * rng.NormFloat64())
		r := noisyRun(uint64(100+i), scale, start.Add(time.Duration(i)*time.Hour))
		d := result.DirFor(filepath.Dir(dir), "p", r.Start)
		if err := result.Write(d, r); err != nil {
			t.Fatal(err)
		}
		if i == 11 {
			base, baseScale = r, scale
			os.Symlink(filepath.Base(d), filepath.Join(dir, "baseline"))
			result.Link(d)
		}
	}
	// Runs that are no measure of the runner's noise are left out.
	broken := noisyRun(200, 3, start.Add(20*time.Hour))
	broken.Status = result.Interrupted
	result.Write(result.DirFor(filepath.Dir(dir), "p", broken.Start), broken)

	cur := noisyRun(300, 1.25*baseScale, start.Add(30*time.Hour))

	vs, err := Judge(plan, cur, Options{Baseline: base})
	if err != nil {
		t.Fatal(err)
	}
	if len(Failing(vs)) == 0 {
		t.Fatalf("25%% slower fails against a 10%% threshold without history: %+v", vs)
	}
	h, err := LoadHistory(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	if h.Runs != 12 || len(h.P95["GET /"]) != 12 {
		t.Fatalf("history of %d runs (%d p95s), want the 12 complete ones once each (links skipped)", h.Runs, len(h.P95["GET /"]))
	}
	vs, _ = Judge(plan, cur, Options{Baseline: base, History: h})
	for _, v := range vs {
		if v.Gate != "regression" || !strings.HasPrefix(v.Budget, "p95 growth") {
			continue
		}
		if v.Outcome == result.OutcomeFail {
			t.Errorf("%s failed despite the runner's noise: %s", v.Subject, v.Detail)
		}
		if !strings.Contains(v.Detail, "widened from 10% by 12 baseline runs") {
			t.Errorf("%s: the verdict does not say the threshold widened: %s", v.Subject, v.Detail)
		}
	}
}

// Issue 8, defect 3: the history holds only runs of the baseline's plan
// (sources, shape, variables) that started no later than the baseline.
func TestHistoryCountsOnlyComparableRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results", "p")
	start := time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
	store := func(i int, info result.PlanInfo, status result.Status) *result.Run {
		r := synth.Run(synth.Spec{Start: start.Add(time.Duration(i) * time.Hour), Duration: time.Minute, Seed: uint64(i + 100), Pool: 2,
			Requests: []synth.Request{{Name: "GET /", Rate: 10, MedianUS: 5000, Sigma: 0.3}}})
		r.Plan, r.Status = info, status
		if err := result.Write(result.DirFor(filepath.Dir(dir), "p", r.Start), r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	var base *result.Run
	for i := 0; i < 12; i++ {
		base = store(i, planInfo(), result.Complete)
	}
	moved := planInfo() // the same files loaded from elsewhere
	moved.Sources = map[string]string{"/ci/checkout/plans/p.hcl": "plan", "/ci/checkout/plans/shop.workload.hcl": "workload"}
	store(-1, moved, result.Complete)
	store(-2, planInfo(), result.Interrupted)
	for i, change := range []func(*result.PlanInfo){
		func(p *result.PlanInfo) {
			p.Sources = map[string]string{"plans/p.hcl": "plan, edited", "plans/shop.workload.hcl": "workload"}
		},
		func(p *result.PlanInfo) { p.Shape = "spike" },
		func(p *result.PlanInfo) { p.Vars = map[string]string{"rate": `"500/s"`} },
		func(p *result.PlanInfo) { p.Vars = map[string]string{"rate": `"60/s"`, "users": "10"} },
	} {
		info := planInfo()
		change(&info)
		store(-10-i, info, result.Complete)
	}
	for i := 20; i < 25; i++ {
		store(i, planInfo(), result.Complete) // after the baseline
	}
	h, err := LoadHistory(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	if h.Runs != 13 || len(h.P95["GET /"]) != 13 {
		t.Errorf("history of %d runs (%d p95s), want the baseline, the 11 before it and the same plan loaded from elsewhere", h.Runs, len(h.P95["GET /"]))
	}
	// A baseline that does not record its plan has no history.
	if h, err := LoadHistory(dir, &result.Run{Start: base.Start}); err != nil || h.Runs != 0 {
		t.Errorf("no plan: %d runs, %v", h.Runs, err)
	}
}

// Issue 19, defect 4: runs that record another build of the target than
// the baseline's (-var build= or LAB_BUILD, Run.Build) are left out of its
// history: a build's change is not the runner's noise. Runs that record no
// build are not known to differ and stay in.
func TestHistoryLeavesOutOtherBuilds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results", "p")
	start := time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
	var base *result.Run
	for i := 0; i < 20; i++ {
		r := synth.Run(synth.Spec{Start: start.Add(time.Duration(i) * time.Hour), Duration: time.Minute, Seed: uint64(i + 300), Pool: 2,
			Requests: []synth.Request{{Name: "GET /", Rate: 10, MedianUS: 5000, Sigma: 0.3}}})
		r.Plan = planInfo()
		switch {
		case i < 5:
			r.Build = "v1.0"
		case i < 8:
			r.Build = "" // written before runs recorded their build
		default:
			r.Build = "v1.1"
		}
		if err := result.Write(result.DirFor(filepath.Dir(dir), "p", r.Start), r); err != nil {
			t.Fatal(err)
		}
		base = r
	}
	h, err := LoadHistory(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	if h.Runs != 15 {
		t.Errorf("history of %d runs, want the 12 of build v1.1 and the 3 without a label", h.Runs)
	}
	unlabelled := *base
	unlabelled.Build = ""
	if h, _ := LoadHistory(dir, &unlabelled); h.Runs != 20 {
		t.Errorf("a baseline without a build label: history of %d runs, want all 20", h.Runs)
	}
}

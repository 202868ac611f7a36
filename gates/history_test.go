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
	return synth.Run(synth.Spec{Start: start, Duration: 8 * time.Minute, Seed: seed, Requests: reqs, Pool: 48, PerWindowNoise: 0.04})
}

// On a runner whose runs drift ±15% from one another, a candidate 25%
// slower than the baseline fails against the plan's 10% alone; with a
// history of twelve earlier runs the threshold widens to the drift, and the
// verdict says the runner is too noisy to judge 10% instead of failing.
func TestHistoryWidensThresholdsToTheRunnersNoise(t *testing.T) {
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
	h, err := LoadHistory(dir)
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
		if v.Outcome == Fail {
			t.Errorf("%s failed despite the runner's noise: %s", v.Subject, v.Detail)
		}
		if !strings.Contains(v.Detail, "widened from 10% by 12 baseline runs") {
			t.Errorf("%s: the verdict does not say the threshold widened: %s", v.Subject, v.Detail)
		}
	}
}

package regress

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// series builds a name's windows: counts, slow and errors per window.
func series(p95 float64, count int64, slow, errs []int64) *Series {
	s := &Series{P95: p95, SlowKnown: true}
	for i := range slow {
		w := Window{Count: count, Slow: slow[i], Seconds: 10}
		if errs != nil {
			w.Errors = errs[i]
		}
		s.Windows = append(s.Windows, w)
	}
	return s
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// Issue 19, defect 2 (error rate): 0% → 3.7% errors against a 0.5-point
// threshold, all in one burst of a one-minute run, is not significant
// (φ ≈ 11): it is INCONCLUSIVE and says how long to run, never a pass (it
// read "✓ pass" with no explanation).
func TestErrorRateBeyondThresholdNotSignificantIsInconclusive(t *testing.T) {
	b := series(6000, 50, repeat(3, 6), repeat(0, 6))
	c := series(6000, 50, repeat(3, 6), []int64{11, 0, 0, 0, 0, 0})
	rep, err := Compare(Input{Baseline: RunInfo{Model: Open}, Current: RunInfo{Model: Open}, Requests: []Request{
		{Name: "POST /cart", Baseline: b, Current: c, Thresholds: Thresholds{ErrorRateInc: 0.005}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := find(t, rep, "POST /cart", ErrorRate)
	if r.Verdict != Inconclusive || r.PAdjusted < Alpha || !strings.Contains(r.Reason, "run longer: about") || r.RunFor <= 60 {
		t.Errorf("0%% → 3.7%% errors in one burst: %s (run for %v): %s", r.Verdict, r.RunFor, r.Reason)
	}
	if rep.Verdict != Inconclusive {
		t.Errorf("report %s", rep.Verdict)
	}
}

// Issue 19, defect 3: five names, two-minute runs at the shop's rates,
// every current request slower than the baseline's p95, no errors, and a
// bursty baseline (its slow requests come in 30 s bursts: φ ≈ 43 over 4
// batches a run). Every name fails. Before, the five error tests with no
// error in either run doubled Holm's family, and the t-test on 3 degrees
// of freedom could not get below α/10: every name was INCONCLUSIVE ("run
// at least 4m").
func TestEveryRequestSlowerDecidesInTwoMinutes(t *testing.T) {
	burst := []int64{0, 0, 0, 20, 20, 20, 0, 0, 0, 20, 20, 20}
	var reqs []Request
	for i := range 5 {
		reqs = append(reqs, Request{Name: fmt.Sprintf("GET /r%d", i),
			Baseline: series(6000, 125, burst, nil), Current: series(9000, 125, repeat(125, 12), nil)})
	}
	rep, err := Compare(Input{Baseline: RunInfo{Model: Open}, Current: RunInfo{Model: Open}, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		switch r.Metric {
		case Latency:
			if r.Verdict != Fail {
				t.Errorf("%s p95: %s: %s", r.Request, r.Verdict, r.Reason)
			}
		case ErrorRate:
			if !math.IsNaN(r.P) || r.Verdict != Pass || !strings.Contains(r.Reason, "no errors in either run") {
				t.Errorf("%s errors: %s, p %v: %s", r.Request, r.Verdict, r.P, r.Reason)
			}
		}
	}
}

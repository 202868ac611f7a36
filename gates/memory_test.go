package gates

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"lab/gates/synth"
	"lab/runtime/result"
)

// The leak verdict shows the least-squares slope over the same blocks
// beside Theil–Sen's, for readers who expect one; the verdict is Theil–Sen's.
// A run too short to fit shows neither.
func TestLeakVerdictShowsLeastSquares(t *testing.T) {
	plan := loadPlan(t, leakBlock)
	perMin := regexp.MustCompile(`^\+([0-9.]+)MB/min`)
	ls := regexp.MustCompile(`least squares over the same blocks: \+([0-9.]+)MB/min \(shown, not judged: docs/STATISTICS.md\)`)
	for seed := uint64(1); seed <= 4; seed++ {
		vs, err := Judge(plan, leakRun(50e3, seed%2 == 0, seed), Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := find(t, vs, "leak", "memory", "growth")
		ts, fit := perMin.FindStringSubmatch(v.Measured), ls.FindStringSubmatch(v.Detail)
		if v.Outcome != result.OutcomeFail || ts == nil || fit == nil {
			t.Fatalf("seed %d: %s, measured %q: %s", seed, v.Outcome, v.Measured, v.Detail)
		}
		// 50 KB × 100 checkouts/s is 300 MB/min: both fits see it.
		a, _ := strconv.ParseFloat(ts[1], 64)
		b, _ := strconv.ParseFloat(fit[1], 64)
		if b < 0.8*a || b > 1.25*a {
			t.Errorf("seed %d: least squares %v MB/min, Theil–Sen %v MB/min", seed, b, a)
		}
	}
	run := leakRun(50e3, false, 1)
	run.Memory = synth.MemorySeries(synth.Memory{Duration: time.Minute, Kind: "heap_live", Base: 30e6, Rate: 600})
	vs, _ := Judge(plan, run, Options{})
	if v := find(t, vs, "leak", "memory", "growth"); strings.Contains(v.Detail, "least squares") {
		t.Errorf("too short to fit, yet: %s", v.Detail)
	}
}

package sla

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"lab/runtime/needs"
)

var ruleTable = flag.Bool("rule-table", false, "print the breach rules' failure rates (docs/STATISTICS.md)")

// binomial draws the failures of n requests that each fail with rate p.
func binomial(rng *rand.Rand, n int64, p float64) int64 {
	var k int64
	for i := int64(0); i < n; i++ {
		if rng.Float64() < p {
			k++
		}
	}
	return k
}

// The two breach rules on an error-rate budget of 1%, over runs whose true
// failure rate is half the budget, the budget, or twice it: how often each
// rule fails the run. "significant" must fail a run at the budget no more
// than Alpha of the time, whatever the run's size; "measured" fails about
// half of the runs exactly at the budget, by design, and every large run
// over it. The figures are in docs/STATISTICS.md (go test -run
// TestBreachRuleRates -rule-table -v ./gates/sla).
func TestBreachRuleRates(t *testing.T) {
	needs.NoRace(t, "a single-goroutine simulation")
	const budget, trials = 0.01, 4000
	rng := rand.New(rand.NewPCG(11, 12))
	if *ruleTable {
		fmt.Println("| requests | true rate | fails, measured | fails, significant |")
		fmt.Println("|---|---|---|---|")
	}
	for _, n := range []int64{100, 1000, 10000} {
		for _, f := range []float64{0.5, 1, 2} {
			var fails [2]int
			for i := 0; i < trials; i++ {
				tally := Tally{Count: n, Failures: binomial(rng, n, f*budget)}
				for j, sig := range []bool{false, true} {
					l := Limit{Kind: ErrorRate, Name: "error_rate", Value: budget, Significant: sig}
					if l.Measure(&tally).Breached {
						fails[j]++
					}
				}
			}
			measured, significant := float64(fails[0])/trials, float64(fails[1])/trials
			if *ruleTable {
				fmt.Printf("| %d | %s | %.1f%% | %.2f%% |\n", n, Ratio(f*budget), 100*measured, 100*significant)
			}
			switch f {
			case 1:
				// One-sided exact binomial test: at most Alpha, with a
				// little room for the simulation's own error.
				if significant > Alpha+0.005 {
					t.Errorf("%d requests at the budget: significant fails %.2f%%, over %v", n, 100*significant, Alpha)
				}
				if measured < 0.2 {
					t.Errorf("%d requests at the budget: measured fails only %.1f%%", n, 100*measured)
				}
			case 2:
				if n >= 10000 && (measured < 0.999 || significant < 0.999) {
					t.Errorf("%d requests at twice the budget: measured %.1f%%, significant %.1f%% fail, want all", n, 100*measured, 100*significant)
				}
				if significant > measured {
					t.Errorf("%d requests at twice the budget: significant fails more often (%.1f%%) than measured (%.1f%%)", n, 100*significant, 100*measured)
				}
			}
		}
	}
}

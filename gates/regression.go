package gates

import (
	"fmt"
	"slices"

	"lab/gates/regress"
	"lab/gates/sla"
	"lab/lang"
	"lab/runtime/result"
)

// Thresholds are the regression block's limits (lang.Regression without
// its baseline path), for `lab compare` without a plan.
type Thresholds struct {
	P95Growth, RPSDrop, ErrorRateInc float64
	// History, when set, widens thresholds to the noise earlier runs show.
	History *History
}

// DefaultThresholds are the plan language's defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{P95Growth: lang.DefaultP95Growth, RPSDrop: lang.DefaultRPSDrop, ErrorRateInc: lang.DefaultErrorRateInc}
}

// ThresholdsOf are a regression block's thresholds; with no block, the
// plan language's defaults.
func ThresholdsOf(r *lang.Regression) Thresholds {
	if r == nil {
		return DefaultThresholds()
	}
	return Thresholds{P95Growth: r.P95Growth, RPSDrop: r.RPSDrop, ErrorRateInc: r.ErrorRateInc}
}

// Compare compares the current run with the baseline, request by request
// (docs/STATISTICS.md, "Regression compare"): p95 growth, throughput and
// error rate, each with an effect size and a significance test, Holm–Bonferroni
// across all of them. A request of the baseline missing now is reported; a
// saturated generator in either run makes the comparison invalid; a test
// the runs are too short for is inconclusive and says how long to run.
// Runs without per-window histograms (Locust's CSV) have their p95s
// compared by the threshold alone, and the verdicts say so.
func Compare(baseline, current *result.Run, th Thresholds) ([]result.Verdict, error) {
	return compare(baseline, current, th, nil)
}

// compare builds the regress input from the two runs; cur may hold the
// current run's counts above the baseline's p95s and above its medians
// grown by τ, from the SLA gate's scan (slowCounting).
func compare(base, cur *result.Run, th Thresholds, curCounts []*slowCounts) ([]result.Verdict, error) {
	for _, r := range []*result.Run{base, cur} {
		if err := sla.CheckSpan(r); err != nil {
			return nil, err
		}
	}
	baseP95, baseP50, err := wholeQuantiles(base)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	curP95, curP50, err := wholeQuantiles(cur)
	if err != nil {
		return nil, err
	}
	baseSlow, err := countSlow(base, baseP95)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if curCounts == nil {
		if curCounts, err = countSlow(cur, thresholdsFor(cur, base, baseP95), bulkThresholds(cur, base, baseP50, th.P95Growth)); err != nil {
			return nil, err
		}
	}
	bs, cs := seriesOf(base, baseSlow[0], nil, baseP95, baseP50), seriesOf(cur, curCounts[0], curCounts[1], curP95, curP50)
	names := slices.Clone(requestNames(base))
	for _, n := range requestNames(cur) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	in := regress.Input{Baseline: runInfo(base), Current: runInfo(cur)}
	// The plan's values (the language's defaults where it sets none): a
	// plan's 0 means 0, not regress's defaults.
	planned := regress.Thresholds{P95Growth: th.P95Growth, RPSDrop: th.RPSDrop, ErrorRateInc: th.ErrorRateInc, Exact: true}
	for _, n := range names {
		rt := planned
		if th.History != nil {
			rt.History, rt.RPSHistory = th.History.P95[n], th.History.RPS[n]
		}
		in.Requests = append(in.Requests, regress.Request{Name: n, Baseline: bs[n], Current: cs[n], Thresholds: rt})
	}
	rep, err := regress.Compare(in)
	if err != nil {
		return nil, err
	}
	return regress.Verdicts(in, rep, planned, base, cur), nil
}

func requestNames(run *result.Run) []string {
	out := make([]string, 0, len(run.Requests))
	for _, q := range run.Requests {
		if q.Count > 0 {
			out = append(out, q.Name)
		}
	}
	return out
}

func runInfo(run *result.Run) regress.RunInfo {
	// A generator that used nearly all its CPUs set the pace itself: its
	// figures are not the target's to compare.
	ri := regress.RunInfo{Model: regress.Closed, Saturated: run.Generator.Saturated || run.Generator.CPUBound(run.Duration())}
	if run.Model == "open" {
		ri.Model = regress.Open
	}
	return ri
}

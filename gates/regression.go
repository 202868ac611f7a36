package gates

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"lab/gates/regress"
	"lab/gates/sla"
	"lab/lang"
	"lab/lang/units"
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

// compare builds the regress input from the two runs; curSlow may hold
// the current run's counts above the baseline's p95s, from the SLA gate's
// scan.
func compare(base, cur *result.Run, th Thresholds, curSlow *slowCounts) ([]result.Verdict, error) {
	for _, r := range []*result.Run{base, cur} {
		if err := sla.CheckSpan(r); err != nil {
			return nil, err
		}
	}
	baseP95, err := wholeP95s(base)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	curP95, err := wholeP95s(cur)
	if err != nil {
		return nil, err
	}
	baseSlow, err := countSlow(base, baseP95)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if curSlow == nil {
		if curSlow, err = countSlow(cur, thresholdsFor(cur, base, baseP95)); err != nil {
			return nil, err
		}
	}
	bs, cs := seriesOf(base, baseSlow, baseP95), seriesOf(cur, curSlow, curP95)
	names := slices.Clone(requestNames(base))
	for _, n := range requestNames(cur) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	in := regress.Input{Baseline: runInfo(base), Current: runInfo(cur)}
	for _, n := range names {
		// The plan's values (the language's defaults where it sets none):
		// a plan's 0 means 0, not regress's defaults.
		rt := regress.Thresholds{P95Growth: th.P95Growth, RPSDrop: th.RPSDrop, ErrorRateInc: th.ErrorRateInc, Exact: true}
		if th.History != nil {
			rt.History, rt.RPSHistory = th.History.P95[n], th.History.RPS[n]
		}
		in.Requests = append(in.Requests, regress.Request{Name: n, Baseline: bs[n], Current: cs[n], Thresholds: rt})
	}
	rep, err := regress.Compare(in)
	if err != nil {
		return nil, err
	}
	runLevel := runInfo(base).Saturated || runInfo(cur).Saturated || in.Baseline.Model != in.Current.Model
	notes := dataNotes(base, cur)
	out := make([]result.Verdict, 0, len(rep.Results))
	for _, r := range rep.Results {
		out = append(out, regressionVerdict(r, th, cur, runLevel, notes))
	}
	return out, nil
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
	ri := regress.RunInfo{Model: regress.Closed, Saturated: run.Generator.Saturated}
	if run.Model == "open" {
		ri.Model = regress.Open
	}
	return ri
}

// dataNotes says what the runs' data could not support, for the verdicts.
func dataNotes(runs ...*result.Run) string {
	for _, r := range runs {
		if src, _ := r.Extra["source"].(string); src != "" {
			if lim, _ := r.Extra["limits"].(string); lim != "" {
				return lim
			}
		}
	}
	return ""
}

// budget names a threshold as the plan set it, and what a history widened
// it to.
func budget(what string, planned, used float64) string {
	if planned == 0 && !math.IsNaN(used) {
		planned = used // the compare's default
	}
	out := what + units.FormatRatio(planned)
	if !math.IsNaN(used) && used > planned {
		out += ", widened to " + sla.Ratio(used)
	}
	return out
}

func regressionVerdict(r regress.Result, th Thresholds, cur *result.Run, runLevel bool, notes string) result.Verdict {
	v := result.Verdict{Gate: "regression", Subject: r.Request}
	switch r.Metric {
	case regress.Latency:
		v.Budget = budget("p95 growth < ", th.P95Growth, r.Threshold)
		// The whole-run p95s, as the SLA table shows them.
		v.Measured = fmt.Sprintf("%s → %s", sla.Micros(r.Baseline), sla.Micros(r.Current))
		if !math.IsNaN(r.Effect) {
			v.Measured += fmt.Sprintf(" (%+.1f%%)", 100*(r.Effect-1))
		}
	case regress.Throughput:
		if q := cur.RequestByName(r.Request); cur.Model == "open" && q != nil && q.Offered != nil && *q.Offered > 0 {
			// Offered arrivals of its own: held to them, and to the
			// baseline's offered load.
			v.Budget = "achieved ≥ 99% of offered, offered as in the baseline"
			v.Measured = fmt.Sprintf("%s → %s", sla.Rate(r.Baseline), sla.Rate(r.Current))
			if !math.IsNaN(r.Effect) {
				v.Measured += fmt.Sprintf(" (%s of offered)", sla.Ratio(r.Effect))
			}
		} else {
			v.Budget = budget("req/s drop < ", th.RPSDrop, r.Threshold)
			v.Measured = fmt.Sprintf("%s → %s", sla.Rate(r.Baseline), sla.Rate(r.Current))
			if !math.IsNaN(r.Effect) {
				v.Measured += fmt.Sprintf(" (%+.1f%%)", 100*(r.Effect-1))
			}
		}
	case regress.ErrorRate:
		v.Budget = "error rate increase < " + units.FormatRatio(th.ErrorRateInc)
		v.Measured = fmt.Sprintf("%s → %s", sla.Ratio(r.Baseline), sla.Ratio(r.Current))
	case regress.ErrorClasses:
		v.Budget = fmt.Sprintf("no new error class (≥ %d events)", regress.NewClassMinEvents)
		v.Measured = fmt.Sprintf("%.0f new", r.Current)
	case regress.Presence:
		v.Budget = "completed in both runs"
		v.Measured = fmt.Sprintf("%.0f → %.0f requests", r.Baseline, r.Current)
		if r.Request == "" {
			v.Subject = "all requests"
		}
	}
	v.Outcome = outcomeOf(r.Verdict, runLevel)
	v.Detail = r.Reason
	if r.Request != "" {
		v.Detail = r.Request + ": " + r.Reason
	}
	if notes != "" && (r.Metric == regress.Latency || r.Metric == regress.Throughput || r.Metric == regress.ErrorRate) {
		v.Detail += " [" + notes + "]"
	}
	return v
}

// outcomeOf is a regress verdict as a verdict's outcome; runLevel says
// the whole comparison is at fault (a saturated generator, mixed models).
func outcomeOf(verdict regress.Verdict, runLevel bool) string {
	switch verdict {
	case regress.Pass:
		return Pass
	case regress.Fail:
		return Fail
	case regress.Advisory:
		return Advisory
	case regress.Missing:
		return Missing
	case regress.Inconclusive:
		return Inconclusive
	default:
		// A saturated generator or mixed models make the whole comparison
		// invalid; a metric that cannot be compared in these runs only
		// means they cannot tell.
		if runLevel {
			return Invalid
		}
		return Inconclusive
	}
}

// noBaseline is the verdict of a regression block whose baseline does not
// exist yet. It is advisory, not a failure: a team adopting the gate stores
// its first run as the baseline, and that run cannot be compared with
// anything; failing it would block the very run that bootstraps the gate.
// The table shows it, so a mistyped path does not go unnoticed.
func noBaseline(r *lang.Regression, why string) result.Verdict {
	if why == "" {
		why = fmt.Sprintf("no baseline run at %s", r.Baseline)
	}
	return result.Verdict{Gate: "regression", Subject: "baseline", Budget: "compare with " + r.Baseline, Measured: "no baseline yet",
		Outcome: Advisory, Detail: why + ": nothing to compare with; store a run there to start comparing (make baseline PLAN=<plan> keeps results/<plan>/baseline, or " +
			strings.TrimSpace("cp -r results/<plan>/latest/. "+r.Baseline) + ")"}
}

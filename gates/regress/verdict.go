package regress

import (
	"fmt"
	"math"
	"strings"

	"lab/gates/sla"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/result"
)

// Verdicts are the compare's results as the regression gate's verdicts,
// one per result. planned holds the thresholds as the plan set them, for
// the budgets' names; in says whether the whole comparison is at fault (a
// saturated generator, mixed models), which makes a metric that cannot be
// compared invalid rather than inconclusive; base and cur are the runs
// compared (what their data could not support is noted, and cur's offered
// arrivals name its throughput budgets).
func Verdicts(in Input, rep Report, planned Thresholds, base, cur *result.Run) []result.Verdict {
	runLevel := in.Baseline.Saturated || in.Current.Saturated || in.Baseline.Model != in.Current.Model
	notes := dataNotes(base, cur)
	out := make([]result.Verdict, 0, len(rep.Results))
	for _, r := range rep.Results {
		out = append(out, verdict(r, planned, cur, runLevel, notes))
	}
	return out
}

// BadBaseline is the verdict of a regression block whose baseline is there
// but cannot be used (it cannot be read, or its totals do not add up):
// unlike a baseline not stored yet, that is never a pass.
func BadBaseline(r *lang.Regression, why string) result.Verdict {
	return result.Verdict{Gate: "regression", Subject: "baseline", Budget: "compare with " + r.Baseline,
		Measured: "unreadable", Outcome: result.OutcomeInconclusive,
		Detail: why + ": nothing was compared; fix or replace the baseline run (a baseline that cannot be read is never a pass)"}
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

// verdict is one result as a verdict.
func verdict(r Result, th Thresholds, cur *result.Run, runLevel bool, notes string) result.Verdict {
	v := result.Verdict{Gate: "regression", Subject: r.Request}
	switch r.Metric {
	case Latency:
		v.Budget = budget("p95 growth < ", th.P95Growth, r.Threshold)
		// The whole-run p95s, as the SLA table shows them.
		v.Measured = fmt.Sprintf("%s → %s", sla.Micros(r.Baseline), sla.Micros(r.Current))
		if !math.IsNaN(r.Effect) {
			v.Measured += fmt.Sprintf(" (%+.1f%%)", 100*(r.Effect-1))
		}
	case Throughput:
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
	case ErrorRate:
		v.Budget = "error rate increase < " + units.FormatRatio(th.ErrorRateInc)
		v.Measured = fmt.Sprintf("%s → %s", sla.Ratio(r.Baseline), sla.Ratio(r.Current))
	case ErrorClasses:
		v.Budget = fmt.Sprintf("no new error class (≥ %d events)", NewClassMinEvents)
		v.Measured = fmt.Sprintf("%.0f new", r.Current)
	case Presence:
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
	if notes != "" && (r.Metric == Latency || r.Metric == Throughput || r.Metric == ErrorRate) {
		v.Detail += " [" + notes + "]"
	}
	return v
}

// outcomeOf is a regress verdict as a verdict's outcome; runLevel says
// the whole comparison is at fault (a saturated generator, mixed models).
func outcomeOf(verdict Verdict, runLevel bool) string {
	switch verdict {
	case Pass:
		return result.OutcomePass
	case Fail:
		return result.OutcomeFail
	case Advisory:
		return result.OutcomeAdvisory
	case Missing:
		return result.OutcomeMissing
	case Inconclusive:
		return result.OutcomeInconclusive
	default:
		// A saturated generator or mixed models make the whole comparison
		// invalid; a metric that cannot be compared in these runs only
		// means they cannot tell.
		if runLevel {
			return result.OutcomeInvalid
		}
		return result.OutcomeInconclusive
	}
}

// NoBaseline is the verdict of a regression block whose baseline does not
// exist yet. It is advisory, not a failure: a team adopting the gate stores
// its first run as the baseline, and that run cannot be compared with
// anything; failing it would block the very run that bootstraps the gate.
// The table shows it, so a mistyped path does not go unnoticed.
func NoBaseline(r *lang.Regression, why string) result.Verdict {
	if why == "" {
		why = fmt.Sprintf("no baseline run at %s", r.Baseline)
	}
	return result.Verdict{Gate: "regression", Subject: "baseline", Budget: "compare with " + r.Baseline, Measured: "no baseline yet",
		Outcome: result.OutcomeAdvisory, Detail: why + ": nothing to compare with; store a run there to start comparing (make baseline PLAN=<plan> keeps results/<plan>/baseline, or " +
			strings.TrimSpace("cp -r results/<plan>/latest/. "+r.Baseline) + ")"}
}

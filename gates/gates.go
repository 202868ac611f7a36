// Package gates turns every budget of a plan into verdicts on a stored Run:
// the SLA gate (gates/sla), the leak hunter (gates/leak) over the run's
// memory samples, and the regression compare (gates/regress) against a
// baseline Run. It reads Runs and never sends a request, so `lab apply`,
// `lab gate` and `lab compare` judge alike. gates/verdict prints what it
// found as a terminal table, Markdown and JUnit XML; ExitCode says what the
// process exits with (README.md, "Exit codes").
//
// Every gate package builds its own result.Verdicts (sla did; leak and
// regress were made to: the smaller change); gates gathers them and builds
// only the run's own (RunVerdict, LostWorkers).
package gates

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"lab/gates/exitcode"
	"lab/gates/leak"
	"lab/gates/regress"
	"lab/gates/sla"
	"lab/lang"
	"lab/runtime/result"
)

// Options are what Judge needs besides the plan and the run.
type Options struct {
	// Baseline is the run the plan's regression block compares with, nil
	// when there is none; NoBaseline then says why (it becomes the
	// verdict's detail).
	Baseline   *result.Run
	NoBaseline string
	// BaselineDir is the Baseline's run folder, as found (absolute).
	BaselineDir string
	// BadBaseline says why a baseline that is there cannot be used (it
	// cannot be read, or its totals do not add up): unlike a baseline not
	// stored yet, that is never a pass.
	BadBaseline string
	// History of earlier runs of the plan, to widen the regression
	// thresholds to the runner's noise (nil: the plan's thresholds as set).
	History *History
	// Table supplies whole-run percentiles for a run without histograms
	// (Locust's CSV).
	Table *sla.Table
}

// Judge judges the run against every budget of the plan: its sla blocks,
// its leak block and its regression block, after a verdict on the run
// itself when it did not complete. A plan without budgets gives no
// verdicts. Errors are for runs that cannot be read (a corrupt histogram).
// With a regression block, Judge keeps in run.Extra[SlowKey] the run's
// per-window counts of requests slower than its own p95 and the
// baseline's (and reads them from there when present).
func Judge(plan *lang.Plan, run *result.Run, opt Options) ([]result.Verdict, error) {
	var out []result.Verdict
	if v, ok := RunVerdict(run); ok {
		out = append(out, v)
	}
	out = append(out, LostWorkers(run)...)
	if v, ok := GeneratorCPU(run); ok {
		out = append(out, v)
	}
	if v, ok := UnjudgedFailures(plan, run); ok {
		out = append(out, v)
	}
	var counts []*slowCounts // own, then against the baseline: its p95s, its medians grown by τ
	sopt := sla.Options{Table: opt.Table}
	if plan.Regression != nil {
		var err error
		if counts, sopt.Hook, err = slowCounting(run, opt.Baseline, ThresholdsOf(plan.Regression).P95Growth); err != nil {
			return nil, err
		}
	}
	vs, err := sla.Judge(plan.SLAs, run, sopt)
	if err != nil {
		return nil, fmt.Errorf("sla gate: %w", err)
	}
	if sopt.Hook != nil {
		for _, c := range counts {
			c.keep(run)
		}
	}
	out = append(out, vs...)
	out = append(out, sla.JudgeMeasures(plan.Measures, run)...)
	if plan.Leak != nil {
		out = append(out, leak.Judge(plan.Leak, run))
	}
	if plan.Regression != nil {
		vs, err := regressionVerdicts(plan.Regression, run, opt, counts)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// slowCounting has the SLA gate's pass over the windows also count their
// slow requests: above the run's own p95s for when it is the baseline,
// and (when there is a baseline) above the baseline's p95s and above its
// medians grown by τ (the bulk test) for the compare now. It returns the
// counts in that order, and the hook that counts them, nil when every
// count is already kept with the run or it has no histograms.
func slowCounting(run, baseline *result.Run, tau float64) ([]*slowCounts, sla.Hook, error) {
	own, err := wholeP95s(run)
	if err != nil {
		return nil, nil, fmt.Errorf("regression compare: %w", err)
	}
	thresholds := [][]int64{own}
	if baseline != nil {
		p95, p50, err := wholeQuantiles(baseline)
		if err != nil {
			return nil, nil, fmt.Errorf("regression compare: baseline: %w", err)
		}
		thresholds = append(thresholds, thresholdsFor(run, baseline, p95), bulkThresholds(run, baseline, p50, tau))
	}
	var counts []*slowCounts
	var hooks []sla.Hook
	for _, above := range thresholds {
		c := cachedSlow(run, above)
		if !c.complete() && hasHists(run) {
			c = newSlowCounts(run, above)
			hooks = append(hooks, c.hook(run))
		}
		counts = append(counts, c)
	}
	if len(hooks) == 0 {
		return counts, nil, nil
	}
	return counts, allHooks(hooks), nil
}

// regressionVerdicts compares the run with the regression block's
// baseline; counts are the run's slow counts from slowCounting.
func regressionVerdicts(r *lang.Regression, run *result.Run, opt Options, counts []*slowCounts) ([]result.Verdict, error) {
	switch {
	case opt.Baseline == nil && opt.BadBaseline != "":
		return []result.Verdict{regress.BadBaseline(r, opt.BadBaseline)}, nil
	case opt.Baseline == nil:
		return []result.Verdict{regress.NoBaseline(r, opt.NoBaseline)}, nil
	}
	th := ThresholdsOf(r)
	th.History = opt.History
	vs, err := compare(opt.Baseline, run, th, counts[1:])
	if err != nil {
		return nil, fmt.Errorf("regression compare: %w", err)
	}
	return vs, nil
}

// RunVerdict is the verdict on a run that did not complete cleanly:
// interrupted (judged on what it has, never a pass), aborted by an abort
// rule (a breach), invalid (a saturated generator: the figures flatter the
// target) or failed; or complete but with requests cut off at the end of
// the grace period (their outcome is unknown: inconclusive, never a pass).
func RunVerdict(run *result.Run) (result.Verdict, bool) {
	v := result.Verdict{Gate: "run", Subject: "status", Budget: "run completes", Measured: string(run.Status), Detail: run.Reason}
	cut := cutOff(run)
	switch run.Status {
	case result.Complete, "":
		if cut == "" {
			return v, false
		}
		v.Outcome = result.OutcomeInconclusive
		v.Measured = "complete, requests cut off"
		v.Detail = cut + ": their outcome is unknown, so the run cannot pass; lengthen --grace, or look at why the target stopped answering"
		return v, true
	case result.Interrupted:
		v.Outcome = result.OutcomeInconclusive
		v.Detail = run.Reason + ": the budgets were judged on what the run measured until then"
	case result.Aborted:
		v.Outcome = result.OutcomeFail
		v.Detail = "stopped early by an abort rule: " + run.Reason
		if strings.HasPrefix(run.Reason, "stopped from") { // the live page's stop button
			v.Detail = "stopped early, " + run.Reason + ": the shape did not run to its end"
		}
	case result.Invalid:
		v.Outcome = result.OutcomeInvalid
		v.Detail = "the generator could not keep up, so the figures cannot be trusted: " + run.Reason
	default:
		v.Outcome = result.OutcomeInvalid
	}
	if cut != "" {
		v.Detail += "; " + cut
	}
	return v, true
}

// UnjudgedFailures fails a run whose failed requests no error_rate budget
// judges: a plan that forgot its sla block must not go green against a
// dead service. Failures of a request some error_rate budget covers (its
// name, a glob that matches it, or "all", whole-run or per window) are
// that budget's to judge, and a regression block judges every request's
// error rate against its baseline.
func UnjudgedFailures(plan *lang.Plan, run *result.Run) (result.Verdict, bool) {
	covered := map[string]bool{}
	all := plan.Regression != nil
	for _, s := range plan.SLAs {
		if s.ErrorRate == nil {
			continue
		}
		all = all || s.All
		for _, n := range s.Matches {
			covered[n] = true
		}
	}
	var failed, total int64
	var names []string
	for _, q := range run.Requests {
		total += q.Count
		if q.Failures > 0 && !all && !covered[q.Name] {
			failed += q.Failures
			names = append(names, fmt.Sprintf("%s %d of %d", q.Name, q.Failures, q.Count))
		}
	}
	if failed == 0 {
		return result.Verdict{}, false
	}
	return result.Verdict{
		Gate: "run", Subject: "failures", Budget: "failures judged by a budget",
		Measured: fmt.Sprintf("%d unjudged", failed), Outcome: result.OutcomeFail,
		Detail: fmt.Sprintf("%d of %d requests failed (%s) and no error_rate budget judges them, so the run cannot pass: add one, e.g. sla \"all\" { error_rate = \"1%%\" } (docs/GATES.md, \"How each gate decides\")",
			failed, total, strings.Join(names, ", ")),
	}, true
}

// GeneratorCPU is a note on a run whose generator used nearly all its
// CPUs for long enough (result.Generator.CPUBound): its own work, not
// the target's answers, may have set the pace, so its latencies include
// the generator's delays and its throughput is the generator's. It never
// fails the run by itself; a regression compare refuses such a run.
func GeneratorCPU(run *result.Run) (result.Verdict, bool) {
	g := run.Generator
	secs := run.Duration()
	if !g.CPUBound(secs) {
		return result.Verdict{}, false
	}
	return result.Verdict{
		Gate: "run", Subject: "generator", Budget: fmt.Sprintf("CPU under %.0f%% of its %g", 100*result.CPUBusy, g.CPUs),
		Measured: fmt.Sprintf("over it %d s of %.0f s (peak %.0f%%)", g.CPUBusyS, secs, 100*g.CPUPeak), Outcome: result.OutcomeAdvisory,
		Detail: "the generator used nearly all its CPUs: its own work, not the target's answers, may have set the pace, so the latencies include its delays and the throughput is its own; give it more CPUs or workers, and compare no run like this (lab compare refuses it)",
	}, true
}

// LostWorkers notes each worker a distributed run lost (advisory: the run
// went on without it, or failed on its own account): what it reported
// until then is in the Run, what it did after is not.
func LostWorkers(run *result.Run) []result.Verdict {
	var out []result.Verdict
	for _, w := range run.WorkerLog {
		if w.Lost == "" {
			continue
		}
		at := w.Left.Sub(run.Start).Round(time.Second)
		v := result.Verdict{
			Gate: "run", Subject: fmt.Sprintf("worker %d (%s)", w.ID, w.Host), Budget: "stays to the end",
			Measured: fmt.Sprintf("lost after %s", at), Outcome: result.OutcomeAdvisory,
			Detail: fmt.Sprintf("%s; the %d requests it reported are counted, what it sent after its last report is not known", w.Lost, w.Requests),
		}
		if w.LostArrivals > 0 {
			// The Run is short by a known amount: offered load went
			// unaccounted, so no throughput figure of the run can be
			// trusted to pass.
			v.Outcome = result.OutcomeInconclusive
			v.Measured += fmt.Sprintf(", %d requests unaccounted for", w.LostArrivals)
			v.Detail = fmt.Sprintf("%s; the %d requests it reported are counted; %d more of its share (in flight at its last report, or due until the others took its share over) reached the target before it was lost or never: the run is short by up to that many", w.Lost, w.Requests, w.LostArrivals)
		}
		out = append(out, v)
	}
	return out
}

// cutOff says how many requests of the run were cut off at the end of the
// grace period (recorded as failures), or "" when none were.
func cutOff(run *result.Run) string {
	var n, sent int64
	for _, q := range run.Requests {
		n += q.CutOff
		sent += q.Count
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d requests were still in flight when the grace period ended and were cut off (counted as failures)", n, sent)
}

// ExitCode is what a command exits with after these verdicts: 3 when a
// measurement is invalid, else 1 when any verdict is not a pass (fail,
// no samples, inconclusive, missing), else 0.
func ExitCode(vs []result.Verdict) int {
	code := exitcode.OK
	for _, v := range vs {
		switch v.Outcome {
		case result.OutcomePass, result.OutcomeAdvisory:
		case result.OutcomeInvalid:
			return exitcode.CouldNotRun
		default:
			code = exitcode.Breach
		}
	}
	return code
}

// Failing lists the verdicts that make the exit code non-zero.
func Failing(vs []result.Verdict) []result.Verdict {
	return slices.DeleteFunc(slices.Clone(vs), func(v result.Verdict) bool {
		return v.Outcome == result.OutcomePass || v.Outcome == result.OutcomeAdvisory
	})
}

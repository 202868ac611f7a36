package gates

import (
	"fmt"

	"lab/gates/leak"
	"lab/gates/report"
	"lab/gates/sla"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/result"
)

// Report renders report.html for a judged run: the plan gives the latency
// budgets drawn on the charts and the leak budget whose fit is drawn (a
// nil plan draws neither); baseline, when not nil, is compared with.
func Report(plan *lang.Plan, run, baseline *result.Run) ([]byte, error) {
	return report.Render(ReportInput(plan, run, baseline))
}

// ReportInput is what report.html (or the live page) shows of the run.
func ReportInput(plan *lang.Plan, run, baseline *result.Run) report.Input {
	in := report.Input{Run: run, Baseline: baseline, Exit: ExitCode(run.Verdicts)}
	if plan != nil {
		in.Budgets = latencyBudgets(plan.SLAs)
		if l := plan.Leak; l != nil && run.Memory != nil && len(run.Memory.Samples) > 0 {
			if rep, err := leak.Fit(l, run); err == nil {
				in.Leak, in.LeakBudget = &rep, leak.BudgetLabel(l)
			}
		}
	}
	return in
}

// SoFar judges a run still going on what it measured so far: its sla
// blocks (windowed ones on the windows closed so far) and its leak block,
// in the words of the final verdicts. The run's own verdict and the
// regression compare wait for its end.
func SoFar(plan *lang.Plan, run *result.Run) ([]result.Verdict, error) {
	vs, err := sla.Judge(plan.SLAs, run, sla.Options{})
	if err != nil {
		return nil, fmt.Errorf("sla gate: %w", err)
	}
	if plan.Leak != nil {
		vs = append(vs, leak.Judge(plan.Leak, run))
	}
	return vs, nil
}

// latencyBudgets are the SLA blocks' percentile and max budgets, as
// threshold lines: "GET /products p95 ≤ 300ms".
func latencyBudgets(slas []*lang.SLA) []report.Budget {
	var out []report.Budget
	for _, s := range slas {
		where := ""
		if s.Stage > 0 {
			where = " in " + s.StageText() // a line across the whole chart, labelled with where it holds
		}
		for _, p := range s.Percentiles {
			out = append(out, report.Budget{Label: fmt.Sprintf("%s %s ≤ %s%s", s.Label, p.Name, units.FormatDuration(p.Max), where), US: p.Max.Microseconds()})
		}
		if s.Max > 0 {
			out = append(out, report.Budget{Label: fmt.Sprintf("%s max ≤ %s%s", s.Label, units.FormatDuration(s.Max), where), US: s.Max.Microseconds()})
		}
	}
	return out
}

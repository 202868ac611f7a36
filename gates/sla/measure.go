package sla

import (
	"fmt"
	"math"

	"lab/lang"
	"lab/runtime/result"
)

// JudgeMeasures turns the measure blocks' budgets into verdicts (gate
// "measure"): percentiles, avg and max are upper bounds, min a lower one.
// No value is no sample, never a pass; an answer that gave no number is
// said, and when they outnumber the values the verdict is inconclusive:
// the numbers the budget would judge are not there.
func JudgeMeasures(ms []*lang.Measure, run *result.Run) []result.Verdict {
	var out []result.Verdict
	for _, m := range ms {
		if !m.Budgeted {
			continue
		}
		got := run.MeasureByName(m.Name)
		if got == nil {
			got = &result.Measure{Name: m.Name}
		}
		type limit struct {
			name  string
			value float64
			upper bool
			read  func() (float64, error)
		}
		var limits []limit
		for _, p := range m.Percentiles {
			limits = append(limits, limit{p.Name, p.Max, true, func() (float64, error) { return got.Percentile(p.P) }})
		}
		if m.Avg != nil {
			limits = append(limits, limit{"avg", *m.Avg, true, func() (float64, error) { return got.Mean(), nil }})
		}
		if m.Max != nil {
			limits = append(limits, limit{"max", *m.Max, true, func() (float64, error) { return got.Max, nil }})
		}
		if m.Min != nil {
			limits = append(limits, limit{"min", *m.Min, false, func() (float64, error) { return got.Min, nil }})
		}
		for _, l := range limits {
			op := "≤"
			if !l.upper {
				op = "≥"
			}
			v := result.Verdict{Gate: "measure", Subject: m.Name, Budget: fmt.Sprintf("%s %s %s", l.name, op, m.Text(l.value)), Measured: "–"}
			missing := ""
			if got.Missing > 0 {
				missing = fmt.Sprintf("; %d answer(s) gave no value (the last: %s)", got.Missing, got.LastMissing)
			}
			switch {
			case got.Count == 0:
				v.Outcome = result.OutcomeNoSamples
				v.Detail = fmt.Sprintf("measure %s: no answer gave a value%s", m.Name, missing)
			case got.Missing > got.Count:
				v.Outcome = result.OutcomeInconclusive
				v.Detail = fmt.Sprintf("measure %s: %d answers gave a value and %d did not: the budget would judge the few that had one%s", m.Name, got.Count, got.Missing, missing)
			default:
				x, err := l.read()
				if err != nil || math.IsNaN(x) {
					v.Outcome = result.OutcomeInconclusive
					v.Detail = fmt.Sprintf("measure %s: its values cannot be read: %v", m.Name, err)
					break
				}
				v.Measured = m.Text(x)
				within := x <= l.value
				if !l.upper {
					within = x >= l.value
				}
				v.Outcome = result.OutcomeFail
				if within {
					v.Outcome = result.OutcomePass
				}
				v.Detail = fmt.Sprintf("measure %s %s %s, budget %s %s (%d values, avg %s, max %s)%s",
					m.Name, l.name, m.Text(x), op, m.Text(l.value), got.Count, m.Text(got.Mean()), m.Text(got.Max), missing)
			}
			out = append(out, v)
		}
	}
	return out
}

package lang

import (
	"fmt"
	"sort"
	"strings"

	"lab/lang/units"
)

// Looser says which direction of a budget's number loosens it.
type Looser int

const (
	Neutral      Looser = iota // not a budget: a change is just a change
	HigherLooser               // a higher limit lets more through: latency, error rate, growth
	LowerLooser                // a lower limit lets more through: min RPS
)

// Fact is one reviewable statement a plan makes: "sla "GET /" p95 = 200ms".
// Two plans are compared fact by fact.
type Fact struct {
	Key    string
	Text   string
	Num    float64 // the limit as a number, for budgets
	Looser Looser
}

// Facts flattens a plan into facts, in a stable order.
func (p *Plan) Facts() []Fact {
	var fs []Fact
	add := func(key, text string) { fs = append(fs, Fact{Key: key, Text: text}) }
	budget := func(key, text string, num float64, l Looser) {
		fs = append(fs, Fact{Key: key, Text: text, Num: num, Looser: l})
	}
	for _, v := range p.Vars {
		add("variable "+v.Name, v.Text())
	}
	if s := p.SUT; s != nil {
		add(fmt.Sprintf("shop %q listen", s.Name), s.Listen)
		for _, k := range s.Knobs {
			if k.Name != "listen" {
				add(fmt.Sprintf("shop %q %s", s.Name, k.Name), k.Text)
			}
		}
	}
	if w := p.Workload; w != nil {
		add("workload host", w.Host)
		add("workload timeout", units.FormatDuration(w.Timeout))
		add("workload max_connections", fmt.Sprint(w.MaxConnections))
		for _, h := range w.Headers {
			add("workload header "+h.Key, h.Text())
		}
		add("workload redirects", fmt.Sprint(w.Redirects))
		add("workload insecure_skip_verify", fmt.Sprint(w.InsecureSkipVerify))
		for i, r := range w.Setup {
			add(fmt.Sprintf("workload setup step %d", i+1), strings.TrimSpace(r.Step+" "+r.Name+requestNotes(r)))
		}
		for i, r := range w.Teardown {
			add(fmt.Sprintf("workload teardown step %d", i+1), strings.TrimSpace(r.Step+" "+r.Name+requestNotes(r)))
		}
		for _, u := range w.Users {
			k := fmt.Sprintf("user %q", u.Name)
			add(k+" weight", fmt.Sprint(u.Weight))
			add(k+" wait", WaitText(u.Wait))
			add(k+" cookies", u.Cookies.String())
			add(k+" host", w.TargetOf(u).Host)
			for i, r := range u.Start {
				add(fmt.Sprintf("%s start step %d", k, i+1), strings.TrimSpace(r.Step+" "+r.Name+requestNotes(r)))
			}
			for _, t := range u.Tasks {
				tk := fmt.Sprintf("%s task %q", k, t.Name)
				if t.Sequence {
					tk = fmt.Sprintf("%s sequence %q", k, t.Name)
				}
				add(tk+" weight", fmt.Sprint(t.Weight))
				if t.Sequence {
					add(tk+" on_failure", map[bool]string{false: "stop", true: "continue"}[t.GoOn])
				}
				for _, pv := range t.Pass {
					add(tk+" pass "+pv.Name, strings.TrimSpace(pv.Value.Source()))
				}
				for i, r := range t.Steps {
					rk := tk
					if t.Sequence {
						rk = fmt.Sprintf("%s step %d", tk, i+1)
					}
					v := strings.TrimSpace(r.Step + " " + r.Name + requestNotes(r))
					if r.InBatch {
						v += " [sent at once with its batch]"
					}
					add(rk, v)
				}
			}
		}
	}
	for _, s := range p.Shapes {
		k := fmt.Sprintf("shape %q", s.Name)
		add(k+" model", s.Model.String())
		for i, st := range s.Stages {
			add(fmt.Sprintf("%s stage %d", k, i+1), fmt.Sprintf("%s → %s, %s", units.FormatDuration(st.Start), units.FormatDuration(st.End), StageText(st, s.Model)))
		}
		if s.Model == Open {
			add(k+" max_in_flight", fmt.Sprint(s.MaxInFlight))
		}
		add(k+" iterations", fmt.Sprint(s.Iterations))
		add(k+" shared_iterations", fmt.Sprint(s.SharedIterations))
	}
	if p.Shape != nil {
		add("shape used", p.Shape.Name)
	}
	for _, m := range p.Measures {
		k := fmt.Sprintf("measure %q", m.Name)
		for _, l := range m.Percentiles {
			budget(k+" "+l.Name, m.Text(l.Max), l.Max, HigherLooser)
		}
		if m.Avg != nil {
			budget(k+" avg", m.Text(*m.Avg), *m.Avg, HigherLooser)
		}
		if m.Max != nil {
			budget(k+" max", m.Text(*m.Max), *m.Max, HigherLooser)
		}
		if m.Min != nil {
			budget(k+" min", m.Text(*m.Min), *m.Min, LowerLooser)
		}
	}
	for _, s := range p.SLAs {
		k := fmt.Sprintf("sla %q", s.Label)
		if s.Stage > 0 {
			k += " " + s.StageText()
		}
		for _, pb := range s.Percentiles {
			budget(k+" "+pb.Name, units.FormatDuration(pb.Max), float64(pb.Max), HigherLooser)
		}
		if s.Avg > 0 {
			budget(k+" avg", units.FormatDuration(s.Avg), float64(s.Avg), HigherLooser)
		}
		if s.Max > 0 {
			budget(k+" max", units.FormatDuration(s.Max), float64(s.Max), HigherLooser)
		}
		if s.ErrorRate != nil {
			budget(k+" error_rate", units.FormatRatio(*s.ErrorRate), *s.ErrorRate, HigherLooser)
		}
		if s.MinRPS != nil {
			budget(k+" min_rps", units.FormatCountRate(*s.MinRPS), *s.MinRPS, LowerLooser)
		}
		if s.Window > 0 {
			add(k+" window", units.FormatDuration(s.Window))
		}
		if s.AbortAfter > 0 {
			budget(k+" abort_after", fmt.Sprintf("%d windows", s.AbortAfter), float64(s.AbortAfter), HigherLooser)
		}
		if !s.All {
			add(k+" aggregate", fmt.Sprint(s.Aggregate))
		}
		// Failing only beyond chance lets through what failing when
		// measured over the budget would not: a looser rule.
		loose := 0.0
		if s.Breach == BreachSignificant {
			loose = 1
		}
		budget(k+" breach", string(s.Breach), loose, HigherLooser)
	}
	if l := p.Leak; l != nil {
		add("leak memory", MemoryText(l.Memory))
		add("leak warmup", units.FormatDuration(l.Warmup))
		add("leak window", units.FormatDuration(l.Window))
		if l.MaxGrowthRate > 0 {
			budget("leak max_growth_rate", units.FormatByteRate(l.MaxGrowthRate), l.MaxGrowthRate, HigherLooser)
		}
		if l.MaxGrowth > 0 {
			budget("leak max_growth", units.FormatSize(l.MaxGrowth), float64(l.MaxGrowth), HigherLooser)
		}
	}
	if r := p.Regression; r != nil {
		add("regression baseline", r.Baseline)
		budget("regression p95_growth", units.FormatRatio(r.P95Growth), r.P95Growth, HigherLooser)
		budget("regression rps_drop", units.FormatRatio(r.RPSDrop), r.RPSDrop, HigherLooser)
		budget("regression error_rate_inc", units.FormatRatio(r.ErrorRateInc), r.ErrorRateInc, HigherLooser)
	}
	t := p.Topology
	add("topology workers", fmt.Sprint(t.Workers))
	add("topology master", t.Master)
	add("topology on_worker_loss", t.OnWorkerLoss)
	add("topology placement", strings.Join(t.Placement, ", "))
	add("seed", fmt.Sprint(p.Seed))
	return fs
}

// ChangeKind says how a fact changed between two plans.
type ChangeKind int

const (
	Added ChangeKind = iota + 1
	Removed
	Changed
)

// Change is one difference between two plans.
type Change struct {
	Kind      ChangeKind
	Key       string
	Old, New  string
	Loosened  bool // the new plan lets through more than the old one
	Tightened bool
}

// Diff compares two plans fact by fact, in the order of the new plan's facts
// (removed ones after). A budget that is raised, removed, or (for minimums)
// lowered is Loosened.
func Diff(old, cur *Plan) []Change {
	oldFacts := map[string]Fact{}
	for _, f := range old.Facts() {
		oldFacts[f.Key] = f
	}
	var out []Change
	seen := map[string]bool{}
	for _, f := range cur.Facts() {
		seen[f.Key] = true
		of, had := oldFacts[f.Key]
		switch {
		case !had:
			out = append(out, Change{Kind: Added, Key: f.Key, New: f.Text, Tightened: f.Looser != Neutral})
		case of.Text != f.Text:
			c := Change{Kind: Changed, Key: f.Key, Old: of.Text, New: f.Text}
			switch {
			case f.Looser == HigherLooser && f.Num > of.Num, f.Looser == LowerLooser && f.Num < of.Num:
				c.Loosened = true
			case f.Looser == HigherLooser && f.Num < of.Num, f.Looser == LowerLooser && f.Num > of.Num:
				c.Tightened = true
			}
			out = append(out, c)
		}
	}
	var removed []string
	for k := range oldFacts {
		if !seen[k] {
			removed = append(removed, k)
		}
	}
	sort.Strings(removed)
	for _, k := range removed {
		f := oldFacts[k]
		out = append(out, Change{Kind: Removed, Key: k, Old: f.Text, Loosened: f.Looser != Neutral})
	}
	return out
}

// Loosened counts the changes that loosen a budget.
func Loosened(changes []Change) int {
	n := 0
	for _, c := range changes {
		if c.Loosened {
			n++
		}
	}
	return n
}

// DiffText renders changes for a reviewer; loosened budgets are marked
// LOOSENED so they stand out in a pull request.
func DiffText(changes []Change) string {
	if len(changes) == 0 {
		return "no changes\n"
	}
	var b strings.Builder
	tw := table(&b)
	loosened, tightened := 0, 0
	for _, c := range changes {
		mark := ""
		switch {
		case c.Loosened:
			mark, loosened = "LOOSENED", loosened+1
		case c.Tightened:
			mark, tightened = "tightened", tightened+1
		}
		switch c.Kind {
		case Added:
			fmt.Fprintf(tw, "  + %s\t%s\t%s\n", c.Key, c.New, mark)
		case Removed:
			if mark == "LOOSENED" {
				mark = "LOOSENED (budget removed)"
			}
			fmt.Fprintf(tw, "  - %s\t%s\t%s\n", c.Key, c.Old, mark)
		case Changed:
			fmt.Fprintf(tw, "  ~ %s\t%s → %s\t%s\n", c.Key, c.Old, c.New, mark)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%s: %s loosened, %d tightened\n", plural(len(changes), "change"), plural(loosened, "budget"), tightened)
	return trimTrailingSpace(b.String())
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Package verdict prints the gates' verdicts for people and for CI: one
// terminal table per gate (failing cells marked, coloured unless told not
// to), the same as GitHub-flavoured Markdown (summary.md, the job summary),
// and JUnit XML with one test case per budget.
package verdict

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"lab/runtime/result"
)

// Gates in the order the tables show them, with their titles.
var gateOrder = []struct{ key, title string }{
	{"run", "Run"},
	{"sla", "SLA"},
	{"measure", "Measures"},
	{"leak", "Leak"},
	{"regression", "Regression"},
}

func title(gate string) string {
	for _, g := range gateOrder {
		if g.key == gate {
			return g.title
		}
	}
	return gate
}

// groups splits verdicts by gate, in gateOrder and then first-seen order.
func groups(vs []result.Verdict) [][]result.Verdict {
	var order []string
	by := map[string][]result.Verdict{}
	for _, v := range vs {
		if _, ok := by[v.Gate]; !ok {
			order = append(order, v.Gate)
		}
		by[v.Gate] = append(by[v.Gate], v)
	}
	var out [][]result.Verdict
	seen := map[string]bool{}
	for _, g := range gateOrder {
		if len(by[g.key]) > 0 {
			out = append(out, by[g.key])
			seen[g.key] = true
		}
	}
	for _, g := range order {
		if !seen[g] {
			out = append(out, by[g])
		}
	}
	return out
}

// ok tells whether an outcome lets the gate pass.
func ok(outcome string) bool {
	return outcome == result.OutcomePass || outcome == result.OutcomeAdvisory
}

// mark is the outcome as the terminal shows it: a sign that needs no colour.
func mark(outcome string) string {
	switch outcome {
	case result.OutcomePass:
		return "✓ pass"
	case result.OutcomeAdvisory:
		return "· advisory"
	case result.OutcomeFail:
		return "✗ FAIL"
	case result.OutcomeNoSamples:
		return "✗ NO SAMPLES"
	case result.OutcomeMissing:
		return "✗ MISSING"
	case result.OutcomeInconclusive:
		return "? INCONCLUSIVE"
	case result.OutcomeInvalid:
		return "! INVALID"
	}
	return strings.ToUpper(outcome)
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	reset  = "\x1b[0m"
)

func colourOf(outcome string) string {
	switch outcome {
	case result.OutcomePass:
		return green
	case result.OutcomeAdvisory:
		return dim
	case result.OutcomeInconclusive:
		return yellow
	}
	return red
}

// Summary is the one line that says how the gates went: "2 of 9 budgets
// breached (exit 1)" or "all 9 budgets met (exit 0)".
func Summary(vs []result.Verdict, exit int) string {
	bad := 0
	for _, v := range vs {
		if !ok(v.Outcome) {
			bad++
		}
	}
	switch {
	case len(vs) == 0:
		return fmt.Sprintf("no budgets to judge (exit %d)", exit)
	case bad == 0:
		return fmt.Sprintf("all %d budgets met (exit %d)", len(vs), exit)
	}
	return fmt.Sprintf("%d of %d budgets not met (exit %d)", bad, len(vs), exit)
}

// Table writes one table per gate: subject, budget, measured, verdict;
// a failing verdict's measured cell and verdict are marked (✗) and, with
// colour, red. The details of every verdict that is not a plain pass follow
// the tables, one line each (✗ for those that fail the gate, · for notes).
func Table(w io.Writer, vs []result.Verdict, exit int, colour bool) error {
	paint := func(c, s string) string {
		if !colour || c == "" {
			return s
		}
		return c + s + reset
	}
	var b strings.Builder
	for _, g := range groups(vs) {
		fmt.Fprintf(&b, "\n%s\n", paint(bold, title(g[0].Gate)))
		rows := [][]string{{"subject", "budget", "measured", "verdict"}}
		for _, v := range g {
			measured := v.Measured
			if !ok(v.Outcome) {
				measured = "✗ " + measured
			}
			rows = append(rows, []string{v.Subject, v.Budget, measured, mark(v.Outcome)})
		}
		widths := make([]int, 4)
		for _, r := range rows {
			for i, c := range r {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
		for ri, r := range rows {
			b.WriteString("  ")
			for i, c := range r {
				cell := c
				if i < len(r)-1 {
					cell += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
				}
				switch {
				case ri == 0:
					cell = paint(dim, cell)
				case i >= 2 && !ok(g[ri-1].Outcome):
					cell = paint(colourOf(g[ri-1].Outcome), cell)
				case i == 3:
					cell = paint(colourOf(g[ri-1].Outcome), cell)
				}
				b.WriteString(cell)
				if i < len(r)-1 {
					b.WriteString("  ")
				}
			}
			b.WriteString("\n")
		}
	}
	var notes []string
	for _, v := range vs {
		switch {
		case v.Detail == "" || v.Outcome == result.OutcomePass:
		case v.Outcome == result.OutcomeAdvisory:
			notes = append(notes, paint(dim, "· ")+v.Detail)
		default:
			notes = append(notes, paint(colourOf(v.Outcome), "✗ ")+v.Detail)
		}
		if v.Note != "" && ok(v.Outcome) {
			notes = append(notes, paint(dim, "· ")+v.Note)
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString("  " + n + "\n")
		}
	}
	line := Summary(vs, exit)
	if exit == 0 {
		line = paint(green, line)
	} else {
		line = paint(red, line)
	}
	fmt.Fprintf(&b, "\n%s\n", line)
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown writes the verdicts as GitHub-flavoured Markdown: a heading, the
// summary line, one table per gate and the details of every verdict that
// is not a pass.
func Markdown(w io.Writer, heading string, vs []result.Verdict, exit int) error {
	var b strings.Builder
	icon := "✅"
	if exit != 0 {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s %s\n\n%s\n", icon, md(heading), md(Summary(vs, exit)))
	for _, g := range groups(vs) {
		fmt.Fprintf(&b, "\n**%s**\n\n| subject | budget | measured | verdict |\n|---|---|---|---|\n", title(g[0].Gate))
		for _, v := range g {
			measured := md(v.Measured)
			if !ok(v.Outcome) {
				measured = "**" + measured + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", md(v.Subject), md(v.Budget), measured, mdOutcome(v.Outcome))
		}
	}
	var details []string
	for _, v := range vs {
		if v.Outcome != result.OutcomePass && v.Detail != "" {
			details = append(details, "- "+md(v.Detail))
		}
		if v.Note != "" && ok(v.Outcome) {
			details = append(details, "- "+md(v.Note))
		}
	}
	if len(details) > 0 {
		fmt.Fprintf(&b, "\n%s\n", strings.Join(details, "\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdOutcome(o string) string {
	switch o {
	case result.OutcomePass:
		return "✅ pass"
	case result.OutcomeAdvisory:
		return "ℹ️ advisory"
	case result.OutcomeInconclusive:
		return "⚠️ **inconclusive**"
	}
	return "❌ **" + o + "**"
}

// md escapes what would break a table cell or start markup.
func md(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", "`", "\\`")
	return r.Replace(s)
}

// Group is one gate's verdicts, as the tables show them.
type Group struct {
	Title    string
	Verdicts []result.Verdict
}

// Groups splits verdicts into one group per gate, in the tables' order, so
// that other renderings (report.html) show the same tables.
func Groups(vs []result.Verdict) []Group {
	var out []Group
	for _, g := range groups(vs) {
		out = append(out, Group{Title: title(g[0].Gate), Verdicts: g})
	}
	return out
}

// Mark is an outcome as the terminal table shows it ("✓ pass", "✗ FAIL").
func Mark(outcome string) string { return mark(outcome) }

// OK tells whether an outcome lets its gate pass (pass or advisory).
func OK(outcome string) bool { return ok(outcome) }

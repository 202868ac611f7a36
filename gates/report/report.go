// Package report renders a Run as report.html: one self-contained file
// (inline CSS, inline SVG charts, no script, nothing loaded from anywhere)
// with the run's header, charts over the whole run, the per-request table,
// the verdict tables, the leak hunter's fit and the comparison with a
// baseline. It reads Runs and verdicts only, like gates/verdict.
package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"slices"
	"time"

	"lab/gates/leak"
	"lab/gates/verdict"
	"lab/lang/units"
	"lab/runtime/result"
)

// Input is everything the report shows.
type Input struct {
	Run      *result.Run
	Baseline *result.Run // nil: no comparison
	// Budgets are the SLA budgets on latency, drawn as threshold lines on
	// the latency chart.
	Budgets []Budget
	// Leak is the leak hunter's analysis of Run.Memory (nil without a leak
	// block or samples); LeakBudget says the budget in words.
	Leak       *leak.Report
	LeakBudget string
	Exit       int // the exit code the verdicts give
	// Live says the run is still going (the live page, gates/live): the
	// verdicts are on what it measured so far.
	Live bool
}

// Budget is one latency budget: "GET /products p95 ≤ 300ms" at 300 ms.
type Budget struct {
	Label string
	US    int64
}

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":    fmtMS,
	"count": func(n int64) string { return fmt.Sprintf("%d", n) },
	"utc":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"mark":  verdict.Mark,
	"ok":    verdict.OK,
	"pct":   func(f float64) string { return fmt.Sprintf("%+.1f%%", 100*f) },
	"rate":  func(f float64) string { return fmt.Sprintf("%.1f/s", f) },
	// advisory spares the template its own spelling of the outcome.
	"advisory": func(outcome string) bool { return outcome == result.OutcomeAdvisory },
}).Parse(pageText))

// Render writes report.html for the input. The output depends on the
// input alone (no clock, no map order), so a report rebuilt from
// result.json is the same file.
func Render(in Input) ([]byte, error) {
	if in.Run == nil {
		return nil, fmt.Errorf("no run to report")
	}
	var b bytes.Buffer
	if err := page.Execute(&b, newView(in)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Parts are the report's sections as HTML, drawn by the same code and
// templates as report.html: what the live page (gates/live) shows of a run
// still going.
type Parts struct {
	Verdicts, Charts, Requests, Failures template.HTML
}

// RenderParts renders the sections of the report that change as a run goes.
func RenderParts(in Input) (Parts, error) {
	if in.Run == nil {
		return Parts{}, fmt.Errorf("no run to report")
	}
	v := newView(in)
	var p Parts
	for _, part := range []struct {
		name string
		to   *template.HTML
	}{{"verdicts", &p.Verdicts}, {"charts", &p.Charts}, {"requests", &p.Requests}, {"failures", &p.Failures}} {
		var b bytes.Buffer
		if err := page.ExecuteTemplate(&b, part.name, v); err != nil {
			return Parts{}, err
		}
		*part.to = template.HTML(b.String()) // html/template escaped it
	}
	return p, nil
}

// Style is the report's style sheet, for a page that shows its parts.
func Style() template.CSS {
	var b bytes.Buffer
	_ = page.ExecuteTemplate(&b, "style", nil) // static text: it cannot fail
	return template.CSS(b.String())
}

// view is what the template reads.
type view struct {
	Run      *result.Run
	Duration string
	Title    string
	Exit     int
	Summary  string
	Charts   []*chart
	Requests []requestRow
	Total    requestRow
	Groups   []verdict.Group
	Notes    []result.Verdict
	Leak     *leakView
	Compare  []compareRow
	Baseline *result.Run
	Failures []result.Failure // most frequent first
	Live     bool
}

func newView(in Input) view {
	run := in.Run
	v := view{
		Run: run, Exit: in.Exit, Baseline: in.Baseline,
		Duration: run.End.Sub(run.Start).Round(time.Second).String(),
		Title:    fmt.Sprintf("%s · %s", run.Plan.Name, run.Plan.Shape),
		Summary:  verdict.Summary(run.Verdicts, in.Exit),
		Groups:   verdict.Groups(run.Verdicts),
		Live:     in.Live,
	}
	for _, vd := range run.Verdicts {
		if vd.Detail != "" && vd.Outcome != result.OutcomePass {
			v.Notes = append(v.Notes, vd)
		}
	}
	v.Charts = append(runCharts(run, in.Budgets), measureCharts(run)...)
	v.Failures = slices.Clone(run.Failures)
	slices.SortStableFunc(v.Failures, func(a, b result.Failure) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Reason, b.Reason))
	})
	v.Requests, v.Total = requestRows(run)
	if in.Leak != nil && run.Memory != nil {
		v.Leak = newLeakView(run, in.Leak, in.LeakBudget)
		v.Charts = append(v.Charts, v.Leak.Chart)
	}
	if in.Baseline != nil {
		v.Compare = compareRows(in.Baseline, run)
	}
	return v
}

// runCharts are the charts over the run's seconds: throughput with the
// load overlaid, p50 and p95 with the latency budgets, failures.
func runCharts(run *result.Run, budgets []Budget) []*chart {
	secs, per := thin(fullSeconds(run), maxPoints)
	n := len(secs)
	x := make([]float64, n)
	rps, users, rate, p50, p95, fails := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	t0 := run.Start.Unix()
	for i, s := range secs {
		x[i] = s.t - float64(t0)
		rps[i], users[i], rate[i] = s.requests, s.users, s.rate
		p50[i], p95[i], fails[i] = s.p50/1000, s.p95/1000, s.failures
	}
	xmax := math.Max(run.End.Sub(run.Start).Seconds(), lastX(x))
	load := series{Name: "users", Class: "s3", X: x, Y: users, Right: true, Dashed: true}
	loadUnit := "users"
	if run.Model == "open" {
		load = series{Name: "target arrivals/s", Class: "s3", X: x, Y: rate, Right: true, Dashed: true}
		loadUnit = "arrivals/s"
	}
	var lines []hline
	for _, b := range budgets {
		lines = append(lines, hline{Label: b.Label, Y: float64(b.US) / 1000})
	}
	num := func(v float64) string { return trim(v) }
	return []*chart{
		{ID: "chart-throughput", Title: "Throughput" + per.mean, Left: "requests/s", Right: loadUnit, XMax: xmax, LeftFmt: num, RightFmt: num, Zero: true, RightZero: true,
			Series: []series{{Name: "requests/s", Class: "s1", X: x, Y: rps}, load}},
		{ID: "chart-latency", Title: "Response time", Left: "ms", XMax: xmax, LeftFmt: num, Lines: lines, Zero: true,
			Series: []series{{Name: "p50" + per.median, Class: "s2", X: x, Y: p50}, {Name: "p95" + per.highest, Class: "s1", X: x, Y: p95}}},
		{ID: "chart-failures", Title: "Failures" + per.mean, Left: "failures/s", XMax: xmax, LeftFmt: num, Zero: true,
			Series: []series{{Name: "failures/s", Class: "s4", X: x, Y: fails}}},
	}
}

// measureCharts draw each measure's p50 and p95 window by window (its
// windows are the requests': 10 s on the wall clock's grid), at each
// window's middle; a measure with fewer than two windows has no chart.
func measureCharts(run *result.Run) []*chart {
	var out []*chart
	t0 := float64(run.Start.UnixNano()) / 1e9
	xmax := run.End.Sub(run.Start).Seconds()
	for _, m := range run.Measures {
		if len(m.Windows) < 2 {
			continue
		}
		var x, p50, p95 []float64
		for _, w := range m.Windows {
			h, err := result.DecodeMeasure(w.Hist)
			if err != nil || w.Count == 0 {
				continue
			}
			mid := float64(w.T) + float64(run.WindowS)/2 - t0
			x = append(x, math.Min(math.Max(mid, 0), xmax))
			p50 = append(p50, float64(h.ValueAtPercentile(50))/result.MeasureScale)
			p95 = append(p95, float64(h.ValueAtPercentile(95))/result.MeasureScale)
		}
		out = append(out, &chart{ID: "chart-measure-" + m.Name, Title: "Measure " + m.Name + " (by window)", Left: m.Name, XMax: xmax,
			LeftFmt: func(v float64) string { return trim(v) }, Zero: true,
			Series: []series{{Name: "p50", Class: "s2", X: x, Y: p50}, {Name: "p95", Class: "s1", X: x, Y: p95}}})
	}
	return out
}

// minCovered is the least share of a second a chart draws as a rate: a
// run's first and last seconds are partial, and a tenth of a second's
// requests scaled to a whole second is mostly noise.
const minCovered = 0.25

// fullSeconds is the run's seconds with the first and last one, which
// the run covers only in part, turned into rates of the part it covers —
// the last second of a run that ended 0.3 s into it holds 0.3 s of
// requests, which drawn as a second looks like the target stalling — and
// left out when the run covered less than minCovered of them.
func fullSeconds(run *result.Run) []result.Second {
	secs := run.Seconds
	if len(secs) == 0 || run.Start.IsZero() || run.End.Before(run.Start) {
		return secs
	}
	out := slices.Clone(secs)
	covered := func(s result.Second) float64 {
		from := max(float64(s.T), float64(run.Start.UnixNano())/1e9)
		to := min(float64(s.T+1), float64(run.End.UnixNano())/1e9)
		return to - from
	}
	scale := func(i int) bool {
		c := covered(out[i])
		if c >= 1 || c <= 0 {
			return true // a whole second, or one past the end (requests finishing in the grace period)
		}
		if c < minCovered {
			return false
		}
		out[i].Requests = int64(math.Round(float64(out[i].Requests) / c))
		out[i].Failures = int64(math.Round(float64(out[i].Failures) / c))
		return true
	}
	if last := len(out) - 1; !scale(last) {
		out = out[:last]
	}
	if len(out) > 0 && !scale(0) {
		out = out[1:]
	}
	return out
}

// DrawnSeconds is how many of the run's seconds its charts draw: all but a
// first or last one the run covered less than minCovered of.
func DrawnSeconds(run *result.Run) int { return len(fullSeconds(run)) }

func lastX(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return x[len(x)-1]
}

// trim prints a tick value without needless decimals.
func trim(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%.4gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.4gk", v/1e3)
	}
	return fmt.Sprintf("%.4g", v)
}

// fmtMS prints a latency in µs as every table does (units.FormatLatency).
func fmtMS(us int64) string {
	if us < 0 {
		return "–" // not known
	}
	return units.FormatLatency(float64(us))
}

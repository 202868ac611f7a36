package report

import (
	"fmt"
	"math"
	"slices"

	"lab/gates/leak"
	"lab/lang/units"
	"lab/runtime/result"
)

// requestRow is one line of the per-request table.
type requestRow struct {
	Name                  string
	Count, Failures       int64
	P50, P95, P99, Max    int64
	FailShare, Throughput string
}

// requestRows are the run's requests by name, and all of them together
// (percentiles from the merged histograms, never averaged).
func requestRows(run *result.Run) ([]requestRow, requestRow) {
	secs := run.End.Sub(run.Start).Seconds()
	row := func(name string, count, fails int64, s result.Summary) requestRow {
		r := requestRow{Name: name, Count: count, Failures: fails, P50: s.P50, P95: s.P95, P99: s.P99, Max: s.Max, FailShare: "–", Throughput: "–"}
		if count > 0 {
			r.FailShare = fmt.Sprintf("%.2f%%", 100*float64(fails)/float64(count))
		}
		if secs > 0 {
			r.Throughput = fmt.Sprintf("%.1f/s", float64(count)/secs)
		}
		return r
	}
	var rows []requestRow
	total := result.NewHist()
	var count, fails int64
	known := true // every request's latencies are in total
	for _, q := range run.Requests {
		rows = append(rows, row(q.Name, q.Count, q.Failures, q.Response))
		count += q.Count
		fails += q.Failures
		// The whole-run histogram, or (a live page's run so far) its
		// windows': one geometry, nothing is dropped.
		merged := false
		if h, err := result.Decode(q.Hist); q.Hist != "" && err == nil {
			merged = result.Merge(total, h) == nil
		} else {
			for _, w := range q.Windows {
				if h, err := result.Decode(w.Hist); w.Hist != "" && err == nil && result.Merge(total, h) == nil {
					merged = true
				}
			}
		}
		known = known && (merged || q.Count == 0)
	}
	slices.SortFunc(rows, func(a, b requestRow) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	all := row("all requests", count, fails, result.Summarize(total))
	if !known {
		all.P50, all.P95, all.P99, all.Max = -1, -1, -1, -1 // shown as –, never as 0
	}
	return rows, all
}

// compareRow is one request's p95 and throughput, baseline against current.
type compareRow struct {
	Name                     string
	BaseP95, CurP95          int64
	P95Change                string
	BaseRPS, CurRPS          string
	RPSChange                string
	Worse                    bool // p95 up or throughput down by more than 10%
	OnlyInBaseline, OnlyHere bool
}

// compareRows lists every request of either run, baseline's first.
func compareRows(base, cur *result.Run) []compareRow {
	var names []string
	for _, r := range []*result.Run{base, cur} {
		for _, q := range r.Requests {
			if !slices.Contains(names, q.Name) {
				names = append(names, q.Name)
			}
		}
	}
	slices.Sort(names)
	rps := func(r *result.Run, q *result.Request) float64 {
		if s := r.End.Sub(r.Start).Seconds(); s > 0 {
			return float64(q.Count) / s
		}
		return 0
	}
	var rows []compareRow
	for _, n := range names {
		b, c := base.RequestByName(n), cur.RequestByName(n)
		row := compareRow{Name: n, OnlyInBaseline: c == nil, OnlyHere: b == nil, P95Change: "–", RPSChange: "–", BaseRPS: "–", CurRPS: "–"}
		if b != nil {
			row.BaseP95, row.BaseRPS = b.Response.P95, fmt.Sprintf("%.1f/s", rps(base, b))
		}
		if c != nil {
			row.CurP95, row.CurRPS = c.Response.P95, fmt.Sprintf("%.1f/s", rps(cur, c))
		}
		if b != nil && c != nil {
			var dp, dr float64
			if b.Response.P95 > 0 {
				dp = float64(c.Response.P95)/float64(b.Response.P95) - 1
				row.P95Change = fmt.Sprintf("%+.1f%%", 100*dp)
			}
			if br := rps(base, b); br > 0 {
				dr = rps(cur, c)/br - 1
				row.RPSChange = fmt.Sprintf("%+.1f%%", 100*dr)
			}
			row.Worse = dp > 0.1 || dr < -0.1
		}
		rows = append(rows, row)
	}
	return rows
}

// leakView is the leak hunter's fit as the report shows it.
type leakView struct {
	Chart   *chart
	Verdict string
	Reason  string
	Budget  string
	Rate    string // the fitted growth per minute
	Rise    string // what the envelope rose from the window's start to its end
}

// newLeakView draws the samples as points, the block envelope the hunter
// fitted, the fitted Theil–Sen line over the judged window and the budget:
// the most the memory may grow over that window, from the fit's start.
func newLeakView(run *result.Run, rep *leak.Report, budget string) *leakView {
	const mb = 1e6
	m := run.Memory
	x, y := make([]float64, len(m.Samples)), make([]float64, len(m.Samples))
	for i, s := range m.Samples {
		x[i], y[i] = s.AtS, s.Bytes/mb
	}
	c := &chart{ID: "chart-leak", Title: "Memory (" + m.Kind + " of " + m.Source + ")", Left: "MB", XMax: math.Max(lastX(x), run.End.Sub(run.Start).Seconds()),
		LeftFmt: trim, Series: []series{{Name: "samples", Class: "s5", X: x, Y: y, Dots: true}}}
	v := &leakView{Chart: c, Verdict: string(rep.Verdict), Reason: rep.Reason, Budget: budget, Rate: "–"}
	if rep.WarmupCut > 0 {
		c.Shade, c.ShadeLabel = [2]float64{0, rep.WarmupCut.Seconds()}, "warm-up (not judged)"
	}
	if len(rep.Blocks) > 0 {
		var bx, by []float64
		for _, b := range rep.Blocks {
			bx, by = append(bx, b.At.Seconds()), append(by, b.Bytes/mb)
		}
		c.Series = append(c.Series, series{Name: "block envelope", Class: "s2 big", X: bx, Y: by, Dots: true})
	}
	if math.IsNaN(rep.Slope) || len(rep.Blocks) == 0 {
		return v
	}
	v.Rate = units.FormatSignedSize(rep.PerMinute, " ") + "/min"
	if !math.IsNaN(rep.Rise) {
		v.Rise = units.FormatSignedSize(rep.Rise, " ")
	}
	// Theil–Sen's intercept: the median of the points' residuals.
	res := make([]float64, len(rep.Blocks))
	for i, b := range rep.Blocks {
		res[i] = b.Bytes - rep.Slope*b.At.Seconds()
	}
	slices.Sort(res)
	a := res[len(res)/2]
	if len(res)%2 == 0 {
		a = (res[len(res)/2-1] + res[len(res)/2]) / 2
	}
	t0, t1 := rep.WarmupCut.Seconds(), (rep.WarmupCut + rep.Window).Seconds()
	fit := func(t float64) float64 { return (a + rep.Slope*t) / mb }
	c.Series = append(c.Series, series{Name: "fitted trend", Class: "s1", X: []float64{t0, t1}, Y: []float64{fit(t0), fit(t1)}})
	if limit := rep.MaxGrowth; !math.IsNaN(limit) && limit > 0 && !math.IsInf(limit, 0) {
		c.Series = append(c.Series, series{Name: "budget: " + budget, Class: "s4", Dashed: true,
			X: []float64{t0, t1}, Y: []float64{fit(t0), fit(t0) + limit/mb}})
	}
	return v
}

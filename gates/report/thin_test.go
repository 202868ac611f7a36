package report

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"lab/runtime/result"
)

// A day of seconds draws at most maxPoints points per series, and one slow
// second among them still reaches the p95 line.
func TestThinKeepsTheSlowSecond(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	secs := make([]result.Second, 86400)
	for i := range secs {
		secs[i] = result.Second{T: start.Unix() + int64(i), Requests: 100, Users: 10, P50: 1000, P95: 2000}
	}
	secs[50000].P95 = 900_000
	pts, per := thin(secs, maxPoints)
	if len(pts) > maxPoints || len(pts) < maxPoints/2 {
		t.Fatalf("%d points, want at most %d (and not far fewer)", len(pts), maxPoints)
	}
	var top float64
	for _, p := range pts {
		top = max(top, p.p95)
		if p.requests != 100 || p.users != 10 || p.p50 != 1000 {
			t.Fatalf("bucket %+v: rates and load are not the means of their seconds", p)
		}
	}
	if top != 900_000 {
		t.Fatalf("the slow second's p95 was averaged away: highest drawn %v", top)
	}
	if !strings.Contains(per.highest, "72 s") {
		t.Fatalf("the chart does not say how seconds were merged: %q", per.highest)
	}
	run := &result.Run{Start: start, End: start.Add(24 * time.Hour), Seconds: secs, Model: "closed"}
	for _, c := range runCharts(run, nil) {
		for _, s := range c.Series {
			if len(s.X) > maxPoints {
				t.Fatalf("%s %s: %d points", c.ID, s.Name, len(s.X))
			}
		}
	}
	if few, per := thin(secs[:600], maxPoints); len(few) != 600 || per.highest != "" {
		t.Fatalf("a short run is drawn second by second: %d points, %q", len(few), per.highest)
	}
}

// TestPartialSecondsAreRates: a run that starts 0.5 s into a second and
// ends 0.3 s into one draws those seconds at the rate of the part it
// covered (100/s throughout, not 50 and 30: a last second that looks like
// the target stalling); a second covered less than a quarter is not drawn.
func TestPartialSecondsAreRates(t *testing.T) {
	start := time.Unix(1000, 500_000_000)
	run := &result.Run{Start: start, End: time.Unix(1010, 300_000_000)}
	run.Seconds = append(run.Seconds, result.Second{T: 1000, Requests: 50, Failures: 5})
	for sec := int64(1001); sec < 1010; sec++ {
		run.Seconds = append(run.Seconds, result.Second{T: sec, Requests: 100})
	}
	run.Seconds = append(run.Seconds, result.Second{T: 1010, Requests: 30})
	got := fullSeconds(run)
	if len(got) != 11 || got[0].Requests != 100 || got[0].Failures != 10 || got[10].Requests != 100 {
		t.Errorf("first %+v, last %+v of %d", got[0], got[len(got)-1], len(got))
	}
	if run.Seconds[10].Requests != 30 {
		t.Error("fullSeconds changed the run")
	}
	run.End = time.Unix(1010, 100_000_000)
	run.Seconds[10].Requests = 10
	if got := fullSeconds(run); len(got) != 10 || got[9].T != 1009 {
		t.Errorf("a tenth of a second drawn: %d seconds, the last %+v", len(got), got[len(got)-1])
	}
}

// TestLoadAxisStartsAtZero: 8 to 10 users drawn on an axis from 8 make a
// ramp of 2 users look like one from nothing; the load's axis starts at 0.
func TestLoadAxisStartsAtZero(t *testing.T) {
	c := &chart{RightZero: true, Series: []series{
		{Name: "requests/s", X: []float64{0, 1, 2}, Y: []float64{80, 90, 100}},
		{Name: "users", X: []float64{0, 1, 2}, Y: []float64{8, 9, 10}, Right: true},
	}}
	c.scale()
	if c.rmin != 0 {
		t.Errorf("the users' axis starts at %v", c.rmin)
	}
	c.RightZero = false
	c.scale()
	if c.rmin == 0 {
		t.Error("the test cannot fail: without RightZero the axis starts at 0 too")
	}
}

// TestBudgetLabelsDoNotOverlap: four budgets within a few pixels of each
// other (a spike plan's p95s and p99s) get labels at least a line apart,
// all inside the plot; three far above the data share one line in the top
// margin, not three stacked over the plot.
func TestBudgetLabelsDoNotOverlap(t *testing.T) {
	c := &chart{ID: "c", Left: "ms", LeftFmt: func(v float64) string { return "" }, XMax: 10, Zero: true,
		Series: []series{{Name: "p95", X: []float64{0, 10}, Y: []float64{90, 100}}},
		Lines: []hline{{Label: "a p95 ≤ 100ms", Y: 100}, {Label: "b p95 ≤ 101ms", Y: 101}, {Label: "c p99 ≤ 102ms", Y: 102},
			{Label: "d p95 ≤ 1ms", Y: 1}, {Label: "e ≤ 1s", Y: 1000}, {Label: "f ≤ 2s", Y: 2000}, {Label: "g ≤ 3s", Y: 3000}}}
	svg := string(c.SVG())
	re := regexp.MustCompile(`<g class="budget"><title>[^<]*</title><line[^>]*/><text x="\d+" y="([0-9.]+)"`)
	var ys []float64
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		y, _ := strconv.ParseFloat(m[1], 64)
		ys = append(ys, y)
	}
	if len(ys) != 4 {
		t.Fatalf("%d budget lines in the plot, want 4:\n%s", len(ys), svg)
	}
	sort.Float64s(ys)
	for i := 1; i < len(ys); i++ {
		if ys[i]-ys[i-1] < labelGap-0.15 { // printed to a tenth
			t.Errorf("labels at y %v: two closer than a line", ys)
		}
	}
	if ys[0] < padT || ys[len(ys)-1] > padT+plotH {
		t.Errorf("labels at y %v, outside the plot (%d…%d)", ys, padT, padT+plotH)
	}
	if n := strings.Count(svg, `class="budget above"`); n != 1 || !strings.Contains(svg, "↑ above the chart: e ≤ 1s · f ≤ 2s · g ≤ 3s") {
		t.Errorf("%d marks above the chart:\n%s", n, svg)
	}
}

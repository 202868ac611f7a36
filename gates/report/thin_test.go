package report

import (
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

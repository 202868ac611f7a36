package leak

import (
	"fmt"
	"math"
	"strings"
	"time"

	"lab/gates/stats"
	"lab/lang/units"
)

// LateGrowth is what step 7b of the rule found at the end of the window:
// memory still rising to new highs when the run ended.
type LateGrowth struct {
	From   time.Duration // since the run's start: the first of the trailing new highs
	Points int           // how many trailing points of the fine envelope were each a new high
	Of     int           // of how many fine-envelope points
	// P is the chance of that many trailing new highs in a series with no
	// trend: (n−k)!/n!, exact whatever the distribution (ties count
	// against it).
	P         float64
	Rate      float64 // bytes per second: Theil–Sen over the trailing highs
	MaxGrowth float64 // the growth budget the rise was held against
	Leak      bool    // the rise and its rate exceed both budgets: step 7b failed the run
}

// lateGrowth is step 7b: growth where it happens. The 10 blocks see a leak
// that starts late only in their last one or two points — a minimum or a
// median that sits near the block's start — so Theil–Sen over them calls
// it flat, and slope × W is not what memory rose. Here a finer envelope,
// one point per collection interval (at least MinSamplesPerBlock samples),
// keeps only the points that saw a collection, and asks whether memory was
// still climbing to new highs when the run ended: the last k points each
// above every point before them. Without a trend that has chance
// (n−k)!/n!, one test, whatever the length of the climb, so no change
// point is searched for and no multiple testing is paid. It fails the run
// only when, as the owner's rule wants, both budgets are exceeded: the
// climb's rate (Theil–Sen over the new highs) is over max_growth_rate,
// and the envelope's rise from the window's start to its end is over
// max_growth; and the climb is faster than the window's slope (memory
// accelerating, not a cache filling ever more slowly, which step 7 already
// calls inconclusive). It sets r.Rise whatever it finds.
func (a *analysis) lateGrowth() {
	r := a.r
	if len(r.Blocks) == 0 || math.IsNaN(r.Slope) {
		return
	}
	pts := a.fineEnvelope()
	if len(pts) < 2 {
		return
	}
	var first []float64
	for _, p := range pts {
		if p.At < r.Blocks[0].End {
			first = append(first, p.Bytes)
		}
	}
	start := r.Blocks[0].Bytes // a stale first block sits high: the rise errs low
	if len(first) > 0 {
		start, _ = stats.Median(first)
	}
	n := len(pts)
	r.Rise = pts[n-1].Bytes - start
	if r.Verdict == Fail {
		// The owner's rule holds the total growth against max_growth: a
		// trend that grew and then freed (a batch job's working set) ends
		// where it began. A rise under the budget and under half the
		// fitted growth is memory given back, not a leak; a steady leak
		// rises about as much as it was fitted to grow.
		// Only a rise read from fresh points on both ends vouches for it:
		// a stale first block sits high and would make the rise small.
		if len(first) > 0 && len(a.stale) == 0 && r.Rise <= r.MaxGrowth && r.Rise < FellBackShare*r.Growth {
			r.Verdict = Pass
			r.Reason = fmt.Sprintf("no leak: memory grew and fell back: the envelope ends %s above the window's start, within the %s growth budget, though the fitted trend was %s",
				signedBytes(r.Rise), units.FormatApproxSize(r.MaxGrowth, " "), strings.TrimPrefix(r.Reason, "memory leak: "))
			r.Decided = fmt.Sprintf("the growth budget decided: memory fell back, ending %s above the start (≤ %s)",
				signedBytes(r.Rise), units.FormatApproxSize(r.MaxGrowth, " "))
		}
		return
	}
	k, p := topTail(pts)
	if k < LateMinRun || p >= Alpha {
		return
	}
	x, y := make([]float64, 0, k), make([]float64, 0, k)
	for _, b := range pts[n-k:] {
		x, y = append(x, b.At.Seconds()), append(y, b.Bytes)
	}
	line, err := stats.TheilSen(x, y)
	if err != nil {
		return
	}
	budget := a.budget.MaxGrowth
	if budget == 0 {
		// The default budget from the spread before the climb: the climb
		// itself is no part of the sawtooth's height.
		i := 0
		for i < len(a.judged) && a.judged[i].At < pts[n-k].Start {
			i++
		}
		spread := r.PeakToPeak
		if i >= MinSamplesPerBlock {
			spread = peakToPeak(a.judged[:i], r.Blocks)
		}
		budget = math.Max(MaxGrowthFloor, PeakToPeakFactor*spread)
	}
	late := &LateGrowth{From: pts[n-k].At, Points: k, Of: n, P: p, Rate: line.Slope, MaxGrowth: budget}
	r.Late = late
	late.Leak = line.Slope > r.MaxGrowthRate && r.Rise > budget && line.Slope > r.Slope
	if !late.Leak {
		r.Reason += "; " + lateText(r, late)
		if r.Decided != "" {
			r.Decided += fmt.Sprintf("; still climbing at the end (%s/min, rise %s), within budget", signedBytes(60*late.Rate), signedBytes(r.Rise))
		}
		return
	}
	r.Verdict, r.NeedRun = Fail, 0
	r.Reason = "memory leak late in the window: " + lateText(r, late) + "; the whole window's trend: " + growthText(r)
}

// lateText says what step 7b found and which budget decided.
func lateText(r *Report, l *LateGrowth) string {
	rate := fmt.Sprintf("%s/min", signedBytes(60*l.Rate))
	s := fmt.Sprintf("from %s on memory was still climbing, each of the last %d of %d envelope points a new high (p = %.2g), at %s; it rose %s from the window's start to its end",
		units.FormatDuration(l.From.Round(time.Second)), l.Points, l.Of, l.P, rate, signedBytes(r.Rise))
	rateOK := l.Rate <= r.MaxGrowthRate
	riseOK := r.Rise <= l.MaxGrowth
	rateBudget := "any growth"
	if r.MaxGrowthRate > 0 {
		rateBudget = units.FormatApproxSize(60*r.MaxGrowthRate, " ") + "/min"
	}
	switch {
	case l.Leak:
		s += fmt.Sprintf(", above both budgets (rate %s > %s, rise %s > %s)", rate, rateBudget, signedBytes(r.Rise), units.FormatApproxSize(l.MaxGrowth, " "))
	case rateOK && riseOK:
		s += fmt.Sprintf(", within both budgets (rate ≤ %s, rise ≤ %s)", rateBudget, units.FormatApproxSize(l.MaxGrowth, " "))
	case rateOK:
		s += fmt.Sprintf(", within the rate budget (≤ %s) though over the %s growth budget: the rate decided", rateBudget, units.FormatApproxSize(l.MaxGrowth, " "))
	case riseOK:
		s += fmt.Sprintf(", within the %s growth budget though faster than %s: the growth budget decided", units.FormatApproxSize(l.MaxGrowth, " "), rateBudget)
	default:
		s += fmt.Sprintf(", no faster than over the whole window (%s/min): a cache filling, not a late leak", signedBytes(r.PerMinute))
	}
	return s
}

// fineEnvelope is step 7b's envelope: the judged window in blocks of one
// collection interval (the median one; at least MinSamplesPerBlock
// samples, at most MaxFinePoints blocks), keeping only the blocks that saw
// a collection where collections are known or seen — a block without one
// holds no trough, or an older live heap.
func (a *analysis) fineEnvelope() []Block {
	width := time.Duration(MinSamplesPerBlock) * a.dt
	if iv := medianInterval(collections(a.judged, a.gcKnown, a.fell.at)); iv > width {
		width = iv
	}
	if width <= 0 {
		return nil
	}
	n := min(max(int(a.r.Window/width), Blocks), MaxFinePoints)
	fine := envelope(a.judged, a.src, a.r.Window, n, a.gcKnown, a.prevGC())
	seen := !a.gcKnown && a.src == Resident && len(a.fell.at) > 0
	if seen {
		countFalls(fine, a.fell.at)
	}
	out := fine[:0]
	for _, b := range fine {
		if b.Samples == 0 || (a.gcKnown && b.GCCycles <= 0) || (seen && b.Falls <= 0) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// topTail is how many of the last points are all above every point before
// them (at most half the points), and the chance of at least that many in
// a series with no trend: the last s points are the s highest with chance
// 1/C(n, s), summed over s from k to n/2 (a union bound: the events are
// not nested).
func topTail(pts []Block) (k int, p float64) {
	n := len(pts)
	if n < 2 {
		return 0, 1
	}
	pm := make([]float64, n+1) // pm[i]: the highest of pts[:i]
	pm[0] = math.Inf(-1)
	for i := 1; i <= n; i++ {
		pm[i] = math.Max(pm[i-1], pts[i-1].Bytes)
	}
	low := math.Inf(1) // the lowest of pts[n-t:]
	for t := 1; t <= n/2; t++ {
		low = math.Min(low, pts[n-t].Bytes)
		if low > pm[n-t] {
			k = t
		}
	}
	if k == 0 {
		return 0, 1
	}
	for s := k; s <= n/2; s++ {
		p += math.Exp(lchoose(s, n) * -1)
	}
	return k, math.Min(p, 1)
}

// lchoose is log C(n, s).
func lchoose(s, n int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(s + 1))
	c, _ := math.Lgamma(float64(n - s + 1))
	return a - b - c
}

// medianInterval is the median time between consecutive times of at (0
// with fewer than two).
func medianInterval(at []time.Duration) time.Duration {
	if len(at) < 2 {
		return 0
	}
	d := make([]float64, 0, len(at)-1)
	for i := 1; i < len(at); i++ {
		d = append(d, float64(at[i]-at[i-1]))
	}
	m, _ := stats.Median(d)
	return time.Duration(m)
}

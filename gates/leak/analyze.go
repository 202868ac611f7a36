package leak

import (
	"fmt"
	"math"
	"slices"
	"time"

	"lab/gates/stats"
)

// Analyze applies the leak rule to samples (in time order) of the given
// source under the plan's budget. A run that cannot be judged — too short,
// a block without a GC cycle, a restarted target — is an INCONCLUSIVE
// report whose Reason says what is missing; only malformed input (samples
// out of order, NaN bytes, a bad budget) is an error.
func Analyze(samples []Sample, src Source, b Budget) (Report, error) {
	if err := validate(samples, src, b); err != nil {
		return Report{}, err
	}
	r := newReport(src)
	warm, warmBy := b.Warmup, "plan warm-up"
	if warm == 0 {
		warm, warmBy = DefaultWarmup, "default warm-up"
	}
	minWindow := b.Window
	if minWindow == 0 {
		minWindow = DefaultWindow
	}
	if len(samples) < 2 {
		r.NeedRun = warm + minWindow
		r.Reason = fmt.Sprintf("only %d memory sample(s): run for at least %v (warm-up %v + window %v)",
			len(samples), r.NeedRun, warm, minWindow)
		return r, nil
	}
	gcKnown, reqKnown := true, true
	for _, s := range samples {
		gcKnown = gcKnown && s.GCCycles >= 0
		reqKnown = reqKnown && s.Requests >= 0
	}
	dt := sampleInterval(samples)

	if gcKnown {
		for i := 1; i < len(samples); i++ {
			if samples[i].GCCycles < samples[i-1].GCCycles {
				r.Reason = fmt.Sprintf("the GC counter went back at %v: the target restarted, so memory before and after cannot be compared",
					samples[i].At)
				return r, nil
			}
		}
	}

	// 1. Warm-up: the longest of the time cut, 3 GC cycles and the settling of the request rate.
	cut, by := warm, warmBy
	if gcKnown {
		t, ok := gcWarmup(samples)
		if !ok {
			seen := samples[len(samples)-1].GCCycles - samples[0].GCCycles
			r.Reason = fmt.Sprintf("only %d GC cycle(s) in the whole run: the warm-up needs %d and each of the %d blocks at least one more; run longer",
				seen, WarmupGCCycles, Blocks)
			return r, nil
		}
		if t > cut {
			cut, by = t, fmt.Sprintf("%d GC cycles", WarmupGCCycles)
		}
	}
	if reqKnown {
		t, ok := rateSettled(samples)
		if !ok {
			r.Reason = "the request rate never settled: a leak per request cannot be judged while the load keeps changing; hold the load steady longer"
			return r, nil
		}
		if t > cut {
			cut, by = t, "request rate settled"
		}
	}
	r.WarmupCut, r.WarmupBy = cut, by

	// 2. The window: everything after the cut.
	i0, _ := slices.BinarySearchFunc(samples, cut, func(s Sample, t time.Duration) int {
		return cmpDuration(s.At, t)
	})
	judged := samples[i0:]
	minSamples := Blocks * MinSamplesPerBlock
	need := cut + max(minWindow, time.Duration(minSamples)*dt)
	var span time.Duration
	if len(judged) > 0 {
		span = judged[len(judged)-1].At - judged[0].At + dt
	}
	if len(judged) < minSamples || span < minWindow {
		r.NeedRun = need
		r.SamplesUsed = len(judged)
		r.Reason = fmt.Sprintf("run too short to judge: %v (%d samples) left after the %v warm-up (%s), the window needs %v and %d samples; run for at least %v",
			span, len(judged), cut, by, minWindow, minSamples, need)
		return r, nil
	}
	r.Window, r.SamplesUsed = span, len(judged)

	// 3. Blocks and their lower envelope.
	var prevGC int64 = -1
	if gcKnown {
		if i0 > 0 {
			prevGC = samples[i0-1].GCCycles
		} else {
			prevGC = judged[0].GCCycles
		}
	}
	r.Blocks = envelope(judged, src, span, gcKnown, prevGC)
	var stale []int // blocks whose reading is carried over from an older GC
	for i, blk := range r.Blocks {
		if blk.Samples < MinSamplesPerBlock {
			r.Reason = fmt.Sprintf("block %d (%v–%v) has only %d sample(s): a gap in sampling; the envelope cannot be trusted",
				i+1, blk.Start.Round(time.Second), blk.End.Round(time.Second), blk.Samples)
			return r, nil
		}
		if gcKnown && blk.GCCycles == 0 {
			stale = append(stale, i)
		}
	}
	staleReason := func() string {
		blk := r.Blocks[stale[0]]
		perGC := gcInterval(judged)
		r.NeedRun = cut + max(minWindow, time.Duration(3*Blocks)*perGC)
		return fmt.Sprintf("no GC cycle in block %d (%v–%v): its memory reading is stale; blocks must span GC cycles — run for at least %v",
			stale[0]+1, blk.Start.Round(time.Second), blk.End.Round(time.Second), r.NeedRun.Round(time.Second))
	}
	// Subtleness ahead: a leak makes collections rarer (the heap doubles
	// before the next one), so the later blocks of a leaking run may see
	// none. Their readings cannot vouch for a pass, but the blocks that did
	// see collections can still prove a leak: the trend is computed on them
	// alone, and only a failure is kept from it.
	fresh := make([]int, 0, Blocks)
	for i := range r.Blocks {
		if !slices.Contains(stale, i) {
			fresh = append(fresh, i)
		}
	}
	if len(stale) > 0 && len(fresh) < MinFreshBlocks {
		r.Reason = staleReason()
		return r, nil
	}

	// 4. Trend over the envelope.
	t0 := judged[0].At
	x := make([]float64, 0, len(fresh))
	y := make([]float64, 0, len(fresh))
	for _, i := range fresh {
		blk := r.Blocks[i]
		x = append(x, (blk.At - t0).Seconds())
		y = append(y, blk.Bytes)
	}
	line, err := stats.TheilSen(x, y)
	if err != nil {
		return Report{}, fmt.Errorf("leak: fitting the envelope: %w", err)
	}
	bounds, err := stats.SenBounds(x, y, Confidence)
	if err != nil {
		return Report{}, fmt.Errorf("leak: slope bounds: %w", err)
	}
	mk, err := stats.MannKendall(y)
	if err != nil {
		return Report{}, fmt.Errorf("leak: trend test: %w", err)
	}
	tail, err := stats.TheilSen(x[len(x)-TailBlocks:], y[len(y)-TailBlocks:])
	if err != nil {
		return Report{}, fmt.Errorf("leak: tail slope: %w", err)
	}
	w := span.Seconds()
	r.Slope, r.SlopeLower, r.SlopeUpper = line.Slope, bounds.Lower, bounds.Upper
	r.TailSlope = tail.Slope
	r.Growth = line.Slope * w
	r.PerMinute = 60 * line.Slope
	r.S, r.P = mk.S, mk.P

	// 5. Leak per request and the detrended spread.
	if reqKnown {
		last := judged[len(judged)-1]
		if secs := (last.At - judged[0].At).Seconds(); secs > 0 {
			if lambda := float64(last.Requests-judged[0].Requests) / secs; lambda > 0 {
				r.RequestRate = lambda
				r.PerRequest = r.Slope / lambda
				r.PerRequestLower = r.SlopeLower / lambda
				r.PerRequestUpper = r.SlopeUpper / lambda
			}
		}
	}
	r.PeakToPeak = peakToPeak(judged, r.Blocks)

	// 6. Verdict.
	r.MaxGrowth = b.MaxGrowth
	if r.MaxGrowth == 0 {
		r.MaxGrowth = math.Max(MaxGrowthFloor, PeakToPeakFactor*r.PeakToPeak)
	}
	r.MaxGrowthRate = b.MaxGrowthRate
	decide(&r)
	if len(stale) > 0 {
		if r.Verdict != Fail {
			r.Verdict, r.Reason = Inconclusive, staleReason()
			return r, nil
		}
		r.Reason += fmt.Sprintf(" (judged on the %d blocks that saw a GC cycle; %d had none)", len(fresh), len(stale))
	}
	return r, nil
}

// decide sets the verdict and reason from the computed statistics.
func decide(r *Report) {
	trend := r.P < Alpha
	fast := r.Slope > r.MaxGrowthRate
	big := r.Growth > r.MaxGrowth
	steady := r.TailSlope > TailFraction*r.Slope
	growth := fmt.Sprintf("%s over %v (%s/min, trend p = %.2g)",
		signedBytes(r.Growth), r.Window.Round(time.Second), signedBytes(r.PerMinute), r.P)
	perReq := ""
	if !math.IsNaN(r.PerRequest) {
		perReq = fmt.Sprintf(", ≈ %s per request (99%% bounds %s … %s)",
			signedBytes(r.PerRequest), signedBytes(r.PerRequestLower), signedBytes(r.PerRequestUpper))
	}
	switch {
	case trend && fast && big && steady:
		r.Verdict = Fail
		r.Reason = "memory leak: " + growth + perReq + fmt.Sprintf(", above the %s growth budget", unsignedBytes(r.MaxGrowth))
	case trend && fast && big:
		r.Verdict = Inconclusive
		r.Reason = fmt.Sprintf("memory grew %s but is flattening (last %d blocks %s/min vs %s/min): a cache still filling? extend the run",
			growth, TailBlocks, signedBytes(60*r.TailSlope), signedBytes(r.PerMinute))
	default:
		r.Verdict = Pass
		var why string
		switch {
		case !trend:
			why = fmt.Sprintf("no significant upward trend at the %.2g level", Alpha)
		case !fast:
			why = fmt.Sprintf("growth rate %s/min within the %s/min budget", signedBytes(r.PerMinute), unsignedBytes(60*r.MaxGrowthRate))
		default:
			why = fmt.Sprintf("growth %s within the %s budget", signedBytes(r.Growth), unsignedBytes(r.MaxGrowth))
		}
		r.Reason = "no leak: " + why + "; " + growth + perReq
	}
}

// peakToPeak is the spread of the samples around the block envelope (the
// envelope points joined by straight lines, flat beyond the first and last):
// the height of the GC sawtooth and the noise, which growth must exceed to
// matter. Detrending by the envelope rather than by one straight line keeps
// the curvature of a filling cache or a step out of the spread: such a
// shape would otherwise raise its own budget and pass unseen.
func peakToPeak(judged []Sample, blocks []Block) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	k := 0
	for _, s := range judged {
		for k < len(blocks)-1 && blocks[k+1].At <= s.At {
			k++
		}
		var trend float64
		switch {
		case s.At <= blocks[0].At:
			trend = blocks[0].Bytes
		case k == len(blocks)-1:
			trend = blocks[k].Bytes
		default:
			a, b := blocks[k], blocks[k+1]
			f := float64(s.At-a.At) / float64(b.At-a.At)
			trend = a.Bytes + f*(b.Bytes-a.Bytes)
		}
		res := s.Bytes - trend
		lo, hi = math.Min(lo, res), math.Max(hi, res)
	}
	return hi - lo
}

// envelope splits the judged samples into Blocks equal spans of time and
// takes each block's lower envelope: the minimum for resident memory (the
// troughs after collections), the median for the live heap.
func envelope(judged []Sample, src Source, span time.Duration, gcKnown bool, prevGC int64) []Block {
	t0 := judged[0].At
	width := span / Blocks
	blocks := make([]Block, Blocks)
	for i := range blocks {
		blocks[i].Start = t0 + time.Duration(i)*width
		blocks[i].End = blocks[i].Start + width
		blocks[i].GCCycles = -1
	}
	var vals, times []float64
	lo := 0
	for i := range blocks {
		hi := lo
		for hi < len(judged) && (i == Blocks-1 || judged[hi].At < blocks[i].End) {
			hi++
		}
		in := judged[lo:hi]
		blk := &blocks[i]
		blk.Samples = len(in)
		if len(in) == 0 {
			lo = hi
			continue
		}
		if gcKnown {
			last := in[len(in)-1].GCCycles
			blk.GCCycles = last - prevGC
			prevGC = last
		}
		switch src {
		case HeapLive:
			vals, times = vals[:0], times[:0]
			for _, s := range in {
				vals = append(vals, s.Bytes)
				times = append(times, float64(s.At))
			}
			blk.Bytes, _ = stats.Median(vals)
			mid, _ := stats.Median(times)
			blk.At = time.Duration(mid)
		default:
			m := in[0]
			for _, s := range in[1:] {
				if s.Bytes < m.Bytes {
					m = s
				}
			}
			blk.Bytes, blk.At = m.Bytes, m.At
		}
		lo = hi
	}
	return blocks
}

// gcWarmup returns the time of the first sample by which WarmupGCCycles
// collections have completed since the first sample.
func gcWarmup(samples []Sample) (time.Duration, bool) {
	for _, s := range samples {
		if s.GCCycles-samples[0].GCCycles >= WarmupGCCycles {
			return s.At, true
		}
	}
	return 0, false
}

// rateSettled returns when the completed-request rate has reached its
// steady level: the rate is measured over consecutive rateBin spans, the
// steady level is the median over the second half of the run, and the load
// has settled at the first span that, with the next one, is within
// tolerance of it (±10%, or ±3 Poisson σ at low rates). With no traffic
// there is nothing to wait for.
func rateSettled(samples []Sample) (time.Duration, bool) {
	type bin struct {
		start time.Duration
		rate  float64
	}
	var bins []bin
	for s := 0; s < len(samples); {
		e := s + 1
		for e < len(samples) && samples[e].At-samples[s].At < rateBin {
			e++
		}
		if e == len(samples) {
			break
		}
		secs := (samples[e].At - samples[s].At).Seconds()
		bins = append(bins, bin{samples[s].At, float64(samples[e].Requests-samples[s].Requests) / secs})
		s = e
	}
	if len(bins) < 2 {
		return 0, true // too short to tell; the window check will say so
	}
	half := samples[0].At + (samples[len(samples)-1].At-samples[0].At)/2
	var late []float64
	for _, b := range bins {
		if b.start >= half {
			late = append(late, b.rate)
		}
	}
	if len(late) == 0 {
		late = append(late, bins[len(bins)-1].rate)
	}
	ref, _ := stats.Median(late)
	if ref <= 0 {
		return 0, true
	}
	tol := math.Max(0.10, 3/math.Sqrt(ref*rateBin.Seconds()))
	within := func(v float64) bool { return math.Abs(v-ref) <= tol*ref }
	for i, b := range bins {
		if within(b.rate) && (i == len(bins)-1 || within(bins[i+1].rate)) {
			return b.start, true
		}
	}
	return 0, false
}

// sampleInterval is the median spacing of the samples (each sample stands
// for that much time when the window is measured).
func sampleInterval(samples []Sample) time.Duration {
	d := make([]float64, 0, len(samples)-1)
	for i := 1; i < len(samples); i++ {
		d = append(d, float64(samples[i].At-samples[i-1].At))
	}
	m, err := stats.Median(d)
	if err != nil {
		return time.Second
	}
	return time.Duration(m)
}

// gcInterval is the mean time between GC cycles over the samples (the whole
// span when there was at most one).
func gcInterval(s []Sample) time.Duration {
	span := s[len(s)-1].At - s[0].At
	n := s[len(s)-1].GCCycles - s[0].GCCycles
	if n <= 1 {
		return span
	}
	return span / time.Duration(n)
}

func cmpDuration(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// signedBytes formats bytes with 1000-based units (the project's KB/MB) and a sign.
func signedBytes(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	if math.IsInf(v, 0) {
		if v > 0 {
			return "+∞"
		}
		return "−∞"
	}
	sign := "+"
	if v < 0 {
		sign = "−"
	}
	return sign + unsignedBytes(math.Abs(v))
}

func unsignedBytes(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return fmt.Sprintf("%.2f GB", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1f MB", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1f KB", v/1e3)
	}
	return fmt.Sprintf("%.0f B", v)
}

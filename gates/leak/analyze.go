package leak

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"lab/gates/stats"
	"lab/lang/units"
)

// Analyze applies the leak rule to samples (in time order) of the given
// source under the plan's budget. A run that cannot be judged — too short,
// a block without a GC cycle, a restarted target — is an INCONCLUSIVE
// report whose Reason says what is missing; only malformed input (samples
// out of order, NaN bytes, a bad budget) is an error.
//
// The stages follow the rule (docs/STATISTICS.md, "Leak hunter"): what the
// samples say about collections, the warm-up cut, the window, the blocks
// and their envelope, then the trend and the verdict. Each stage may end
// the analysis with an INCONCLUSIVE report.
func Analyze(samples []Sample, src Source, b Budget) (Report, error) {
	if err := validate(samples, src, b); err != nil {
		return Report{}, err
	}
	r := newReport(src)
	a := newAnalysis(samples, src, b, &r)
	if !a.readable() || !a.cutWarmup() || !a.cutWindow() || !a.splitBlocks() {
		return r, nil
	}
	if err := a.trend(); err != nil {
		return Report{}, err
	}
	a.lateGrowth()
	return r, nil
}

// analysis is one run of the rule: the samples, what is known of them, and
// what each stage found for the next. Its stages write into r.
type analysis struct {
	r       *Report
	samples []Sample
	src     Source
	budget  Budget

	warm      time.Duration // the warm-up floor: DefaultWarmup or the plan's longer one
	warmBy    string
	minWindow time.Duration // the least span judged
	gcKnown   bool          // every sample carries the target's GC count
	reqKnown  bool          // every sample carries the completed requests
	dt        time.Duration // the median spacing of the samples
	fell      falls         // resident memory's falls, when GC counts are unknown
	spanning  time.Duration // the least window whose blocks each span a collection

	cut    time.Duration // where the warm-up ends
	by     string        // which rule set the cut
	i0     int           // index of the first judged sample
	judged []Sample      // the samples after the cut
	stale  []int         // blocks that saw no collection
}

func newAnalysis(samples []Sample, src Source, b Budget, r *Report) *analysis {
	a := &analysis{r: r, samples: samples, src: src, budget: b, warm: DefaultWarmup, warmBy: "default warm-up", minWindow: b.Window}
	// The plan's warm-up is one of the rules, never a replacement for the
	// 60 s floor: the cut is the longest of them.
	if b.Warmup > a.warm {
		a.warm, a.warmBy = b.Warmup, "plan warm-up"
	}
	if a.minWindow == 0 {
		a.minWindow = DefaultWindow
	}
	return a
}

// readable checks that the samples can be judged at all (two or more, a
// GC counter that never went back) and finds what they say about
// collections.
func (a *analysis) readable() bool {
	r, samples := a.r, a.samples
	if len(samples) < 2 {
		r.NeedRun = a.warm + a.minWindow
		r.Reason = fmt.Sprintf("only %d memory sample(s): run for at least %v (warm-up %v + window %v)",
			len(samples), r.NeedRun, a.warm, a.minWindow)
		return false
	}
	a.gcKnown, a.reqKnown = true, true
	for _, s := range samples {
		a.gcKnown = a.gcKnown && s.GCCycles >= 0
		a.reqKnown = a.reqKnown && s.Requests >= 0
	}
	a.dt = sampleInterval(samples)
	// Collections: counted by the target where it reports them, else, for
	// resident memory, seen as the falls of the memory itself.
	if a.src == Resident && !a.gcKnown {
		a.fell = findFalls(samples)
	}
	// spanning is the least window whose blocks each span a collection,
	// with room for the longest interval between two seen so far.
	a.spanning = time.Duration(Blocks) * (longestInterval(collections(samples, a.gcKnown, a.fell.at)) * 3 / 2)
	if a.gcKnown {
		for i := 1; i < len(samples); i++ {
			if samples[i].GCCycles < samples[i-1].GCCycles {
				r.Reason = fmt.Sprintf("the GC counter went back at %v: the target restarted, so memory before and after cannot be compared",
					samples[i].At)
				return false
			}
		}
	}
	return true
}

// cutWarmup is step 1: the cut is the longest of 60 s, the plan's warm-up,
// 3 GC cycles and the settling of the request rate.
func (a *analysis) cutWarmup() bool {
	r, samples := a.r, a.samples
	a.cut, a.by = a.warm, a.warmBy
	if a.gcKnown {
		t, ok := gcWarmup(samples)
		if !ok {
			seen := samples[len(samples)-1].GCCycles - samples[0].GCCycles
			r.Reason = fmt.Sprintf("only %d GC cycle(s) in the whole run: the warm-up needs %d and each of the %d blocks at least one more; run longer",
				seen, WarmupGCCycles, Blocks)
			if seen > 0 {
				per := max((samples[len(samples)-1].At-samples[0].At)/time.Duration(seen), a.spanning/Blocks)
				r.NeedRun = max(a.warm, samples[0].At+WarmupGCCycles*per) + max(a.minWindow, Blocks*per*3/2)
				r.Reason += fmt.Sprintf(": at least %v", r.NeedRun.Round(time.Second))
			}
			return false
		}
		if t > a.cut {
			a.cut, a.by = t, fmt.Sprintf("%d GC cycles", WarmupGCCycles)
		}
	}
	if a.reqKnown {
		t, ok := rateSettled(samples)
		if !ok {
			r.Reason = "the request rate never settled: a leak per request cannot be judged while the load keeps changing; hold the load steady longer"
			return false
		}
		if t > a.cut {
			a.cut, a.by = t, "request rate settled"
		}
	}
	r.WarmupCut, r.WarmupBy = a.cut, a.by
	return true
}

// cutWindow is step 2: everything after the cut is judged, and it must
// span the plan's window and hold enough samples.
func (a *analysis) cutWindow() bool {
	r := a.r
	a.i0, _ = slices.BinarySearchFunc(a.samples, a.cut, func(s Sample, t time.Duration) int {
		return cmpDuration(s.At, t)
	})
	a.judged = a.samples[a.i0:]
	judged := a.judged
	minSamples := Blocks * MinSamplesPerBlock
	need := a.cut + max(a.minWindow, time.Duration(minSamples)*a.dt, a.spanning)
	var span time.Duration
	if len(judged) > 0 {
		span = judged[len(judged)-1].At - judged[0].At + a.dt
	}
	if len(judged) < minSamples || span < a.minWindow {
		r.NeedRun = need
		r.SamplesUsed = len(judged)
		r.Reason = fmt.Sprintf("run too short to judge: %v (%d samples) left after the %v warm-up (%s), the window needs %v and %d samples; run for at least %v",
			span, len(judged), a.cut, a.by, a.minWindow, minSamples, need)
		return false
	}
	r.Window, r.SamplesUsed = span, len(judged)
	return true
}

// splitBlocks is step 3: the blocks, their lower envelope and their
// collections; a block that lost most of its readings ends the analysis.
func (a *analysis) splitBlocks() bool {
	r := a.r
	r.Blocks = envelope(a.judged, a.src, r.Window, Blocks, a.gcKnown, a.prevGC())
	// Subtleness ahead: a block that lost most of its readings holds few of
	// the sawtooth's troughs, so its minimum sits high; high early blocks
	// hide a trend. Half the readings its span should hold is the least.
	for i, blk := range r.Blocks {
		should := int((blk.End - blk.Start) / a.dt)
		if blk.Samples < max(MinSamplesPerBlock, int(math.Ceil(MinBlockCoverage*float64(should)))) {
			r.Reason = fmt.Sprintf("block %d (%v–%v) has only %d of the %d samples its span should hold: a gap in sampling; the envelope cannot be trusted — find why the memory readings failed and run again",
				i+1, blk.Start.Round(time.Second), blk.End.Round(time.Second), blk.Samples, should)
			return false
		}
	}
	if !a.gcKnown && len(a.fell.at) > 0 {
		countFalls(r.Blocks, a.fell.at)
	}
	for i, blk := range r.Blocks {
		if (a.gcKnown && blk.GCCycles == 0) || (!a.gcKnown && blk.Falls == 0) {
			a.stale = append(a.stale, i)
		}
	}
	return true
}

// trend is steps 4 to 9: the trend over the blocks and the verdict, with
// blocks that saw no collection judged as the rule says for their source.
func (a *analysis) trend() error {
	r := a.r
	all := make([]int, 0, Blocks)
	fresh := make([]int, 0, Blocks)
	for i := range r.Blocks {
		all = append(all, i)
		if !slices.Contains(a.stale, i) {
			fresh = append(fresh, i)
		}
	}
	if len(a.stale) == 0 {
		if _, _, err := judge(r, a.judged, all, a.reqKnown, a.budget); err != nil {
			return err
		}
		if a.src == HeapLive && !a.gcKnown && r.Verdict == Pass {
			// A reading no collection refreshed is an older heap: stale
			// blocks cannot be found, so none can vouch for a pass (they
			// can only hide growth, so a failure stands).
			r.Verdict = Inconclusive
			r.Reason = "the live heap came without the target's GC cycle count, so a reading no collection refreshed cannot be told from a fresh one and cannot vouch for a pass; export " +
				"go_gc_cycles_total_gc_cycles_total (or go_gc_duration_seconds) beside it, or sample resident memory; what was read: " + r.Reason
		}
		return nil
	}
	r.Stale = len(a.stale)

	// Subtleness ahead: a leak makes collections rarer (the heap doubles
	// before the next one), so the later blocks of a leaking run may see
	// none. Their readings cannot vouch for a pass, but the blocks that did
	// see collections can still prove a leak: the trend is computed on them
	// alone, and only a failure is kept from it.
	if len(fresh) >= MinFreshBlocks {
		if _, _, err := judge(r, a.judged, fresh, a.reqKnown, a.budget); err != nil {
			return err
		}
		if r.Verdict == Fail {
			r.Reason += fmt.Sprintf(" (judged on the %d blocks that saw a GC cycle; %d had none)", len(fresh), len(a.stale))
			return nil
		}
	}
	if a.src == HeapLive {
		// A stale live heap is the heap of an older collection: no bound
		// on how far it lags.
		r.Verdict, r.Reason = Inconclusive, a.staleReason()
		return nil
	}
	x, y, err := judge(r, a.judged, all, a.reqKnown, a.budget)
	if err != nil {
		return err
	}
	saw := a.fell
	if a.gcKnown {
		saw = findFalls(a.samples) // only the sawtooth's height is wanted
	}
	r.Sawtooth = saw.height()
	return bounded(r, x, y, a.stale, a.staleReason)
}

// staleReason says which block saw no collection and how long to run so
// that every block spans one; it sets r.NeedRun.
func (a *analysis) staleReason() string {
	r, judged := a.r, a.judged
	blk := r.Blocks[a.stale[0]]
	edge := append([]time.Duration{judged[0].At}, collections(judged, a.gcKnown, a.fell.at)...)
	edge = append(edge, judged[len(judged)-1].At)
	r.NeedRun = a.cut + max(a.minWindow, time.Duration(Blocks)*(longestInterval(edge)*3/2))
	if !a.gcKnown {
		return fmt.Sprintf("no collection seen in block %d (%v–%v): the memory falls only every %v or so (its GC sawtooth is slower than a block), so a block without a fall may have its minimum up the ramp; blocks must span collections — run for at least %v",
			a.stale[0]+1, blk.Start.Round(time.Second), blk.End.Round(time.Second),
			collectionInterval(judged, a.fell.at).Round(time.Second), r.NeedRun.Round(time.Second))
	}
	return fmt.Sprintf("no GC cycle in block %d (%v–%v): its memory reading is stale; blocks must span GC cycles — run for at least %v",
		a.stale[0]+1, blk.Start.Round(time.Second), blk.End.Round(time.Second), r.NeedRun.Round(time.Second))
}

// judge fits the trend over the blocks idx of r.Blocks and decides the
// verdict from it: steps 4 to 6 of the rule. It returns the points fitted.
func judge(r *Report, judged []Sample, idx []int, reqKnown bool, b Budget) (x, y []float64, err error) {
	// 4. Trend over the envelope.
	t0 := judged[0].At
	x = make([]float64, 0, len(idx))
	y = make([]float64, 0, len(idx))
	for _, i := range idx {
		blk := r.Blocks[i]
		x = append(x, (blk.At - t0).Seconds())
		y = append(y, blk.Bytes)
	}
	line, err := stats.TheilSen(x, y)
	if err != nil {
		return nil, nil, fmt.Errorf("leak: fitting the envelope: %w", err)
	}
	bounds, err := stats.SenBounds(x, y, Confidence)
	if err != nil {
		return nil, nil, fmt.Errorf("leak: slope bounds: %w", err)
	}
	mk, err := stats.MannKendall(y)
	if err != nil {
		return nil, nil, fmt.Errorf("leak: trend test: %w", err)
	}
	tail, err := stats.TheilSen(x[len(x)-TailBlocks:], y[len(y)-TailBlocks:])
	if err != nil {
		return nil, nil, fmt.Errorf("leak: tail slope: %w", err)
	}
	r.LeastSquaresSlope = math.NaN()
	if ls, err := stats.LeastSquares(x, y); err == nil { // shown, never judged
		r.LeastSquaresSlope = ls.Slope
	}
	w := r.Window.Seconds()
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
	decide(r)
	return x, y, nil
}

// bounded decides a resident-memory verdict when some blocks saw no
// collection. Subtleness ahead: such a block holds no trough of the GC
// sawtooth, so its minimum sits somewhere on a ramp, between the live data
// and r.Sawtooth above it. Its true envelope point lies in [y − H, y].
// Lowering each pairwise difference as far as those intervals allow gives
// slopes and signs that are never above the true ones, raising each gives
// ones never below; so the Theil–Sen slope, its bounds and the
// Mann–Kendall S of the true envelope lie between the two, and the exact
// p of the lower S is a valid (conservative) p for the true S. A leak
// fails only if even the lowest reading of the stale blocks is a leak; a
// run passes only if even the highest is not; else it is inconclusive.
func bounded(r *Report, x, y []float64, stale []int, staleReason func() string) error {
	isStale := make([]bool, len(y))
	for _, i := range stale {
		isStale[i] = true
	}
	lo, err := boundedTrend(x, y, isStale, r.Sawtooth, -1)
	if err != nil {
		return err
	}
	hi, err := boundedTrend(x, y, isStale, r.Sawtooth, +1)
	if err != nil {
		return err
	}
	w := r.Window.Seconds()
	allowance := fmt.Sprintf("%d of %d blocks saw no collection; allowing their minimum to sit up to %s up the sawtooth, growth is %s … %s/min (trend p %.2g … %.2g)",
		len(stale), Blocks, units.FormatApproxSize(r.Sawtooth, " "), signedBytes(60*lo.slope), signedBytes(60*hi.slope), hi.p, lo.p)
	leak := lo.p < Alpha && lo.slope > r.MaxGrowthRate && lo.slope*w > r.MaxGrowth && lo.tail > TailFraction*hi.slope
	noLeak := hi.p >= Alpha || hi.slope <= r.MaxGrowthRate || hi.slope*growthSpan(r.Window) <= r.MaxGrowth
	switch {
	case leak:
		r.Verdict = Fail
		if !strings.HasPrefix(r.Reason, "memory leak") { // ties in the envelope can move the plain test alone
			r.Reason = "memory leak: " + strings.TrimPrefix(r.Reason, "no leak: ")
		}
		r.Reason += "; " + allowance + ": a leak either way"
	case noLeak:
		r.Verdict = Pass
		r.Reason += "; " + allowance + ": no leak either way"
	default:
		r.Verdict = Inconclusive
		r.Reason = staleReason() + "; " + allowance
	}
	return nil
}

// trendBound is one side of the trend of an envelope whose stale points
// are known only to lie in an interval.
type trendBound struct {
	slope float64 // Theil–Sen over the bounded pairwise slopes
	tail  float64 // the same over the last TailBlocks points
	s     int     // Mann–Kendall S over the bounded pairwise differences
	p     float64 // exact one-sided p of s
}

// boundedTrend computes the trend with each pairwise difference y_j − y_i
// (i < j) lowered by h when j is stale (dir < 0), or raised by h when i is
// stale (dir > 0).
func boundedTrend(x, y []float64, stale []bool, h float64, dir int) (trendBound, error) {
	pairs := func(from int) ([]float64, int) {
		var slopes []float64
		s := 0
		for i := from; i < len(y); i++ {
			for j := i + 1; j < len(y); j++ {
				d := y[j] - y[i]
				if dir < 0 && stale[j] {
					d -= h
				}
				if dir > 0 && stale[i] {
					d += h
				}
				switch {
				case d > 0:
					s++
				case d < 0:
					s--
				}
				slopes = append(slopes, d/(x[j]-x[i]))
			}
		}
		slices.Sort(slopes)
		return slopes, s
	}
	all, s := pairs(0)
	tail, _ := pairs(len(y) - TailBlocks)
	p, err := stats.KendallUpper(len(y), s)
	if err != nil {
		return trendBound{}, fmt.Errorf("leak: trend test: %w", err)
	}
	return trendBound{slope: median(all), tail: median(tail), s: s, p: p}, nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// falls are the drops of resident memory between consecutive samples that
// a collection makes: the troughs of the GC sawtooth, seen in the memory
// itself when the target does not count its collections.
type falls struct {
	at      []time.Duration // the sample after each fall: a trough
	largest float64         // the largest fall, bytes
	sigma   float64         // robust σ of the sample-to-sample differences
}

// findFalls finds the collections in resident memory: a fall between two
// samples at least FallShare of the largest fall (a partial release is not
// a trough) and larger than FallSigmas robust σ of the other
// sample-to-sample differences (noise does not make it). The σ leaves the
// large falls out: in a fast sawtooth they are a third of the differences
// or more, and would inflate it until falls went unseen. A series with no
// fall that large shows no sawtooth: none is looked for.
func findFalls(samples []Sample) falls {
	if len(samples) < 3 {
		return falls{}
	}
	d := make([]float64, len(samples)-1)
	var f falls
	for i := 1; i < len(samples); i++ {
		d[i-1] = samples[i].Bytes - samples[i-1].Bytes
		f.largest = max(f.largest, -d[i-1])
	}
	rest := make([]float64, 0, len(d))
	for _, v := range d {
		if -v < FallShare*f.largest {
			rest = append(rest, v)
		}
	}
	if len(rest) < 2 {
		return f // every difference a fall of the same size: no scale to tell noise by
	}
	f.sigma, _ = stats.MAD(rest)
	if f.largest <= FallSigmas*f.sigma {
		return f
	}
	limit := max(FallSigmas*f.sigma, FallShare*f.largest)
	for i, v := range d {
		if -v >= limit {
			f.at = append(f.at, samples[i+1].At)
		}
	}
	return f
}

// height is how far above its trough a block's minimum may sit when the
// block saw no collection: the sawtooth's height, which is the largest fall
// seen (or the least one that would have been seen), plus 3σ of noise.
func (f falls) height() float64 {
	return max(f.largest, FallSigmas*f.sigma) + 3*f.sigma
}

// countFalls sets each block's Falls from the times of the troughs.
func countFalls(blocks []Block, at []time.Duration) {
	for i := range blocks {
		blocks[i].Falls = 0
	}
	k := 0
	for _, t := range at {
		for k < len(blocks)-1 && t >= blocks[k].End {
			k++
		}
		if t >= blocks[k].Start {
			blocks[k].Falls++
		}
	}
}

// decide sets the verdict and reason from the computed statistics.
func decide(r *Report) {
	trend := r.P < Alpha
	fast := r.Slope > r.MaxGrowthRate
	big := r.Growth > r.MaxGrowth
	steady := r.TailSlope > TailFraction*r.Slope
	growth := growthText(r)
	perReq := ""
	if !math.IsNaN(r.PerRequest) {
		perReq = fmt.Sprintf(", ≈ %s per request (99%% bounds %s … %s)",
			signedBytes(r.PerRequest), signedBytes(r.PerRequestLower), signedBytes(r.PerRequestUpper))
	}
	switch {
	case trend && fast && big && steady:
		r.Verdict = Fail
		r.Reason = "memory leak: " + growth + perReq + fmt.Sprintf(", above the %s growth budget", units.FormatApproxSize(r.MaxGrowth, " "))
	case trend && fast && big:
		r.Verdict = Inconclusive
		r.NeedRun = r.WarmupCut + 2*r.Window
		r.Reason = fmt.Sprintf("memory grew %s but is flattening (last %d blocks %s/min vs %s/min): a cache still filling? extend the run to at least %v (twice the window), so it has flattened out or shows it has not",
			growth, TailBlocks, signedBytes(60*r.TailSlope), signedBytes(r.PerMinute), r.NeedRun.Round(time.Second))
	case trend && fast && r.Slope*growthSpan(r.Window) > r.MaxGrowth:
		// Subtleness ahead: the growth budget is never judged over less
		// than DefaultWindow, or a plan's short window would pass any
		// leak: growth within the budget over a short window is not a pass
		// if at the same rate it would exceed it within DefaultWindow.
		r.Verdict = Inconclusive
		r.NeedRun = r.WarmupCut + DefaultWindow
		r.Reason = fmt.Sprintf("memory grew %s: within the %s budget over this short window, but at this rate %s over %v; a window under %v cannot pass it — run for at least %v",
			growth, units.FormatApproxSize(r.MaxGrowth, " "), signedBytes(r.Slope*DefaultWindow.Seconds()), DefaultWindow, DefaultWindow, r.NeedRun)
	default:
		r.Verdict = Pass
		rateBudget := "no rate budget"
		if r.MaxGrowthRate > 0 {
			rateBudget = units.FormatApproxSize(60*r.MaxGrowthRate, " ") + "/min"
		}
		total := units.FormatApproxSize(r.MaxGrowth, " ")
		switch {
		case !trend:
			r.Decided = fmt.Sprintf("no significant upward trend (p = %.2g, level %.2g): no budget needed", r.P, Alpha)
			r.Reason = fmt.Sprintf("no leak: no significant upward trend at the %.2g level; ", Alpha) + growth + perReq
		case !fast:
			// A significant trend is a trend: it passes because the
			// owner's rule fails only when both budgets are exceeded.
			r.Decided = fmt.Sprintf("the rate budget decided: %s/min ≤ %s (total %s vs %s)", signedBytes(r.PerMinute), rateBudget, signedBytes(r.Growth), total)
			r.Reason = fmt.Sprintf("a significant upward trend, within budget: growth rate %s/min within the %s budget, which decided: a leak exceeds both budgets (total %s vs %s); ",
				signedBytes(r.PerMinute), rateBudget, signedBytes(r.Growth), total) + growth + perReq
		default:
			r.Decided = fmt.Sprintf("the growth budget decided: %s ≤ %s, though %s/min > %s", signedBytes(r.Growth), total, signedBytes(r.PerMinute), rateBudget)
			r.Reason = fmt.Sprintf("a significant upward trend, within budget: growth %s within the %s budget, which decided: a leak exceeds both budgets (faster than %s); ",
				signedBytes(r.Growth), total, rateBudget) + growth + perReq
		}
	}
}

// growthText is the fitted trend over the window: slope × W, the rate
// and its p.
func growthText(r *Report) string {
	return fmt.Sprintf("%s over %v (%s/min, trend p = %.2g)",
		signedBytes(r.Growth), r.Window.Round(time.Second), signedBytes(r.PerMinute), r.P)
}

// growthSpan is the span in seconds over which growth is held against the
// growth budget when deciding a pass: the window, and never less than
// DefaultWindow.
func growthSpan(window time.Duration) float64 {
	return max(window, DefaultWindow).Seconds()
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

// prevGC is the GC count just before the judged samples (-1 when unknown).
func (a *analysis) prevGC() int64 {
	switch {
	case !a.gcKnown:
		return -1
	case a.i0 > 0:
		return a.samples[a.i0-1].GCCycles
	}
	return a.judged[0].GCCycles
}

// envelope splits the judged samples into n equal spans of time and takes
// each block's lower envelope: the minimum for resident memory (the
// troughs after collections), the median for the live heap.
func envelope(judged []Sample, src Source, span time.Duration, n int, gcKnown bool, prevGC int64) []Block {
	t0 := judged[0].At
	width := span / time.Duration(n)
	blocks := make([]Block, n)
	for i := range blocks {
		blocks[i].Start = t0 + time.Duration(i)*width
		blocks[i].End = blocks[i].Start + width
		blocks[i].GCCycles, blocks[i].Falls = -1, -1
	}
	var vals, times []float64
	lo := 0
	for i := range blocks {
		hi := lo
		for hi < len(judged) && (i == n-1 || judged[hi].At < blocks[i].End) {
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

// collections are the times of the collections seen in the samples: where
// the target's count rose, or the falls of its memory (nil when neither is
// known).
func collections(s []Sample, gcKnown bool, falls []time.Duration) []time.Duration {
	var at []time.Duration
	if gcKnown {
		for i := 1; i < len(s); i++ {
			if s[i].GCCycles > s[i-1].GCCycles {
				at = append(at, s[i].At)
			}
		}
		return at
	}
	for _, t := range falls {
		if t > s[0].At && t <= s[len(s)-1].At {
			at = append(at, t)
		}
	}
	return at
}

// collectionInterval is the mean time between the falls within the judged
// samples (their whole span with at most one).
func collectionInterval(s []Sample, falls []time.Duration) time.Duration {
	at := collections(s, false, falls)
	if len(at) < 2 {
		return s[len(s)-1].At - s[0].At
	}
	return (at[len(at)-1] - at[0]) / time.Duration(len(at)-1)
}

// longestInterval is the longest time between consecutive times of at (0
// with fewer than two).
func longestInterval(at []time.Duration) time.Duration {
	var longest time.Duration
	for i := 1; i < len(at); i++ {
		longest = max(longest, at[i]-at[i-1])
	}
	return longest
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

// signedBytes formats bytes as units.FormatSignedSize does, and the
// infinities as ±∞.
func signedBytes(v float64) string {
	if math.IsInf(v, 0) {
		if v > 0 {
			return "+∞"
		}
		return "−∞"
	}
	return units.FormatSignedSize(v, " ")
}

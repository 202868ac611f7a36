// Package leak is the leak hunter: it judges memory samples collected during
// a run (docs/STATISTICS.md, "Leak hunter") and says PASS, FAIL or
// INCONCLUSIVE, with the growth, its rate, the leak per request and why.
//
// The rule, in short: drop the warm-up; split the rest (the window W) into
// 10 blocks; keep each block's lower envelope (minimum, or median for the
// Go runtime's live heap); fit Theil–Sen to the 10 points and test them with
// the exact Mann–Kendall test. Raw 1 Hz samples are never fitted: a GC
// sawtooth makes them strongly autocorrelated and tests on them cry wolf
// (28–48% false positives in the simulations behind the rule). A block
// that saw no collection (counted by the target, or seen as a fall of its
// resident memory) holds no trough: its point is stale, and the verdict
// must hold whatever its true value within what the sawtooth allows.
//
// Analyze is pure: samples in, a Report out, no I/O; Judge words a stored
// Run's Report as the gate's result.Verdict, since every gate package
// builds its own (gates/sla always did, so this was the smaller change).
package leak

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Source says what the samples measure, which decides the block envelope.
type Source int

const (
	// HeapLive is the Go runtime's /gc/heap/live:bytes: live heap after the
	// last GC. It has no sawtooth; blocks take the median.
	HeapLive Source = iota + 1
	// Resident is any resident-memory reading with a GC sawtooth on top of
	// the live data: cgroup v2 anon, Docker stats, RssAnon or RSS.
	// Blocks take the minimum (the troughs after collections).
	Resident
)

// ParseSource maps a plan's source name to a Source: "heap_live", or one of
// "rss", "rss_anon", "anon", "cgroup", "docker" (all Resident).
func ParseSource(name string) (Source, error) {
	switch name {
	case "heap_live":
		return HeapLive, nil
	case "rss", "rss_anon", "anon", "cgroup", "docker":
		return Resident, nil
	}
	return 0, fmt.Errorf("unknown memory source %q (want heap_live, rss, rss_anon, anon, cgroup or docker)", name)
}

func (s Source) String() string {
	switch s {
	case HeapLive:
		return "heap_live"
	case Resident:
		return "resident"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Sample is one memory reading.
type Sample struct {
	At       time.Duration // since run start
	Bytes    float64
	GCCycles int64 // cumulative GC cycles of the target; -1 when unknown
	Requests int64 // cumulative completed requests; -1 when unknown
}

// Budget is the plan's leak budget. Zero fields take the defaults.
type Budget struct {
	// Warmup is the plan's warm-up: the least time cut from the start. The
	// cut is the longest of DefaultWarmup, this, 3 GC cycles and the time
	// the request rate settled: a shorter plan warm-up never cuts less
	// than the others, since judging a target that has not collected or a
	// load still ramping is never right.
	Warmup time.Duration
	// Window is the least span, after the warm-up, that may be judged.
	// 0 means DefaultWindow. Everything after the warm-up is judged: a longer
	// run gives longer blocks and more evidence, never less.
	Window time.Duration
	// MaxGrowthRate in bytes per second: growth slower than this passes.
	// 0 means not set (any significant growth counts).
	MaxGrowthRate float64
	// MaxGrowth in bytes over the window. 0 means
	// max(50 MiB, 1.25 × peak-to-peak of the samples detrended by the block
	// envelope — the height of the sawtooth and noise).
	MaxGrowth float64
}

// Defaults and constants of the rule.
const (
	DefaultWarmup      = 60 * time.Second
	DefaultWindow      = 300 * time.Second
	WarmupGCCycles     = 3
	Blocks             = 10
	TailBlocks         = 5
	MinSamplesPerBlock = 3
	// MinBlockCoverage is the least share of the samples its span should
	// hold that a block must have (readings fail; a block that lost most
	// of them has lost its troughs).
	MinBlockCoverage = 0.5
	// MinFreshBlocks is how many blocks must have seen a GC cycle for a
	// heap_live trend to prove a leak when others saw none (six points
	// perfectly ordered give p = 1/720).
	MinFreshBlocks   = 6
	Alpha            = 0.01 // Mann–Kendall one-sided level
	Confidence       = 0.99 // Sen bounds, one-sided each
	MaxGrowthFloor   = 50 << 20
	PeakToPeakFactor = 1.25
	TailFraction     = 0.5 // the tail slope must keep this share of the slope
	// FallSigmas and FallShare say which falls of resident memory are
	// collections when the target does not count them: more than this many
	// robust σ of the sample-to-sample differences, and at least this share
	// of the largest fall.
	FallSigmas = 6
	FallShare  = 0.5
	// LateMinRun is how many of the last envelope points of step 7b must
	// each be a new high for memory to be called still rising at the end.
	LateMinRun = 3
	// MaxFinePoints caps the fine envelope of step 7b (its cost and the
	// width of its blocks on long soaks).
	MaxFinePoints = 400
	// FellBackShare: a failed trend whose envelope ends less than this share
	// of its fitted growth above the start (and within max_growth) grew and
	// was freed.
	FellBackShare = 0.5
	// rateBin is the span over which the request rate is measured to find
	// when it has settled.
	rateBin = 10 * time.Second
)

// Verdict is the outcome of the leak hunter.
type Verdict string

const (
	Pass         Verdict = "PASS"
	Fail         Verdict = "FAIL"
	Inconclusive Verdict = "INCONCLUSIVE"
)

// Block is one of the 10 envelope points.
type Block struct {
	Start, End time.Duration // the block's span
	At         time.Duration // time of the envelope point
	Bytes      float64       // the envelope: block minimum (median for HeapLive)
	Samples    int
	GCCycles   int64 // GC cycles completed in the block; -1 when unknown
	// Falls is how many falls of resident memory (collections the target
	// does not count) the block holds; -1 when they were not looked for
	// (GC counts known, the live heap, or no fall anywhere in the run).
	Falls int
}

// Report is what the leak hunter found. Rates are in bytes per second,
// sizes in bytes; statistics not computed (an early INCONCLUSIVE) are NaN.
type Report struct {
	Verdict Verdict
	Reason  string // one line for humans
	// Decided says, for a PASS, which budget passed it and by how much
	// (short: shown beside the verdict's table row).
	Decided string
	Source  Source

	WarmupCut   time.Duration // samples before this were dropped
	WarmupBy    string        // which rule set the cut
	Window      time.Duration // span judged (W)
	SamplesUsed int
	Blocks      []Block

	Slope      float64 // b, Theil–Sen over the block envelope
	SlopeLower float64 // Sen 99% one-sided lower bound b_lo
	SlopeUpper float64 // Sen 99% one-sided upper bound b_hi
	TailSlope  float64 // Theil–Sen over the last TailBlocks blocks
	Growth     float64 // ΔM = b·W
	PerMinute  float64 // 60·b, bytes per minute
	S          int     // Mann–Kendall S over the blocks
	P          float64 // exact one-sided Mann–Kendall p
	// LeastSquaresSlope is the ordinary least-squares slope over the same
	// block points, for readers who expect one: shown, never judged (why:
	// docs/STATISTICS.md, "Why Theil–Sen and not least squares").
	LeastSquaresSlope float64

	RequestRate     float64 // λ̄ over the window, req/s; NaN when unknown
	PerRequest      float64 // b/λ̄, bytes per request; NaN when unknown
	PerRequestLower float64 // b_lo/λ̄
	PerRequestUpper float64 // b_hi/λ̄

	// Stale is how many blocks saw no collection. For resident memory,
	// Sawtooth is how far above the live data such a block's minimum may
	// sit (the verdict holds for every reading within it).
	Stale    int
	Sawtooth float64

	PeakToPeak    float64 // of the samples around the block envelope (detrended)
	MaxGrowth     float64 // limit applied to ΔM
	MaxGrowthRate float64 // limit applied to b (0: not set)

	// Rise is how far the envelope rose from the window's start to its end
	// (the fine envelope of step 7b; NaN when it could not be read): what
	// memory actually rose, where Growth is the fitted slope times W.
	Rise float64
	// Late is the growth the late-growth check (step 7b) found at the end
	// of the window; nil when the memory was not rising to new highs there.
	Late *LateGrowth

	// NeedRun is set when the run was too short: how long a run must last
	// (from its start) to be judged.
	NeedRun time.Duration
}

// ErrInput marks bad input (as opposed to a run that cannot be judged,
// which is an INCONCLUSIVE report, not an error).
var ErrInput = errors.New("leak: invalid input")

func newReport(src Source) Report {
	nan := math.NaN()
	return Report{
		Verdict: Inconclusive, Source: src,
		Slope: nan, SlopeLower: nan, SlopeUpper: nan, TailSlope: nan,
		Growth: nan, PerMinute: nan, P: nan, LeastSquaresSlope: nan,
		RequestRate: nan, PerRequest: nan, PerRequestLower: nan, PerRequestUpper: nan,
		PeakToPeak: nan, MaxGrowth: nan, MaxGrowthRate: nan, Sawtooth: nan, Rise: nan,
	}
}

func validate(samples []Sample, src Source, b Budget) error {
	if src != HeapLive && src != Resident {
		return fmt.Errorf("%w: memory source not set", ErrInput)
	}
	if b.Warmup < 0 || b.Window < 0 {
		return fmt.Errorf("%w: warmup %v and window %v must not be negative", ErrInput, b.Warmup, b.Window)
	}
	for _, v := range []float64{b.MaxGrowth, b.MaxGrowthRate} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("%w: budget growth limits must be finite and ≥ 0 (got %v)", ErrInput, v)
		}
	}
	lastReq := int64(-1)
	for i, s := range samples {
		if math.IsNaN(s.Bytes) || math.IsInf(s.Bytes, 0) || s.Bytes < 0 {
			return fmt.Errorf("%w: sample %d at %v has %v bytes", ErrInput, i, s.At, s.Bytes)
		}
		if s.GCCycles < -1 || s.Requests < -1 {
			return fmt.Errorf("%w: sample %d at %v has negative counters (use -1 for unknown)", ErrInput, i, s.At)
		}
		if i > 0 && s.At <= samples[i-1].At {
			return fmt.Errorf("%w: sample %d at %v is not after sample %d at %v", ErrInput, i, s.At, i-1, samples[i-1].At)
		}
		if s.Requests >= 0 {
			if s.Requests < lastReq {
				return fmt.Errorf("%w: completed requests went down at %v (%d after %d)", ErrInput, s.At, s.Requests, lastReq)
			}
			lastReq = s.Requests
		}
	}
	return nil
}

// TrendAt is the fitted trend line's value at t (since the run's start):
// the report's slope through the median intercept of its block envelope
// (the Theil–Sen line). It is false when the fit has no slope (too few
// samples).
func (r Report) TrendAt(t time.Duration) (float64, bool) {
	if len(r.Blocks) == 0 || math.IsNaN(r.Slope) {
		return 0, false
	}
	icepts := make([]float64, len(r.Blocks))
	for i, b := range r.Blocks {
		icepts[i] = b.Bytes - r.Slope*b.At.Seconds()
	}
	slices.Sort(icepts)
	return median(icepts) + r.Slope*t.Seconds(), true
}

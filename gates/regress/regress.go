// Package regress compares a run with a baseline run, request by request,
// and says which requests got slower, served less or failed more
// (docs/STATISTICS.md, "Regression compare").
//
// Latency: the share of current requests slower than the baseline's
// whole-run p95 (5% if nothing changed) against the baseline's own share,
// window by window, with the overdispersion measured across windows — the
// error-rate test on another event. Every request is evidence, so a
// three-minute run decides what per-window p95s could not. Throughput
// compares achieved against offered load (open model) or per-window req/s
// (closed model); errors use a two-proportion test widened for bursts, or
// Fisher's exact test for small counts. Holm's method controls the family
// of all requests × metrics; every FAIL also needs an effect big enough to
// matter; a test that cannot reach significance with the runs it has is
// INCONCLUSIVE and says how long to run, never a pass. Beside the share
// above the baseline's p95, the latency test asks whether most current
// requests are slower than the baseline's median grown by τ (the bulk
// test): on a busy runner the p95 sits in a bursty tail, the median does not.
//
// Compare is pure: plain numbers in, a Report out; Verdicts words the
// Report as the gate's result.Verdicts, since every gate package builds
// its own (gates/sla always did, so this was the smaller change).
package regress

import (
	"errors"
	"fmt"
	"math"
)

// Window is one request name's traffic in one time window.
type Window struct {
	Count     int64 // requests completed (errors and timeouts included)
	Errors    int64 // failed requests among Count, timeouts included
	Timeouts  int64 // timed-out requests among Errors
	Unsent    int64 // scheduled in this window but never sent (open model)
	Scheduled int64 // requests the open model scheduled in this window
	// Slow counts the requests among Count slower than the baseline run's
	// whole-run p95 of this name (Series.P95 of the baseline, for both runs).
	Slow int64
	// Bulk counts the requests among Count slower than the series'
	// BulkAbove (the current run's windows only): whether most requests
	// moved beyond τ, not just the tail.
	Bulk    int64
	Seconds float64 // window length: 10 s, shorter at the run's edges
}

// Series is one request name in one run.
type Series struct {
	Windows []Window
	// ErrorClasses counts errors by reason ("timeout", "HTTP 503",
	// "connection refused", …) over the run.
	ErrorClasses map[string]int64
	// P95 is the whole run's p95 (µs), from its merged histogram: the
	// figure the SLA table shows. 0 when unknown.
	P95 float64
	// SlowKnown says every window's Slow is counted. Without it (a run with
	// no per-window histograms, such as Locust's CSV) latency is compared
	// by the threshold alone.
	SlowKnown bool
	// Quantum is the step (µs) the input rounds P95 to (Locust's CSV: 1 ms
	// below 100 ms, …); 0 when exact. A growth of one step is no evidence.
	Quantum float64
	// Median is the whole run's p50 (µs), from its merged histogram; 0
	// when unknown. The baseline's sets the bulk test's threshold.
	Median float64
	// BulkAbove is the threshold (µs) the windows' Bulk counts are above:
	// BulkLimit of the baseline's median and τ. 0: not counted, and the
	// latency test goes without the bulk test.
	BulkAbove float64
	// Offered is set when the windows' Scheduled and Unsent are counted
	// (the open model, by a lab that counts the arrivals offered to each
	// request): Scheduled 0 then means the request only follows another in
	// a pass. Unset, the offered load is unknown.
	Offered bool
}

// Model is the load model of a run.
type Model int

const (
	// Open: arrivals on a schedule (arrival rate); latency from intended send.
	Open Model = iota + 1
	// Closed: virtual users that wait for each response.
	Closed
)

func (m Model) String() string {
	switch m {
	case Open:
		return "open"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("Model(%d)", int(m))
}

// RunInfo holds the run-level flags of one run.
type RunInfo struct {
	Model Model
	// Saturated is set when the generator could not keep up (unsent
	// requests or generator lag over the limit): such a run proves nothing.
	Saturated bool
}

// Thresholds are one request's limits. Zero fields take the defaults (the
// plan language's), unless Exact says zero means zero.
type Thresholds struct {
	// P95Growth is the relative p95 growth that matters (τ). Default 0.10.
	P95Growth float64
	// RPSDrop is the relative throughput drop that matters in a closed
	// model. Default 0.10.
	RPSDrop float64
	// ErrorRateInc is the absolute error-rate increase that matters
	// (0.01 = one percentage point); it grows to half the baseline rate
	// when that is larger. Default 0.005.
	ErrorRateInc float64
	// Exact: the fields are the limits as set, zero included (a plan's
	// error_rate_inc = 0: any significant increase past half the baseline
	// rate fails).
	Exact bool
	// History holds optional per-run p95s (µs) of earlier baseline runs
	// (newest first); with at least MinHistory of them, τ widens to 3√2·σ̂
	// of their successive differences, at most MaxWidened.
	History []float64
	// RPSHistory does the same for the closed-model throughput threshold
	// (per-run req/s of earlier baseline runs).
	RPSHistory []float64
}

// Request is one request name to compare.
type Request struct {
	Name              string
	Baseline, Current *Series // nil: the request is absent from that run
	Thresholds        Thresholds
}

// Input is everything Compare needs.
type Input struct {
	Baseline, Current RunInfo
	Requests          []Request
}

// Metric names what a Result compares.
type Metric string

const (
	Latency      Metric = "latency_p95"
	Throughput   Metric = "throughput"
	ErrorRate    Metric = "error_rate"
	ErrorClasses Metric = "error_classes" // only reported when the current run has new classes
	Presence     Metric = "presence"      // a request missing from one run
)

// Verdict is the outcome of one comparison.
type Verdict string

const (
	Pass     Verdict = "PASS"
	Fail     Verdict = "FAIL"
	Advisory Verdict = "ADVISORY" // noted, never fails the gate (runner too noisy, new request, …)
	Invalid  Verdict = "INVALID"  // the comparison cannot be made (saturated generator, mixed models, …)
	Missing  Verdict = "MISSING"  // in the baseline, absent now
	// Inconclusive: the runs hold too little evidence to decide (a test
	// that cannot reach significance with their sample sizes, too few
	// windows); Result.RunFor says how long to run.
	Inconclusive Verdict = "INCONCLUSIVE"
)

// severity orders verdicts for Report.Verdict.
func (v Verdict) severity() int {
	switch v {
	case Fail:
		return 5
	case Invalid:
		return 4
	case Inconclusive:
		return 3
	case Missing:
		return 2
	case Advisory:
		return 1
	}
	return 0
}

// Result is one request × metric comparison.
type Result struct {
	Request string
	Metric  Metric
	// Baseline and Current are the values compared: the whole-run p95
	// (µs), median per-window req/s (closed model) or mean req/s (open),
	// error rate (fraction), or request counts for Presence and event counts
	// for ErrorClasses.
	Baseline, Current float64
	// Effect is the ratio of the whole-run p95s for latency, the
	// Hodges–Lehmann ratio of per-window req/s for closed-model
	// throughput, achieved/offered for open-model throughput, the rate
	// difference for errors, the largest new class's count for
	// ErrorClasses.
	Effect float64
	// Threshold is the limit the effect was held to (τ, the drop, the rate
	// increase); NaN when none applies.
	Threshold float64
	// P is the raw one-sided p-value, PAdjusted its Holm adjustment over
	// all requests × metrics; NaN for rules that are not tests.
	P, PAdjusted float64
	// PMin is the smallest p the test could give with these runs' sample
	// sizes (the most extreme outcome they allow); with m tests in the
	// family, m·PMin ≥ Alpha means the test cannot decide. NaN for rules.
	PMin    float64
	Verdict Verdict
	Reason  string
	// RunFor is, for an INCONCLUSIVE result, how long (seconds) both runs
	// should be for the test to be able to decide; +Inf when no length up
	// to MaxLengthen times these runs would do, 0 otherwise.
	RunFor float64
}

// Report is the outcome of Compare.
type Report struct {
	Results []Result
	// Verdict is the worst of the results, in the order
	// FAIL > INVALID > INCONCLUSIVE > MISSING > ADVISORY > PASS (PASS when
	// there are none).
	Verdict Verdict
}

// Defaults and constants of the rules.
const (
	DefaultP95Growth    = 0.10
	DefaultRPSDrop      = 0.10
	DefaultErrorRateInc = 0.005
	Alpha               = 0.01 // on Holm-adjusted p
	MinLatencyGrowthUS  = 1000 // p95 must also grow by 1 ms
	MinHistory          = 10
	NoisyThreshold      = 0.25 // τ above this: the runner is too noisy to judge τ; passes are advisory
	// MaxWidened caps a threshold a history widens: a runner noisier than
	// that cannot judge the plan, and a wider τ would pass doublings.
	MaxWidened = 0.5
	// TrendP: a history whose Mann–Kendall test (two-sided) finds a
	// monotone trend below this p moved across builds; it is not called a
	// noisy runner.
	TrendP = 0.01
	// LeanP: a latency test whose whole-run p95 grew beyond τ but is not
	// significant after Holm is inconclusive when its own p is below this
	// (it leans that way) — it passes only when the counts show no
	// slowdown at all, the whole-run p95's own noise (docs/STATISTICS.md).
	LeanP = 0.05
	// FarRatio: a whole-run p95 this many times the baseline's (and twice
	// the threshold, in log) is never passed by a test too weak to decide:
	// it is inconclusive whatever its p. Same-build pairs on the busy
	// runner reach 1.46, 3 in 1,000 beyond 1.4 (docs/STATISTICS.md).
	FarRatio          = 1.4
	MinWindows        = 5    // windows with traffic per run, for a test that estimates its noise across windows
	BatchWindows      = 3    // neighbouring windows per batch when the overdispersion is also measured over batches
	MaxLengthen       = 32   // the longest run RunFor suggests, in multiples of these runs
	MinAchievedRatio  = 0.99 // open model: achieved/offered
	MaxUnsentFraction = 0.001
	// Open model: two runs' offered loads differ when they differ by more
	// than OfferedTolerance and by more than OfferedZ standard errors of
	// Poisson counts (two-sided p < 0.001): then the runs are not
	// comparable like for like (docs/STATISTICS.md).
	OfferedTolerance  = 0.05
	OfferedZ          = 3.29
	NewClassMinEvents = 10
)

// ErrInput marks malformed input.
var ErrInput = errors.New("regress: invalid input")

func (t Thresholds) withDefaults() Thresholds {
	if t.Exact {
		return t
	}
	if t.P95Growth == 0 {
		t.P95Growth = DefaultP95Growth
	}
	if t.RPSDrop == 0 {
		t.RPSDrop = DefaultRPSDrop
	}
	if t.ErrorRateInc == 0 {
		t.ErrorRateInc = DefaultErrorRateInc
	}
	return t
}

func finiteNonNeg(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }

func validate(in Input) error {
	for _, ri := range []RunInfo{in.Baseline, in.Current} {
		if ri.Model != Open && ri.Model != Closed {
			return fmt.Errorf("%w: load model of a run not set", ErrInput)
		}
	}
	seen := map[string]bool{}
	for _, rq := range in.Requests {
		if rq.Name == "" {
			return fmt.Errorf("%w: a request has no name", ErrInput)
		}
		if seen[rq.Name] {
			return fmt.Errorf("%w: request %q listed twice", ErrInput, rq.Name)
		}
		seen[rq.Name] = true
		th := rq.Thresholds
		for _, v := range []float64{th.P95Growth, th.RPSDrop, th.ErrorRateInc} {
			if !finiteNonNeg(v) {
				return fmt.Errorf("%w: %s: thresholds must be finite and ≥ 0 (got %v)", ErrInput, rq.Name, v)
			}
		}
		if th.RPSDrop >= 1 {
			return fmt.Errorf("%w: %s: a throughput drop threshold of %v leaves nothing", ErrInput, rq.Name, th.RPSDrop)
		}
		for _, h := range [][]float64{th.History, th.RPSHistory} {
			for _, v := range h {
				if !finiteNonNeg(v) || v == 0 {
					return fmt.Errorf("%w: %s: history values must be positive (got %v)", ErrInput, rq.Name, v)
				}
			}
		}
		for which, s := range map[string]*Series{"baseline": rq.Baseline, "current": rq.Current} {
			if s == nil {
				continue
			}
			if !finiteNonNeg(s.P95) || !finiteNonNeg(s.Median) || !finiteNonNeg(s.BulkAbove) {
				return fmt.Errorf("%w: %s, %s: whole-run p95 %v, median %v, bulk threshold %v", ErrInput, rq.Name, which, s.P95, s.Median, s.BulkAbove)
			}
			for i, w := range s.Windows {
				if err := w.validate(); err != nil {
					return fmt.Errorf("%w: %s, %s window %d: %v", ErrInput, rq.Name, which, i, err)
				}
			}
			for class, n := range s.ErrorClasses {
				if n < 0 {
					return fmt.Errorf("%w: %s, %s: error class %q has %d events", ErrInput, rq.Name, which, class, n)
				}
			}
		}
	}
	return nil
}

func (w Window) validate() error {
	switch {
	case w.Count < 0 || w.Errors < 0 || w.Timeouts < 0 || w.Unsent < 0 || w.Scheduled < 0:
		return errors.New("negative count")
	case w.Errors > w.Count:
		return fmt.Errorf("%d errors out of %d requests", w.Errors, w.Count)
	case w.Timeouts > w.Errors:
		return fmt.Errorf("%d timeouts but only %d errors (timeouts count as errors)", w.Timeouts, w.Errors)
	case w.Unsent > w.Scheduled:
		return fmt.Errorf("%d unsent out of %d scheduled", w.Unsent, w.Scheduled)
	case w.Slow < 0 || w.Slow > w.Count:
		return fmt.Errorf("%d slow requests out of %d", w.Slow, w.Count)
	case w.Bulk < 0 || w.Bulk > w.Count:
		return fmt.Errorf("%d requests above the bulk threshold out of %d", w.Bulk, w.Count)
	case !finiteNonNeg(w.Seconds) || w.Seconds == 0:
		return fmt.Errorf("window length %v s", w.Seconds)
	}
	return nil
}

// Package result is the Run on disk: what a run did, written by the engine
// and read by the gates, `lab gate` and `lab compare` without sending a
// request. result.json carries everything (with a versioned schema); the
// Locust-compatible CSV files are for the tools that read Locust's.
package result

import (
	"math"
	"time"
)

// Schema is the version of result.json this package writes.
const Schema = "lab.run/v1"

// Status says how a run ended.
type Status string

const (
	Complete    Status = "complete"    // the shape ran to its end
	Interrupted Status = "interrupted" // SIGINT/SIGTERM: what was measured until then
	Aborted     Status = "aborted"     // an abort rule stopped the run
	Invalid     Status = "invalid"     // the generator fell behind: the figures cannot be trusted
	Failed      Status = "failed"      // the run could not be carried out
)

// Run is one run of a plan.
type Run struct {
	Schema  string    `json:"schema"`
	Plan    PlanInfo  `json:"plan"`
	Build   string    `json:"build,omitempty"` // the target's build (-var build= or LAB_BUILD): histories leave out other builds
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Status  Status    `json:"status"`
	Reason  string    `json:"reason,omitempty"` // why the run is not complete
	Model   string    `json:"model"`            // "closed" or "open"
	WindowS int       `json:"window_s"`         // length of the histogram windows, seconds
	Workers int       `json:"workers"`
	// WorkerLog is each worker of a distributed run: who, what share, what
	// it sent, when it joined and left (a lost worker shows here).
	WorkerLog []Worker       `json:"worker_log,omitempty"`
	Classes   []Class        `json:"classes"`  // user classes, in plan order
	Requests  []*Request     `json:"requests"` // by name
	Seconds   []Second       `json:"seconds"`  // run-wide series, one per wall-clock second
	Failures  []Failure      `json:"failures"`
	Generator Generator      `json:"generator"`
	Memory    *MemorySeries  `json:"memory,omitempty"`
	Measures  []*Measure     `json:"measures,omitempty"` // the plan's measures, by name
	Verdicts  []Verdict      `json:"verdicts,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"`
}

// PlanInfo is the plan the run ran, with its sources, so that a stored run
// can be re-judged by the plan as it was.
type PlanInfo struct {
	Name    string            `json:"name"`
	File    string            `json:"file"`
	Shape   string            `json:"shape"`
	Vars    map[string]string `json:"vars,omitempty"`
	Sources map[string]string `json:"sources,omitempty"` // path → text
	Seed    uint64            `json:"seed"`
}

// Worker is one worker of a distributed run.
type Worker struct {
	ID       int       `json:"id"`
	Name     string    `json:"name"`
	Host     string    `json:"host"`
	Share    float64   `json:"share"`    // the part of the load it held at the end (0 once lost)
	Requests int64     `json:"requests"` // recorded, as it reported them
	Joined   time.Time `json:"joined"`
	Left     time.Time `json:"left,omitempty"`
	// Lost says why the master stopped hearing from it, when it did: what
	// it reported until then is in the Run, what it did after is not.
	Lost string `json:"lost,omitempty"`
	// LostArrivals (open model, a lost worker): the requests of its share
	// no report accounts for, in flight at its last report or due from
	// then until the others took its share over; each reached the target
	// before it was lost, or never. Their sum is Generator.Lost.
	LostArrivals int64 `json:"lost_arrivals,omitempty"`
}

// Class is what one user class did.
type Class struct {
	Name      string `json:"name"`
	PeakUsers int    `json:"peak_users"` // closed model: most users of this class at once
	Passes    int64  `json:"passes"`     // tasks or sequence passes started (open model: arrivals)
}

// Request is everything recorded for one request name.
type Request struct {
	Name     string   `json:"name"` // "POST /checkout"
	Count    int64    `json:"count"`
	Failures int64    `json:"failures"`
	Timeouts int64    `json:"timeouts"`
	Bytes    int64    `json:"bytes"`
	Response Summary  `json:"response"`          // latency from the intended send (open) or the send (closed)
	Service  Summary  `json:"service"`           // latency from the actual send
	Hist     string   `json:"hist"`              // whole-run response-time histogram, encoded
	SvcHist  string   `json:"svc_hist"`          // whole-run service-time histogram, encoded
	Windows  []Window `json:"windows"`           // per 10 s window aligned to the wall clock
	PerSec   [][3]int `json:"per_sec,omitempty"` // [second offset from run start second, count, failures]
	// Sent is every request of this name the engine started (put on the
	// wire, or failed while it was being built). Each one ends recorded:
	// answered, failed, timed out or cut off, so Sent equals Count (Validate
	// holds it to that). Nil in runs written before lab counted it.
	Sent *int64 `json:"sent,omitempty"`
	// CutOff counts the requests still in flight when the grace period
	// ended: recorded as failures (among Failures), their latency up to
	// the cut. A run with any is not a clean run (gates.RunVerdict).
	CutOff int64 `json:"cut_off,omitempty"`
	// Offered counts the arrivals due before the end whose pass starts with
	// this request (open model; nil otherwise, and in runs written before
	// lab counted them); Unsent, those among them never sent. A request
	// that only follows another in a pass is offered none: its load
	// follows from the first's answers.
	Offered *int64 `json:"offered,omitempty"`
	Unsent  int64  `json:"unsent,omitempty"`
	// Late counts the requests that finished in a second (or window) the
	// collector had already closed: they are counted in the next open one.
	Late int64 `json:"late,omitempty"`
	// Skipped counts the times a pass reached this request and its when
	// was false: not sent, not a failure, in no other figure.
	Skipped int64 `json:"skipped,omitempty"`
	// Redirects counts the redirects its requests followed: each is a
	// request the target served (its log has Count + Redirects lines),
	// timed within the request that followed it.
	Redirects int64 `json:"redirects,omitempty"`
}

// Summary is a histogram's figures in microseconds, for people and tools
// that do not decode histograms.
type Summary struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min_us"`
	Mean  float64 `json:"mean_us"`
	P50   int64   `json:"p50_us"`
	P90   int64   `json:"p90_us"`
	P95   int64   `json:"p95_us"`
	P99   int64   `json:"p99_us"`
	P999  int64   `json:"p999_us"`
	Max   int64   `json:"max_us"`
}

// Window is one request name's figures over one window.
type Window struct {
	T        int64  `json:"t"` // window start, unix seconds (a multiple of the window length)
	Count    int64  `json:"count"`
	Failures int64  `json:"failures"`
	Timeouts int64  `json:"timeouts"`
	Bytes    int64  `json:"bytes"`
	Hist     string `json:"hist"`               // response time, encoded
	SvcHist  string `json:"svc_hist,omitempty"` // service time, encoded; empty when equal to Hist's source (closed model)
	Offered  int64  `json:"offered,omitempty"`  // open model: arrivals due in this window whose pass starts with this request
	Unsent   int64  `json:"unsent,omitempty"`   // … of which never sent
}

// Second is the run-wide figures of one wall-clock second.
type Second struct {
	T        int64   `json:"t"` // unix seconds
	Users    int     `json:"users"`
	Requests int64   `json:"requests"` // completed in this second
	Failures int64   `json:"failures"`
	P50      int64   `json:"p50_us"`
	P95      int64   `json:"p95_us"`
	P99      int64   `json:"p99_us"`
	Max      int64   `json:"max_us"`
	Arrivals int64   `json:"arrivals,omitempty"` // open model: arrivals due in this second
	Waited   int64   `json:"waited,omitempty"`   // open model: arrivals that waited for an in-flight slot
	InFlight int     `json:"in_flight,omitempty"`
	Rate     float64 `json:"rate,omitempty"` // open model: the target arrival rate
}

// Failure counts one kind of failure of one request name.
type Failure struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// Generator is how well the load generator kept up: a saturated generator
// makes a run invalid, never a pass.
type Generator struct {
	Scheduled int64   `json:"scheduled"` // open model: arrivals due before the end
	Sent      int64   `json:"sent"`
	Unsent    int64   `json:"unsent"`     // due but never sent
	Waited    int64   `json:"waited"`     // waited for an in-flight slot
	LagP99US  int64   `json:"lag_p99_us"` // how late the generator started arrivals, 99th percentile
	LagMaxUS  int64   `json:"lag_max_us"`
	CPUSecs   float64 `json:"cpu_s"` // CPU time the generator used
	// CPUs is how many CPUs the generator had (GOMAXPROCS, or its
	// cgroup's quota when lower: 0.5 for a container run with --cpus
	// 0.5); CPUBusyS the seconds it used at least 90% of them, CPUPeak
	// the most it used in one second (a share). A worker set's figures
	// are its busiest worker's.
	CPUs      float64 `json:"cpus,omitempty"`
	CPUBusyS  int64   `json:"cpu_busy_s,omitempty"`
	CPUPeak   float64 `json:"cpu_peak,omitempty"`
	Saturated bool    `json:"saturated"`
	Why       string  `json:"why,omitempty"`
	// Lost (open model): the lost workers' LostArrivals (worker_log), the
	// most the target may have had beyond the Run's counts.
	Lost int64 `json:"lost,omitempty"`
}

// CPUBusy is the share of its CPUs (GOMAXPROCS, or a container's CPU
// quota when lower) at or above which a second
// counts as one the generator was the bottleneck in: its own work, not the
// target's answers, then sets the pace (Locust warns at 90% too).
const CPUBusy = 0.9

// CPUBound says the generator used nearly all its CPUs for long enough
// that its own work, not the target's answers, may have set the pace: at
// least 5 seconds and a tenth of the run's (docs/DESIGN.md, "Latency").
func (g Generator) CPUBound(runSeconds float64) bool {
	return g.CPUBusyS >= 5 && float64(g.CPUBusyS) >= 0.1*runSeconds
}

// MemorySeries is the memory the leak hunter sampled, once a second.
type MemorySeries struct {
	Source  string         `json:"source"` // what was sampled
	Kind    string         `json:"kind"`   // heap_live, rss, anon, cgroup, metric
	Samples []MemorySample `json:"samples"`
	// Failed is how many readings failed (not in Samples), LastError why
	// the last one did: the leak verdict says so.
	Failed    int    `json:"failed,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// Measure is what one measure of the plan took from the answers
// (measure = { … } on a task or step): every value, as a histogram of
// thousandths (NewMeasureHist), and its exact count, sum and extremes.
type Measure struct {
	Name  string  `json:"name"`
	Count int64   `json:"count"` // answers it was taken from
	Sum   float64 `json:"sum"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Hist  string  `json:"hist"`
	// Missing counts the answers that passed their checks and gave no
	// number (a missing field, a negative value); LastMissing says why the
	// last did.
	Missing     int64  `json:"missing,omitempty"`
	LastMissing string `json:"last_missing,omitempty"`
	// Windows are the values by the run's windows (WindowS long, on the
	// wall clock's multiples, as the requests' windows), oldest first,
	// only those that took a value; their counts add up to Count.
	Windows []MeasureWindow `json:"windows,omitempty"`
}

// MeasureWindow is a measure's values over one window.
type MeasureWindow struct {
	T     int64   `json:"t"` // the window's start, Unix seconds
	Count int64   `json:"count"`
	Sum   float64 `json:"sum"`
	Hist  string  `json:"hist"` // thousandths, as Measure.Hist
}

// Mean is the measure's average, NaN with no value.
func (m *Measure) Mean() float64 {
	if m.Count == 0 {
		return math.NaN()
	}
	return m.Sum / float64(m.Count)
}

// Percentile is the measure's p-th percentile (3 significant digits), NaN
// with no value.
func (m *Measure) Percentile(p float64) (float64, error) {
	if m.Count == 0 {
		return math.NaN(), nil
	}
	h, err := DecodeMeasure(m.Hist)
	if err != nil {
		return math.NaN(), err
	}
	return float64(h.ValueAtPercentile(p)) / MeasureScale, nil
}

// MeasureByName returns the run's measure called name, or nil.
func (r *Run) MeasureByName(name string) *Measure {
	for _, m := range r.Measures {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// MemorySample is one reading.
type MemorySample struct {
	AtS      float64 `json:"at_s"` // seconds since the run started
	Bytes    float64 `json:"bytes"`
	GCCycles int64   `json:"gc_cycles"` // cumulative; -1 when unknown
	Requests int64   `json:"requests"`  // completed requests so far
}

// Verdict is one budget's judgement, as the gates wrote it.
type Verdict struct {
	Gate     string `json:"gate"`    // "sla", "leak", "regression", "run"
	Subject  string `json:"subject"` // "POST /checkout", "all", "memory of shop"
	Budget   string `json:"budget"`  // "p95 ≤ 500ms"
	Measured string `json:"measured"`
	Outcome  string `json:"outcome"` // one of the Outcome* constants
	Detail   string `json:"detail,omitempty"`
	// Note says what the verdict left out (a window too short to judge):
	// shown beside the verdict even when it passes.
	Note string `json:"note,omitempty"`
}

// The outcomes of a verdict (Verdict.Outcome): the one list, here beside
// the field, since the gates write it and gates/verdict reads it. Pass and
// Advisory exit 0; Fail, NoSamples, Inconclusive and Missing exit 1;
// Invalid exits 3 (gates.ExitCode).
const (
	OutcomePass         = "pass"
	OutcomeFail         = "fail"
	OutcomeNoSamples    = "no samples"   // a budget whose requests (or memory) had no samples
	OutcomeInconclusive = "inconclusive" // the evidence is not there: extend the run, or the data cannot say
	OutcomeAdvisory     = "advisory"     // noted, never fails (over a budget by no more than chance, no baseline yet, a runner too noisy to judge)
	OutcomeMissing      = "missing"      // a request of the baseline that the current run never completed
	OutcomeInvalid      = "invalid"      // the measurement cannot be trusted (saturated generator)
)

// RequestByName returns the named request's record, or nil.
func (r *Run) RequestByName(name string) *Request {
	for _, q := range r.Requests {
		if q.Name == name {
			return q
		}
	}
	return nil
}

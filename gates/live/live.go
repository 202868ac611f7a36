// Package live is the page `lab apply --ui` serves: the run as it goes —
// the charts, the requests, every budget's verdict so far, the stage and
// the time left, the workers — and a button that stops it.
//
// It draws with gates/report's code (the same charts and tables as
// report.html) and judges with gates.SoFar (the same words as the final
// verdicts). The command feeds it plain values once a second and once a
// window; it knows nothing of the engine, so a run with no one watching
// pays only for keeping the seconds. The drawing and judging happen when
// the page asks, at most once per second of the run.
package live

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"lab/lang"
	"lab/runtime/result"
)

// Status is where the run is, from the engine's (or master's) tick.
type Status struct {
	Elapsed, Total time.Duration
	Stage, Stages  int
	Users, Target  int     // closed model
	Rate           float64 // open model: target arrivals/s
	Workers        int
	InFlight       int
}

// State is the run's phase as the page shows it.
type State string

const (
	Waiting  State = "waiting"  // the target or the workers are not ready yet
	Running  State = "running"  // sending
	Stopping State = "stopping" // asked to stop: requests in flight finish
	Done     State = "done"     // written and judged
)

// Page holds what the run measured so far. Its feeding methods are called
// from the run's collector; the handler reads it under the same lock.
type Page struct {
	plan *lang.Plan

	drawMu   sync.Mutex // one drawing at a time, whoever asks
	mu       sync.Mutex
	run      result.Run // seconds, requests (counts, windows) and failures so far
	hists    []*hdrhistogram.Histogram
	status   Status
	state    State
	stopped  string // who stopped the run, when someone did
	stop     func(reason string)
	memory   func() *result.MemorySeries
	workers  func() []result.Worker
	final    *final
	drawn    *snapshot // the last drawing, reused until a new second arrives
	drawnFor int
	windows  int        // windows fed so far
	judged   *judgement // the verdicts so far, judged again once a window arrives
}

type final struct {
	exit int
	dir  string
}

// New is the page of a plan's run, waiting to start; window is the length
// of the run's histogram windows.
func New(plan *lang.Plan, window time.Duration) *Page {
	p := &Page{plan: plan, state: Waiting}
	p.run = result.Run{
		Plan:    result.PlanInfo{Name: plan.Name, File: plan.File, Shape: plan.Shape.Name},
		Model:   plan.Shape.Model.String(),
		WindowS: int(window / time.Second),
		Workers: 1,
	}
	for _, n := range plan.Workload.Requests {
		p.run.Requests = append(p.run.Requests, &result.Request{Name: n})
		p.hists = append(p.hists, result.NewHist())
	}
	return p
}

// SetStop sets what the stop button calls; until then it answers that the
// run has not started.
func (p *Page) SetStop(stop func(reason string)) {
	p.mu.Lock()
	p.stop = stop
	p.mu.Unlock()
}

// SetMemory sets where the target's memory samples so far come from.
func (p *Page) SetMemory(f func() *result.MemorySeries) {
	p.mu.Lock()
	p.memory = f
	p.mu.Unlock()
}

// SetWorkers sets where the workers of a distributed run are listed from.
func (p *Page) SetWorkers(f func() []result.Worker) {
	p.mu.Lock()
	p.workers = f
	p.mu.Unlock()
}

// Start says the run started at t.
func (p *Page) Start(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.run.Start, p.run.End = t, t
	if p.state == Waiting {
		p.state = Running
	}
}

// Tick takes a second that just ended: where the run is, the second's
// figures, and each request name's completed and failed requests in it
// (indexed like the plan's request names).
func (p *Page) Tick(st Status, sec result.Second, counts [][2]int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = st
	if st.Workers > 0 {
		p.run.Workers = st.Workers
	}
	p.run.Seconds = append(p.run.Seconds, sec)
	if !p.run.Start.IsZero() {
		if end := p.run.Start.Add(st.Elapsed); end.After(p.run.End) {
			p.run.End = end
		}
	}
	for i, c := range counts {
		if i < len(p.run.Requests) {
			p.run.Requests[i].Count += c[0]
			p.run.Requests[i].Failures += c[1]
		}
	}
}

// Window takes a finished window: each request name's figures over it
// (nil where a name had none) and its failures by reason.
func (p *Page) Window(wins []*result.Window, failures []result.Failure) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, w := range wins {
		if w == nil || i >= len(p.run.Requests) {
			continue
		}
		q := p.run.Requests[i]
		q.Windows = append(q.Windows, *w)
		if w.Hist == "" {
			continue
		}
		h, err := result.Decode(w.Hist)
		if err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
		if err := result.Merge(p.hists[i], h); err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
	}
	for _, f := range failures {
		k := slices.IndexFunc(p.run.Failures, func(g result.Failure) bool { return g.Name == f.Name && g.Reason == f.Reason })
		if k < 0 {
			p.run.Failures = append(p.run.Failures, f)
		} else {
			p.run.Failures[k].Count += f.Count
		}
	}
	p.windows++
	p.drawn = nil // the verdicts change with a window
	return nil
}

// Stopping says the run was asked to stop (an abort rule, a signal).
func (p *Page) Stopping(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != Done {
		p.state = Stopping
		if p.stopped == "" {
			p.stopped = why
		}
	}
}

// Finish shows the run as written and judged: the page then draws the
// Run itself, with its final verdicts, exit code and folder.
func (p *Page) Finish(run *result.Run, exit int, dir string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state, p.final, p.drawn = Done, &final{exit: exit, dir: dir}, nil
	p.run = *run
	p.hists = nil
}

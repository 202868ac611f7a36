// Package engine is the load engine: it runs a plan's workload in its
// shape against the target, measures every request, and returns the Run the
// gates judge. One Engine is the unit one worker runs; a master runs one per
// worker and merges their histograms.
package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"lab/lang"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// Tick is what the engine reports once a second while it runs.
type Tick struct {
	Elapsed  time.Duration
	Total    time.Duration // the shape's length
	Stage    int           // 1-based
	Stages   int
	Model    lang.Model
	Users    int           // closed model: users running now
	Target   int           // closed model: users the shape wants now
	Workers  int           // live workers (1 in one process)
	Rate     float64       // open model: target arrivals per second now
	LagP99   time.Duration // open model: the generator's lag p99 so far (0 from a master)
	InFlight int
	// CPU is the share of its CPUs this process used in the last second
	// (0 from a master, which sends nothing).
	CPU      float64
	Second   tally.SecondStats // the second that just ended
	Requests int64             // so far
	Failures int64
}

// Options configure an engine.
type Options struct {
	Plan  *lang.Plan
	Share Share // the part of the load to run (zero: all of it)
	// Start is when the run starts, for workers that must start together;
	// zero starts at once. Run waits for it.
	Start time.Time
	// OnSecond is called from the collector with every finished second,
	// the last ones after sending stopped included (a worker streams them
	// to its master).
	OnSecond func(result.Second, tally.SecondStats)
	// SecondHists makes the seconds given to OnSecond carry their encoded
	// histogram.
	SecondHists bool
	// OnCollect is called from the collector after each round of OnWindow
	// and OnSecond calls with the recorder's marks (tally.Recorder.Marks):
	// every second and window before them has been handed out.
	OnCollect func(secMark, winMark int64)
	// Grace is how long in-flight requests may finish after the run ends
	// (default 10 s).
	Grace time.Duration
	// OnTick is called from the engine's collector once a second.
	OnTick func(Tick)
	// OnWindow is called from the collector with every finished 10 s
	// window (live budgets and abort rules judge them). Names is indexed
	// like Plan.Workload.Requests.
	OnWindow func(tally.WindowStats)
	// Shards of the stats recorder; 0 picks one per CPU, times four.
	Shards int
}

// ErrUnreachable means the target refused or did not take a connection
// before the run: the run is not carried out (exit 3), not a run of failures.
var ErrUnreachable = errors.New("target unreachable")

// Engine runs one share of a plan.
type Engine struct {
	plan  *lang.Plan
	opts  Options
	shape *lang.Shape
	rec   *tally.Recorder
	meas  *tally.Measures // nil when the plan measures nothing
	steps map[*lang.Request]*step
	// startTasks are the classes' start blocks as passes to run.
	startTasks map[*lang.UserClass]*lang.Task
	start      time.Time // monotonic reference of the run
	// startNS is start in unix nanoseconds, for other goroutines (0 before).
	startNS atomic.Int64
	share   shareBox

	users    atomic.Int64 // closed model: users alive
	classes  []classStats
	inFlight atomic.Int64
	stopOnce sync.Once
	stopCh   chan struct{} // closed when sending must stop
	stopAt   atomic.Int64  // when it was closed (since start, +1 so that 0 means not yet)
	waitMu   sync.Mutex
	waiter   *waiter // the open model's dispatcher's, while it runs
	abortMu  sync.Mutex
	abort    string // why the run was stopped early, if it was

	// stopUsers is how many users ran when sending stopped (closed model).
	stopUsers atomic.Int64

	// lease is when the right to send ends, in unix nanoseconds (0: never).
	lease atomic.Int64

	gen generatorStats

	// Every sender's slot; at the end, what each started (per name).
	flights *flights
	sent    []int64
	skipped []int64
	hops    []int64

	// Totals over the seconds collected so far (collector goroutine only).
	doneReq, doneFail int64
	completed         atomic.Int64 // doneReq, for other goroutines
}

// Live is how many users run now (closed model) and how many requests are
// in flight.
func (e *Engine) Live() (users, inFlight int) {
	return int(e.users.Load()), int(e.inFlight.Load())
}

// Completed is the number of requests completed in the seconds collected so
// far (it lags by about a second): what a memory sample is set against.
func (e *Engine) Completed() int64 { return e.completed.Load() }

// classStats counts one user class's users and passes.
type classStats struct {
	users, peak, passes atomic.Int64
}

func (c *classStats) join() {
	n := c.users.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// generatorStats is how well the generator kept up (open model).
type generatorStats struct {
	mu        sync.Mutex
	lag       *hdrhistogram.Histogram // µs
	scheduled atomic.Int64
	sent      atomic.Int64
	waited    atomic.Int64
	secWaited atomic.Int64 // arrivals that waited for a slot, since the last second collected
	// dispatched is closed when the dispatcher has stopped and counted
	// every arrival due before the stop.
	dispatched chan struct{}
	// The collector's reading of this process's CPU, once a second: the
	// share of its CPUs it used in the last second, and the seconds it
	// used at least CPUBusy of them (collector goroutine; busy read at
	// the end).
	cpus     float64 // CPUs(), read once: the cgroup's quota does not move
	cpuAt    time.Time
	cpuLast  time.Duration
	cpuShare float64
	cpuBusy  atomic.Int64
	cpuPeak  atomic.Uint64 // math.Float64bits of the highest share
}

// CPUBusy is result.CPUBusy: at or above it (a share of CPUs()), a second
// counts as one the generator was the bottleneck in.
const CPUBusy = result.CPUBusy

// readCPU takes the share of its CPUs the process used since the last
// reading.
func (g *generatorStats) readCPU() {
	now, cpu := time.Now(), cpuTime()
	if !g.cpuAt.IsZero() {
		wall := now.Sub(g.cpuAt).Seconds() * g.cpus
		if wall > 0 {
			g.cpuShare = (cpu - g.cpuLast).Seconds() / wall
			if g.cpuShare >= CPUBusy {
				g.cpuBusy.Add(1)
			}
			if g.cpuShare > math.Float64frombits(g.cpuPeak.Load()) {
				g.cpuPeak.Store(math.Float64bits(g.cpuShare))
			}
		}
	}
	g.cpuAt, g.cpuLast = now, cpu
}

// New prepares an engine for a plan.
func New(opts Options) (*Engine, error) {
	p := opts.Plan
	if p == nil || p.Workload == nil || p.Shape == nil {
		return nil, errors.New("runtime: a loaded plan with a workload and a shape is required")
	}
	if opts.Grace == 0 {
		opts.Grace = 10 * time.Second
	}
	if opts.Shards == 0 {
		opts.Shards = 4 * runtime.GOMAXPROCS(0)
	}
	e := &Engine{plan: p, opts: opts, shape: p.Shape, steps: map[*lang.Request]*step{}, stopCh: make(chan struct{})}
	e.share.p.Store(&shareState{cur: opts.Share})
	e.gen.lag = result.NewHist()
	e.gen.cpus = CPUs()
	e.gen.dispatched = make(chan struct{})
	e.classes = make([]classStats, len(p.Workload.Users))
	names := p.Workload.Requests
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	e.startTasks = map[*lang.UserClass]*lang.Task{}
	clients := map[string]*client{}
	clientOf := func(t lang.Target) *client {
		cl := clients[t.Host]
		if cl == nil {
			cl = newClient(p.Workload, t, e.maxConns())
			clients[t.Host] = cl
		}
		return cl
	}
	for _, u := range p.Workload.Users {
		own := p.Workload.TargetOf(u)
		stepOf := func(r *lang.Request) *step {
			t := p.Workload.RequestTarget(u, r)
			cookies := u.Cookies
			if t.Host != own.Host {
				// The jar holds the class's host's cookies: another
				// host is sent none of them and sets none.
				cookies = lang.CookiesNone
			}
			return newStep(r, index[r.Name], cookies, p.Workload, clientOf(t))
		}
		if len(u.Start) > 0 {
			e.startTasks[u] = &lang.Task{Name: "start", Sequence: true, Steps: u.Start, GoOn: u.StartGoOn, Range: u.Range}
		}
		for _, r := range u.Start {
			e.steps[r] = stepOf(r)
		}
		if len(u.StartPass) > 0 {
			e.steps[u.Start[0]].pending = true
		}
		for _, t := range u.Tasks {
			for _, r := range t.Steps {
				e.steps[r] = stepOf(r)
			}
			// The pass's values are drawn before its first request, which
			// fails, unsent, when they could not be.
			if len(t.Pass) > 0 {
				e.steps[t.Steps[0]].pending = true
			}
		}
	}
	e.flights = newFlights(len(names))
	return e, nil
}

// maxConns is the connection cap: the plan's, else as many as can be in
// flight at once (this share's peak users, or the open shape's bound).
func (e *Engine) maxConns() int {
	if m := e.plan.Workload.MaxConnections; m > 0 {
		return m
	}
	peak := 0
	if e.shape.Model == lang.Open {
		peak = e.shape.MaxInFlight
	} else {
		for _, st := range e.shape.Stages {
			peak = max(peak, st.Users)
		}
	}
	// A user sends a batch's steps on as many connections at once.
	peak *= e.plan.Workload.MaxBatch()
	if len(e.opts.Share.Owners) > 0 {
		// A worker may take over a lost worker's part: room for all of it
		// (connections are opened only when needed).
		return max(peak, 1)
	}
	return peak + 1
}

func (e *Engine) since() time.Duration { return time.Since(e.start) }

// Stop ends the run early; reason says why (an abort rule, a signal).
func (e *Engine) Stop(reason string) {
	e.abortMu.Lock()
	if e.abort == "" {
		e.abort = reason
	}
	e.abortMu.Unlock()
	e.halt()
}

// Lease lets the engine send until until and no later, unless the lease
// is extended. A worker holds it from its master's answers: a worker that
// was paused or cut off, and goes on, sends nothing more once its master
// may have given its part to the others, not even the arrivals that fell
// due while it was stopped (docs/DESIGN.md, "Distributed runs").
func (e *Engine) Lease(until time.Time) { e.lease.Store(until.UnixNano()) }

// lapsed is whether the lease has ended at now (since the run's start);
// it then stops the run. Two atomic loads: it is checked before every send.
func (e *Engine) lapsed(now time.Duration) bool {
	lease := e.lease.Load()
	if lease == 0 || e.startNS.Load()+int64(now) <= lease {
		return false
	}
	e.Stop(LeaseLapsed)
	return true
}

// LeaseLapsed is why a run stopped when its lease ended.
const LeaseLapsed = "the master was not heard from in time (a pause, or the network): sending stopped"

// halt stops sending, once, and notes when.
func (e *Engine) halt() {
	e.stopOnce.Do(func() {
		e.stopUsers.Store(e.users.Load())
		e.stopAt.Store(int64(e.since()) + 1)
		close(e.stopCh)
		e.waitMu.Lock()
		if e.waiter != nil {
			e.waiter.interrupt()
		}
		e.waitMu.Unlock()
	})
}

// setWaiter makes w the waiter a stop interrupts (nil: none).
func (e *Engine) setWaiter(w *waiter) {
	e.waitMu.Lock()
	e.waiter = w
	stopped := e.stopped()
	e.waitMu.Unlock()
	if w != nil && stopped {
		w.interrupt()
	}
}

// stoppedAt is when sending stopped; ok is false while it has not.
func (e *Engine) stoppedAt() (time.Duration, bool) {
	at := e.stopAt.Load()
	return time.Duration(at - 1), at != 0
}

func (e *Engine) stopped() bool {
	select {
	case <-e.stopCh:
		return true
	default:
		return false
	}
}

// Preflight checks that every host of the workload takes connections, so
// that a target that is down is reported as such (exit 3) and not as a
// run full of failures.
func Preflight(ctx context.Context, w *lang.Workload, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout}
	for _, t := range w.Targets() {
		conn, err := d.DialContext(ctx, "tcp", t.Addr)
		if err != nil {
			why := err.Error()
			if errors.Is(err, syscall.ECONNREFUSED) {
				why = "connection refused"
			}
			return fmt.Errorf("%w: %s (%s): %s", ErrUnreachable, t.Host, t.Addr, why)
		}
		conn.Close()
	}
	return nil
}

// Run runs the share's load until the shape ends, ctx is cancelled (the run
// is then marked interrupted) or Stop is called (aborted), and returns what
// it measured. Sending stops at the end; requests in flight get Grace to
// finish.
func (e *Engine) Run(ctx context.Context) (*result.Run, error) {
	if err := Preflight(ctx, e.plan.Workload, 3*time.Second); err != nil {
		return nil, err
	}
	if !e.waitForStart(ctx) {
		return nil, fmt.Errorf("stopped before the run's start at %s", e.opts.Start.Format(time.RFC3339Nano))
	}
	e.rec = tally.NewRecorder(e.plan.Workload.Requests, e.start, e.opts.Shards)
	measureNames := make([]string, len(e.plan.Measures))
	for i, m := range e.plan.Measures {
		measureNames[i] = m.Name
	}
	e.meas = tally.NewMeasures(measureNames)
	if e.shape.Model == lang.Open {
		e.rec.CountOffered()
	}
	if e.opts.SecondHists {
		e.rec.KeepSecondHists()
	}
	cpu0 := cpuTime()

	var load sync.WaitGroup
	load.Add(1)
	go func() {
		defer load.Done()
		if e.shape.Model == lang.Open {
			e.runOpen()
		} else {
			e.runClosed()
		}
	}()

	interrupted := false
	total := e.shape.Duration()
	// From the run's start: a worker that joined a run under way ends
	// with the others.
	timer := time.NewTimer(total - e.since())
	defer timer.Stop()
	collectDone := make(chan struct{})
	var seconds []result.Second
	var secMu sync.Mutex
	go func() {
		defer close(collectDone)
		e.collectLoop(func(s result.Second) {
			secMu.Lock()
			seconds = append(seconds, s)
			secMu.Unlock()
		})
	}()

	select {
	case <-timer.C:
	case <-ctx.Done():
		interrupted = true
	case <-e.stopCh:
	}
	e.halt()
	end, _ := e.stoppedAt()
	end = min(end, e.since()) // Stop may have come before the run started

	// Let requests in flight finish, for at most the grace period; those
	// still in flight then are cut off: recorded as failures at the cut.
	drained := make(chan struct{})
	go func() { load.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(e.opts.Grace):
	}
	finalAt := max(e.since(), end)
	e.sent, e.skipped, e.hops = e.flights.cutOff(finalAt, e.opts.Grace, e.rec)
	if e.shape.Model == lang.Open {
		// The dispatcher returns as soon as sending stops, in-flight
		// requests or not; its count of the arrivals due must be in.
		<-e.gen.dispatched
	}
	<-collectDone
	secs, _ := e.rec.Collect(finalAt, true)
	for _, ss := range secs {
		s := e.second(ss)
		seconds = append(seconds, s)
		if e.opts.OnSecond != nil {
			e.opts.OnSecond(s, ss)
		}
	}

	run := e.assemble(seconds, finalAt)
	run.Generator.CPUSecs = (cpuTime() - cpu0).Seconds()
	e.abortMu.Lock()
	abort := e.abort
	e.abortMu.Unlock()
	switch {
	case interrupted:
		run.Status, run.Reason = result.Interrupted, "interrupted by a signal after "+end.Round(time.Second).String()
	case abort != "":
		run.Status, run.Reason = result.Aborted, abort
	case run.Generator.Saturated:
		run.Status, run.Reason = result.Invalid, run.Generator.Why
	default:
		run.Status = result.Complete
	}
	return run, nil
}

// waitForStart sets the run's start: now, or Options.Start once it comes.
// It is false when ctx ends or Stop is called first.
func (e *Engine) waitForStart(ctx context.Context) bool {
	if d := time.Until(e.opts.Start); !e.opts.Start.IsZero() && d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		case <-e.stopCh:
			return false
		}
	}
	now := time.Now()
	e.start = now
	if !e.opts.Start.IsZero() {
		// Every worker's clock starts at the same instant, keeping this
		// process's monotonic reading (the given time has none).
		e.start = now.Add(e.opts.Start.Sub(now))
	}
	e.startNS.Store(e.start.UnixNano())
	return true
}

// collectLoop merges the recorder's shards just after every wall-clock
// second and reports the second; it returns once sending has stopped.
func (e *Engine) collectLoop(emit func(result.Second)) {
	gc := newGCTuner()
	defer gc.restore()
	for {
		now := time.Now()
		next := now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond)
		select {
		case <-time.After(next.Sub(now)):
		case <-e.stopCh:
			return
		}
		gc.tune()
		e.gen.readCPU()
		elapsed := e.since()
		secs, wins := e.rec.Collect(elapsed, false)
		for _, ws := range wins {
			if e.opts.OnWindow != nil {
				e.opts.OnWindow(ws)
			}
		}
		for _, ss := range secs {
			e.doneReq += ss.Requests
			e.doneFail += ss.Failures
			e.completed.Store(e.doneReq)
			s := e.second(ss)
			emit(s)
			if e.opts.OnSecond != nil {
				e.opts.OnSecond(s, ss)
			}
			if e.opts.OnTick != nil {
				e.opts.OnTick(e.tick(elapsed, ss))
			}
		}
		if e.opts.OnCollect != nil {
			e.opts.OnCollect(e.rec.Marks())
		}
	}
}

func (e *Engine) stageAt(t time.Duration) (int, lang.Stage) {
	for i, st := range e.shape.Stages {
		if t < st.End {
			return i, st
		}
	}
	n := len(e.shape.Stages)
	return n - 1, e.shape.Stages[n-1]
}

func (e *Engine) tick(elapsed time.Duration, ss tally.SecondStats) Tick {
	i, _ := e.stageAt(elapsed)
	count, fails := e.doneReq, e.doneFail
	t := Tick{
		Elapsed: elapsed, Total: e.shape.Duration(), Stage: i + 1, Stages: len(e.shape.Stages),
		Model: e.shape.Model, Users: int(e.users.Load()), InFlight: int(e.inFlight.Load()),
		Second: ss, Requests: count, Failures: fails, Workers: 1, CPU: e.gen.cpuShare,
	}
	if e.shape.Model == lang.Open {
		t.Rate = rateAt(e.shape, elapsed)
		// Once a second: the percentile walk stops at p99, a few hundred
		// buckets for lags under a millisecond.
		e.gen.mu.Lock()
		t.LagP99 = time.Duration(e.gen.lag.ValueAtPercentile(99)) * time.Microsecond
		e.gen.mu.Unlock()
	} else {
		t.Target = closedTarget(e.shape, elapsed)
	}
	return t
}

// second turns a collected second into the Run's series entry.
func (e *Engine) second(ss tally.SecondStats) result.Second {
	s := result.Second{
		T: ss.T, Users: int(e.users.Load()), Requests: ss.Requests, Failures: ss.Failures,
		P50: ss.P50, P95: ss.P95, P99: ss.P99, Max: ss.Max,
	}
	if at, ok := e.stoppedAt(); ok && ss.T*int64(time.Second) < e.start.UnixNano()+int64(at) {
		// Collected after the stop, a second that began before it: its
		// users are those that ran then, not those left (none, or only
		// some workers' if they collect at different moments).
		s.Users = int(e.stopUsers.Load())
	}
	if e.shape.Model == lang.Open {
		s.Users = 0
		s.Arrivals = ss.Offered
		s.Waited = e.gen.secWaited.Swap(0)
		s.InFlight = int(e.inFlight.Load())
		s.Rate = rateAt(e.shape, time.Duration(ss.T)*time.Second-time.Duration(e.start.UnixNano()))
	}
	return s
}

func (e *Engine) assemble(seconds []result.Second, end time.Duration) *result.Run {
	p := e.plan
	reqs, fails := e.rec.Results()
	run := &result.Run{
		Schema: result.Schema,
		Plan: result.PlanInfo{
			Name: p.Name, File: p.File, Shape: p.Shape.Name, Seed: p.Seed,
		},
		Start:    e.start.UTC(),
		End:      e.start.Add(end).UTC(),
		Model:    e.shape.Model.String(),
		WindowS:  int(tally.Window / time.Second),
		Workers:  1,
		Requests: reqs,
		Seconds:  seconds,
		Failures: fails,
	}
	run.Plan.Vars, run.Plan.Sources = StoredInputs(p)
	sort.Slice(run.Seconds, func(i, j int) bool { return run.Seconds[i].T < run.Seconds[j].T })
	if run.Seconds == nil {
		run.Seconds = []result.Second{}
	}
	run.Generator = e.generator()
	index := map[string]int{}
	for i, n := range p.Workload.Requests {
		index[n] = i
	}
	for _, q := range run.Requests {
		n := e.sent[index[q.Name]]
		q.Sent = &n
		q.Skipped = e.skipped[index[q.Name]]
		q.Redirects = e.hops[index[q.Name]]
	}
	for i, u := range p.Workload.Users {
		c := &e.classes[i]
		run.Classes = append(run.Classes, result.Class{Name: u.Name, PeakUsers: int(c.peak.Load()), Passes: c.passes.Load()})
	}
	if ms, err := e.meas.Results(); err != nil {
		run.Extra = map[string]any{"measures_error": err.Error()} // an HDR encoding failure: the measures' verdicts say unmeasured
	} else {
		run.Measures = ms
	}
	return run
}

// generator judges whether the generator kept up (docs/DESIGN.md, "Latency"):
// more than 0.1% of due arrivals unsent, or a lag p99 above 10 ms, make the
// run invalid.
func (e *Engine) generator() result.Generator {
	g := result.Generator{
		Scheduled: e.gen.scheduled.Load(), Sent: e.gen.sent.Load(), Waited: e.gen.waited.Load(),
	}
	e.gen.mu.Lock()
	g.LagP99US, g.LagMaxUS = e.gen.lag.ValueAtPercentile(99), e.gen.lag.Max()
	e.gen.mu.Unlock()
	g.CPUs, g.CPUBusyS, g.CPUPeak = math.Round(100*e.gen.cpus)/100, e.gen.cpuBusy.Load(), math.Round(100*math.Float64frombits(e.gen.cpuPeak.Load()))/100
	if e.shape.Model != lang.Open {
		return g
	}
	g.Unsent = g.Scheduled - g.Sent
	switch {
	case g.Scheduled > 0 && float64(g.Unsent) > 0.001*float64(g.Scheduled):
		g.Saturated = true
		g.Why = fmt.Sprintf("%d of %d due arrivals (%.2f%%) were never sent: the generator or the in-flight bound (%d) could not keep up",
			g.Unsent, g.Scheduled, 100*float64(g.Unsent)/float64(g.Scheduled), e.shape.MaxInFlight)
	case g.LagP99US > 10_000:
		g.Saturated = true
		g.Why = fmt.Sprintf("the generator started arrivals late: lag p99 %.1f ms (over 10 ms); the figures would flatter the target", float64(g.LagP99US)/1000)
	}
	return g
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// StoredInputs are the variables and source files a Run keeps of its plan,
// to be judged again later: a sensitive variable is kept as lang.Redacted
// (a string, so the plan still loads), a variables file that set one is
// not kept at all, and the value of every secret header (Authorization,
// Cookie…, or one made from a sensitive variable) is blanked in the
// sources.
func StoredInputs(p *lang.Plan) (vars, sources map[string]string) {
	vars, sources = map[string]string{}, map[string]string{}
	secretFiles := map[string]bool{}
	for _, v := range p.Vars {
		if v.Sensitive {
			vars[v.Name] = lang.ValueText(cty.StringVal(lang.Redacted))
			if f, ok := strings.CutPrefix(v.Source, "-var-file "); ok {
				secretFiles[f] = true
			}
			continue
		}
		vars[v.Name] = lang.ValueText(v.Value)
	}
	blank := map[string][]hcl.Range{}
	for _, r := range p.SecretRanges() {
		blank[r.Filename] = append(blank[r.Filename], r)
	}
	for path, src := range p.Sources {
		if secretFiles[path] {
			continue
		}
		rs := blank[path]
		// From the end, so that earlier offsets stay put.
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Byte > rs[j].Start.Byte })
		text := src
		for _, r := range rs {
			if r.Start.Byte < 0 || r.End.Byte > len(text) || r.Start.Byte >= r.End.Byte {
				continue
			}
			text = append(append(append([]byte{}, text[:r.Start.Byte]...), strconv.Quote(lang.Redacted)...), text[r.End.Byte:]...)
		}
		sources[path] = string(text)
	}
	return vars, sources
}

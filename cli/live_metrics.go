package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"lab/gates/exitcode"
	"lab/gates/leak"
	"lab/gates/sla"
	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/memory"
	"lab/runtime/metrics"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// metricsOpts are lab apply's flags for its Prometheus metrics.
type metricsOpts struct {
	addr   string
	linger time.Duration
	given  bool // --metrics was given: an address that cannot be served stops the run
}

func (m *metricsOpts) register(fs *pflag.FlagSet) {
	fs.StringVar(&m.addr, "metrics", metrics.DefaultAddr, `serve Prometheus metrics on ADDR at /metrics ("" or "off": none; beyond loopback only with LAB_TOKEN, sent as a bearer token)`)
	fs.DurationVar(&m.linger, "metrics-linger", 0, "after the run is written, serve /metrics until one more scrape, for at most this long")
}

// settle checks the address: beyond loopback only with a token.
func (m *metricsOpts) settle(token string, fs *pflag.FlagSet) error {
	m.given = fs.Changed("metrics")
	if !m.on() {
		return nil
	}
	return metrics.CheckAddr(m.addr, token)
}

func (m *metricsOpts) on() bool { return m.addr != "" && m.addr != "off" }

// liveMetrics feeds the exporter from the run as it goes: ticks, windows,
// the budgets' live state and the target's memory. Its methods are no-ops
// when metrics are off (nil).
type liveMetrics struct {
	x      *metrics.Exporter
	srv    *metrics.Server
	linger time.Duration
	mem    *memoryTap // nil without a leak block
	leak   *lang.Leak
}

// startMetrics serves the plan's exporter. The default address taken (by
// another lab apply, say) is a warning; an address given that cannot be
// served stops the command.
func startMetrics(env *cmdEnv, o *applyOpts) (*liveMetrics, error) {
	if !o.metrics.on() {
		return nil, nil
	}
	p := o.plan
	x := metrics.New(metrics.Info{Plan: p.Name, Shape: p.Shape.Name, Model: p.Shape.Model, Requests: p.Workload.Requests})
	srv, err := metrics.Serve(o.metrics.addr, o.cluster.token, x)
	if err != nil {
		if !o.metrics.given && errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(env.stderr, "warning: no metrics: %v (set --metrics to another address)\n", err)
			return nil, nil
		}
		return nil, failf(exitcode.CouldNotRun, "%v", err)
	}
	lm := &liveMetrics{x: x, srv: srv, linger: o.metrics.linger, leak: p.Leak}
	for _, s := range p.SLAs {
		for _, subj := range sla.Subjects(s, p.Workload.Requests) {
			for _, l := range sla.Limits(s) {
				if l.Kind == sla.Percentile || l.Kind == sla.Max {
					name := l.Name
					if s.Stage > 0 {
						name += " in " + s.StageText() // two stages' budgets of one request stay apart
					}
					x.SetBudgetSeconds(subj.Name, name, l.Value/1e6)
				}
			}
		}
	}
	if p.Leak != nil {
		x.SetLeakBudget(float64(p.Leak.MaxGrowth))
	}
	fmt.Fprintf(env.stderr, "metrics at http://%s/metrics\n", srv.Addr())
	return lm, nil
}

// monitor is the live judge of the windowed budgets: with metrics on it
// watches them all (for lab_budget_ok), else only those with an abort rule.
func (lm *liveMetrics) monitor(p *lang.Plan) *sla.Monitor {
	if lm == nil {
		return sla.NewMonitor(p.SLAs, p.Workload.Requests, time.Now())
	}
	return sla.NewWatcher(p.SLAs, p.Workload.Requests, time.Now())
}

// tick wraps the progress printer's tick.
func (lm *liveMetrics) tick(next func(engine.Tick)) func(engine.Tick) {
	if lm == nil {
		return next
	}
	return func(t engine.Tick) {
		next(t)
		lm.x.Tick(t)
		if b, ok := lm.mem.last(); ok {
			lm.x.SetMemory(b)
		}
	}
}

// window takes a finished window, after the monitor judged it.
func (lm *liveMetrics) window(ws tally.WindowStats, mon *sla.Monitor) {
	if lm == nil {
		return
	}
	lm.x.Window(ws)
	var bs []metrics.Budget
	for _, s := range mon.States() {
		bs = append(bs, metrics.Budget{Subject: s.Subject, Budget: s.Budget, OK: s.OK, Judged: s.Judged})
	}
	lm.x.SetBudgets(bs)
	if lm.mem != nil {
		if v, ok := lm.mem.trend(lm.leak); ok {
			lm.x.SetMemoryTrend(v)
		}
	}
}

// memory takes the memory tap, for lab_sut_memory_bytes and the trend.
func (lm *liveMetrics) memory(tap *memoryTap) {
	if lm != nil {
		lm.mem = tap
	}
}

// finish brings the metrics to the Run's totals.
func (lm *liveMetrics) finish(run *result.Run) {
	if lm != nil && run != nil {
		lm.x.Finish(run)
	}
}

// close stops serving once the run is written, after one more scrape when
// --metrics-linger says so (not after a signal: whoever sent it wants lab
// to end).
func (lm *liveMetrics) close(ctx context.Context) {
	if lm == nil {
		return
	}
	lm.srv.Linger(ctx, lm.linger)
	lm.srv.Close()
}

// memoryTap passes readings through and keeps them, timed from the first
// (taken as the recording starts, with the run): the live metrics and the
// live page show them as they come.
type memoryTap struct {
	memory.Sampler
	mu      sync.Mutex
	first   time.Time
	samples []leak.Sample
	kind    string // the sampler's, read after each reading in its goroutine
}

func (m *memoryTap) Sample(ctx context.Context) (memory.Reading, error) {
	r, err := m.Sampler.Sample(ctx)
	if err != nil {
		return r, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if m.first.IsZero() {
		m.first = now
	}
	m.samples = append(m.samples, leak.Sample{At: now.Sub(m.first), Bytes: r.Bytes, GCCycles: r.GCCycles, Requests: -1})
	m.kind = m.Kind()
	return r, nil
}

// tapMemory taps the sampler when the metrics or the live page show memory.
func tapMemory(s memory.Sampler, o *applyOpts) memory.Sampler {
	if s == nil || o.live == nil && o.page == nil {
		return s
	}
	tap := &memoryTap{Sampler: s}
	o.live.memory(tap)
	o.page.memory(tap)
	return tap
}

// series is the samples so far, as the Run will hold them.
func (m *memoryTap) series() *result.MemorySeries {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &result.MemorySeries{Source: m.Source(), Kind: m.kind, Samples: make([]result.MemorySample, len(m.samples))}
	for i, s := range m.samples {
		out.Samples[i] = result.MemorySample{AtS: s.At.Seconds(), Bytes: s.Bytes, GCCycles: s.GCCycles, Requests: -1}
	}
	return out
}

func (m *memoryTap) last() (float64, bool) {
	if m == nil {
		return 0, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return 0, false
	}
	return m.samples[len(m.samples)-1].Bytes, true
}

// trend fits the samples so far as the leak gate does and evaluates the
// trend now; false until the fit has enough samples.
func (m *memoryTap) trend(l *lang.Leak) (float64, bool) {
	m.mu.Lock()
	samples := append([]leak.Sample(nil), m.samples...)
	now, kind := time.Since(m.first), m.kind
	m.mu.Unlock()
	if len(samples) < 2 {
		return 0, false
	}
	src, err := leak.ParseSource(kind)
	if err != nil {
		src = leak.Resident
	}
	rep, err := leak.Analyze(samples, src, leak.Budget{Warmup: l.Warmup, Window: l.Window, MaxGrowthRate: l.MaxGrowthRate, MaxGrowth: float64(l.MaxGrowth)})
	if err != nil {
		return 0, false
	}
	return rep.TrendAt(now)
}

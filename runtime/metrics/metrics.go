// Package metrics serves a run's live figures to Prometheus: per request
// counts, failures by class and response-time histograms, the load's
// users, rate and in-flight requests, the budgets' live state and the
// target's memory, under the names docs/METRICS.md lists.
//
// It is fed from what the run already collects: the engine's (or master's)
// tick once a second and its 10 s windows, so the per-request hot path
// pays nothing. Budgets and memory come in as plain values, so this
// package needs nothing from gates (docs/DESIGN.md, "The rules").
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"lab/lang"
	"lab/lang/metricnames"
	"lab/runtime/engine"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// Info is which run the exporter serves.
type Info struct {
	Plan, Shape string
	Model       lang.Model
	Requests    []string // the plan's request names, the order ticks and windows index them by
}

// Budget is one budget's live state.
type Budget struct {
	Subject, Budget string // "all", "p95"
	OK              bool   // it held on the last judged window
	Judged          bool   // a window has been judged: OK means something
}

// Exporter holds a run's metrics in its own registry. Tick, Window and
// Finish are called from one goroutine (the collector); scrapes may come
// at any time.
type Exporter struct {
	reg   *prometheus.Registry
	names []string

	requests, failures              *prometheus.CounterVec
	users, targetUsers, targetRate  prometheus.Gauge
	inFlight, lagP99, workers       prometheus.Gauge
	arrivals                        prometheus.Counter
	budgetOK, budgetSeconds         *prometheus.GaugeVec
	memory, memoryTrend, leakBudget prometheus.Gauge
	resp                            *responses

	// What the counters hold so far, so Finish can bring them to the Run's
	// totals (collector goroutine only).
	count   []int64
	failed  map[failKey]int64
	offered int64
}

type failKey struct{ name, class string }

// New returns an exporter for the run, its registry filled.
func New(info Info) *Exporter {
	x := &Exporter{reg: prometheus.NewRegistry(), names: info.Requests,
		count: make([]int64, len(info.Requests)), failed: map[failKey]int64{}}
	f := promauto.With(x.reg)
	f.NewGaugeVec(prometheus.GaugeOpts{Name: metricnames.RunInfo, Help: "Which run this is (always 1)."},
		[]string{"plan", "shape", "model"}).WithLabelValues(info.Plan, info.Shape, info.Model.String()).Set(1)
	x.requests = f.NewCounterVec(prometheus.CounterOpts{Name: metricnames.Requests, Help: "Completed requests, failed ones included."}, []string{"request"})
	x.failures = f.NewCounterVec(prometheus.CounterOpts{Name: metricnames.Failures, Help: "Failed requests by reason class (timeout, connect, status, check, cut_off, other)."}, []string{"request", "class"})
	gauge := func(name, help string) prometheus.Gauge {
		return f.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	x.users = gauge(metricnames.Users, "Users running now (closed model).")
	x.targetUsers = gauge(metricnames.TargetUsers, "Users the shape wants now (closed model).")
	x.targetRate = gauge(metricnames.TargetRate, "Arrivals per second the shape wants now (open model).")
	x.arrivals = f.NewCounter(prometheus.CounterOpts{Name: metricnames.ArrivalsDue, Help: "Arrivals due (open model); the offered rate is its rate()."})
	x.inFlight = gauge(metricnames.InFlight, "Requests in flight.")
	x.lagP99 = gauge(metricnames.GeneratorLagP99, "The generator's lag p99 so far (open model; a master sets it at the end of the run).")
	x.workers = gauge(metricnames.Workers, "Live workers (1 for a run in one process).")
	x.budgetOK = f.NewGaugeVec(prometheus.GaugeOpts{Name: metricnames.BudgetOK, Help: "1 while the budget holds on the last judged window, 0 when it fails it."}, []string{"subject", "budget"})
	x.budgetSeconds = f.NewGaugeVec(prometheus.GaugeOpts{Name: metricnames.BudgetSeconds, Help: "A latency budget's threshold in seconds."}, []string{"subject", "budget"})
	x.memory = gauge(metricnames.Memory, "The last memory sample of the system under test.")
	x.memoryTrend = gauge(metricnames.MemoryTrend, "The leak fit's trend line evaluated now.")
	x.leakBudget = gauge(metricnames.LeakBudget, "The leak block's max_growth budget.")
	x.resp = newResponses(info.Requests)
	x.reg.MustRegister(x.resp)
	for _, n := range info.Requests {
		// Every series shows from the first scrape, at 0: a query over a
		// run without failures is 0, not empty.
		x.requests.WithLabelValues(n)
		for _, c := range Classes {
			x.failures.WithLabelValues(n, c)
		}
	}
	x.workers.Set(1)
	return x
}

// Registry is the exporter's registry (for a handler or a test's Gather).
func (x *Exporter) Registry() *prometheus.Registry { return x.reg }

// Tick takes the figures of a second that just ended.
func (x *Exporter) Tick(t engine.Tick) {
	for i, c := range t.Second.Counts {
		if i >= len(x.names) || c[0] == 0 {
			continue
		}
		x.requests.WithLabelValues(x.names[i]).Add(float64(c[0]))
		x.count[i] += c[0]
	}
	if t.Second.Offered > 0 {
		x.arrivals.Add(float64(t.Second.Offered))
		x.offered += t.Second.Offered
	}
	x.users.Set(float64(t.Users))
	x.targetUsers.Set(float64(t.Target))
	x.targetRate.Set(t.Rate)
	x.inFlight.Set(float64(t.InFlight))
	if t.LagP99 > 0 {
		x.lagP99.Set(t.LagP99.Seconds())
	}
	if t.Workers > 0 {
		x.workers.Set(float64(t.Workers))
	}
}

// Window takes a finished window: its response times and failures.
func (x *Exporter) Window(ws tally.WindowStats) {
	x.resp.add(ws.Names)
	for _, f := range ws.Failures {
		x.addFailures(f.Name, Class(f.Reason), f.Count)
	}
}

func (x *Exporter) addFailures(name, class string, n int64) {
	if n <= 0 {
		return
	}
	x.failures.WithLabelValues(name, class).Add(float64(n))
	x.failed[failKey{name, class}] += n
}

// Finish brings the counters and histograms to the Run's totals: the
// seconds and windows collected after sending stopped reach no tick.
func (x *Exporter) Finish(run *result.Run) {
	index := map[string]int{}
	for i, n := range x.names {
		index[n] = i
	}
	for _, q := range run.Requests {
		i, ok := index[q.Name]
		if !ok {
			continue // not a plan request name: labels stay bounded
		}
		if d := q.Count - x.count[i]; d > 0 {
			x.requests.WithLabelValues(q.Name).Add(float64(d))
			x.count[i] = q.Count
		}
		x.resp.set(i, q.Hist)
	}
	totals := map[failKey]int64{}
	for _, f := range run.Failures {
		if _, ok := index[f.Name]; ok {
			totals[failKey{f.Name, Class(f.Reason)}] += f.Count
		}
	}
	for k, n := range totals {
		x.addFailures(k.name, k.class, n-x.failed[k])
	}
	if d := run.Generator.Scheduled - x.offered; d > 0 && run.Model == lang.Open.String() {
		x.arrivals.Add(float64(d))
		x.offered = run.Generator.Scheduled
	}
	x.lagP99.Set(float64(run.Generator.LagP99US) / 1e6)
	x.users.Set(0)
	x.inFlight.Set(0)
}

// SetBudgets sets the budgets' live state; one not yet judged is left out.
func (x *Exporter) SetBudgets(bs []Budget) {
	for _, b := range bs {
		if !b.Judged {
			continue
		}
		v := 0.0
		if b.OK {
			v = 1
		}
		x.budgetOK.WithLabelValues(b.Subject, b.Budget).Set(v)
	}
}

// SetBudgetSeconds sets a latency budget's threshold.
func (x *Exporter) SetBudgetSeconds(subject, budget string, seconds float64) {
	x.budgetSeconds.WithLabelValues(subject, budget).Set(seconds)
}

// SetMemory sets the target's last memory sample.
func (x *Exporter) SetMemory(bytes float64) { x.memory.Set(bytes) }

// SetMemoryTrend sets the leak fit's trend evaluated now.
func (x *Exporter) SetMemoryTrend(bytes float64) { x.memoryTrend.Set(bytes) }

// SetLeakBudget sets the leak block's max_growth budget.
func (x *Exporter) SetLeakBudget(bytes float64) { x.leakBudget.Set(bytes) }

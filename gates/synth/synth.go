// Package synth builds synthetic Runs for the gates' tests and benchmarks:
// requests with a rate, a latency distribution and an error rate, recorded
// into the Run's real encoded histograms per 10 s window, and memory series
// with a GC sawtooth, a leak or a filling cache. Nothing here sends a
// request.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"lab/runtime/result"
)

// Request is one request name's traffic.
type Request struct {
	Name      string
	Rate      float64 // requests per second
	MedianUS  float64 // median latency, µs
	Sigma     float64 // lognormal spread of latency (0.3 is a typical service)
	ErrorRate float64 // share of failed requests
	// Delayed is the median share of a window's requests that wait for a
	// core on a busy machine (lognormal across windows, σ DelayedSpread
	// in log: it comes in bursts); each waits a lognormal factor of its
	// latency, median Delay. 0: none.
	Delayed, DelayedSpread, Delay float64
}

// Spec is a synthetic run.
type Spec struct {
	Plan     string
	Start    time.Time // aligned down to the window; zero: 2026-01-01T00:00:03Z
	Duration time.Duration
	Model    string // "open" (default) or "closed"
	Requests []Request
	Seed     uint64
	// Pool is how many distinct histograms each request's windows are drawn
	// from (0: 32). Building every window's histogram afresh is what a real
	// run does, but a 24-hour run would take minutes to synthesise; windows
	// drawn from a pool are as costly to judge as fresh ones.
	Pool int
	// PerWindowNoise scales each window's latency by exp(N(0, noise)): the
	// window-to-window drift of a real run (0: none).
	PerWindowNoise float64
}

const window = 10

type entry struct {
	hist  string
	count int64
}

// Run builds the run. Every window's count equals its histogram's count.
func Run(spec Spec) *result.Run {
	start := spec.Start
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
	}
	end := start.Add(spec.Duration)
	model := spec.Model
	if model == "" {
		model = "open"
	}
	pool := spec.Pool
	if pool <= 0 {
		pool = 32
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	run := &result.Run{
		Schema: result.Schema, Plan: result.PlanInfo{Name: spec.Plan}, Start: start, End: end,
		Status: result.Complete, Model: model, WindowS: window, Workers: 1,
		Seconds: []result.Second{}, Failures: []result.Failure{},
	}
	first := start.Unix() - start.Unix()%window
	var scheduled int64
	for _, rq := range spec.Requests {
		q := &result.Request{Name: rq.Name}
		// A pool of full-window histograms; each window scales from one.
		perWindow := max(1, int(math.Round(rq.Rate*window)))
		entries := make([]entry, pool)
		for i := range entries {
			noise := math.Exp(spec.PerWindowNoise * rng.NormFloat64())
			delayed := min(1, rq.Delayed*math.Exp(rq.DelayedSpread*rng.NormFloat64()))
			h := result.NewHist()
			for range perWindow {
				v := rq.MedianUS * noise * math.Exp(rq.Sigma*rng.NormFloat64())
				if rq.Delayed > 0 && rng.Float64() < delayed {
					v *= 1 + rq.Delay*math.Exp(rng.NormFloat64())
				}
				h.RecordValue(result.ClampUS(int64(v)))
			}
			enc, err := result.Encode(h)
			if err != nil {
				panic(fmt.Sprintf("synth: encoding: %v", err)) // a programmer bug: the geometry is fixed
			}
			entries[i] = entry{enc, h.TotalCount()}
		}
		for t := first; t < end.Unix(); t += window {
			e := entries[rng.IntN(pool)]
			fails := binomial(rng, e.count, rq.ErrorRate)
			q.Windows = append(q.Windows, result.Window{T: t, Count: e.count, Failures: fails, Hist: e.hist})
			q.Count += e.count
			q.Failures += fails
		}
		q.Hist, q.Response = wholeHist(q)
		if rq.ErrorRate > 0 && q.Failures > 0 {
			run.Failures = append(run.Failures, result.Failure{Name: rq.Name, Reason: "HTTP 500", Count: q.Failures})
		}
		scheduled += q.Count
		run.Requests = append(run.Requests, q)
	}
	run.Generator = result.Generator{Scheduled: scheduled, Sent: scheduled}
	return run
}

// wholeHist merges every window's histogram into the whole-run one, once
// per distinct pool entry with the number of times it was drawn.
func wholeHist(q *result.Request) (string, result.Summary) {
	uses := map[string]int64{}
	for _, w := range q.Windows {
		uses[w.Hist]++
	}
	whole := result.NewHist()
	for enc, n := range uses {
		h, err := result.Decode(enc)
		if err != nil {
			panic(err)
		}
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				whole.RecordValues(b.From, b.Count*n)
			}
		}
	}
	s, _ := result.Encode(whole)
	return s, result.Summarize(whole)
}

func binomial(rng *rand.Rand, n int64, p float64) int64 {
	if p <= 0 {
		return 0
	}
	mean := float64(n) * p
	if n > 200 {
		v := math.Round(mean + math.Sqrt(mean*(1-p))*rng.NormFloat64())
		return int64(min(max(v, 0), float64(n)))
	}
	var k int64
	for range n {
		if rng.Float64() < p {
			k++
		}
	}
	return k
}

// Memory is a synthetic memory series, sampled once a second.
type Memory struct {
	Duration       time.Duration
	Kind           string  // "heap_live" (no sawtooth) or "rss" (default)
	Base           float64 // bytes live at the start
	Rate           float64 // completed requests per second
	LeakPerRequest float64 // bytes kept forever per request
	Sawtooth       float64 // garbage piled up between collections (rss only)
	GCEvery        time.Duration
	Noise          float64       // bytes, standard deviation of each reading
	CacheFill      float64       // bytes a cache fills up to, ...
	CacheTau       time.Duration // ... with this time constant
	Seed           uint64
}

// MemorySeries samples m at 1 Hz.
func MemorySeries(m Memory) *result.MemorySeries {
	kind := m.Kind
	if kind == "" {
		kind = "rss"
	}
	gcEvery := m.GCEvery
	if gcEvery <= 0 {
		gcEvery = 2 * time.Second
	}
	rng := rand.New(rand.NewPCG(m.Seed, 0x3e3))
	live := func(t float64) float64 {
		v := m.Base + m.LeakPerRequest*m.Rate*t
		if m.CacheFill > 0 {
			v += m.CacheFill * (1 - math.Exp(-t/m.CacheTau.Seconds()))
		}
		return v
	}
	s := &result.MemorySeries{Source: "synthetic", Kind: kind}
	n := int(m.Duration / time.Second)
	for i := 0; i <= n; i++ {
		t := float64(i)
		cycles := int64(t / gcEvery.Seconds())
		lastGC := float64(cycles) * gcEvery.Seconds()
		var v float64
		if kind == "heap_live" {
			v = live(lastGC)
		} else {
			v = live(t) + m.Sawtooth*(t-lastGC)/gcEvery.Seconds()
		}
		v += m.Noise * rng.NormFloat64()
		s.Samples = append(s.Samples, result.MemorySample{AtS: t, Bytes: max(v, 0), GCCycles: cycles, Requests: int64(m.Rate * t)})
	}
	return s
}

// FillSeconds gives run the run-wide per-second series its windows imply:
// each window's requests and failures spread evenly over its seconds (the
// rest in the first), percentiles from the window's histograms merged,
// users (closed model) or the target rate (open) steady. Seconds outside
// [Start, End) are left out. For reports and live views that chart seconds.
func FillSeconds(run *result.Run, users int) error {
	w := int64(run.WindowS)
	if w <= 0 {
		w = window
	}
	type acc struct {
		count, fails int64
		hist         *hdrhistogram.Histogram
	}
	byWindow := map[int64]*acc{}
	var order []int64
	for _, q := range run.Requests {
		for _, win := range q.Windows {
			a := byWindow[win.T]
			if a == nil {
				a = &acc{hist: result.NewHist()}
				byWindow[win.T] = a
				order = append(order, win.T)
			}
			a.count += win.Count
			a.fails += win.Failures
			h, err := result.Decode(win.Hist)
			if err != nil {
				return err
			}
			if err := result.Merge(a.hist, h); err != nil {
				return err
			}
		}
	}
	slices.Sort(order)
	run.Seconds = run.Seconds[:0]
	rate := 0.0
	if d := run.End.Sub(run.Start).Seconds(); d > 0 && run.Model == "open" {
		rate = float64(run.Generator.Scheduled) / d
	}
	for _, t := range order {
		a := byWindow[t]
		p50, p95, p99, mx := a.hist.ValueAtPercentile(50), a.hist.ValueAtPercentile(95), a.hist.ValueAtPercentile(99), a.hist.Max()
		for i := int64(0); i < w; i++ {
			s := result.Second{T: t + i, Users: users, P50: p50, P95: p95, P99: p99, Max: mx, Rate: rate}
			s.Requests, s.Failures = a.count/w, a.fails/w
			if i == 0 {
				s.Requests += a.count % w
				s.Failures += a.fails % w
			}
			if s.T >= run.Start.Unix() && s.T < run.End.Unix() {
				run.Seconds = append(run.Seconds, s)
			}
		}
	}
	return nil
}

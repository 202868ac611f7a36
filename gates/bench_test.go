package gates

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"lab/gates/synth"
	"lab/runtime/result"
)

// A 24-hour soak: ten request names at total req/s together (their shares
// fixed), latency lognormal per name, 8,640 windows of 10 s each, and
// 86,400 memory samples.
func dayRun(seed uint64, total float64) *result.Run {
	names := []struct {
		name   string
		rate   float64
		median float64
		sigma  float64
	}{
		{"GET /", 200, 2000, 0.3}, {"GET /products", 150, 6000, 0.4}, {"GET /products/:id", 150, 4000, 0.35},
		{"POST /cart", 100, 9000, 0.4}, {"GET /cart/:id", 100, 3000, 0.3}, {"POST /checkout", 100, 25000, 0.5},
		{"GET /search", 80, 15000, 0.6}, {"GET /account", 60, 5000, 0.3}, {"POST /login", 40, 40000, 0.4},
		{"GET /healthz", 20, 300, 0.2},
	}
	spec := synth.Spec{Plan: "soak", Duration: 24 * time.Hour, Seed: seed, Pool: 32, PerWindowNoise: 0.05}
	for _, n := range names {
		spec.Requests = append(spec.Requests, synth.Request{Name: n.name, Rate: n.rate * total / 1000, MedianUS: n.median, Sigma: n.sigma, ErrorRate: 0.001})
	}
	run := synth.Run(spec)
	run.Memory = synth.MemorySeries(synth.Memory{Duration: 24 * time.Hour, Kind: "heap_live", Base: 80e6, Rate: total,
		GCEvery: 2 * time.Second, Noise: 2e6, Seed: seed})
	return run
}

const dayPlan = `
sla "all" {
  p95        = "100ms"
  p99        = "250ms"
  error_rate = "1%"
  window     = "5m"
  abort_after = 3
}

sla "GET *" {
  p95 = "50ms"
  p99 = "100ms"
}

sla "POST *" {
  p95        = "200ms"
  error_rate = "0.5%"
}

leak {
  memory          = pid(1)
  warmup          = "5m"
  max_growth_rate = "1MB/min"
}

regression {
  baseline = "day"
}
`

// dayFiles writes synthetic 24-hour runs at a rate once, as result.json
// (so that every window's histogram is its own string, as in a stored
// run): a baseline as lab apply leaves it (judged, its counts of slow
// requests kept),
// the same baseline never judged, and a current run.
var (
	dayMu    sync.Mutex
	dayCache = map[float64][3]string{}
)

func dayFiles(total float64) ([3]string, error) {
	dayMu.Lock()
	defer dayMu.Unlock()
	if f, ok := dayCache[total]; ok {
		return f, nil
	}
	var out [3]string
	dir, err := os.MkdirTemp("", "lab-gates-bench")
	if err != nil {
		return out, err
	}
	for i, name := range []string{"base", "base-unjudged", "cur"} {
		run := dayRun(uint64(min(i, 1)+1), total)
		if name == "base" {
			// As lab apply leaves it: its counts above its own p95s kept.
			own, err := wholeP95s(run)
			if err != nil {
				return out, err
			}
			if _, err := countSlow(run, own); err != nil {
				return out, err
			}
		}
		out[i] = filepath.Join(dir, name)
		os.MkdirAll(out[i], 0o755)
		data, err := json.Marshal(run)
		if err != nil {
			return out, err
		}
		if err := os.WriteFile(filepath.Join(out[i], "result.json"), data, 0o644); err != nil {
			return out, err
		}
	}
	dayCache[total] = out
	return out, nil
}

func loadDay(b *testing.B, total float64, judgedBase bool) (base, cur *result.Run) {
	b.Helper()
	files, err := dayFiles(total)
	if err != nil {
		b.Fatal(err)
	}
	bf := files[0]
	if !judgedBase {
		bf = files[1]
	}
	if base, err = result.Load(bf); err != nil {
		b.Fatal(err)
	}
	if cur, err = result.Load(files[2]); err != nil {
		b.Fatal(err)
	}
	return base, cur
}

// peakHeap samples the live heap every 10 ms until stopped.
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// BenchmarkJudgeDay: every gate on a 24-hour run — the SLA gate (whole-run
// and 5-minute windowed budgets with an abort rule), the leak hunter over
// 86,400 memory samples, and the regression compare against another
// 24-hour run — with both runs loaded from result.json, the baseline as
// lab apply stored it. The figure to hold: under 1 s and 500 MB (peak live
// heap, both runs included). At 200 req/s a window holds 40 to 400
// requests; at 1,000 req/s, 200 to 2,000 (≈ 750 bytes encoded on average),
// and decoding the 86,400 window histograms is most of the work.
func BenchmarkJudgeDay(b *testing.B) {
	for _, rate := range []float64{200, 1000} {
		b.Run(fmt.Sprintf("rate=%.0f", rate), func(b *testing.B) { benchJudgeDay(b, rate, true) })
	}
}

// BenchmarkJudgeDayUnjudgedBaseline: the same against a baseline whose
// window histograms were never decoded (e.g. written by an older lab).
func BenchmarkJudgeDayUnjudgedBaseline(b *testing.B) {
	for _, rate := range []float64{200, 1000} {
		b.Run(fmt.Sprintf("rate=%.0f", rate), func(b *testing.B) { benchJudgeDay(b, rate, false) })
	}
}

func benchJudgeDay(b *testing.B, rate float64, judgedBase bool) {
	base, cur := loadDay(b, rate, judgedBase)
	wl := "user \"u\" {\n"
	for i, q := range cur.Requests {
		method, path, _ := strings.Cut(q.Name, " ")
		fmt.Fprintf(&sb{&wl}, "  task \"t%d\" {\n    %s = %q\n    name = %q\n  }\n", i, strings.ToLower(method), strings.ReplaceAll(path, ":id", "1"), path)
	}
	wl += "}\n"
	plan := writePlan(b, map[string]string{"w.hcl": wl, "p.hcl": `
workload "w" {
  source = "w.hcl"
  host   = "http://127.0.0.1:9"
}
shape "s" {
  duration = "24h"
  stage {
    until = "24h"
    rate  = "1000/s"
  }
}
` + dayPlan})
	windows := 0
	for _, q := range cur.Requests {
		windows += len(q.Windows)
	}
	runtime.GC()
	stop := peakHeap()
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	var vs []result.Verdict
	for b.Loop() {
		var err error
		delete(cur.Extra, SlowKey) // judged afresh each time
		if vs, err = Judge(plan, cur, Options{Baseline: base}); err != nil {
			b.Fatal(err)
		}
		if !judgedBase {
			delete(base.Extra, SlowKey)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(stop())/1e6, "MB-peak-heap")
	b.ReportMetric(float64(windows), "windows")
	if len(vs) < 30 {
		b.Fatalf("%d verdicts", len(vs))
	}
	for _, v := range vs {
		if v.Outcome == result.OutcomeInvalid || v.Outcome == result.OutcomeNoSamples {
			b.Errorf("unexpected verdict %+v", v)
		}
	}
}

// sb appends formatted text to a string.
type sb struct{ s *string }

func (w *sb) Write(p []byte) (int, error) { *w.s += string(p); return len(p), nil }

// cpuTime is the CPU time this process used: on a shared machine the wall
// time of a benchmark says as much about the neighbours as about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoadDay: reading a 24-hour run's result.json, for comparison.
func BenchmarkLoadDay(b *testing.B) {
	files, err := dayFiles(1000)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(files[2], "result.json"))
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := result.Load(files[2]); err != nil {
			b.Fatal(err)
		}
	}
}

package tally

import (
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"testing"
	"time"

	"lab/runtime/result"
)

// A second and a window close only once every shard is past them, and
// every outcome lands in exactly one second and one window.
func TestRecorderCountsEveryOutcomeOnce(t *testing.T) {
	start := time.Unix(1_800_000_000, 300_000_000) // mid-second, mid-window
	r := NewRecorder([]string{"GET /", "POST /x"}, start, 4)
	rng := rand.New(rand.NewPCG(1, 2))
	var want [2]int64
	var wantFail int64
	var secs []SecondStats
	for i := 0; i < 50_000; i++ {
		at := time.Duration(i) * 500 * time.Microsecond // 25 s of outcomes
		name := rng.IntN(2)
		o := Outcome{Name: name, At: at, Response: time.Duration(1000+rng.IntN(5000)) * time.Microsecond}
		o.Service = o.Response
		if rng.IntN(100) == 0 {
			o.Failed, o.Reason = true, "HTTP 500"
			wantFail++
		}
		want[name]++
		r.Record(i, &o)
		if i%2000 == 0 {
			s, _ := r.Collect(at, false)
			secs = append(secs, s...)
		}
	}
	s, _ := r.Collect(25*time.Second, false)
	secs = append(secs, s...)
	s, _ = r.Collect(25*time.Second, true)
	secs = append(secs, s...)
	reqs, fails := r.Results()
	var secTotal int64
	for _, ss := range secs {
		secTotal += ss.Requests
	}
	var total int64
	for i, q := range reqs {
		var win int64
		for _, w := range q.Windows {
			win += w.Count
			if w.T%10 != 0 {
				t.Errorf("window starts at %d, not on a 10 s boundary", w.T)
			}
		}
		if q.Count != want[i] || win != want[i] {
			t.Errorf("%s: count %d, windows %d, want %d", q.Name, q.Count, win, want[i])
		}
		total += q.Count
	}
	if secTotal != total {
		t.Errorf("seconds hold %d outcomes, totals %d", secTotal, total)
	}
	var f int64
	for _, x := range fails {
		f += x.Count
	}
	if f != wantFail {
		t.Errorf("%d failures recorded, want %d", f, wantFail)
	}
}

// BenchmarkSoak24h records a 24-hour run of 10 request names (about 100
// requests per name per second: 86 million outcomes in all) and reports the
// recorder's memory at the end: the encoded windows of a whole day.
func BenchmarkSoak24h(b *testing.B) {
	names := make([]string, 10)
	for i := range names {
		names[i] = "GET /r" + string(rune('a'+i))
	}
	for b.Loop() {
		start := time.Unix(1_800_000_000, 0)
		r := NewRecorder(names, start, 8)
		rng := rand.New(rand.NewPCG(1, 2))
		o := Outcome{}
		const perSecond = 1000 // all names together
		for sec := 0; sec < 86_400; sec++ {
			for i := 0; i < perSecond; i++ {
				o.Name = i % len(names)
				o.At = time.Duration(sec)*time.Second + time.Duration(i)*time.Millisecond
				// Log-normal latencies around 20 ms with a tail.
				o.Response = time.Duration(20_000*math.Exp(0.5*rng.NormFloat64())) * time.Microsecond
				o.Service = o.Response
				r.Record(i, &o)
			}
			r.Collect(time.Duration(sec+1)*time.Second+20*time.Millisecond, false)
		}
		r.Collect(86_401*time.Second, true)
		goruntime.GC()
		var m goruntime.MemStats
		goruntime.ReadMemStats(&m)
		reqs, _ := r.Results()
		encoded := 0
		for _, q := range reqs {
			for _, w := range q.Windows {
				encoded += len(w.Hist) + len(w.SvcHist)
			}
		}
		b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "MiB-heap")
		b.ReportMetric(float64(encoded)/(1<<20), "MiB-encoded")
		goruntime.KeepAlive(r)
		_ = result.Schema
	}
}

// BenchmarkRecord is the cost the hot path pays per request.
func BenchmarkRecord(b *testing.B) {
	r := NewRecorder([]string{"GET /"}, time.Now(), 8)
	o := Outcome{Response: 20 * time.Millisecond, Service: 20 * time.Millisecond}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		o.At = time.Duration(i) * time.Microsecond
		r.Record(i, &o)
		i++
	}
}

package leak

import (
	"testing"
	"time"
)

// FuzzAnalyze builds arbitrary sample series (gaps, restarts, unknown
// counters, zero and huge values) and budgets: Analyze returns an error or
// a report with a verdict and a reason, never a panic.
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, int64(0), int64(0), uint8(0))
	f.Add(make([]byte, 400), int64(time.Second), int64(time.Minute), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, warmup, window int64, flags uint8) {
		var samples []Sample
		var at time.Duration
		var gc, req int64
		for i := 0; i+4 <= len(data) && len(samples) < 2000; i += 4 {
			at += time.Duration(1+int(data[i])%4) * 500 * time.Millisecond
			gc += int64(int8(data[i+2])) / 32 // sometimes backwards
			req += int64(data[i+3])
			s := Sample{At: at, Bytes: float64(data[i+1]) * 1e6, GCCycles: max(gc, 0), Requests: req}
			if flags&1 != 0 {
				s.GCCycles = -1
			}
			if flags&2 != 0 {
				s.Requests = -1
			}
			samples = append(samples, s)
		}
		src := HeapLive
		if flags&4 != 0 {
			src = Resident
		}
		r, err := Analyze(samples, src, Budget{Warmup: time.Duration(warmup), Window: time.Duration(window),
			MaxGrowth: float64(flags&8) * 1e6})
		if err != nil {
			return
		}
		if r.Reason == "" || (r.Verdict != Pass && r.Verdict != Fail && r.Verdict != Inconclusive) {
			t.Fatalf("report without verdict or reason: %+v", r)
		}
	})
}

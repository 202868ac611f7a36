package cli

import (
	"math"
	"testing"
	"time"

	"lab/gates/leak"
	"lab/lang"
)

// The live trend is the leak gate's fit over the samples so far: for live
// heap growing 1 MB/s over three minutes it is the line's value now.
func TestMemoryTapTrend(t *testing.T) {
	m := &memoryTap{kind: "heap_live", first: time.Now().Add(-180 * time.Second)}
	for i := range 180 {
		m.samples = append(m.samples, leak.Sample{At: time.Duration(i) * time.Second, Bytes: 100e6 + 1e6*float64(i) + float64(i%3)*1e5,
			GCCycles: int64(i), Requests: -1})
	}
	if b, ok := m.last(); !ok || b != m.samples[179].Bytes {
		t.Errorf("last %v %v", b, ok)
	}
	got, ok := m.trend(&lang.Leak{Window: 120 * time.Second})
	if want := 100e6 + 180e6; !ok || math.Abs(got-want) > 0.02*want {
		t.Errorf("trend now %.0f (%v), want ≈ %.0f", got, ok, want)
	}
	short := &memoryTap{kind: "heap_live", first: time.Now(), samples: m.samples[:5]}
	if _, ok := short.trend(&lang.Leak{}); ok {
		t.Error("a trend from 5 seconds of samples")
	}
}

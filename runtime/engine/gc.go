package engine

import (
	"runtime/debug"
	"runtime/metrics"
)

// gcHeadroom is the least the heap may grow between two collections.
//
// Go's default collects when the heap doubles. A load generator's live heap
// is small (a few MiB for dozens of users), so at tens of thousands of
// requests per second it would collect several times a second, and each
// collection empties the pools that make requests cheap (fasthttp's request
// and response objects, the scratch buffers), so they are allocated again.
// Giving the collector at least this much headroom keeps small heaps from
// thrashing; above it, Go's default (a doubling) applies unchanged.
const gcHeadroom = 64 << 20

// gcTuner adjusts the collector's target to the live heap, once a second.
type gcTuner struct {
	sample  []metrics.Sample
	percent int
	initial int
	off     bool // GOGC was set by the user: leave it alone
}

func newGCTuner() *gcTuner {
	t := &gcTuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.initial = debug.SetGCPercent(100)
	t.percent = 100
	if t.initial != 100 {
		debug.SetGCPercent(t.initial)
		t.off = true
		return t
	}
	t.tune()
	return t
}

// tune sets GOGC so that the next collection comes at live + max(live, headroom).
func (t *gcTuner) tune() {
	if t.off {
		return
	}
	metrics.Read(t.sample)
	live := uint64(0)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	percent := 100
	if live > 0 && live < gcHeadroom {
		percent = int(gcHeadroom * 100 / live)
	} else if live == 0 {
		percent = 1000
	}
	percent = min(percent, 10_000)
	if percent != t.percent {
		debug.SetGCPercent(percent)
		t.percent = percent
	}
}

// restore puts back the collector setting the process had.
func (t *gcTuner) restore() { debug.SetGCPercent(t.initial) }

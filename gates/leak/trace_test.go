package leak

import (
	"math"
	"math/rand/v2"
	"time"
)

// trace describes a synthetic memory trace sampled at 1 Hz: a base level,
// a GC sawtooth (resident memory) or a live heap stepping at each GC
// (heap_live), and optional cache fill, step and leak.
type trace struct {
	seconds  int
	rate     float64 // steady completed requests per second
	ramp     float64 // seconds to reach it
	src      Source
	gcKnown  bool
	reqKnown bool

	base      float64
	sawAmp    float64 // ± amplitude of the sawtooth (Resident)
	sawPeriod float64 // seconds between collections (Resident)
	sawPhase  float64 // [0,1)
	gcEvery   float64 // mean seconds between collections (HeapLive)
	noise     float64 // σ per sample (Resident) or per collection (HeapLive)

	cacheFill, cacheTau float64 // bytes, seconds
	step, stepAt        float64 // bytes, seconds
	leakPerReq          float64 // bytes per request
	leakFrom            float64 // seconds: requests before it leak nothing
	// grow-then-free: growBy bytes gained linearly from growFrom over
	// growFor seconds, all released at freeAt.
	growBy, growFrom, growFor, freeAt float64
	noGCFrom, noGCTo                  float64 // seconds: collections stop (heap_live stays put)
}

func (tr trace) samples(rng *rand.Rand) []Sample {
	out := make([]Sample, 0, tr.seconds)
	var reqs, leaked float64
	live := func(t float64) float64 {
		v := tr.base + tr.leakPerReq*leaked
		if tr.growBy != 0 && t >= tr.growFrom && t < tr.freeAt {
			v += tr.growBy * math.Min(1, (t-tr.growFrom)/tr.growFor)
		}
		if tr.cacheFill > 0 {
			v += tr.cacheFill * (1 - math.Exp(-t/tr.cacheTau))
		}
		if tr.step != 0 && t >= tr.stepAt {
			v += tr.step
		}
		return v
	}
	var gcs int64
	heap := tr.base
	nextGC := tr.gcEvery * (0.5 + rng.Float64())
	for s := 0; s < tr.seconds; s++ {
		t := float64(s)
		rate := tr.rate
		if tr.ramp > 0 && t < tr.ramp {
			rate *= t / tr.ramp
		}
		done := math.Max(0, math.Round(rate+math.Sqrt(rate)*rng.NormFloat64()))
		reqs += done
		if t >= tr.leakFrom {
			leaked += done
		}
		stopped := t >= tr.noGCFrom && t < tr.noGCTo
		var bytes float64
		switch tr.src {
		case HeapLive:
			for t >= nextGC {
				if !stopped {
					gcs++
					heap = live(t) + tr.noise*rng.NormFloat64()
				}
				nextGC += tr.gcEvery * (0.5 + rng.Float64())
			}
			bytes = heap
		default:
			cyc := t/tr.sawPeriod + tr.sawPhase
			if stopped {
				cyc = tr.noGCFrom/tr.sawPeriod + tr.sawPhase
			} else if t >= tr.noGCTo && tr.noGCTo > tr.noGCFrom {
				cyc -= (tr.noGCTo - tr.noGCFrom) / tr.sawPeriod
			}
			gcs = int64(math.Floor(cyc))
			saw := tr.sawAmp * (2*(cyc-math.Floor(cyc)) - 1)
			bytes = live(t) + saw + tr.noise*rng.NormFloat64()
		}
		smp := Sample{At: time.Duration(s) * time.Second, Bytes: math.Max(0, bytes), GCCycles: -1, Requests: -1}
		if tr.gcKnown {
			smp.GCCycles = gcs
		}
		if tr.reqKnown {
			smp.Requests = int64(reqs)
		}
		out = append(out, smp)
	}
	return out
}

const mb = 1e6

// healthy draws one trace of a server that does not leak: a ±20 MB
// sawtooth at random phase and period (a quarter of them up to 2 minutes,
// slower than a block), GC counts known or not, a 40 MB cache fill
// (τ ≤ 60 s), a 30 MB step, or a gc_churn-like live heap; with a random
// load ramp, run length and budget (the plan's shortened window for runs
// under 6 minutes).
func healthy(rng *rand.Rand) (trace, Budget) {
	tr := trace{
		seconds:   180 + rng.IntN(421),
		rate:      20 + rng.Float64()*480,
		ramp:      rng.Float64() * 30,
		src:       Resident,
		gcKnown:   rng.IntN(2) == 0,
		reqKnown:  true,
		base:      150*mb + rng.Float64()*100*mb,
		sawAmp:    20 * mb,
		sawPeriod: 2 + rng.Float64()*10,
		sawPhase:  rng.Float64(),
		noise:     (0.5 + rng.Float64()*1.5) * mb,
	}
	if rng.IntN(4) == 0 {
		// Periods up to 2 minutes, longer than a block: some blocks hold
		// no trough, so their minimum sits on the ramp. With GC counts
		// known or not (pid, cgroup and container sources cannot count
		// collections; only the falls of the memory show them).
		tr.sawPeriod = 2 + rng.Float64()*118
	}
	switch rng.IntN(4) {
	case 1:
		tr.cacheFill, tr.cacheTau = 40*mb, 5+rng.Float64()*55
	case 2:
		tr.step, tr.stepAt = 30*mb, rng.Float64()*float64(tr.seconds)
	case 3: // gc_churn: garbage-heavy handlers, the live heap wobbles at each GC
		tr.src = HeapLive
		tr.gcKnown = true
		tr.gcEvery = 0.3 + rng.Float64()*3
		tr.noise = (1 + rng.Float64()*4) * mb
		tr.base = 20*mb + rng.Float64()*30*mb
	}
	var b Budget
	if tr.seconds < 360 {
		b.Window = 120 * time.Second
	}
	return tr, b
}

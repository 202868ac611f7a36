package regress

import (
	"math"
	"math/rand/v2"
)

// proc is a noisy service seen through 10 s windows, simulated request by
// request: each request's latency is drawn from the service's distribution
// (lognormal, or a table of quantiles measured on a real run), shifted by
// the window's drift (AR(1) in log latency: neighbouring windows resemble
// each other, as they do on a real runner) and by the whole run's drift
// (machines and neighbours differ from run to run). Throughput follows its
// own AR(1) drift; errors come in bursts.
type proc struct {
	windows  int
	rps      float64 // mean req/s
	rpsSigma float64 // AR(1) σ of log req/s
	median   float64 // µs, median latency (lognormal)
	spread   float64 // lognormal σ of single latencies
	// shape, when set, replaces the lognormal: latencies (µs) at equally
	// spaced quantiles 0 … 1, interpolated.
	shape    []float64
	sigma    float64 // AR(1) σ of the windows' log latency shift
	rho      float64 // AR(1) coefficient, for latency and req/s
	runSigma float64 // σ of the whole run's log latency shift
	errRate  float64
	burst    float64 // σ of the log error rate per window (overdispersion)
	open     bool    // open model: scheduled = offered, all sent
}

// sample is one simulated run of a proc: its windows (counts, errors) and
// the log latencies of each window's requests.
type sample struct {
	windows []Window
	lat     [][]float64
}

// run simulates one run with every latency scaled by factor.
func (p proc) run(rng *rand.Rand, factor float64) sample {
	s := sample{windows: make([]Window, p.windows), lat: make([][]float64, p.windows)}
	shift := math.Log(factor) + p.runSigma*rng.NormFloat64()
	var e, f float64
	innov := math.Sqrt(1 - p.rho*p.rho)
	logMedian := math.Log(p.median)
	for i := range s.windows {
		if i == 0 {
			e, f = p.sigma*rng.NormFloat64(), p.rpsSigma*rng.NormFloat64()
		} else {
			e = p.rho*e + innov*p.sigma*rng.NormFloat64()
			f = p.rho*f + innov*p.rpsSigma*rng.NormFloat64()
		}
		w := Window{Seconds: 10}
		if p.open {
			w.Scheduled = poisson(rng, p.rps*10)
			w.Count = w.Scheduled
		} else {
			w.Count = poisson(rng, p.rps*10*math.Exp(f))
		}
		rate := p.errRate * math.Exp(p.burst*rng.NormFloat64()-p.burst*p.burst/2)
		w.Errors = min(w.Count, poisson(rng, float64(w.Count)*rate))
		lat := make([]float64, w.Count)
		for j := range lat {
			if p.shape != nil {
				lat[j] = math.Log(p.quantile(rng.Float64())) + shift + e
			} else {
				lat[j] = logMedian + p.spread*rng.NormFloat64() + shift + e
			}
		}
		s.windows[i], s.lat[i] = w, lat
	}
	return s
}

// quantile interpolates the shape table at u in [0, 1).
func (p proc) quantile(u float64) float64 {
	x := u * float64(len(p.shape)-1)
	i := int(x)
	if i >= len(p.shape)-1 {
		return p.shape[len(p.shape)-1]
	}
	return p.shape[i] + (x-float64(i))*(p.shape[i+1]-p.shape[i])
}

// p95 is the run's whole-run p95 (µs), by nearest rank as the run's
// histograms report it.
func (s sample) p95() float64 {
	var n int
	for _, l := range s.lat {
		n += len(l)
	}
	all := make([]float64, 0, n)
	for _, l := range s.lat {
		all = append(all, l...)
	}
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(0.95*float64(n))) - 1
	return math.Exp(nth(all, rank))
}

// median is the run's whole-run p50 (µs), by nearest rank.
func (s sample) median() float64 {
	var all []float64
	for _, l := range s.lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return 0
	}
	return math.Exp(nth(all, int(math.Ceil(0.5*float64(len(all))))-1))
}

// compared turns a baseline run and a current run into the Series the
// compare sees, as lab's gates count them: each window's requests slower
// than the baseline's p95, and the current run's slower than the bulk
// test's threshold at τ (BulkLimit of the baseline's median).
func compared(b, c sample, tau float64) (*Series, *Series) {
	bp := b.p95()
	bs, cs := b.series(bp), c.series(bp)
	bs.Median, cs.Median = b.median(), c.median()
	cs.BulkAbove = BulkLimit(bs.Median, tau)
	lb := math.Log(cs.BulkAbove)
	for i := range cs.Windows {
		for _, v := range c.lat[i] {
			if v > lb {
				cs.Windows[i].Bulk++
			}
		}
	}
	return bs, cs
}

// series turns the run into a Series compared against a baseline whose
// whole-run p95 is base (µs): each window counts its requests slower.
func (s sample) series(base float64) *Series {
	lb := math.Log(base)
	out := &Series{Windows: make([]Window, len(s.windows)), P95: s.p95(), SlowKnown: true}
	for i, w := range s.windows {
		for _, v := range s.lat[i] {
			if v > lb {
				w.Slow++
			}
		}
		out.Windows[i] = w
	}
	return out
}

// pair simulates a baseline run and a current run (latency scaled by
// factor) and returns them as the compare sees them.
func (p proc) pair(rng *rand.Rand, factor float64) (b, c *Series) {
	return compared(p.run(rng, 1), p.run(rng, factor), DefaultP95Growth)
}

// nth partially sorts v (in place) and returns its k-th smallest value.
func nth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i, j = i+1, j-1
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// poisson draws a Poisson count (Knuth below 30, normal approximation above).
func poisson(rng *rand.Rand, lambda float64) int64 {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int64(math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), int64(0), 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

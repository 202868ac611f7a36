package regress

import (
	"math"
	"math/rand/v2"
	"slices"

	"lab/gates/stats"
)

// proc is a noisy service seen through 10 s windows: per-window log p95 and
// log req/s follow AR(1) processes (neighbouring windows resemble each
// other, as they do on a real runner), errors come in bursts.
type proc struct {
	windows  int
	rps      float64 // mean req/s
	rpsSigma float64 // AR(1) σ of log req/s
	p95      float64 // µs
	sigma    float64 // AR(1) σ of log p95
	rho      float64 // AR(1) coefficient
	errRate  float64
	burst    float64 // σ of the log error rate per window (overdispersion)
	open     bool    // open model: scheduled = offered, all sent
}

func (p proc) series(rng *rand.Rand) *Series {
	s := &Series{}
	var e, f float64
	innov := math.Sqrt(1 - p.rho*p.rho)
	for i := 0; i < p.windows; i++ {
		if i == 0 {
			e, f = p.sigma*rng.NormFloat64(), p.rpsSigma*rng.NormFloat64()
		} else {
			e = p.rho*e + innov*p.sigma*rng.NormFloat64()
			f = p.rho*f + innov*p.rpsSigma*rng.NormFloat64()
		}
		w := Window{Seconds: 10, P95: p.p95 * math.Exp(e)}
		if p.open {
			w.Scheduled = poisson(rng, p.rps*10)
			w.Count = w.Scheduled
		} else {
			w.Count = poisson(rng, p.rps*10*math.Exp(f))
		}
		rate := p.errRate * math.Exp(p.burst*rng.NormFloat64()-p.burst*p.burst/2)
		w.Errors = min(w.Count, poisson(rng, float64(w.Count)*rate))
		s.Windows = append(s.Windows, w)
	}
	return s
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

// scaled returns a copy of s with every p95 multiplied by f.
func scaled(s *Series, f float64) *Series {
	c := &Series{Windows: slices.Clone(s.Windows), ErrorClasses: s.ErrorClasses}
	for i := range c.Windows {
		c.Windows[i].P95 *= f
	}
	return c
}

// sampleHist is a histogram that keeps its values: exact p95, non-mutating merge.
type sampleHist []float64

func (h sampleHist) Merge(o Hist) Hist {
	m := append(slices.Clone(h), o.(sampleHist)...)
	slices.Sort(m)
	return sampleHist(m)
}

func (h sampleHist) P95() float64 {
	q, _ := stats.Quantile(h, 0.95)
	return q
}

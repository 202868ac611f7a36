package report

import (
	"fmt"
	"slices"

	"lab/runtime/result"
)

// maxPoints is the most points a chart draws per series: a day-long run
// has 86,400 seconds, which would make report.html (and each refresh of
// the live page) megabytes of points no screen can show apart.
const maxPoints = 1200

// point is one drawn point: one second, or a bucket of seconds.
type point struct {
	t                               float64 // unix seconds of the bucket's first second
	requests, failures, users, rate float64
	p50, p95                        float64 // µs
}

// bucketing says, for the charts' titles, how seconds were merged ("" when
// each point is one second).
type bucketing struct{ mean, median, highest string }

// thin merges runs of consecutive seconds into at most max points: rates
// and load are averaged, p50 is the median of the seconds' p50s and p95 is
// the highest p95, so a slow second is never averaged away.
func thin(secs []result.Second, most int) ([]point, bucketing) {
	size := (len(secs) + most - 1) / most
	if size <= 1 {
		out := make([]point, len(secs))
		for i, s := range secs {
			out[i] = point{t: float64(s.T), requests: float64(s.Requests), failures: float64(s.Failures), users: float64(s.Users),
				rate: s.Rate, p50: float64(s.P50), p95: float64(s.P95)}
		}
		return out, bucketing{}
	}
	// Consecutive seconds, not wall-clock buckets: a run's seconds are
	// contiguous, and the point's time is its bucket's first second.
	out := make([]point, 0, len(secs)/size+1)
	p50s := make([]float64, 0, size)
	for i := 0; i < len(secs); i += size {
		b := secs[i:min(i+size, len(secs))]
		p := point{t: float64(b[0].T)}
		p50s = p50s[:0]
		for _, s := range b {
			p.requests += float64(s.Requests)
			p.failures += float64(s.Failures)
			p.users += float64(s.Users)
			p.rate += s.Rate
			p.p95 = max(p.p95, float64(s.P95))
			p50s = append(p50s, float64(s.P50))
		}
		n := float64(len(b))
		p.requests, p.failures, p.users, p.rate = p.requests/n, p.failures/n, p.users/n, p.rate/n
		p.p50 = median(p50s)
		out = append(out, p)
	}
	return out, bucketing{
		mean:    fmt.Sprintf(" (mean per %d s)", size),
		median:  fmt.Sprintf(" (median per %d s)", size),
		highest: fmt.Sprintf(" (highest per %d s)", size),
	}
}

func median(v []float64) float64 {
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

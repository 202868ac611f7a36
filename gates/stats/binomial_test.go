package stats

import (
	"math"
	"testing"
)

// BinomialSurvival against the sum of the probability mass, term by term.
func TestBinomialSurvival(t *testing.T) {
	brute := func(k, n int64, p float64) float64 {
		var s float64
		for i := k; i <= n; i++ {
			s += math.Exp(logChoose(n, i) + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
		}
		return s
	}
	for _, n := range []int64{1, 8, 50, 400, 3000} {
		for _, p := range []float64{0.001, 0.01, 0.05, 0.3, 0.9} {
			for _, k := range []int64{1, 2, n / 20, n / 10, n / 2, n} {
				if k < 1 {
					continue
				}
				got, want := BinomialSurvival(k, n, p), brute(k, n, p)
				if math.Abs(got-want) > 1e-9*math.Max(want, 1e-300) && math.Abs(got-want) > 1e-12 {
					t.Errorf("P(X ≥ %d | %d, %v) = %v, want %v", k, n, p, got, want)
				}
			}
		}
	}
	// 1 failure in 8 requests at a 5% rate: 1 − 0.95⁸.
	if got := BinomialSurvival(1, 8, 0.05); math.Abs(got-(1-math.Pow(0.95, 8))) > 1e-12 {
		t.Errorf("got %v", got)
	}
	for _, c := range []struct {
		k, n int64
		p    float64
		want float64
	}{{0, 5, 0.5, 1}, {6, 5, 0.5, 0}, {1, 5, 0, 0}, {5, 5, 1, 1}} {
		if got := BinomialSurvival(c.k, c.n, c.p); got != c.want {
			t.Errorf("P(X ≥ %d | %d, %v) = %v, want %v", c.k, c.n, c.p, got, c.want)
		}
	}
	if !math.IsNaN(BinomialSurvival(1, 5, 1.5)) || !math.IsNaN(BinomialSurvival(1, -1, 0.5)) {
		t.Error("bad input is not NaN")
	}
}

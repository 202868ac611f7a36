package stats

import "math"

// BinomialSurvival returns P(X ≥ k) for X ~ Binomial(n, p): the chance of
// at least k events in n trials at rate p, from the regularized incomplete
// beta function, P(X ≥ k) = I_p(k, n−k+1). NaN for a p outside [0, 1] or
// n < 0.
func BinomialSurvival(k, n int64, p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1 || n < 0:
		return math.NaN()
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p == 0:
		return 0
	case p == 1:
		return 1
	}
	return regIncBeta(float64(k), float64(n-k+1), p)
}

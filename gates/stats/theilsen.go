package stats

import (
	"fmt"
	"math"
	"slices"
)

// Line is a fitted straight line y = Intercept + Slope·x.
type Line struct {
	Slope, Intercept float64
}

// pairwiseSlopes returns the sorted slopes (y_j−y_i)/(x_j−x_i) over all
// pairs i<j whose x differ.
func pairwiseSlopes(x, y []float64) ([]float64, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("%w: %d x values but %d y values", ErrInvalid, len(x), len(y))
	}
	if err := checkFinite(x); err != nil {
		return nil, err
	}
	if err := checkFinite(y); err != nil {
		return nil, err
	}
	n := len(x)
	slopes := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dx := x[j] - x[i]
			if dx == 0 {
				continue
			}
			slopes = append(slopes, (y[j]-y[i])/dx)
		}
	}
	if len(slopes) == 0 {
		return nil, fmt.Errorf("%w: need two points with different x", ErrEmpty)
	}
	slices.Sort(slopes)
	return slopes, nil
}

// TheilSen fits a line robustly: the slope is the median of the pairwise
// slopes and the intercept the median of y − slope·x. It costs O(n²) time
// and memory, which is meant for the few block points the leak hunter fits.
func TheilSen(x, y []float64) (Line, error) {
	slopes, err := pairwiseSlopes(x, y)
	if err != nil {
		return Line{}, err
	}
	b := medianSorted(slopes)
	res := make([]float64, len(x))
	for i := range x {
		res[i] = y[i] - b*x[i]
	}
	slices.Sort(res)
	return Line{Slope: b, Intercept: medianSorted(res)}, nil
}

// SlopeBounds are Sen's one-sided confidence bounds for a Theil–Sen slope.
type SlopeBounds struct {
	// Lower is a one-sided lower bound at the requested confidence; Upper
	// the matching upper bound, so [Lower, Upper] has two-sided coverage
	// 2·confidence − 1. They are ±Inf when n is too small for that confidence.
	Lower, Upper float64
	// Rank is k: Lower is the k-th smallest and Upper the k-th largest slope.
	Rank int
	// Pairs is N′, the number of pairwise slopes.
	Pairs int
}

// SenBounds returns Sen's (1968) distribution-free confidence bounds for the
// slope of y on x at the given one-sided confidence (e.g. 0.99).
//
// Subtleness ahead: the bounds are the inversion of the Mann–Kendall test.
// For a trial slope β, the Mann–Kendall statistic of the residuals y − βx is
//
//	S(β) = #{slopes > β} − #{slopes < β}.
//
// The one-sided test with continuity correction rejects "true slope ≤ β"
// when (S(β) − 1)/√Var S > z, i.e. S(β) > C + 1 with C = z_conf·√Var S and
// Var S = [n(n−1)(2n+5) − Σ u(u−1)(2u+5)]/18 (u: sizes of groups of tied x,
// whose pairs never count). Every β below the k-th smallest slope s₍ₖ₎ has
// at most k−1 slopes under it, hence S(β) ≥ N′ − 2(k−1); all such β are
// rejected when N′ − 2(k−1) > C + 1. The largest such k is
//
//	k = ⌈(N′ − C − 1)/2⌉,
//
// and the lower bound is s₍ₖ₎ (the upper bound, by symmetry, s₍N′+1−k₎).
// For n = 10 distinct x: N′ = 45, Var S = 125, z₀.₉₉ = 2.3263,
// C = 26.01, k = ⌈8.99⌉ = 9 — the 9th of the 45 sorted slopes.
func SenBounds(x, y []float64, confidence float64) (SlopeBounds, error) {
	if math.IsNaN(confidence) || confidence <= 0.5 || confidence >= 1 {
		return SlopeBounds{}, fmt.Errorf("%w: confidence %v outside (0.5, 1)", ErrInvalid, confidence)
	}
	slopes, err := pairwiseSlopes(x, y)
	if err != nil {
		return SlopeBounds{}, err
	}
	pairs := len(slopes)
	c := NormalQuantile(confidence) * math.Sqrt(kendallVariance(len(x), tieSizes(x)))
	k := int(math.Ceil((float64(pairs) - c - 1) / 2))
	out := SlopeBounds{Lower: math.Inf(-1), Upper: math.Inf(1), Rank: k, Pairs: pairs}
	if k >= 1 {
		out.Lower = slopes[k-1]
		out.Upper = slopes[pairs-k]
	} else {
		out.Rank = 0
	}
	return out, nil
}

// tieSizes returns the sizes of the groups of equal values in x (groups of
// one included; they add nothing to the tie correction).
func tieSizes(x []float64) []int {
	s := slices.Clone(x)
	slices.Sort(s)
	var sizes []int
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		sizes = append(sizes, j-i)
		i = j
	}
	return sizes
}

// kendallVariance is Var S under no trend, corrected for ties in one variable.
func kendallVariance(n int, ties []int) float64 {
	v := float64(n) * float64(n-1) * float64(2*n+5)
	for _, u := range ties {
		v -= float64(u) * float64(u-1) * float64(2*u+5)
	}
	return v / 18
}

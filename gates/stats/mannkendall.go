package stats

import (
	"fmt"
	"math"
	"slices"
)

// MannKendallExactMax is the largest n for which MannKendall computes the
// exact permutation p-value; beyond it uses the normal approximation.
const MannKendallExactMax = 12

// MannKendallResult is the Mann–Kendall trend test of a series against time order.
type MannKendallResult struct {
	N int
	// S = Σ_{i<j} sign(y_j − y_i): positive for an upward trend.
	S int
	// Var is Var S under no trend, corrected for ties in y
	// (125 for n = 10 without ties).
	Var float64
	// Z is the usual continuity-corrected score (S − sign S)/√Var.
	Z float64
	// P is the one-sided p-value for an upward trend, P(S′ ≥ S) under no trend.
	P float64
	// Exact tells whether P comes from the exact permutation distribution
	// (n ≤ MannKendallExactMax) or from the normal approximation on Z.
	Exact bool
}

// MannKendall tests y (in time order) for an upward monotone trend.
//
// For n ≤ MannKendallExactMax the p-value is exact: under no trend every
// ordering of the observed values is equally likely, ties included (ties are
// kept as they are: the null distribution is that of the observed multiset,
// so tied values cost no power and need no correction). Larger n use the
// tie-corrected variance and a continuity correction of 1.
func MannKendall(y []float64) (MannKendallResult, error) {
	n := len(y)
	if n < 2 {
		return MannKendallResult{}, fmt.Errorf("%w: Mann–Kendall needs at least 2 values, got %d", ErrEmpty, n)
	}
	if err := checkFinite(y); err != nil {
		return MannKendallResult{}, err
	}
	s := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			switch {
			case y[j] > y[i]:
				s++
			case y[j] < y[i]:
				s--
			}
		}
	}
	ties := tieSizes(y)
	r := MannKendallResult{N: n, S: s, Var: kendallVariance(n, ties)}
	if r.Var > 0 {
		switch {
		case s > 0:
			r.Z = float64(s-1) / math.Sqrt(r.Var)
		case s < 0:
			r.Z = float64(s+1) / math.Sqrt(r.Var)
		}
	}
	if n <= MannKendallExactMax {
		r.P = exactKendallUpper(y, s)
		r.Exact = true
	} else {
		// P(S′ ≥ S) ≈ P(N ≥ S − 1): the correction is −1 for the upper
		// tail whatever the sign of S (Z's symmetric ±1 would misstate
		// the p of a negative S).
		r.P = NormalSurvival(float64(s-1) / math.Sqrt(r.Var))
	}
	return r, nil
}

// KendallUpper is P(S′ ≥ s) under no trend for n distinct values: the
// p-value of a Mann–Kendall statistic computed other than from one series
// (the leak hunter bounds S between two sums of signs when some of its
// points are only known to lie in an interval). Exact for
// n ≤ MannKendallExactMax, the normal approximation beyond.
func KendallUpper(n, s int) (float64, error) {
	if n < 2 {
		return 0, fmt.Errorf("%w: Mann–Kendall needs at least 2 values, got %d", ErrEmpty, n)
	}
	if n <= MannKendallExactMax {
		return mahonianUpper(n, s), nil
	}
	return NormalSurvival(float64(s-1) / math.Sqrt(kendallVariance(n, nil))), nil
}

// exactKendallUpper returns P(S′ ≥ s) over all orderings of the multiset y.
//
// Building an ordering left to right, placing value v first among the values
// still to place adds (#remaining greater than v) − (#remaining less than v)
// to S. So the distribution of S depends only on which values remain, and a
// dynamic programme over the remaining counts per distinct value (at most
// 2ⁿ states) gives it; each distinct arrangement of the multiset is equally
// likely, which counts them with the right weight.
func exactKendallUpper(y []float64, s int) float64 {
	vals := slices.Clone(y)
	slices.Sort(vals)
	var counts []int
	for i := 0; i < len(vals); {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		counts = append(counts, j-i)
		i = j
	}
	d := len(counts)
	if d == len(y) {
		return mahonianUpper(len(y), s)
	}
	stride := make([]int, d)
	states := 1
	for k := 0; k < d; k++ {
		stride[k] = states
		states *= counts[k] + 1
	}
	n := len(y)
	maxS := n * (n - 1) / 2
	width := 2*maxS + 1
	dist := make([]float64, states*width) // dist[state*width + S+maxS] = #arrangements
	dist[0*width+maxS] = 1                // nothing left to place: S = 0
	rem := make([]int, d)
	for st := 1; st < states; st++ {
		// decode remaining counts
		t := st
		for k := 0; k < d; k++ {
			rem[k] = t % (counts[k] + 1)
			t /= counts[k] + 1
		}
		row := dist[st*width : (st+1)*width]
		less := 0
		total := 0
		for k := 0; k < d; k++ {
			total += rem[k]
		}
		for k := 0; k < d; k++ {
			if rem[k] > 0 {
				greater := total - less - rem[k]
				add := greater - less
				prev := dist[(st-stride[k])*width : (st-stride[k]+1)*width]
				for i, c := range prev {
					if c != 0 {
						row[i+add] += c
					}
				}
			}
			less += rem[k]
		}
	}
	full := dist[(states-1)*width : states*width]
	var tail, all float64
	for i, c := range full {
		all += c
		if i-maxS >= s {
			tail += c
		}
	}
	return tail / all
}

// mahonianUpper is P(S′ ≥ s) for n distinct values: S = N′ − 2·(inversions),
// and the inversion counts of the n! orderings have the generating function
// ∏_{j=1..n} (1 + q + … + q^{j−1}) (the Mahonian numbers), O(n³) to expand.
func mahonianUpper(n, s int) float64 {
	pairs := n * (n - 1) / 2
	counts := make([]float64, pairs+1)
	counts[0] = 1
	top := 0
	for j := 2; j <= n; j++ {
		// multiply by (1 + q + … + q^{j−1}), in place from the top down
		top += j - 1
		for i := top; i >= 0; i-- {
			var sum float64
			for k := 0; k < j && k <= i; k++ {
				sum += counts[i-k]
			}
			counts[i] = sum
		}
	}
	var tail, all float64
	for inv, c := range counts {
		all += c
		if pairs-2*inv >= s {
			tail += c
		}
	}
	return tail / all
}

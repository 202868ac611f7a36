package stats

import (
	"fmt"
	"math"
	"slices"
)

// MannWhitneyResult is a one-sided Mann–Whitney (Wilcoxon rank-sum) test.
type MannWhitneyResult struct {
	// U counts the pairs (x_i, y_j) with x_i > y_j, ties counting one half.
	U float64
	// Z is the tie-corrected, continuity-corrected normal score of U.
	Z float64
	// P is the one-sided p-value for "x tends to be larger than y".
	P float64
}

// MannWhitney tests whether x is stochastically larger than y, with the
// normal approximation z = (U − n₁n₂/2 − ½)/σ_U and the tie-corrected
// σ_U² = n₁n₂/12 · [(N+1) − Σ(t³−t)/(N(N−1))]. When every value is tied the
// test has no evidence either way and P is 1. For "x smaller than y" swap
// the arguments.
func MannWhitney(x, y []float64) (MannWhitneyResult, error) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return MannWhitneyResult{}, fmt.Errorf("%w: Mann–Whitney needs two non-empty samples (got %d and %d)", ErrEmpty, n1, n2)
	}
	xs, err := sortedCopy(x)
	if err != nil {
		return MannWhitneyResult{}, err
	}
	ys, err := sortedCopy(y)
	if err != nil {
		return MannWhitneyResult{}, err
	}
	// Walk both sorted samples together, one group of equal values at a
	// time: after `ranked` values, a group of t takes the midrank ranked + (t+1)/2.
	n := float64(n1 + n2)
	var rankSumX, tieTerm float64
	i, j, ranked := 0, 0, 0
	for i < n1 || j < n2 {
		var v float64
		switch {
		case j == n2 || (i < n1 && xs[i] <= ys[j]):
			v = xs[i]
		default:
			v = ys[j]
		}
		ti, tj := 0, 0
		for i < n1 && xs[i] == v {
			i, ti = i+1, ti+1
		}
		for j < n2 && ys[j] == v {
			j, tj = j+1, tj+1
		}
		t := ti + tj
		rankSumX += float64(ti) * (float64(ranked) + float64(t+1)/2)
		tieTerm += float64(t)*float64(t)*float64(t) - float64(t)
		ranked += t
	}
	f1, f2 := float64(n1), float64(n2)
	u := rankSumX - f1*(f1+1)/2
	variance := f1 * f2 / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	r := MannWhitneyResult{U: u, P: 1}
	if variance > 0 {
		r.Z = (u - f1*f2/2 - 0.5) / math.Sqrt(variance)
		r.P = NormalSurvival(r.Z)
	}
	return r, nil
}

// HodgesLehmann returns the Hodges–Lehmann shift estimate: the median of
// all n₁·n₂ differences x_i − y_j. On log values, exp of it is the ratio of
// typical x to typical y.
//
// It never builds the n₁·n₂ differences: with both samples sorted, the
// number of differences ≤ d is counted in O(n₁+n₂), and a bisection on d
// finds the exact order statistics, so 8,640 × 8,640 windows cost a
// millisecond, not gigabytes.
func HodgesLehmann(x, y []float64) (float64, error) {
	if len(x) == 0 || len(y) == 0 {
		return 0, fmt.Errorf("%w: Hodges–Lehmann needs two non-empty samples (got %d and %d)", ErrEmpty, len(x), len(y))
	}
	xs, err := sortedCopy(x)
	if err != nil {
		return 0, err
	}
	ys, err := sortedCopy(y)
	if err != nil {
		return 0, err
	}
	total := int64(len(xs)) * int64(len(ys))
	if total%2 == 1 {
		return kthDifference(xs, ys, total/2+1), nil
	}
	lo := kthDifference(xs, ys, total/2)
	hi := lo
	if countAtMost(xs, ys, lo) < total/2+1 {
		hi = nextDifference(xs, ys, lo)
	}
	return lo + (hi-lo)/2, nil
}

// nextDifference returns the smallest x_i − y_j greater than d, in one sweep:
// for each x_i it is x_i − y_{j−1} where j is the first index with
// x_i − y_j ≤ d (the same pointer as in countAtMost).
func nextDifference(xs, ys []float64, d float64) float64 {
	best := math.Inf(1)
	j := 0
	for _, xv := range xs {
		for j < len(ys) && xv-ys[j] > d {
			j++
		}
		if j > 0 {
			best = math.Min(best, xv-ys[j-1])
		}
	}
	return best
}

// kthDifference returns the k-th smallest (1-based) of x_i − y_j for sorted x, y.
//
// It keeps a bracket (a, b] holding the answer — fewer than k differences
// are ≤ a, at least k are ≤ b — and halves it in value; once at most
// n₁+n₂ differences fall inside, it lists them and picks the one wanted.
// Halving values ends after a dozen steps on ordinary data; on pathological
// spreads it falls back to halving the ordered bit patterns of float64,
// which ends within 64 steps.
func kthDifference(xs, ys []float64, k int64) float64 {
	a := math.Nextafter(xs[0]-ys[len(ys)-1], math.Inf(-1))
	b := xs[len(xs)-1] - ys[0]
	ca, cb := int64(0), int64(len(xs))*int64(len(ys))
	small := int64(len(xs) + len(ys))
	for step := 0; step < 200 && cb-ca > small; step++ {
		mid := a + (b-a)/2
		if mid <= a || mid >= b {
			return b // a and b are adjacent floats: only b is inside
		}
		if c := countAtMost(xs, ys, mid); c >= k {
			b, cb = mid, c
		} else {
			a, ca = mid, c
		}
	}
	if cb-ca > small {
		lo, hi := orderedKey(a)+1, orderedKey(b)
		for lo < hi {
			mid := lo + (hi-lo)/2
			if countAtMost(xs, ys, fromOrderedKey(mid)) >= k {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return fromOrderedKey(lo)
	}
	inside := differencesBetween(xs, ys, a, b)
	slices.Sort(inside)
	return inside[k-ca-1]
}

// differencesBetween lists the x_i − y_j with a < x_i − y_j ≤ b.
func differencesBetween(xs, ys []float64, a, b float64) []float64 {
	var out []float64
	jb, ja := 0, 0
	for _, xv := range xs {
		for jb < len(ys) && xv-ys[jb] > b {
			jb++
		}
		for ja < len(ys) && xv-ys[ja] > a {
			ja++
		}
		for j := jb; j < ja; j++ {
			out = append(out, xv-ys[j])
		}
	}
	return out
}

// countAtMost counts pairs with x_i − y_j ≤ d. Rounded subtraction is
// monotone in each argument, so for growing x_i the qualifying y_j form a
// shrinking suffix of ys and one pointer sweep suffices.
func countAtMost(xs, ys []float64, d float64) int64 {
	var count int64
	j := 0
	m := len(ys)
	for _, xv := range xs {
		for j < m && xv-ys[j] > d {
			j++
		}
		count += int64(m - j)
	}
	return count
}

// orderedKey maps a float64 to a uint64 whose order matches the float order.
func orderedKey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func fromOrderedKey(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

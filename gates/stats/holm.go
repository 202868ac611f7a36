package stats

import (
	"math"
	"slices"
)

// Holm returns Holm–Bonferroni adjusted p-values, in the order of p: the
// i-th smallest of m p-values becomes max over j ≤ i of min(1, (m−j+1)·p₍ⱼ₎).
// Rejecting where the adjusted p < α controls the family-wise error rate at
// α. A NaN p (a metric with no test) stays NaN and is not counted in m.
func Holm(p []float64) []float64 {
	out := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if math.IsNaN(v) {
			out[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	m := len(idx)
	running := 0.0
	for rank, i := range idx {
		adj := math.Min(1, float64(m-rank)*math.Max(p[i], 0))
		running = math.Max(running, adj)
		out[i] = running
	}
	return out
}

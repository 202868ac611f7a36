package engine

import (
	"math/rand/v2"

	"lab/lang"
)

// classSequence assigns user classes to user numbers 1..n by the
// Sainte-Laguë divisor method: user k goes to the class with the highest
// weight/(2·assigned+1). The method is house-monotone, so every prefix of
// the sequence — every point of a ramp — holds each class in proportion to
// its weight as closely as whole users allow, and adding users never takes
// one away from a class (unlike largest remainder, whose Alabama paradox
// would). Ties go to the class declared first. The sequence depends only on
// the weights, so every worker computes the same one.
func classSequence(users []*lang.UserClass, n int) []int {
	seq := make([]int, n)
	assigned := make([]int, len(users))
	for k := 0; k < n; k++ {
		best, bestScore := -1, -1.0
		for c, u := range users {
			if u.Weight == 0 {
				continue
			}
			score := float64(u.Weight) / float64(2*assigned[c]+1)
			if score > bestScore {
				best, bestScore = c, score
			}
		}
		seq[k] = best
		assigned[best]++
	}
	return seq
}

// picker chooses by weight.
type picker struct {
	cum   []int // cumulative weights
	total int
}

func newPicker(weights []int) picker {
	p := picker{cum: make([]int, len(weights))}
	for i, w := range weights {
		p.total += w
		p.cum[i] = p.total
	}
	return p
}

func (p picker) pick(r *rand.Rand) int {
	if len(p.cum) == 1 {
		return 0
	}
	x := r.IntN(p.total)
	for i, c := range p.cum {
		if x < c {
			return i
		}
	}
	return len(p.cum) - 1
}

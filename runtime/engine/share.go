package engine

import (
	"slices"
	"sync/atomic"
	"time"

	"lab/lang"
)

// SlotsPerWorker is how many slots each worker's part of the load is cut
// into. More slots than workers let a lost worker's part be dealt out evenly
// among the others (12 divides evenly among 2, 3, 4 or 6 survivors).
const SlotsPerWorker = 12

// Share is the part of the load one worker generates. The load is cut into
// len(Owners) slots: arrival n (open model) falls in slot n mod len(Owners);
// user g (closed model), the r-th user of class k, in slot (r+k) mod
// len(Owners), so that every worker holds each class in proportion, to
// within one user. The worker runs the slots whose owner is Me. Nil Owners
// is the whole load.
type Share struct {
	Me     int
	Owners []int
}

// Even is the first split of the load among n workers: worker i owns the
// slots s with s mod n = i, so worker i of n takes arrivals i, i+n, i+2n…
// and the merged arrivals stay evenly spaced.
func Even(n int) []int {
	owners := make([]int, n*SlotsPerWorker)
	for s := range owners {
		owners[s] = s % n
	}
	return owners
}

// Resplit deals the slots of every worker not in live to the live workers,
// each to the one holding the fewest slots then (the lowest number on a
// tie), and leaves every other slot where it is. Nil when none is live.
func Resplit(owners []int, live []int) []int {
	if len(live) == 0 {
		return nil
	}
	held := map[int]int{}
	for _, w := range live {
		held[w] = 0
	}
	for _, w := range owners {
		if _, ok := held[w]; ok {
			held[w]++
		}
	}
	order := slices.Sorted(slices.Values(live))
	out := slices.Clone(owners)
	for s, w := range out {
		if _, ok := held[w]; ok {
			continue
		}
		best := order[0]
		for _, c := range order[1:] {
			if held[c] < held[best] {
				best = c
			}
		}
		out[s] = best
		held[best]++
	}
	return out
}

// Rebalance gives worker w (new, holding nothing) its even part of the
// slots: with n workers then running, every n-th slot (those Even(n)
// would give the last worker), so it takes some from every other worker
// and holds users at every point of a ramp (the low slots hold the first
// users).
func Rebalance(owners []int, live []int, w int) []int {
	n := 1
	for _, o := range live {
		if o != w {
			n++
		}
	}
	out := slices.Clone(owners)
	for s := range out {
		if s%n == n-1 {
			out[s] = w
		}
	}
	return out
}

// owns tells whether slot s is this share's.
func (s Share) owns(slot int) bool {
	return len(s.Owners) == 0 || s.Owners[slot%len(s.Owners)] == s.Me
}

// Fraction is the part of the load the share holds, in (0, 1].
func (s Share) Fraction() float64 {
	if len(s.Owners) == 0 {
		return 1
	}
	n := 0
	for _, w := range s.Owners {
		if w == s.Me {
			n++
		}
	}
	return float64(n) / float64(len(s.Owners))
}

// workers is how many workers the share's table names.
func (s Share) workers() int {
	n := 1
	for _, w := range s.Owners {
		n = max(n, w+1)
	}
	return n
}

// shareState is the share in force, and the one that takes over at from
// (since the run's start) when a master re-splits the load.
type shareState struct {
	cur     Share
	next    *Share
	from    time.Duration
	version int64
}

type shareBox struct{ p atomic.Pointer[shareState] }

func (b *shareBox) load() *shareState { return b.p.Load() }

// Reshare makes the engine run share s from at on: for arrivals due from
// then (open model), and in the closed model from then (the users of the
// slots it loses stop, those of the slots it gains start): a master
// re-splitting the load, every worker at the same instant. Before the run
// has a start, s replaces the share at once.
func (e *Engine) Reshare(s Share, at time.Time) {
	old := e.share.load()
	st := &shareState{cur: old.cur, next: &s, version: old.version + 1}
	switch start := e.startNS.Load(); {
	case start != 0:
		st.from = time.Duration(at.UnixNano() - start)
	case !e.opts.Start.IsZero():
		st.from = at.Sub(e.opts.Start)
	default:
		st.cur, st.next = s, nil
	}
	e.share.p.Store(st)
}

// Nobody is a share that owns no slot: a worker that joins a run under way
// runs nothing until the share its master gave it takes effect.
func Nobody(me int) Share { return Share{Me: me, Owners: []int{-1}} }

// DueIn counts the arrivals of share s due in [from, to) of the shape
// (times since the run's start): what a master counts as the part of a
// lost worker nobody sent or counted. Not on the sending path.
func DueIn(shape *lang.Shape, s Share, from, to time.Duration) int64 {
	if to <= from {
		return 0
	}
	before := func(n int64, t time.Duration) bool {
		at, ok := arrivalTime(shape, float64(n))
		return ok && at < t
	}
	// The first arrival due at or after from: arrival times grow with n.
	lo, hi := int64(0), int64(1)
	for before(hi, from) {
		lo, hi = hi, hi*2
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if before(mid, from) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	var n int64
	for i := lo; before(i, to); i++ {
		if s.owns(int(i % int64(max(1, len(s.Owners))))) {
			n++
		}
	}
	return n
}

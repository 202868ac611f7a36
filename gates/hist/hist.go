// Package hist reads the Run's encoded HDR histograms the way the gates need
// them: fast, and without a dense 136 KiB counts array per window.
//
// A 24-hour run holds 86,400 window histograms per ten request names;
// hdrhistogram-go's Decode allocates a full counts array and a fresh zlib
// reader for each (≈ 180 µs), which would take the gates ten seconds. Here a
// Decoder reuses its zlib reader and buffers, a Hist keeps only the populated
// buckets, and an Acc adds many histograms into one reused dense array. All
// three answer exactly what hdrhistogram.Histogram answers for the same
// values (the tests hold them to it): the geometry is the Run's one geometry
// (1 µs … 60 s, 3 significant digits), and a histogram of any other geometry
// is refused rather than merged lossily.
package hist

import (
	"math/bits"
	"slices"
)

// The Run's geometry (runtime/result: LowestUS, HighestUS, SigFigs) and the
// bucket layout hdrhistogram derives from it.
const (
	lowest  = 1
	highest = 60_000_000
	sigFigs = 3

	subBucketHalfCountMagnitude = 10 // log2(2·10^3) rounded up, minus one
	subBucketHalfCount          = 1 << subBucketHalfCountMagnitude
	subBucketCount              = 2 * subBucketHalfCount
	subBucketMask               = subBucketCount - 1
)

// countsLen is the number of buckets of the geometry: (buckets+1) half sub-bucket counts.
var countsLen = func() int32 {
	smallestUntrackable := int64(subBucketCount) // << unit magnitude 0
	buckets := int32(1)
	for smallestUntrackable <= highest {
		smallestUntrackable <<= 1
		buckets++
	}
	return (buckets + 1) * subBucketHalfCount
}()

// valueFromIndex is the lowest value of the flat counts index idx.
func valueFromIndex(idx int32) int64 {
	bucket := (idx >> subBucketHalfCountMagnitude) - 1
	sub := (idx & (subBucketHalfCount - 1)) + subBucketHalfCount
	if bucket < 0 {
		sub -= subBucketHalfCount
		bucket = 0
	}
	return int64(sub) << uint(bucket)
}

// indexOf is the flat counts index of value v (v ≥ 0).
func indexOf(v int64) int32 {
	bucket := int32(64-bits.LeadingZeros64(uint64(v|subBucketMask))) - (subBucketHalfCountMagnitude + 1)
	sub := int32(v >> uint(bucket))
	return (bucket+1)<<subBucketHalfCountMagnitude + sub - subBucketHalfCount
}

// highestEquivalent is the highest value that falls in v's bucket.
func highestEquivalent(v int64) int64 {
	bucket := int32(64-bits.LeadingZeros64(uint64(v|subBucketMask))) - (subBucketHalfCountMagnitude + 1)
	sub := int32(v >> uint(bucket))
	adj := bucket
	if sub >= subBucketCount {
		adj++
	}
	lowestEq := int64(sub) << uint(bucket)
	return lowestEq + int64(1)<<uint(adj) - 1
}

// lowestEquivalent is the lowest value that falls in v's bucket.
func lowestEquivalent(v int64) int64 {
	bucket := int32(64-bits.LeadingZeros64(uint64(v|subBucketMask))) - (subBucketHalfCountMagnitude + 1)
	return int64(v>>uint(bucket)) << uint(bucket)
}

// percentileRank is the rank hdrhistogram looks for: the nearest integer
// rank, at least 1, at most total.
func percentileRank(p float64, total int64) int64 {
	if p > 100 {
		p = 100
	}
	rank := (p/100)*float64(total) + 0.5
	if !(rank >= 1) {
		return 1
	}
	if rank >= float64(total) {
		return total
	}
	return int64(rank)
}

// valueAt turns the index where the rank was reached into the value
// hdrhistogram reports: the lowest equivalent value at percentile 0, the
// highest otherwise.
func valueAt(idx int32, p float64) int64 {
	v := valueFromIndex(idx)
	if p == 0 {
		return lowestEquivalent(v)
	}
	return highestEquivalent(v)
}

// Hist is a histogram of the Run's geometry that keeps only its populated
// buckets, in index order. The zero value is an empty histogram.
type Hist struct {
	idx   []int32
	cnt   []int64
	total int64
}

// TotalCount is the number of values recorded.
func (h *Hist) TotalCount() int64 { return h.total }

// Buckets is the number of populated buckets.
func (h *Hist) Buckets() int { return len(h.idx) }

// Reset empties h, keeping its storage.
func (h *Hist) Reset() {
	h.idx, h.cnt, h.total = h.idx[:0], h.cnt[:0], 0
}

// Clone returns an independent copy of h, with room for extra more buckets.
func (h *Hist) Clone(extra ...int) *Hist {
	n := len(h.idx)
	if len(extra) > 0 {
		n += extra[0]
	}
	return &Hist{idx: append(make([]int32, 0, n), h.idx...), cnt: append(make([]int64, 0, n), h.cnt...), total: h.total}
}

// ValueAtPercentile returns what hdrhistogram.Histogram.ValueAtPercentile
// returns for the same values: p in [0, 100]; 0 for an empty histogram.
func (h *Hist) ValueAtPercentile(p float64) int64 {
	if h.total == 0 {
		return 0
	}
	if p < 0 {
		p = 0
	}
	rank := percentileRank(p, h.total)
	var run int64
	for i, c := range h.cnt {
		run += c
		if run >= rank {
			return valueAt(h.idx[i], p)
		}
	}
	return valueAt(h.idx[len(h.idx)-1], p)
}

// CountAbove is how many values lie above v: in buckets whose lowest value
// is greater than v (the bucket holding v counts as not above), as for Acc.
func (h *Hist) CountAbove(v int64) int64 {
	from := indexOf(min(max(v, 0), highest)) + 1
	i, _ := slices.BinarySearch(h.idx, from)
	var n int64
	for _, c := range h.cnt[i:] {
		n += c
	}
	return n
}

// Max is the highest equivalent value of the largest value recorded (0 when empty).
func (h *Hist) Max() int64 {
	if len(h.idx) == 0 {
		return 0
	}
	return highestEquivalent(valueFromIndex(h.idx[len(h.idx)-1]))
}

// Min is the lowest equivalent value of the smallest value recorded (0 when empty).
func (h *Hist) Min() int64 {
	if len(h.idx) == 0 {
		return 0
	}
	return lowestEquivalent(valueFromIndex(h.idx[0]))
}

// Mean is the mean of the buckets' median equivalent values, as hdrhistogram computes it.
func (h *Hist) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	var sum float64
	for i, c := range h.cnt {
		v := valueFromIndex(h.idx[i])
		lo := lowestEquivalent(v)
		median := lo + (highestEquivalent(v)-lo+1)>>1
		sum += float64(c) * float64(median) / float64(h.total)
	}
	return sum
}

// RecordValues adds n values of v (µs), clamped to the geometry's range;
// for tests and synthetic runs.
func (h *Hist) RecordValues(v, n int64) {
	if n <= 0 {
		return
	}
	v = min(max(v, lowest), highest)
	i := indexOf(v)
	// Binary search for i.
	lo, hi := 0, len(h.idx)
	for lo < hi {
		m := (lo + hi) / 2
		if h.idx[m] < i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(h.idx) && h.idx[lo] == i {
		h.cnt[lo] += n
	} else {
		h.idx = append(h.idx, 0)
		h.cnt = append(h.cnt, 0)
		copy(h.idx[lo+1:], h.idx[lo:])
		copy(h.cnt[lo+1:], h.cnt[lo:])
		h.idx[lo], h.cnt[lo] = i, n
	}
	h.total += n
}

// Add merges o into h, in place when h has room (from the back, so no
// scratch space is needed).
func (h *Hist) Add(o *Hist) {
	if o.total == 0 {
		return
	}
	n1, n2 := len(h.idx), len(o.idx)
	h.idx = slices.Grow(h.idx, n2)[:n1+n2]
	h.cnt = slices.Grow(h.cnt, n2)[:n1+n2]
	i, j, k := n1-1, n2-1, n1+n2-1
	for j >= 0 {
		switch {
		case i >= 0 && h.idx[i] > o.idx[j]:
			h.idx[k], h.cnt[k] = h.idx[i], h.cnt[i]
			i--
		case i >= 0 && h.idx[i] == o.idx[j]:
			h.idx[k], h.cnt[k] = h.idx[i], h.cnt[i]+o.cnt[j]
			i, j = i-1, j-1
		default:
			h.idx[k], h.cnt[k] = o.idx[j], o.cnt[j]
			j--
		}
		k--
	}
	// h[0..i] are in place; shared buckets left a gap between them and the rest.
	if gap := k - i; gap > 0 {
		copy(h.idx[i+1:], h.idx[k+1:])
		copy(h.cnt[i+1:], h.cnt[k+1:])
		h.idx, h.cnt = h.idx[:n1+n2-gap], h.cnt[:n1+n2-gap]
	}
	h.total += o.total
}

// Acc adds many histograms into one dense counts array that is reused: the
// fast way to merge a window's worth of names, or an SLA window's worth of
// windows. The zero value is ready to use.
type Acc struct {
	counts []int64
	lo, hi int32 // populated index range, lo > hi when empty
	total  int64
}

func (a *Acc) init() {
	if a.counts == nil {
		a.counts = make([]int64, countsLen)
		a.lo, a.hi = countsLen, -1
	}
}

// TotalCount is the number of values added.
func (a *Acc) TotalCount() int64 { return a.total }

// Reset empties the accumulator; it clears only the range that was used.
func (a *Acc) Reset() {
	if a.counts == nil {
		return
	}
	if a.lo <= a.hi {
		clear(a.counts[a.lo : a.hi+1])
	}
	a.lo, a.hi, a.total = countsLen, -1, 0
}

// AddHist adds h.
func (a *Acc) AddHist(h *Hist) {
	if h.total == 0 {
		return
	}
	a.init()
	for i, idx := range h.idx {
		a.counts[idx] += h.cnt[i]
	}
	a.lo, a.hi = min(a.lo, h.idx[0]), max(a.hi, h.idx[len(h.idx)-1])
	a.total += h.total
}

// ValueAtPercentile is hdrhistogram's ValueAtPercentile over everything added.
func (a *Acc) ValueAtPercentile(p float64) int64 {
	if a.total == 0 {
		return 0
	}
	if p < 0 {
		p = 0
	}
	rank := percentileRank(p, a.total)
	var run int64
	for i := a.lo; i <= a.hi; i++ {
		run += a.counts[i]
		if run >= rank {
			return valueAt(i, p)
		}
	}
	return valueAt(a.hi, p)
}

// Mean is the mean over everything added, as Hist.Mean computes it.
func (a *Acc) Mean() float64 {
	if a.total == 0 {
		return 0
	}
	var sum float64
	for i := a.lo; i <= a.hi; i++ {
		c := a.counts[i]
		if c == 0 {
			continue
		}
		v := valueFromIndex(i)
		lo := lowestEquivalent(v)
		median := lo + (highestEquivalent(v)-lo+1)>>1
		sum += float64(c) * float64(median) / float64(a.total)
	}
	return sum
}

// Max is the highest equivalent value of the largest value added.
func (a *Acc) Max() int64 {
	if a.total == 0 {
		return 0
	}
	return highestEquivalent(valueFromIndex(a.hi))
}

// Hist returns what was added as a sparse histogram.
func (a *Acc) Hist() *Hist {
	h := &Hist{}
	for i := a.lo; i <= a.hi; i++ {
		if c := a.counts[i]; c != 0 {
			h.idx = append(h.idx, i)
			h.cnt = append(h.cnt, c)
		}
	}
	h.total = a.total
	return h
}

// CountAbove is how many values lie above v: in buckets whose lowest value
// is greater than v (the bucket holding v counts as not above).
func (a *Acc) CountAbove(v int64) int64 {
	if a.total == 0 {
		return 0
	}
	from := indexOf(min(max(v, 0), highest)) + 1
	var n int64
	for i := max(from, a.lo); i <= a.hi; i++ {
		n += a.counts[i]
	}
	return n
}

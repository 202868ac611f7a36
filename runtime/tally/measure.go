package tally

import (
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"

	"lab/runtime/result"
)

// Measures records the plan's measures: numbers taken from answers, one
// histogram each, with their exact count, sum and extremes. A plan with no
// measure pays nothing; one with measures takes a lock per value, shared by
// the users (measures are read off answers, a few per pass).
type Measures struct {
	acc []measureAcc
}

type measureAcc struct {
	mu          sync.Mutex
	name        string
	h           *hdrhistogram.Histogram
	count, miss int64
	sum         float64
	min, max    float64
	lastMiss    string
}

// NewMeasures records the measures called names (Plan.Measures' order),
// or returns nil when there are none.
func NewMeasures(names []string) *Measures {
	if len(names) == 0 {
		return nil
	}
	m := &Measures{acc: make([]measureAcc, len(names))}
	for i, n := range names {
		m.acc[i].name = n
		m.acc[i].h = result.NewMeasureHist()
	}
	return m
}

// Record adds value v (finite, ≥ 0) to measure i.
func (m *Measures) Record(i int, v float64) {
	a := &m.acc[i]
	a.mu.Lock()
	_ = a.h.RecordValue(result.ClampMeasure(v))
	if a.count == 0 || v < a.min {
		a.min = v
	}
	if v > a.max {
		a.max = v
	}
	a.count++
	a.sum += v
	a.mu.Unlock()
}

// Missing counts an answer that gave measure i no number, and why.
func (m *Measures) Missing(i int, why string) {
	a := &m.acc[i]
	a.mu.Lock()
	a.miss++
	a.lastMiss = why
	a.mu.Unlock()
}

// Results is every measure as the Run keeps it.
func (m *Measures) Results() ([]*result.Measure, error) {
	if m == nil {
		return nil, nil
	}
	out := make([]*result.Measure, len(m.acc))
	for i := range m.acc {
		a := &m.acc[i]
		a.mu.Lock()
		enc, err := result.Encode(a.h)
		out[i] = &result.Measure{Name: a.name, Count: a.count, Sum: a.sum, Min: a.min, Max: a.max, Hist: enc, Missing: a.miss, LastMissing: a.lastMiss}
		a.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

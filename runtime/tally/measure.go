package tally

import (
	"errors"
	"slices"
	"sync"
	"time"

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
	// open are the windows still taking values, oldest first: the newest
	// and the one before it (a value is taken when its answer is judged,
	// a moment after its window may have ended). Older ones are encoded
	// into closed, so a day-long run holds two histograms, not 8,640.
	open   []*measureWin
	closed []result.MeasureWindow
	spare  *hdrhistogram.Histogram // a closed window's, reset for the next
	encErr error                   // a closed window's encoding failed
}

// measureWin is one window's values, while it takes them.
type measureWin struct {
	idx   int64 // wall-clock nanoseconds / Window
	h     *hdrhistogram.Histogram
	count int64
	sum   float64
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

// Record adds value v (finite, ≥ 0) to measure i, taken at at (its
// window's).
func (m *Measures) Record(i int, v float64, at time.Time) {
	a := &m.acc[i]
	c := result.ClampMeasure(v)
	a.mu.Lock()
	_ = a.h.RecordValue(c)
	if a.count == 0 || v < a.min {
		a.min = v
	}
	if v > a.max {
		a.max = v
	}
	a.count++
	a.sum += v
	w := a.window(at.UnixNano() / int64(Window))
	_ = w.h.RecordValue(c)
	w.count++
	w.sum += v
	a.mu.Unlock()
}

// window is the open window idx, opened if it is new (closing all but the
// one before it); a value for a window closed already counts in the
// oldest open one, never in a closed one.
func (a *measureAcc) window(idx int64) *measureWin {
	for _, w := range a.open {
		if w.idx == idx {
			return w
		}
	}
	if len(a.open) > 0 && idx < a.open[0].idx {
		return a.open[0]
	}
	for len(a.open) > 0 && a.open[0].idx < idx-1 {
		a.close()
	}
	h := a.spare
	if h == nil {
		h = result.NewMeasureHist()
	}
	a.spare = nil
	w := &measureWin{idx: idx, h: h}
	a.open = append(a.open, w)
	return w
}

// close encodes the oldest open window.
func (a *measureAcc) close() {
	w := a.open[0]
	a.open = a.open[1:]
	enc, err := result.Encode(w.h)
	if err != nil {
		a.encErr = err // Results reports it
	}
	a.closed = append(a.closed, result.MeasureWindow{T: w.idx * int64(Window/time.Second), Count: w.count, Sum: w.sum, Hist: enc})
	w.h.Reset()
	a.spare = w.h
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
		wins := slices.Clone(a.closed)
		err = errors.Join(err, a.encErr)
		for _, w := range a.open {
			if w.count == 0 {
				continue
			}
			wenc, werr := result.Encode(w.h)
			err = errors.Join(err, werr)
			wins = append(wins, result.MeasureWindow{T: w.idx * int64(Window/time.Second), Count: w.count, Sum: w.sum, Hist: wenc})
		}
		out[i].Windows = wins
		a.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

package sla

import (
	"lab/gates/hist"
	"lab/lang"
)

// WindowResult is one subject of a windowed budget over one of its windows.
type WindowResult struct {
	Start, End int64   // the window, unix seconds
	Covered    float64 // seconds of the run inside it
	Count      int64
	Measures   []Measure // per limit, as Limits orders them
	// Judged is false for a window the run covers less than half of (its
	// edges), and for a window without requests when no limit can be judged
	// on nothing (every limit but min_rps).
	Judged bool
}

// Breached tells whether any limit was breached in a judged window.
func (w WindowResult) Breached() bool {
	if !w.Judged {
		return false
	}
	for _, m := range w.Measures {
		if m.Breached && !m.NoSamples {
			return true
		}
	}
	return false
}

// tracker follows one subject of one windowed sla block window by window,
// fed with the run's 10 s windows in time order.
type tracker struct {
	sla     *lang.SLA
	limits  []Limit
	subject Subject
	names   []int // indexes of the subject's names in the feed's name list
	w       int64 // window length, seconds

	cur   int64 // start of the window being filled; minInt when none
	from  int64 // start of the window merged into the current one; none when none
	tally Tally
}

const none = -1 << 62

func newTracker(s *lang.SLA, subj Subject, index map[string]int) *tracker {
	t := &tracker{sla: s, limits: Limits(s), subject: subj, w: int64(s.Window.Seconds()), cur: none, from: none}
	for _, n := range subj.Names {
		if i, ok := index[n]; ok {
			t.names = append(t.names, i)
		}
	}
	return t
}

func (t *tracker) clone() *tracker {
	c := *t
	c.tally = Tally{}
	c.cur, c.from = none, none
	return &c
}

func (t *tracker) windowOf(unix int64) int64 { return floorTo(unix, t.w) }

// feed adds one 10 s window of one of the subject's names (h may be nil
// when the window had no histogram), first closing every window that ended
// before it; closed windows go to emit.
func (t *tracker) feed(at int64, h *hist.Hist, count, failures int64, span runSpan, emit func(WindowResult)) {
	t.advance(t.windowOf(at), span, emit)
	if h != nil {
		t.tally.Hist.AddHist(h)
	}
	t.tally.Count += count
	t.tally.Failures += failures
}

// advance closes windows until the one starting at start is the current one.
func (t *tracker) advance(start int64, span runSpan, emit func(WindowResult)) {
	if t.cur == none {
		t.cur = start
		return
	}
	for t.cur < start {
		if t.mergesNext(span) {
			// Subtleness ahead: the run ends in the next window, too early
			// in it for that window to be judged on its own, so its
			// requests join this one's tally and the two are judged as one
			// window (the run's last seconds are never left unjudged).
			if t.from == none {
				t.from = t.cur
			}
			t.cur += t.w
			continue
		}
		emit(t.close(span))
		t.cur += t.w
	}
}

// mergesNext tells, for a stored run (its end known), whether the window
// after the current one is the run's last and covers less than half a
// window.
func (t *tracker) mergesNext(span runSpan) bool {
	next := float64(t.cur + t.w)
	return next < span.End && span.End < next+float64(t.w) && span.covered(next, next+float64(t.w)) < float64(t.w)/2
}

// close judges the current window (with the one before it, when that was
// merged into it) and empties the tally.
func (t *tracker) close(span runSpan) WindowResult {
	from := t.cur
	if t.from != none {
		from, t.from = t.from, none
	}
	r := WindowResult{Start: from, End: t.cur + t.w, Count: t.tally.Count}
	r.Covered = span.covered(float64(r.Start), float64(r.End))
	t.tally.Seconds = r.Covered
	r.Measures = make([]Measure, len(t.limits))
	judgeable := false
	for i, l := range t.limits {
		r.Measures[i] = l.Measure(&t.tally)
		judgeable = judgeable || r.Measures[i].counts()
	}
	r.Judged = judgeable && r.Covered >= float64(r.End-r.Start)/2
	t.tally.Reset()
	return r
}

// runSpan is the run's time span in unix seconds; End is +Inf while live.
type runSpan struct{ Start, End float64 }

func (s runSpan) covered(from, to float64) float64 {
	return max(0, min(to, s.End)-max(from, s.Start))
}

// streak finds the first run of n consecutive breached windows; ok is
// false when there is none. from and to are the span of that run.
func streak(ws []WindowResult, n int) (from, to int64, at int, ok bool) {
	if n <= 0 {
		return 0, 0, 0, false
	}
	k := 0
	for i, w := range ws {
		if w.Breached() && (k == 0 || ws[i-1].End == w.Start) {
			k++
		} else if w.Breached() {
			k = 1
		} else {
			k = 0
		}
		if k >= n {
			return ws[i-n+1].Start, w.End, i, true
		}
	}
	return 0, 0, 0, false
}

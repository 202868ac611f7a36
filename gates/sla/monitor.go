package sla

import (
	"fmt"
	"math"
	"time"

	"lab/gates/hist"
	"lab/lang"
	"lab/runtime/result"
)

// Monitor judges the budgets that have an abort rule while the run goes:
// feed it every finished 10 s window and it says when AbortAfter windows
// in a row were over budget. It judges windows exactly as Judge does
// afterwards, so the verdict on the stored run tells the same story.
// A Monitor is not safe for concurrent use (the engine calls OnWindow from
// one goroutine).
type Monitor struct {
	names    []string
	trackers []*tracker
	results  [][]WindowResult
	span     runSpan
	step     int64
	dec      hist.Decoder
	hists    []hist.Hist
	fired    string
}

// NewMonitor returns a monitor for the plan's budgets with an abort rule;
// names is the order of the windows the engine reports (the workload's
// request names), start the run's start. It returns nil when no budget has
// an abort rule.
func NewMonitor(slas []*lang.SLA, names []string, start time.Time) *Monitor {
	return newMonitor(slas, names, start, false)
}

// NewWatcher is NewMonitor for every windowed budget, with an abort rule
// or not, so that States tells each one's live state (only those with an
// abort rule stop the run). It returns nil when no budget is windowed.
func NewWatcher(slas []*lang.SLA, names []string, start time.Time) *Monitor {
	return newMonitor(slas, names, start, true)
}

func newMonitor(slas []*lang.SLA, names []string, start time.Time, all bool) *Monitor {
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	m := &Monitor{names: names, step: int64(lang.StatsWindow / time.Second), hists: make([]hist.Hist, len(names)),
		span: runSpan{Start: float64(start.UnixNano()) / 1e9, End: math.Inf(1)}}
	for _, s := range slas {
		if s.Window <= 0 || (s.AbortAfter <= 0 && !all) {
			continue
		}
		for _, subj := range Subjects(s, names) {
			m.trackers = append(m.trackers, newTracker(s, subj, index))
		}
	}
	if len(m.trackers) == 0 {
		return nil
	}
	m.results = make([][]WindowResult, len(m.trackers))
	return m
}

// SetStart sets the run's start, when it is known only once the run began.
func (m *Monitor) SetStart(start time.Time) {
	m.span.Start = float64(start.UnixNano()) / 1e9
}

// Window takes one finished window (start t, unix seconds; wins indexed
// like the monitor's names, nil for a name without requests). It returns
// the abort reason when an abort rule fires, once; "" otherwise.
func (m *Monitor) Window(t int64, wins []*result.Window) (string, error) {
	if m == nil || m.fired != "" {
		return "", nil
	}
	if len(wins) != len(m.names) {
		return "", fmt.Errorf("sla monitor: a window with %d names, want %d", len(wins), len(m.names))
	}
	decoded := make([]bool, len(wins))
	for ti, tr := range m.trackers {
		emit := func(r WindowResult) { m.results[ti] = append(m.results[ti], r) }
		tr.advance(tr.windowOf(t), m.span, emit)
		for _, i := range tr.names {
			w := wins[i]
			if w == nil || w.Count == 0 {
				continue
			}
			if !decoded[i] {
				if err := m.dec.Decode(w.Hist, &m.hists[i]); err != nil {
					return "", fmt.Errorf("sla monitor: %s: %w", m.names[i], err)
				}
				decoded[i] = true
			}
			tr.feed(t, &m.hists[i], w.Count, w.Failures, m.span, emit)
		}
		// The window's last 10 s are in: judge it now rather than when the next one starts.
		if t+m.step >= tr.cur+tr.w {
			tr.advance(tr.cur+tr.w, m.span, emit)
		}
		rs := m.results[ti]
		n := tr.sla.AbortAfter
		if n <= 0 || len(rs) < n {
			continue
		}
		if from, to, at, ok := streak(rs[len(rs)-n:], n); ok {
			m.fired = AbortReason(tr.sla, tr.subject, tr.limits, rs[len(rs)-n+at], from, to)
			return m.fired, nil
		}
	}
	return "", nil
}

// State is one windowed budget's live state: a limit of a subject, as the
// last judged window left it.
type State struct {
	Subject string // "all", "POST /checkout"
	Budget  string // the limit as the plan names it: "p95", "error_rate"
	Judged  bool   // a window was judged; OK means nothing before
	OK      bool   // the limit held on the last judged window
}

// States is every watched limit's live state, in the order of the plan's
// sla blocks and their limits.
func (m *Monitor) States() []State {
	if m == nil {
		return nil
	}
	var out []State
	for ti, tr := range m.trackers {
		var last *WindowResult
		for i := len(m.results[ti]) - 1; i >= 0; i-- {
			if m.results[ti][i].Judged {
				last = &m.results[ti][i]
				break
			}
		}
		for j, l := range tr.limits {
			st := State{Subject: tr.subject.Name, Budget: l.Name}
			if last != nil && j < len(last.Measures) {
				st.Judged, st.OK = true, !last.Measures[j].Breached
			}
			out = append(out, st)
		}
	}
	return out
}

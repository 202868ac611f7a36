package gates

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"lab/gates/hist"
	"lab/gates/regress"
	"lab/gates/sla"
	"lab/runtime/result"
)

// The regression compare's windows, and the p95s it needs from them.
//
// The compare works on a run's series of 10 s slots (those the run covers
// at least half of). When a request's windows are sparse (regress merges
// them in groups of regress.MergeWindows), it needs the p95 of each group
// too. Both come from one pass over the run's window histograms — the same
// pass as the SLA gate's windowed budgets — and are kept in Run.Extra, so a
// run judged once is never decoded again when it later serves as the
// baseline: on a 24-hour run, decoding is nearly all the work.

// WindowP95Key and GroupP95Key are where the p95s are kept in Run.Extra:
// by request name, per window in the order of its Windows, and per group of
// regress.MergeWindows consecutive series slots (µs; -1 when none).
const (
	WindowP95Key = "window_p95_us"
	GroupP95Key  = "group_p95_us"
)

// slotsOf lists the starts of the run's series slots and the seconds of
// the run inside each.
func slotsOf(run *result.Run) (starts []int64, secs []float64) {
	step := int64(run.WindowS)
	if step <= 0 {
		step = 10
	}
	start := float64(run.Start.UnixNano()) / 1e9
	end := float64(run.End.UnixNano()) / 1e9
	first := int64(math.Floor(start)) / step * step
	for t := first; float64(t) < end; t += step {
		s := min(float64(t+step), end) - max(float64(t), start)
		if s >= float64(step)/2 {
			starts = append(starts, t)
			secs = append(secs, s)
		}
	}
	return starts, secs
}

// sparse replicates regress's rule: a request is merged in groups when its
// typical window (median over windows with traffic) holds fewer than
// regress.MinWindowRequests requests.
func sparse(run *result.Run, name string, pos []int32) bool {
	q := run.RequestByName(name)
	if q == nil {
		return false
	}
	var counts []int64
	for k, w := range q.Windows {
		if pos == nil || pos[k] >= 0 {
			if w.Count > 0 {
				counts = append(counts, w.Count)
			}
		}
	}
	if len(counts) == 0 {
		return false
	}
	slices.Sort(counts)
	return counts[len(counts)/2] < regress.MinWindowRequests
}

// p95s holds one run's window p95s and, for the requests that need them,
// its group p95s.
type p95s struct {
	v   [][]float64 // per request, per window (NaN: no histogram)
	pos [][]int32   // per request, per window: its series slot, -1 outside the series
	g   [][]float64 // per request, per group (nil: not needed; NaN: not known)
	n   [][]int8    // per request, per group: windows with a histogram in it
	acc []*groups   // per request: groups being merged by a scan (nil: none)
}

// groups merges the windows of each group as a scan decodes them; a group
// is done when all its windows have been seen. Scans run in parallel:
// locks are striped by group.
type groups struct {
	locks [16]sync.Mutex
	seen  []int8
	hists []*hist.Hist
}

// newP95s prepares the p95s of run; other is the run it will be compared
// with (nil when not known yet): a request sparse in either needs groups.
func newP95s(run, other *result.Run) *p95s {
	starts, _ := slotsOf(run)
	index := make(map[int64]int32, len(starts))
	for i, t := range starts {
		index[t] = int32(i)
	}
	p := &p95s{v: make([][]float64, len(run.Requests)), pos: make([][]int32, len(run.Requests)),
		g: make([][]float64, len(run.Requests)), n: make([][]int8, len(run.Requests)), acc: make([]*groups, len(run.Requests))}
	ngroups := (len(starts) + regress.MergeWindows - 1) / regress.MergeWindows
	for i, q := range run.Requests {
		p.v[i] = make([]float64, len(q.Windows))
		p.pos[i] = make([]int32, len(q.Windows))
		for k, w := range q.Windows {
			p.v[i][k] = math.NaN()
			if s, ok := index[w.T]; ok {
				p.pos[i][k] = s
			} else {
				p.pos[i][k] = -1
			}
		}
		if !sparse(run, q.Name, p.pos[i]) && (other == nil || !sparse(other, q.Name, nil)) {
			continue
		}
		p.g[i] = make([]float64, ngroups)
		p.n[i] = make([]int8, ngroups)
		for g := range p.g[i] {
			p.g[i][g] = math.NaN()
		}
		for k, w := range q.Windows {
			if s := p.pos[i][k]; s >= 0 && w.Count > 0 && w.Hist != "" {
				p.n[i][s/regress.MergeWindows]++
			}
		}
		p.acc[i] = &groups{seen: make([]int8, ngroups), hists: make([]*hist.Hist, ngroups)}
	}
	return p
}

// hook records a window's p95, and merges it into its group when the
// request needs groups. Each window has its own slot in v.
func (p *p95s) hook(req, win int, h *hist.Hist) {
	if h.TotalCount() == 0 {
		return
	}
	p.v[req][win] = float64(h.ValueAtPercentile(95))
	a := p.acc[req]
	s := p.pos[req][win]
	if a == nil || s < 0 {
		return
	}
	g := int(s) / regress.MergeWindows
	mu := &a.locks[g%len(a.locks)]
	mu.Lock()
	defer mu.Unlock()
	if a.hists[g] == nil {
		a.hists[g] = h.Clone(2 * h.Buckets())
	} else {
		a.hists[g].Add(h)
	}
	if a.seen[g]++; a.seen[g] == p.n[req][g] {
		p.g[req][g] = float64(a.hists[g].ValueAtPercentile(95))
		a.hists[g] = nil
	}
}

func scanP95s(run, other *result.Run) (*p95s, error) {
	if p, ok := cachedP95s(run, other); ok {
		return p, nil
	}
	p := newP95s(run, other)
	if err := sla.Scan(run, p.hook); err != nil {
		return nil, err
	}
	p.store(run)
	return p, nil
}

// cachedP95s reads the p95s kept in run.Extra, if they fit the run. Group
// p95s missing for a request that needs them are merged again by the
// compare when it asks (see lazyHist).
func cachedP95s(run, other *result.Run) (*p95s, bool) {
	v, ok := readKept(run.Extra[WindowP95Key])
	if !ok {
		return nil, false
	}
	p := newP95s(run, other)
	for i, q := range run.Requests {
		vs, ok := v[q.Name]
		if !ok || len(vs) != len(q.Windows) {
			return nil, false
		}
		p.v[i] = vs
	}
	if g, ok := readKept(run.Extra[GroupP95Key]); ok {
		for i, q := range run.Requests {
			if gs, ok := g[q.Name]; ok && p.g[i] != nil && len(gs) == len(p.g[i]) {
				p.g[i] = gs
			}
		}
	}
	p.acc = make([]*groups, len(run.Requests))
	return p, true
}

// readKept reads a per-request list of µs kept in Run.Extra: as this
// process stored it, or as it came back from result.json.
func readKept(raw any) (map[string][]float64, bool) {
	out := map[string][]float64{}
	conv := func(v float64) float64 {
		if v < 0 {
			return math.NaN()
		}
		return v
	}
	switch m := raw.(type) {
	case map[string][]int64:
		for k, vs := range m {
			f := make([]float64, len(vs))
			for i, v := range vs {
				f[i] = conv(float64(v))
			}
			out[k] = f
		}
	case map[string]any:
		for k, v := range m {
			list, ok := v.([]any)
			if !ok {
				return nil, false
			}
			f := make([]float64, len(list))
			for i, x := range list {
				n, ok := x.(float64)
				if !ok {
					return nil, false
				}
				f[i] = conv(n)
			}
			out[k] = f
		}
	default:
		return nil, false
	}
	return out, true
}

// store keeps the p95s in run.Extra.
func (p *p95s) store(run *result.Run) {
	keep := func(lists [][]float64) map[string][]int64 {
		m := make(map[string][]int64, len(run.Requests))
		for i, q := range run.Requests {
			if lists[i] == nil {
				continue
			}
			vs := make([]int64, len(lists[i]))
			for k, v := range lists[i] {
				vs[k] = -1
				if !math.IsNaN(v) {
					vs[k] = int64(v)
				}
			}
			m[q.Name] = vs
		}
		return m
	}
	if run.Extra == nil {
		run.Extra = map[string]any{}
	}
	run.Extra[WindowP95Key] = keep(p.v)
	if g := keep(p.g); len(g) > 0 {
		run.Extra[GroupP95Key] = g
	}
}

// seriesOf turns a run into the regress package's per-request series: one
// window per series slot (the edges the run covers less than half of are
// shorter and noisier), empty slots included so that a stalled window
// counts as zero throughput.
func seriesOf(run *result.Run, ps *p95s, m *merger) map[string]*regress.Series {
	starts, secs := slotsOf(run)
	classes := map[string]map[string]int64{}
	for _, f := range run.Failures {
		if classes[f.Name] == nil {
			classes[f.Name] = map[string]int64{}
		}
		classes[f.Name][f.Reason] += f.Count
	}
	out := map[string]*regress.Series{}
	for i, q := range run.Requests {
		if q.Count == 0 {
			continue
		}
		// Open model: the arrivals offered to this request (those whose
		// pass starts with it) and those never sent, as the engine counted
		// them per window. Runs that did not count them (written before
		// lab did, or Locust's) have none: their offered load is unknown.
		s := &regress.Series{ErrorClasses: classes[q.Name], Windows: make([]regress.Window, len(starts)),
			Offered: run.Model == "open" && q.Offered != nil}
		for j := range starts {
			s.Windows[j].Seconds = secs[j]
		}
		for k, rw := range q.Windows {
			j := ps.pos[i][k]
			if j < 0 {
				continue
			}
			w := &s.Windows[j]
			w.Count, w.Errors, w.Timeouts = rw.Count, rw.Failures, min(rw.Timeouts, rw.Failures)
			if s.Offered {
				w.Scheduled, w.Unsent = rw.Offered, rw.Unsent
			}
			if p := ps.v[i][k]; !math.IsNaN(p) {
				w.P95 = p
				w.Hist = &lazyHist{req: i, slots: []int32{j}, encs: []string{rw.Hist}, ps: ps, m: m}
			}
		}
		out[q.Name] = s
	}
	return out
}

// lazyHist is a window's histogram, kept encoded: the compare needs
// histograms only to merge sparse windows, and then only the merged p95,
// which the scan has usually computed already.
type lazyHist struct {
	req   int
	slots []int32  // the series slots merged
	encs  []string // their histograms, encoded
	ps    *p95s
	m     *merger
}

// merger decodes merged windows into one reused accumulator (the compare
// calls P95 from one goroutine).
type merger struct {
	dec hist.Decoder
	acc hist.Acc
}

var _ regress.Hist = (*lazyHist)(nil)

// Merge returns a histogram of both, leaving both as they were.
func (l *lazyHist) Merge(o regress.Hist) regress.Hist {
	other, ok := o.(*lazyHist)
	if !ok {
		panic(fmt.Sprintf("gates: cannot merge a %T", o)) // only lazyHists are handed to regress
	}
	return &lazyHist{req: l.req, ps: l.ps, m: l.m,
		slots: append(slices.Clip(l.slots), other.slots...), encs: append(slices.Clip(l.encs), other.encs...)}
}

// P95 is the p95 of the merged windows: the group's, when they are exactly
// the windows of one group the scan merged; else decoded and merged now.
func (l *lazyHist) P95() float64 {
	if g := int(l.slots[0]) / regress.MergeWindows; l.ps.g[l.req] != nil {
		same := true
		for _, s := range l.slots {
			same = same && int(s)/regress.MergeWindows == g
		}
		if v := l.ps.g[l.req][g]; same && len(l.slots) == int(l.ps.n[l.req][g]) && !math.IsNaN(v) {
			return v
		}
	}
	l.m.acc.Reset()
	for _, e := range l.encs {
		if err := l.m.dec.AddTo(e, &l.m.acc); err != nil {
			// The scan decoded these same histograms before the compare began.
			panic(fmt.Sprintf("gates: a histogram that decoded once no longer does: %v", err))
		}
	}
	return float64(l.m.acc.ValueAtPercentile(95))
}

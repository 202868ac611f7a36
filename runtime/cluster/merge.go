package cluster

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"lab/lang"
	"lab/runtime/result"
	"lab/runtime/tally"
)

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// secAcc merges one second across workers: counts add up, histograms merge
// (percentiles are never averaged).
type secAcc struct {
	sec    result.Second
	counts [][2]int64
	hist   *hdrhistogram.Histogram
	done   bool
}

func newSecAcc(names int) *secAcc { return &secAcc{counts: make([][2]int64, names)} }

// add merges a worker's second; its histogram only while the second's
// percentiles are still to be computed (withHist).
func (a *secAcc) add(s *Second, withHist bool) {
	a.sec.Users += s.Users
	a.sec.Requests += s.Requests
	a.sec.Failures += s.Failures
	a.sec.Arrivals += s.Arrivals
	a.sec.Waited += s.Waited
	a.sec.InFlight += s.InFlight
	a.sec.Rate = max(a.sec.Rate, s.Rate) // each worker reports the shape's rate, not its part
	for i, c := range s.Counts {
		a.counts[i][0] += c[0]
		a.counts[i][1] += c[1]
	}
	if !withHist || a.done || s.Hist == "" {
		return
	}
	h, err := result.Decode(s.Hist)
	if err != nil {
		return // DecodeSync let it through; the counts still hold
	}
	if a.hist == nil {
		a.hist = h
		return
	}
	_ = result.Merge(a.hist, h)
}

// finish computes the second's percentiles and frees its histogram.
func (a *secAcc) finish(t int64) tally.SecondStats {
	a.sec.T = t
	if a.hist != nil && !a.done {
		a.sec.P50, a.sec.P95 = a.hist.ValueAtPercentile(50), a.hist.ValueAtPercentile(95)
		a.sec.P99, a.sec.Max = a.hist.ValueAtPercentile(99), a.hist.Max()
		a.hist = nil
	}
	a.done = true
	return tally.SecondStats{T: t, Counts: a.counts, Requests: a.sec.Requests, Failures: a.sec.Failures, Offered: a.sec.Arrivals,
		P50: a.sec.P50, P95: a.sec.P95, P99: a.sec.P99, Max: a.sec.Max}
}

// winAcc merges one window across workers for the live abort rules.
type winAcc struct {
	names []*result.Window
	resp  []*hdrhistogram.Histogram
	svc   []*hdrhistogram.Histogram
}

func newWinAcc(names int) *winAcc {
	return &winAcc{names: make([]*result.Window, names), resp: make([]*hdrhistogram.Histogram, names), svc: make([]*hdrhistogram.Histogram, names)}
}

func (a *winAcc) add(w *Window) {
	for i, q := range w.Names {
		if q == nil {
			continue
		}
		if a.names[i] == nil {
			a.names[i] = &result.Window{T: w.T}
		}
		addWindow(a.names[i], q)
		mergeInto(&a.resp[i], q.Hist)
		mergeInto(&a.svc[i], q.SvcHist)
	}
}

func (a *winAcc) stats(t int64, names []string) tally.WindowStats {
	ws := tally.WindowStats{T: t, Names: a.names}
	for i, q := range a.names {
		if q == nil {
			continue
		}
		q.Hist, q.SvcHist = encode(a.resp[i]), encode(a.svc[i])
	}
	return ws
}

// addWindow adds q's counts to w.
func addWindow(w, q *result.Window) {
	w.Count += q.Count
	w.Failures += q.Failures
	w.Timeouts += q.Timeouts
	w.Bytes += q.Bytes
	w.Offered += q.Offered
	w.Unsent += q.Unsent
}

// mergeInto merges an encoded histogram into *h (made on first use).
func mergeInto(h **hdrhistogram.Histogram, enc string) error {
	if enc == "" {
		return nil
	}
	d, err := result.Decode(enc)
	if err != nil {
		return err
	}
	if *h == nil {
		*h = d
		return nil
	}
	return result.Merge(*h, d)
}

func encode(h *hdrhistogram.Histogram) string {
	if h == nil {
		return ""
	}
	s, _ := result.Encode(h)
	return s
}

// assemble merges every worker's part into the Run: the final Runs of the
// workers that finished, and for a lost worker what its windows hold.
func (m *Master) assemble() (*result.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var parts []*result.Run
	for _, mb := range m.members {
		switch {
		case mb.me < 0:
		case mb.final != nil:
			parts = append(parts, mb.final)
		default:
			parts = append(parts, m.partial(mb))
		}
	}
	if len(parts) == 0 {
		return nil, errNoWorkers
	}
	run, err := mergeRuns(m.cfg.Plan, parts)
	if err != nil {
		return nil, err
	}
	run.Start = m.start.UTC()
	// The run ends when the shape (or the stop) and the grace do, whatever
	// a worker's own clock said: req/s divide by this.
	limit := m.start.Add(m.cfg.Plan.Shape.Duration() + m.cfg.Order.Grace)
	if !m.stoppedAt.IsZero() && m.stoppedAt.Add(m.cfg.Order.Grace).Before(limit) {
		limit = m.stoppedAt.Add(m.cfg.Order.Grace)
	}
	if run.End.After(limit) {
		run.End = limit.UTC()
	}
	run.Seconds, run.Workers = m.seconds(), len(parts)
	m.perSec(run)
	run.WorkerLog = m.workerLog()
	m.status(run, parts)
	return run, nil
}

// seconds is the merged per-second series.
func (m *Master) seconds() []result.Second {
	out := []result.Second{}
	for _, t := range slices.Sorted(maps.Keys(m.secs)) {
		acc := m.secs[t]
		acc.finish(t)
		if acc.sec.Requests == 0 && acc.sec.Arrivals == 0 && acc.sec.Users == 0 && acc.sec.Failures == 0 {
			continue
		}
		out = append(out, acc.sec)
	}
	return out
}

// perSec sets each request's per-second counts from the merged seconds.
func (m *Master) perSec(run *result.Run) {
	startSec := m.start.Unix()
	for i, name := range m.names {
		q := run.RequestByName(name)
		if q == nil {
			continue
		}
		q.PerSec = nil
		for _, t := range slices.Sorted(maps.Keys(m.secs)) {
			if c := m.secs[t].counts[i]; c[0] != 0 || c[1] != 0 {
				q.PerSec = append(q.PerSec, [3]int{int(t - startSec), int(c[0]), int(c[1])})
			}
		}
	}
}

// status says how the merged run ended: failed (a worker lost under
// "fail"), else the worst of the workers' own endings.
func (m *Master) status(run *result.Run, parts []*result.Run) {
	run.Status = result.Complete
	rank := map[result.Status]int{result.Complete: 0, result.Aborted: 1, result.Interrupted: 2, result.Invalid: 3, result.Failed: 4}
	for _, p := range parts {
		if rank[p.Status] > rank[run.Status] {
			run.Status, run.Reason = p.Status, p.Reason
		}
	}
	switch {
	case m.failed != "":
		run.Status, run.Reason = result.Failed, m.failed
	case m.interrupt && rank[run.Status] < rank[result.Interrupted]:
		run.Status, run.Reason = result.Interrupted, m.stopWhy
	case m.stopWhy != "" && run.Status == result.Complete:
		run.Status, run.Reason = result.Aborted, m.stopWhy
	}
	if run.Generator.Saturated && rank[run.Status] < rank[result.Invalid] {
		run.Status, run.Reason = result.Invalid, run.Generator.Why
	}
}

// partial is a lost worker's part: what its windows hold, and the
// seconds it reported after them (its trail). What it did after its last
// report is not known: Master.lose counts it as lost (open model).
func (m *Master) partial(mb *member) *result.Run {
	run := &result.Run{Model: m.cfg.Plan.Shape.Model.String(), Failures: []result.Failure{}}
	open := m.cfg.Plan.Shape.Model == lang.Open
	byName := map[string]*result.Request{}
	resp := map[string]*hdrhistogram.Histogram{}
	svc := map[string]*hdrhistogram.Histogram{}
	for _, name := range m.names {
		q := &result.Request{Name: name, Windows: []result.Window{}}
		if open {
			q.Offered = new(int64)
		}
		byName[name] = q
		run.Requests = append(run.Requests, q)
	}
	fails := map[[2]string]int64{}
	for _, w := range mb.windows {
		for i, qw := range w.Names {
			if qw == nil {
				continue
			}
			q := byName[m.names[i]]
			q.Count += qw.Count
			q.Failures += qw.Failures
			q.Timeouts += qw.Timeouts
			q.Bytes += qw.Bytes
			if open {
				*q.Offered += qw.Offered
				q.Unsent += qw.Unsent
			}
			q.Windows = append(q.Windows, *qw)
			r, s := resp[q.Name], svc[q.Name]
			_ = mergeInto(&r, qw.Hist)
			_ = mergeInto(&s, qw.SvcHist)
			resp[q.Name], svc[q.Name] = r, s
		}
		for _, f := range w.Failures {
			fails[[2]string{f.Name, f.Reason}] += f.Count
		}
	}
	m.addTrail(mb, byName, resp, fails)
	for _, q := range run.Requests {
		q.Hist, q.SvcHist = encode(resp[q.Name]), encode(svc[q.Name])
		sent := q.Count
		q.Sent = &sent
		if open {
			run.Generator.Scheduled += *q.Offered
			run.Generator.Unsent += q.Unsent
		}
	}
	run.Generator.Sent = run.Generator.Scheduled - run.Generator.Unsent
	run.Generator.Lost = mb.lostArrivals
	for k, n := range fails {
		run.Failures = append(run.Failures, result.Failure{Name: k[0], Reason: k[1], Count: n})
	}
	for _, u := range m.cfg.Plan.Workload.Users {
		run.Classes = append(run.Classes, result.Class{Name: u.Name})
	}
	run.Status = result.Complete
	run.End = mb.left.UTC()
	return run
}

// mergeRuns merges the workers' Runs of one plan: counts add up,
// histograms merge without loss, windows line up on the wall clock.
func mergeRuns(plan *lang.Plan, parts []*result.Run) (*result.Run, error) {
	first := parts[0]
	run := &result.Run{Schema: result.Schema, Plan: first.Plan, Model: plan.Shape.Model.String(), WindowS: int(tally.Window / time.Second),
		Failures: []result.Failure{}}
	for _, p := range parts {
		if p.Schema != "" {
			run.Plan = p.Plan
			break
		}
	}
	var err error
	if run.Requests, err = mergeRequests(plan.Workload.Requests, parts); err != nil {
		return nil, err
	}
	fails := map[[2]string]int64{}
	classes := make([]result.Class, len(plan.Workload.Users))
	for i, u := range plan.Workload.Users {
		classes[i].Name = u.Name
	}
	for _, p := range parts {
		run.End = maxTime(run.End, p.End)
		for _, f := range p.Failures {
			fails[[2]string{f.Name, f.Reason}] += f.Count
		}
		for i, c := range p.Classes {
			if i < len(classes) {
				classes[i].PeakUsers += c.PeakUsers
				classes[i].Passes += c.Passes
			}
		}
		mergeGenerator(&run.Generator, &p.Generator)
	}
	run.Classes = classes
	if run.Measures, err = mergeMeasures(plan, parts); err != nil {
		return nil, err
	}
	for _, k := range slices.SortedFunc(maps.Keys(fails), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(fails[b], fails[a]), cmp.Compare(a[1], b[1]))
	}) {
		run.Failures = append(run.Failures, result.Failure{Name: k[0], Reason: k[1], Count: fails[k]})
	}
	return run, nil
}

// mergeMeasures adds up the workers' measures, by the plan's names: counts
// and sums add, extremes are the extremes, histograms merge without loss.
func mergeMeasures(plan *lang.Plan, parts []*result.Run) ([]*result.Measure, error) {
	var out []*result.Measure
	for _, pm := range plan.Measures {
		m := &result.Measure{Name: pm.Name}
		h := result.NewMeasureHist()
		for _, p := range parts {
			w := p.MeasureByName(pm.Name)
			if w == nil {
				continue
			}
			if w.Count > 0 {
				if m.Count == 0 || w.Min < m.Min {
					m.Min = w.Min
				}
				m.Max = max(m.Max, w.Max)
			}
			m.Count += w.Count
			m.Sum += w.Sum
			m.Missing += w.Missing
			if w.LastMissing != "" {
				m.LastMissing = w.LastMissing
			}
			d, err := result.DecodeMeasure(w.Hist)
			if err != nil {
				return nil, fmt.Errorf("measure %s: %w", pm.Name, err)
			}
			if err := result.Merge(h, d); err != nil {
				return nil, fmt.Errorf("measure %s: %w", pm.Name, err)
			}
		}
		enc, err := result.Encode(h)
		if err != nil {
			return nil, err
		}
		m.Hist = enc
		if m.Windows, err = mergeMeasureWindows(pm.Name, parts); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// mergeMeasureWindows adds up the workers' windows of measure name, window
// by window (the workers' windows share the wall clock's grid).
func mergeMeasureWindows(name string, parts []*result.Run) ([]result.MeasureWindow, error) {
	type acc struct {
		count int64
		sum   float64
		h     *hdrhistogram.Histogram
	}
	byT := map[int64]*acc{}
	for _, p := range parts {
		pm := p.MeasureByName(name)
		if pm == nil {
			continue
		}
		for _, w := range pm.Windows {
			d, err := result.DecodeMeasure(w.Hist)
			if err != nil {
				return nil, fmt.Errorf("measure %s, window %d: %w", name, w.T, err)
			}
			a := byT[w.T]
			if a == nil {
				a = &acc{h: result.NewMeasureHist()}
				byT[w.T] = a
			}
			if err := result.Merge(a.h, d); err != nil {
				return nil, fmt.Errorf("measure %s, window %d: %w", name, w.T, err)
			}
			a.count += w.Count
			a.sum += w.Sum
		}
	}
	var out []result.MeasureWindow
	for _, t := range slices.Sorted(maps.Keys(byT)) {
		a := byT[t]
		enc, err := result.Encode(a.h)
		if err != nil {
			return nil, err
		}
		out = append(out, result.MeasureWindow{T: t, Count: a.count, Sum: a.sum, Hist: enc})
	}
	return out, nil
}

// mergeGenerator adds a worker's generator figures: counts add up; the
// lag is the worst worker's (a p99 cannot be merged without the
// histograms, and the worst one is what can invalidate the run).
func mergeGenerator(g, p *result.Generator) {
	g.Scheduled += p.Scheduled
	g.Sent += p.Sent
	g.Unsent += p.Unsent
	g.Lost += p.Lost
	g.Waited += p.Waited
	g.CPUSecs += p.CPUSecs
	g.LagP99US = max(g.LagP99US, p.LagP99US)
	g.LagMaxUS = max(g.LagMaxUS, p.LagMaxUS)
	if p.CPUBusyS > g.CPUBusyS || p.CPUBusyS == g.CPUBusyS && p.CPUPeak > g.CPUPeak {
		g.CPUs, g.CPUBusyS, g.CPUPeak = p.CPUs, p.CPUBusyS, p.CPUPeak
	}
	if p.Saturated && !g.Saturated {
		g.Saturated, g.Why = true, p.Why
	}
}

func mergeRequests(names []string, parts []*result.Run) ([]*result.Request, error) {
	var out []*result.Request
	for _, name := range slices.Sorted(slices.Values(names)) {
		q := &result.Request{Name: name, Windows: []result.Window{}}
		var resp, svc *hdrhistogram.Histogram
		wins := map[int64]*result.Window{}
		winResp := map[int64]*hdrhistogram.Histogram{}
		winSvc := map[int64]*hdrhistogram.Histogram{}
		var sent int64
		for _, p := range parts {
			pq := p.RequestByName(name)
			if pq == nil {
				continue
			}
			addRequest(q, pq)
			sent += pq.Count
			if pq.Sent != nil {
				sent += *pq.Sent - pq.Count
			}
			if err := mergeInto(&resp, pq.Hist); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if err := mergeInto(&svc, pq.SvcHist); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for _, w := range pq.Windows {
				acc := wins[w.T]
				if acc == nil {
					acc = &result.Window{T: w.T}
					wins[w.T] = acc
				}
				addWindow(acc, &w)
				r, s := winResp[w.T], winSvc[w.T]
				if err := mergeInto(&r, w.Hist); err != nil {
					return nil, fmt.Errorf("%s, window %d: %w", name, w.T, err)
				}
				if err := mergeInto(&s, w.SvcHist); err != nil {
					return nil, fmt.Errorf("%s, window %d: %w", name, w.T, err)
				}
				winResp[w.T], winSvc[w.T] = r, s
			}
		}
		q.Sent = &sent
		q.Hist, q.SvcHist = encode(resp), encode(svc)
		q.Response, q.Service = summarize(resp), summarize(svc)
		for _, t := range slices.Sorted(maps.Keys(wins)) {
			w := wins[t]
			w.Hist, w.SvcHist = encode(winResp[t]), encode(winSvc[t])
			q.Windows = append(q.Windows, *w)
		}
		out = append(out, q)
	}
	return out, nil
}

func addRequest(q, p *result.Request) {
	q.Count += p.Count
	q.Failures += p.Failures
	q.Timeouts += p.Timeouts
	q.Bytes += p.Bytes
	q.CutOff += p.CutOff
	q.Late += p.Late
	q.Unsent += p.Unsent
	q.Skipped += p.Skipped
	q.Redirects += p.Redirects
	if p.Offered != nil {
		if q.Offered == nil {
			q.Offered = new(int64)
		}
		*q.Offered += *p.Offered
	}
}

func summarize(h *hdrhistogram.Histogram) result.Summary {
	if h == nil {
		return result.Summary{}
	}
	return result.Summarize(h)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// trailFailure is the reason given to a lost worker's failures reported in
// its trail: seconds carry counts, not reasons.
const trailFailure = "not reported (the worker was lost before its window closed)"

// addTrail adds to a lost worker's part the seconds it reported after its
// last window, as windows of their own (no histograms: seconds carry one
// for all names). In the open model a second's arrivals are not split by
// name: they go to the names as its windows' were offered (else as its
// requests were); what a name was offered beyond what it sent is unsent.
func (m *Master) addTrail(mb *member, byName map[string]*result.Request, resp map[string]*hdrhistogram.Histogram, fails map[[2]string]int64) {
	if len(mb.trail) == 0 {
		return
	}
	open := m.cfg.Plan.Shape.Model == lang.Open
	// A second's histogram holds every name's requests together: its
	// samples are dealt to the names in turn, as many as each completed,
	// so every counted request has a latency (a name's latencies in a lost
	// worker's trail are then approximate where several names ran).
	winHist := map[int64][]*hdrhistogram.Histogram{}
	for t, s := range mb.trail {
		h, err := result.Decode(s.Hist)
		if err != nil || s.Hist == "" {
			continue
		}
		wt := t - t%int64(tally.Window/time.Second)
		if winHist[wt] == nil {
			winHist[wt] = make([]*hdrhistogram.Histogram, len(m.names))
		}
		name, left := 0, int64(0)
		if len(s.Counts) > 0 {
			left = s.Counts[0][0]
		}
		for _, bar := range h.Distribution() {
			for n := bar.Count; n > 0; {
				for left == 0 && name < len(s.Counts)-1 {
					name++
					left = s.Counts[name][0]
				}
				if left == 0 {
					break
				}
				k := min(n, left)
				if winHist[wt][name] == nil {
					winHist[wt][name] = result.NewHist()
				}
				_ = winHist[wt][name].RecordValues(bar.To, k)
				if resp[m.names[name]] == nil {
					resp[m.names[name]] = result.NewHist()
				}
				_ = resp[m.names[name]].RecordValues(bar.To, k)
				n -= k
				left -= k
			}
		}
	}
	width := int64(tally.Window / time.Second)
	weight := make([]int64, len(m.names))
	room := make([]int64, len(m.names)) // how many more arrivals each name may be offered
	for i, name := range m.names {
		q := byName[name]
		if q.Offered != nil {
			weight[i] = *q.Offered
			room[i] = -(*q.Offered - q.Unsent)
		}
	}
	if slices.Max(weight) == 0 {
		for _, s := range mb.trail {
			for i, c := range s.Counts {
				weight[i] += c[0]
			}
		}
	}
	wins := map[int64][]result.Window{}
	for _, t := range slices.Sorted(maps.Keys(mb.trail)) {
		s := mb.trail[t]
		wt := t - t%width
		if wins[wt] == nil {
			wins[wt] = make([]result.Window, len(m.names))
		}
		for i, c := range s.Counts {
			wins[wt][i].Count += c[0]
			wins[wt][i].Failures += c[1]
			room[i] += c[0]
			if c[1] > 0 {
				fails[[2]string{m.names[i], trailFailure}] += c[1]
			}
		}
	}
	if open {
		// Share each window's arrivals by weight (largest remainders).
		var total int64
		for _, w := range weight {
			total += w
		}
		var over int64
		for _, wt := range slices.Sorted(maps.Keys(wins)) {
			var due int64
			for t, s := range mb.trail {
				if t-t%width == wt {
					due += s.Arrivals
				}
			}
			for i, n := range split(due, weight, total) {
				give := min(n, max(0, room[i]))
				wins[wt][i].Offered, wins[wt][i].Unsent = n, n-give
				room[i] -= give
				over += n - give
			}
		}
		// Arrivals beyond what a name sent were in flight at its last
		// report, or never sent: unsent in the Run (the merged seconds
		// and the live figures already hold them as due), and lost too,
		// since the target may have had them.
		mb.lostArrivals += over
	}
	for _, wt := range slices.Sorted(maps.Keys(wins)) {
		for i, w := range wins[wt] {
			if w.Count == 0 && w.Offered == 0 {
				continue
			}
			q := byName[m.names[i]]
			w.T = wt
			if hs := winHist[wt]; hs != nil {
				w.Hist = encode(hs[i])
			}
			q.Count += w.Count
			q.Failures += w.Failures
			if open {
				*q.Offered += w.Offered
				q.Unsent += w.Unsent
			}
			q.Windows = append(q.Windows, w)
		}
	}
}

// split shares n out by weight (total their sum), largest remainders
// first; all to the first name when nothing weighs.
func split(n int64, weight []int64, total int64) []int64 {
	out := make([]int64, len(weight))
	if len(out) == 0 {
		return out
	}
	if total <= 0 {
		out[0] = n
		return out
	}
	left := n
	rem := make([]int64, len(weight))
	for i, w := range weight {
		out[i] = n * w / total
		rem[i] = n * w % total
		left -= out[i]
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
	}
	return out
}

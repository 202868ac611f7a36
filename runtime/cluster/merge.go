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

// take removes a lost worker's second from the counts (its histogram
// stays: those requests did happen).
func (a *secAcc) take(s *Second) {
	a.sec.Users -= s.Users
	a.sec.Requests -= s.Requests
	a.sec.Failures -= s.Failures
	a.sec.Arrivals -= s.Arrivals
	a.sec.Waited -= s.Waited
	a.sec.InFlight -= s.InFlight
	for i, c := range s.Counts {
		a.counts[i][0] -= c[0]
		a.counts[i][1] -= c[1]
	}
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

// partial is a lost worker's part: what its windows hold. Its requests
// after its last window are not known, and not counted.
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
	for _, k := range slices.SortedFunc(maps.Keys(fails), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(fails[b], fails[a]), cmp.Compare(a[1], b[1]))
	}) {
		run.Failures = append(run.Failures, result.Failure{Name: k[0], Reason: k[1], Count: fails[k]})
	}
	return run, nil
}

// mergeGenerator adds a worker's generator figures: counts add up; the
// lag is the worst worker's (a p99 cannot be merged without the
// histograms, and the worst one is what can invalidate the run).
func mergeGenerator(g, p *result.Generator) {
	g.Scheduled += p.Scheduled
	g.Sent += p.Sent
	g.Unsent += p.Unsent
	g.Waited += p.Waited
	g.CPUSecs += p.CPUSecs
	g.LagP99US = max(g.LagP99US, p.LagP99US)
	g.LagMaxUS = max(g.LagMaxUS, p.LagMaxUS)
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

// Package tally records what a run's requests did, as the load engine sends
// them: per request name, counters per second and HDR histograms of latency
// per 10-second window aligned to the wall clock, kept encoded. Recording is
// sharded so that users on different cores do not contend, and bounded in
// memory however long the run (a window costs ~100 bytes to ~2 KB encoded).
package tally

import (
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"lab/runtime/result"
)

// Window is the length of the histogram windows. Windows start on wall-clock
// multiples of it, so windows from different workers and runs line up.
const Window = 10 * time.Second

// maxReasons bounds the distinct failure reasons kept per request name; the
// rest count under "other".
const maxReasons = 64

// Outcome is one finished request, as the engine reports it.
type Outcome struct {
	Name     int           // index into the recorder's names
	At       time.Duration // when it finished, since the run's start
	Response time.Duration // from the intended send (open model) or the send
	Service  time.Duration // from the actual send
	Failed   bool
	Timeout  bool
	CutOff   bool   // in flight when the grace period ended (a failure)
	Reason   string // why it failed
	Bytes    int64  // response body bytes
}

// Recorder collects outcomes from many goroutines. Each goroutine records
// into one shard (by user or executor number); the collector merges the
// shards' finished seconds and windows once a second.
type Recorder struct {
	names     []string
	startUnix int64 // wall-clock nanoseconds at At = 0
	shards    []*shard
	// openSec and openWin are the first second and window not yet closed:
	// everything before them has been handed out, so an outcome that
	// finished before them (its goroutine was held up between stamping and
	// recording it) is counted in them instead, and as late.
	openSec, openWin atomic.Int64

	// offered is set when the recorder counts offered arrivals (Offer).
	offered bool
	// secHists is set when finished seconds carry their encoded histogram.
	secHists bool

	mu       sync.Mutex // the collector's state below
	reqs     []*reqAcc
	pendWin  map[int64]*mergedWindow
	pendSec  map[int64]*mergedSecond
	failures map[failKey]int64
	free     hdrPool
}

type failKey struct {
	name   int
	reason string
}

type reqAcc struct {
	count, failures, timeouts, bytes, late, cutOff int64
	offered, unsent                                int64
	resp, svc                                      *hdrhistogram.Histogram
	windows                                        []result.Window
	perSec                                         [][3]int
}

// nameWin is one request name's accumulation over one window in one shard.
// Its histograms are taken at its first outcome (a window may hold only
// offered arrivals).
type nameWin struct {
	count, failures, timeouts, bytes, late, cutOff int64
	offered, unsent                                int64
	resp, svc                                      *hdrhistogram.Histogram
	// reasons counts failures by reason in this window, so that a window
	// handed out (to a master, say) carries the reasons of exactly the
	// failures it counts.
	reasons map[string]int64
}

type shardWindow struct {
	index int64
	names []*nameWin
}

type shardSecond struct {
	index   int64
	counts  [][2]int64 // per name: count, failures
	offered int64      // arrivals due in it (open model)
	hist    *hdrhistogram.Histogram
}

type shard struct {
	mu      sync.Mutex
	win     shardWindow
	sec     shardSecond
	doneWin []shardWindow
	doneSec []shardSecond
	seen    map[failKey]bool // reasons met so far, per name
	reasons map[int]int      // distinct reasons per name, to bound them
	free    *hdrPool
	_       [64]byte // keep shards on separate cache lines
}

// hdrPool recycles histograms: each is ~136 KB, and windows rotate often.
type hdrPool struct {
	mu   sync.Mutex
	list []*hdrhistogram.Histogram
}

func (p *hdrPool) get() *hdrhistogram.Histogram {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.list); n > 0 {
		h := p.list[n-1]
		p.list = p.list[:n-1]
		return h
	}
	return result.NewHist()
}

func (p *hdrPool) put(h *hdrhistogram.Histogram) {
	if h == nil {
		return
	}
	h.Reset()
	p.mu.Lock()
	p.list = append(p.list, h)
	p.mu.Unlock()
}

// NewRecorder returns a recorder for the named requests; start is the run's
// start (At = 0) and shards the number of independent recording slots.
func NewRecorder(names []string, start time.Time, shards int) *Recorder {
	if shards < 1 {
		shards = 1
	}
	r := &Recorder{
		names:     append([]string(nil), names...),
		startUnix: start.UnixNano(),
		pendWin:   map[int64]*mergedWindow{},
		pendSec:   map[int64]*mergedSecond{},
		failures:  map[failKey]int64{},
	}
	for range names {
		r.reqs = append(r.reqs, &reqAcc{resp: result.NewHist(), svc: result.NewHist()})
	}
	for i := 0; i < shards; i++ {
		s := &shard{seen: map[failKey]bool{}, reasons: map[int]int{}, free: &r.free}
		s.win = shardWindow{index: -1, names: make([]*nameWin, len(names))}
		s.sec = shardSecond{index: -1, counts: make([][2]int64, len(names))}
		r.shards = append(r.shards, s)
	}
	return r
}

// Names are the request names, in index order.
func (r *Recorder) Names() []string { return r.names }

// indexes returns the wall-clock second and window an instant falls in.
func (r *Recorder) indexes(at time.Duration) (sec, win int64) {
	wall := r.startUnix + int64(at)
	return wall / int64(time.Second), wall / int64(Window)
}

// Record adds an outcome through shard i (taken modulo the shard count).
func (r *Recorder) Record(i int, o *Outcome) {
	s := r.shards[i%len(r.shards)]
	sec, win := r.indexes(o.At)
	resp := result.ClampUS(int64(o.Response / time.Microsecond))
	svc := result.ClampUS(int64(o.Service / time.Microsecond))

	s.mu.Lock()
	// Subtleness ahead: an outcome stamped just before a boundary may be
	// recorded after the collector closed that second or window; it then
	// counts in the first open one, never in a closed one (a shard that had
	// recorded nothing yet would otherwise open a second entry for it). The
	// watermarks are read under the shard's lock, which the collector takes
	// after raising them.
	late := false
	if open := r.openSec.Load(); sec < open {
		sec, late = open, true
	}
	if open := r.openWin.Load(); win < open {
		win, late = open, true
	}
	if sec > s.sec.index {
		s.rotateSecond(sec)
	}
	if win > s.win.index {
		s.rotateWindow(win)
	}
	nw := s.win.names[o.Name]
	if nw == nil {
		nw = &nameWin{}
		s.win.names[o.Name] = nw
	}
	if nw.resp == nil {
		nw.resp, nw.svc = s.free.get(), s.free.get()
	}
	nw.count++
	nw.bytes += o.Bytes
	if late {
		nw.late++
	}
	_ = nw.resp.RecordValue(resp)
	_ = nw.svc.RecordValue(svc)
	c := &s.sec.counts[o.Name]
	c[0]++
	if s.sec.hist == nil {
		s.sec.hist = s.free.get()
	}
	_ = s.sec.hist.RecordValue(resp)
	if o.Failed {
		nw.failures++
		c[1]++
		if o.Timeout {
			nw.timeouts++
		}
		if o.CutOff {
			nw.cutOff++
		}
		k := failKey{o.Name, o.Reason}
		if !s.seen[k] {
			if s.reasons[o.Name] >= maxReasons {
				k.reason = "other"
			} else {
				s.reasons[o.Name]++
				s.seen[k] = true
			}
		}
		if nw.reasons == nil {
			nw.reasons = map[string]int64{}
		}
		nw.reasons[k.reason]++
	}
	s.mu.Unlock()
}

// CountOffered makes the recorder count offered arrivals (the open
// model): every request then says how many it was offered, zero included.
func (r *Recorder) CountOffered() { r.offered = true }

// Marks are the first second and window (unix seconds) not yet handed out
// by Collect: everything before them has been.
func (r *Recorder) Marks() (sec, win int64) {
	return r.openSec.Load(), r.openWin.Load() * int64(Window/time.Second)
}

// KeepSecondHists makes every finished second carry its encoded histogram.
func (r *Recorder) KeepSecondHists() { r.secHists = true }

// Offer counts, through shard i, an arrival due at at whose pass starts
// with request name: offered in the second and window it was due in (or
// the first open ones, if those are closed), and unsent if it was never
// sent.
func (r *Recorder) Offer(i, name int, at time.Duration, unsent bool) {
	s := r.shards[i%len(r.shards)]
	sec, win := r.indexes(at)
	s.mu.Lock()
	if open := r.openSec.Load(); sec < open {
		sec = open
	}
	if open := r.openWin.Load(); win < open {
		win = open
	}
	if sec > s.sec.index {
		s.rotateSecond(sec)
	}
	s.sec.offered++
	if win > s.win.index {
		s.rotateWindow(win)
	}
	nw := s.win.names[name]
	if nw == nil {
		nw = &nameWin{}
		s.win.names[name] = nw
	}
	nw.offered++
	if unsent {
		nw.unsent++
	}
	s.mu.Unlock()
}

func (s *shard) rotateSecond(to int64) {
	if s.sec.index >= 0 {
		s.doneSec = append(s.doneSec, s.sec)
	}
	s.sec = shardSecond{index: to, counts: make([][2]int64, len(s.sec.counts))}
}

func (s *shard) rotateWindow(to int64) {
	if s.win.index >= 0 {
		s.doneWin = append(s.doneWin, s.win)
	}
	s.win = shardWindow{index: to, names: make([]*nameWin, len(s.win.names))}
}

type mergedWindow struct {
	names []*nameWin
}

type mergedSecond struct {
	counts  [][2]int64
	offered int64
	hist    *hdrhistogram.Histogram
}

// SecondStats is a finished second, as the collector hands it out.
type SecondStats struct {
	T        int64      // unix seconds
	Counts   [][2]int64 // per name: completed, failed
	Requests int64
	Failures int64
	Offered  int64 // arrivals due in it (open model)
	P50, P95 int64 // µs, all requests of the second
	P99, Max int64
	// Hist is the response times of all requests of the second, encoded
	// (empty when none, or unless KeepSecondHists was called): what a
	// master merges into exact run-wide percentiles per second.
	Hist string
}

// WindowStats is a finished window: each request name's figures over it,
// indexed like the recorder's names (nil where a name had no request).
type WindowStats struct {
	T     int64 // window start, unix seconds
	Names []*result.Window
	// Failures counts the window's failures by name and reason.
	Failures []result.Failure
}

// Collect closes every second and window that ended before now, merges the
// shards' data and returns the finished seconds and windows in order. Call
// it from one goroutine, about once a second; call it with final set at the
// end of the run to close everything.
func (r *Recorder) Collect(now time.Duration, final bool) ([]SecondStats, []WindowStats) {
	nowSec, nowWin := r.indexes(now)
	if final {
		nowSec, nowWin = nowSec+1, nowWin+1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Raise the watermarks before visiting the shards: a record that takes
	// a shard's lock after the visit then sees them.
	if nowSec > r.openSec.Load() {
		r.openSec.Store(nowSec)
	}
	if nowWin > r.openWin.Load() {
		r.openWin.Store(nowWin)
	}
	for _, s := range r.shards {
		doneSec, doneWin := r.takeDone(s, nowSec, nowWin)
		r.mergeSeconds(doneSec)
		r.mergeWindows(doneWin)
	}
	// Every shard is now past nowSec/nowWin: everything before is final.
	wins := r.finishedWindows(nowWin)
	return r.finishedSeconds(nowSec), wins
}

// takeDone closes the shard's second and window when they ended before
// nowSec and nowWin, and takes what the shard finished and its failure
// counts, holding its lock only for that.
func (r *Recorder) takeDone(s *shard, nowSec, nowWin int64) ([]shardSecond, []shardWindow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sec.index >= 0 && s.sec.index < nowSec {
		s.rotateSecond(nowSec)
	}
	if s.win.index >= 0 && s.win.index < nowWin {
		s.rotateWindow(nowWin)
	}
	doneSec, doneWin := s.doneSec, s.doneWin
	s.doneSec, s.doneWin = nil, nil
	return doneSec, doneWin
}

// mergeSeconds adds a shard's finished seconds to the pending ones.
func (r *Recorder) mergeSeconds(done []shardSecond) {
	for _, ss := range done {
		m := r.pendSec[ss.index]
		if m == nil {
			m = &mergedSecond{counts: make([][2]int64, len(r.names))}
			r.pendSec[ss.index] = m
		}
		for i, c := range ss.counts {
			m.counts[i][0] += c[0]
			m.counts[i][1] += c[1]
		}
		m.offered += ss.offered
		if ss.hist != nil {
			if m.hist == nil {
				m.hist = ss.hist
			} else {
				_ = result.Merge(m.hist, ss.hist)
				r.free.put(ss.hist)
			}
		}
	}
}

// mergeWindows adds a shard's finished windows to the pending ones.
func (r *Recorder) mergeWindows(done []shardWindow) {
	for _, sw := range done {
		m := r.pendWin[sw.index]
		if m == nil {
			m = &mergedWindow{names: make([]*nameWin, len(r.names))}
			r.pendWin[sw.index] = m
		}
		for i, nw := range sw.names {
			switch {
			case nw == nil:
			case m.names[i] == nil:
				m.names[i] = nw
			default:
				m.names[i].add(nw, &r.free)
			}
		}
	}
}

// add merges nw into w and returns nw's histograms to the pool.
func (w *nameWin) add(nw *nameWin, free *hdrPool) {
	w.count += nw.count
	w.failures += nw.failures
	w.timeouts += nw.timeouts
	w.bytes += nw.bytes
	w.late += nw.late
	w.cutOff += nw.cutOff
	w.offered += nw.offered
	w.unsent += nw.unsent
	for reason, n := range nw.reasons {
		if w.reasons == nil {
			w.reasons = map[string]int64{}
		}
		w.reasons[reason] += n
	}
	switch {
	case nw.resp == nil:
	case w.resp == nil:
		w.resp, w.svc = nw.resp, nw.svc
	default:
		_ = result.Merge(w.resp, nw.resp)
		_ = result.Merge(w.svc, nw.svc)
		free.put(nw.resp)
		free.put(nw.svc)
	}
}

// finishedWindows hands out, in order, the pending windows before nowWin.
func (r *Recorder) finishedWindows(nowWin int64) []WindowStats {
	var wins []WindowStats
	for _, idx := range slices.Sorted(maps.Keys(r.pendWin)) {
		if idx >= nowWin {
			continue
		}
		wins = append(wins, r.finishWindow(idx, r.pendWin[idx]))
		delete(r.pendWin, idx)
	}
	return wins
}

// finishedSeconds hands out, in order, the pending seconds before nowSec,
// with their percentiles, and keeps each name's counts per second.
func (r *Recorder) finishedSeconds(nowSec int64) []SecondStats {
	var out []SecondStats
	for _, idx := range slices.Sorted(maps.Keys(r.pendSec)) {
		if idx >= nowSec {
			continue
		}
		m := r.pendSec[idx]
		ss := SecondStats{T: idx, Counts: m.counts, Offered: m.offered}
		for i, c := range m.counts {
			ss.Requests += c[0]
			ss.Failures += c[1]
			if c[0] > 0 {
				off := int(idx - r.startUnix/int64(time.Second))
				r.reqs[i].perSec = append(r.reqs[i].perSec, [3]int{off, int(c[0]), int(c[1])})
			}
		}
		if m.hist != nil {
			ss.P50, ss.P95 = m.hist.ValueAtPercentile(50), m.hist.ValueAtPercentile(95)
			ss.P99, ss.Max = m.hist.ValueAtPercentile(99), m.hist.Max()
			if r.secHists {
				ss.Hist, _ = result.Encode(m.hist)
			}
			r.free.put(m.hist)
		}
		out = append(out, ss)
		delete(r.pendSec, idx)
	}
	return out
}

func (r *Recorder) finishWindow(idx int64, m *mergedWindow) WindowStats {
	ws := WindowStats{T: idx * int64(Window/time.Second), Names: make([]*result.Window, len(r.names))}
	for i, nw := range m.names {
		if nw == nil || (nw.count == 0 && nw.offered == 0) {
			if nw != nil {
				r.free.put(nw.resp)
				r.free.put(nw.svc)
			}
			continue
		}
		acc := r.reqs[i]
		acc.count += nw.count
		acc.failures += nw.failures
		acc.timeouts += nw.timeouts
		acc.bytes += nw.bytes
		acc.late += nw.late
		acc.cutOff += nw.cutOff
		acc.offered += nw.offered
		acc.unsent += nw.unsent
		w := result.Window{T: idx * int64(Window/time.Second), Count: nw.count, Failures: nw.failures, Timeouts: nw.timeouts, Bytes: nw.bytes,
			Offered: nw.offered, Unsent: nw.unsent}
		if nw.resp != nil {
			_ = result.Merge(acc.resp, nw.resp)
			_ = result.Merge(acc.svc, nw.svc)
			w.Hist, _ = result.Encode(nw.resp)
			w.SvcHist, _ = result.Encode(nw.svc)
		}
		acc.windows = append(acc.windows, w)
		ws.Names[i] = &w
		for _, reason := range slices.Sorted(maps.Keys(nw.reasons)) {
			n := nw.reasons[reason]
			r.failures[failKey{i, reason}] += n
			ws.Failures = append(ws.Failures, result.Failure{Name: r.names[i], Reason: reason, Count: n})
		}
		r.free.put(nw.resp)
		r.free.put(nw.svc)
	}
	return ws
}

// Results returns the per-name records and failures; call after a final Collect.
func (r *Recorder) Results() ([]*result.Request, []result.Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var reqs []*result.Request
	for i, a := range r.reqs {
		q := &result.Request{
			Name: r.names[i], Count: a.count, Failures: a.failures, Timeouts: a.timeouts, Bytes: a.bytes,
			Response: result.Summarize(a.resp), Service: result.Summarize(a.svc),
			Windows: a.windows, PerSec: a.perSec, Late: a.late, CutOff: a.cutOff,
		}
		q.Hist, _ = result.Encode(a.resp)
		q.SvcHist, _ = result.Encode(a.svc)
		if r.offered {
			q.Offered, q.Unsent = &a.offered, a.unsent
		}
		if q.Windows == nil {
			q.Windows = []result.Window{}
		}
		reqs = append(reqs, q)
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Name < reqs[j].Name })
	var fails []result.Failure
	for k, n := range r.failures {
		fails = append(fails, result.Failure{Name: r.names[k.name], Reason: k.reason, Count: n})
	}
	sort.Slice(fails, func(i, j int) bool {
		if fails[i].Name != fails[j].Name {
			return fails[i].Name < fails[j].Name
		}
		if fails[i].Count != fails[j].Count {
			return fails[i].Count > fails[j].Count
		}
		return fails[i].Reason < fails[j].Reason
	})
	if fails == nil {
		fails = []result.Failure{}
	}
	return reqs, fails
}

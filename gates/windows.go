package gates

import (
	"encoding/json"
	"math"
	"slices"

	"lab/gates/hist"
	"lab/gates/locust"
	"lab/gates/regress"
	"lab/gates/sla"
	"lab/runtime/result"
)

// The regression compare's windows, and the counts it needs from them.
//
// The latency test counts, window by window, the requests slower than the
// baseline run's whole-run p95 of their name: in the baseline (about 5%)
// and in the current run. The counts come from the run's window
// histograms, in the same pass as the SLA gate's windowed budgets, and are
// kept in Run.Extra: a run judged once (by lab apply, with the baseline it
// was compared with) keeps its counts above its own p95 and above that
// baseline's, so it is never decoded again when it later serves as the
// baseline, nor when lab compare sets it against that baseline again. On a
// 24-hour run decoding is nearly all the work.

// SlowKey is where the counts are kept in Run.Extra: by request name, a
// list of {above_us, counts}, counts per window in the order of its Windows
// (-1: no histogram).
const SlowKey = "slow_counts"

// maxKept is how many thresholds a request keeps counts for: its own p95,
// the last baseline's, and the bulk test's above the last baseline's
// median.
const maxKept = 3

// kept is one threshold's counts, as Run.Extra holds them.
type kept struct {
	AboveUS int64   `json:"above_us"`
	Counts  []int64 `json:"counts"`
}

// slowCounts holds, per request of a run, how many requests of each
// window took longer than that request's threshold.
type slowCounts struct {
	above []int64   // per request: the threshold (µs), 0 when none
	n     [][]int64 // per request, per window: the count, -1 when not counted
}

// newSlowCounts prepares counts above the thresholds (µs per request, 0:
// none), none counted yet.
func newSlowCounts(run *result.Run, above []int64) *slowCounts {
	c := &slowCounts{above: above, n: make([][]int64, len(run.Requests))}
	for i, q := range run.Requests {
		if above[i] <= 0 {
			continue
		}
		c.n[i] = make([]int64, len(q.Windows))
		for k := range c.n[i] {
			c.n[i][k] = -1
		}
	}
	return c
}

// hook counts a window the scan decoded. Each window has its own slot, so
// the scan's goroutines never write the same one.
func (c *slowCounts) hook(run *result.Run) sla.Hook {
	return func(req, win int, h *hist.Hist) {
		if c.above[req] <= 0 || h.TotalCount() == 0 && run.Requests[req].Windows[win].Count > 0 {
			return // a window with requests but no histogram stays uncounted
		}
		c.n[req][win] = h.CountAbove(c.above[req])
	}
}

// complete says every request with a threshold is counted: cached, or
// scanned.
func (c *slowCounts) complete() bool {
	for i, a := range c.above {
		if a > 0 && c.n[i] == nil {
			return false
		}
	}
	return true
}

// wholeP95s is each request's whole-run p95 (µs) from its merged
// histogram, the figure the SLA table shows; Response.P95 when the run has
// no histogram (Locust's CSV). 0 when neither is known.
func wholeP95s(run *result.Run) ([]int64, error) {
	p95, _, err := wholeQuantiles(run)
	return p95, err
}

// wholeQuantiles is each request's whole-run p95 and p50 (µs), as
// wholeP95s.
func wholeQuantiles(run *result.Run) (p95, p50 []int64, err error) {
	p95, p50 = make([]int64, len(run.Requests)), make([]int64, len(run.Requests))
	var dec hist.Decoder
	var h hist.Hist
	for i, q := range run.Requests {
		if q.Hist == "" {
			p95[i], p50[i] = max(0, q.Response.P95), max(0, q.Response.P50)
			continue
		}
		if err := dec.Decode(q.Hist, &h); err != nil {
			return nil, nil, err
		}
		p95[i], p50[i] = h.ValueAtPercentile(95), h.ValueAtPercentile(50)
	}
	return p95, p50, nil
}

// bulkThresholds maps the baseline's whole-run medians onto run's
// requests, by name, grown by τ (regress.BulkLimit): the latency the bulk
// test asks most current requests to exceed. 0 where the baseline has no
// median.
func bulkThresholds(run, base *result.Run, baseP50 []int64, tau float64) []int64 {
	out := thresholdsFor(run, base, baseP50)
	for i, m := range out {
		if m > 0 {
			out[i] = int64(math.Ceil(regress.BulkLimit(float64(m), tau)))
		}
	}
	return out
}

// thresholdsFor maps the baseline's whole-run p95s onto run's requests, by name.
func thresholdsFor(run, base *result.Run, baseP95 []int64) []int64 {
	out := make([]int64, len(run.Requests))
	for i, q := range run.Requests {
		for j, b := range base.Requests {
			if b.Name == q.Name {
				out[i] = baseP95[j]
				break
			}
		}
	}
	return out
}

// hasHists says whether any window of the run has a histogram: a run read
// from Locust's CSV has none, and is not scanned.
func hasHists(run *result.Run) bool {
	for _, q := range run.Requests {
		for _, w := range q.Windows {
			if w.Hist != "" {
				return true
			}
		}
	}
	return false
}

// countSlow returns the run's counts above each set of thresholds (µs per
// request): kept in Run.Extra when there, else from one scan of the run
// for every set at once, then kept.
func countSlow(run *result.Run, sets ...[]int64) ([]*slowCounts, error) {
	out := make([]*slowCounts, len(sets))
	scans := make([]*slowCounts, len(sets)) // nil: nothing to scan for that set
	var hooks []sla.Hook
	hists := hasHists(run)
	for i, above := range sets {
		out[i] = cachedSlow(run, above)
		if out[i].complete() || !hists {
			continue
		}
		missing := slices.Clone(above)
		for r := range missing {
			if out[i].n[r] != nil {
				missing[r] = 0
			}
		}
		scans[i] = newSlowCounts(run, missing)
		hooks = append(hooks, scans[i].hook(run))
	}
	if len(hooks) == 0 {
		return out, nil
	}
	if err := sla.Scan(run, allHooks(hooks)); err != nil {
		return nil, err
	}
	for i, scan := range scans {
		if scan == nil {
			continue
		}
		for r := range out[i].n {
			if scan.n[r] != nil {
				out[i].n[r] = scan.n[r]
			}
		}
		out[i].keep(run)
	}
	return out, nil
}

// allHooks is one hook that runs every one of hooks.
func allHooks(hooks []sla.Hook) sla.Hook {
	if len(hooks) == 1 {
		return hooks[0]
	}
	return func(req, win int, h *hist.Hist) {
		for _, f := range hooks {
			f(req, win, h)
		}
	}
}

// cachedSlow returns the counts kept in run.Extra for these thresholds;
// requests without them are left uncounted (nil).
func cachedSlow(run *result.Run, above []int64) *slowCounts {
	c := &slowCounts{above: above, n: make([][]int64, len(run.Requests))}
	all := readKept(run)
	for i, q := range run.Requests {
		if above[i] <= 0 {
			continue
		}
		for _, k := range all[q.Name] {
			if k.AboveUS == above[i] && validKept(k.Counts, q) {
				c.n[i] = k.Counts
				break
			}
		}
	}
	return c
}

func validKept(counts []int64, q *result.Request) bool {
	if len(counts) != len(q.Windows) {
		return false
	}
	for k, n := range counts {
		if n < -1 || n > q.Windows[k].Count {
			return false
		}
	}
	return true
}

// readKept reads the counts kept in run.Extra: as this process stored
// them, or as they came back from result.json.
func readKept(run *result.Run) map[string][]kept {
	switch v := run.Extra[SlowKey].(type) {
	case map[string][]kept:
		return v
	case nil:
		return nil
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		var m map[string][]kept
		if json.Unmarshal(data, &m) != nil {
			return nil
		}
		return m
	}
}

// keep stores the counts in run.Extra beside those kept already: the
// newest first, at most maxKept per request, the run's own p95's always
// among them (it is what the run needs as a baseline).
func (c *slowCounts) keep(run *result.Run) {
	own, _ := wholeP95s(run)
	all := readKept(run)
	out := make(map[string][]kept, len(run.Requests))
	for i, q := range run.Requests {
		candidates := all[q.Name]
		if c.above[i] > 0 && c.n[i] != nil {
			candidates = append([]kept{{c.above[i], c.n[i]}}, candidates...)
		}
		// The run's own threshold first, then the newest others.
		var list, others []kept
		seen := map[int64]bool{}
		for _, k := range candidates {
			switch {
			case seen[k.AboveUS]:
			case own != nil && k.AboveUS == own[i]:
				list = append(list, k)
			default:
				others = append(others, k)
			}
			seen[k.AboveUS] = true
		}
		if list = append(list, others...); len(list) > 0 {
			out[q.Name] = list[:min(len(list), maxKept)]
		}
	}
	if run.Extra == nil {
		run.Extra = map[string]any{}
	}
	run.Extra[SlowKey] = out
}

// seriesOf turns a run into the regress package's per-request series: one
// window per series slot (the edges the run covers less than half of are
// shorter and noisier), empty slots included so that a stalled window
// counts as zero throughput. slow holds the counts above the baseline's
// p95 of each request; p95 the run's own whole-run p95s.
func seriesOf(run *result.Run, slow, bulk *slowCounts, p95, p50 []int64) map[string]*regress.Series {
	starts, secs := slotsOf(run)
	index := make(map[int64]int, len(starts))
	for i, t := range starts {
		index[t] = i
	}
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
			P95: float64(p95[i]), Median: float64(p50[i]), SlowKnown: slow.n[i] != nil, Offered: run.Model == "open" && q.Offered != nil}
		if bulk != nil && bulk.n[i] != nil {
			s.BulkAbove = float64(bulk.above[i])
		}
		for j := range starts {
			s.Windows[j].Seconds = secs[j]
		}
		inSlots := false
		for k, rw := range q.Windows {
			j, ok := index[rw.T]
			if !ok {
				continue
			}
			inSlots = true
			w := &s.Windows[j]
			w.Count, w.Errors, w.Timeouts = rw.Count, rw.Failures, min(rw.Timeouts, rw.Failures)
			if s.Offered {
				w.Scheduled, w.Unsent = rw.Offered, rw.Unsent
			}
			if slow.n[i] != nil {
				if n := slow.n[i][k]; n >= 0 {
					w.Slow = n
				} else if rw.Count > 0 {
					s.SlowKnown = false
				}
			}
			if s.BulkAbove > 0 {
				if n := bulk.n[i][k]; n >= 0 {
					w.Bulk = n
				} else if rw.Count > 0 {
					s.BulkAbove = 0 // a window uncounted: no bulk test
				}
			}
		}
		if !inSlots {
			// No per-window counts (Locust's CSV without
			// --csv-full-history): the whole run as one window.
			s.Windows = []regress.Window{{Count: q.Count, Errors: q.Failures, Timeouts: min(q.Timeouts, q.Failures), Seconds: run.Duration()}}
			s.SlowKnown, s.Offered, s.BulkAbove = false, false, 0
		}
		if locust.FromLocust(run) {
			s.Quantum = locust.Quantum(s.P95)
		}
		out[q.Name] = s
	}
	return out
}

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

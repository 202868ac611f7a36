package sla

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"lab/gates/hist"
	"lab/runtime/result"
)

// Hook is called with each window histogram a scan decodes: the request's
// index in Run.Requests, the window's index in its Windows, and the
// histogram (valid only during the call). Calls come from several
// goroutines, never twice for the same window.
type Hook func(req, win int, h *hist.Hist)

// Scan decodes every 10 s window histogram of the run once, in parallel over
// spans of time, and calls hook with each; the regression compare takes its
// per-window p95s this way. Judge does the same pass for windowed budgets.
func Scan(run *result.Run, hook Hook) error {
	_, err := scan(run, nil, hook)
	return err
}

// scan feeds the run's 10 s windows, in time order, to copies of the
// trackers (one set per goroutine, each over its own span of time) and to
// hook; it returns each tracker's window results in time order.
//
// Subtleness ahead: the spans are whole multiples of every tracker's window
// length (and of the run's window length), so no budget window straddles
// two goroutines and each one's results can simply be concatenated.
func scan(run *result.Run, specs []*tracker, hook Hook) ([][]WindowResult, error) {
	step := int64(run.WindowS)
	if step <= 0 {
		step = 10
	}
	byReq := make([][]int, len(run.Requests)) // trackers fed by each request
	for ti, t := range specs {
		for _, i := range t.names {
			byReq[i] = append(byReq[i], ti)
		}
	}
	if err := CheckSpan(run); err != nil {
		return nil, err
	}
	// Only windows within the run's span are judged (a window starts at
	// most one step before the run does).
	lo, hi := floorTo(run.Start.Unix(), step), run.End.Unix()
	// Window order within each request: stored in time order, but do not trust it blindly.
	order := make([][]int, len(run.Requests))
	first, last := int64(1<<62), int64(-1<<62)
	for i, q := range run.Requests {
		if hook == nil && len(byReq[i]) == 0 {
			continue
		}
		o := make([]int, 0, len(q.Windows))
		for k, w := range q.Windows {
			if w.T >= lo && w.T <= hi {
				o = append(o, k)
			}
		}
		if !slices.IsSortedFunc(o, func(a, b int) int { return cmpInt(q.Windows[a].T, q.Windows[b].T) }) {
			slices.SortStableFunc(o, func(a, b int) int { return cmpInt(q.Windows[a].T, q.Windows[b].T) })
		}
		order[i] = o
		if len(o) > 0 {
			first = min(first, q.Windows[o[0]].T)
			last = max(last, q.Windows[o[len(o)-1]].T)
		}
	}
	span := runSpan{Start: float64(run.Start.UnixNano()) / 1e9, End: float64(run.End.UnixNano()) / 1e9}
	if len(specs) > 0 {
		// Budget windows cover the whole run, traffic or not.
		first = min(first, run.Start.Unix())
		last = max(last, run.End.Unix())
	}
	out := make([][]WindowResult, len(specs))
	if first > last {
		return out, nil
	}
	block := step
	for _, t := range specs {
		block = lcm(block, t.w)
	}
	a0 := floorTo(first, block)
	blocks := (last-a0)/block + 1
	workers := int64(min(runtime.GOMAXPROCS(0), 8))
	workers = max(1, min(workers, blocks-1))

	parts := make([][][]WindowResult, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	// The last block goes with the one before it: a run that ends early
	// in its last window has that window merged into the one before
	// (tracker.mergesNext), and both must be in one part.
	split := max(1, blocks-1)
	for w := range workers {
		from := a0 + block*(split*w/workers)
		to := a0 + block*(split*(w+1)/workers)
		if w == workers-1 {
			to = a0 + block*blocks
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w], errs[w] = scanSpan(run, order, specs, byReq, hook, from, to, step, span)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for ti := range specs {
		for w := range workers {
			out[ti] = append(out[ti], parts[w][ti]...)
		}
	}
	return out, nil
}

// scanSpan does the scan's work for windows starting in [from, to).
func scanSpan(run *result.Run, order [][]int, specs []*tracker, byReq [][]int, hook Hook,
	from, to, step int64, span runSpan) ([][]WindowResult, error) {
	trackers := make([]*tracker, len(specs))
	res := make([][]WindowResult, len(specs))
	emits := make([]func(WindowResult), len(specs))
	for ti, s := range specs {
		trackers[ti] = s.clone()
		trackers[ti].cur = from
		emits[ti] = func(r WindowResult) {
			if r.Covered > 0 || r.Count > 0 {
				res[ti] = append(res[ti], r)
			}
		}
	}
	ptr := make([]int, len(run.Requests))
	for i, o := range order {
		ws := run.Requests[i].Windows
		ptr[i], _ = slices.BinarySearchFunc(o, from, func(k int, t int64) int { return cmpInt(ws[k].T, t) })
	}
	var dec hist.Decoder
	var h hist.Hist
	for t := from; t < to; t += step {
		for i, o := range order {
			ws := run.Requests[i].Windows
			for ptr[i] < len(o) && ws[o[ptr[i]]].T < t+step {
				k := o[ptr[i]]
				ptr[i]++
				win := &ws[k]
				if err := dec.Decode(win.Hist, &h); err != nil {
					return nil, fmt.Errorf("%s, window at %s: %w", run.Requests[i].Name, clock(win.T), err)
				}
				if hook != nil {
					hook(i, k, &h)
				}
				for _, ti := range byReq[i] {
					trackers[ti].feed(win.T, &h, win.Count, win.Failures, span, emits[ti])
				}
			}
		}
	}
	for ti, tr := range trackers {
		tr.advance(to, span, emits[ti])
	}
	return res, nil
}

// MaxSpan is the longest run the gates judge: a run claiming to span more
// is corrupt, and walking its windows would take forever.
const MaxSpan = 400 * 24 * time.Hour

// CheckSpan refuses a run whose span is negative or beyond MaxSpan.
func CheckSpan(run *result.Run) error {
	d := run.End.Sub(run.Start)
	if d < 0 || d > MaxSpan || run.Start.Year() < 1970 {
		return fmt.Errorf("the run's span %s … %s is not a run's (at most %v)", run.Start.Format(time.RFC3339), run.End.Format(time.RFC3339), MaxSpan)
	}
	return nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func floorTo(v, m int64) int64 {
	r := v % m
	if r < 0 {
		r += m
	}
	return v - r
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int64) int64 { return a / gcd(a, b) * b }

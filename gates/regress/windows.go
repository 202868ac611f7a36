package regress

import (
	"slices"
)

// prepare returns the windows of both runs ready to compare. When either
// run's typical window holds fewer than MinWindowRequests requests, both
// runs are regrouped into MergeWindows-long windows (so the two samples of
// p95s stay alike), which needs a histogram on every non-empty window;
// without them the 10 s windows are kept and the note says so.
func prepare(base, cur []Window) (b, c []Window, note string) {
	if !sparse(base) && !sparse(cur) {
		return base, cur, ""
	}
	if !hasHists(base) || !hasHists(cur) {
		return base, cur, "sparse windows (< 400 requests) kept at 10 s: no histograms to merge"
	}
	return merge(base), merge(cur), "sparse windows merged to 30 s"
}

func sparse(ws []Window) bool {
	counts := make([]int64, 0, len(ws))
	for _, w := range ws {
		if w.Count > 0 {
			counts = append(counts, w.Count)
		}
	}
	if len(counts) == 0 {
		return false
	}
	slices.Sort(counts)
	return counts[len(counts)/2] < MinWindowRequests
}

func hasHists(ws []Window) bool {
	for _, w := range ws {
		if w.Count > 0 && w.Hist == nil {
			return false
		}
	}
	return true
}

// merge sums consecutive groups of MergeWindows windows and merges their histograms.
func merge(ws []Window) []Window {
	out := make([]Window, 0, (len(ws)+MergeWindows-1)/MergeWindows)
	for i := 0; i < len(ws); i += MergeWindows {
		var m Window
		for _, w := range ws[i:min(i+MergeWindows, len(ws))] {
			m.Count += w.Count
			m.Errors += w.Errors
			m.Timeouts += w.Timeouts
			m.Unsent += w.Unsent
			m.Scheduled += w.Scheduled
			m.Seconds += w.Seconds
			if w.Count == 0 {
				continue
			}
			if m.Hist == nil {
				m.Hist = w.Hist
			} else {
				m.Hist = m.Hist.Merge(w.Hist)
			}
		}
		if m.Hist != nil {
			m.P95 = m.Hist.P95()
		}
		out = append(out, m)
	}
	return out
}

package report

import (
	"testing"
	"time"

	"lab/gates/synth"
)

// The "all requests" row merges every request's latencies: from the
// whole-run histograms, or from the windows when a live page's run so far
// has none yet; a request with neither leaves the row's percentiles
// unknown ("–"), never 0.
func TestAllRequestsRow(t *testing.T) {
	run := synth.Run(synth.Spec{Duration: time.Minute, Seed: 3, Pool: 4, Requests: []synth.Request{
		{Name: "GET /a", Rate: 50, MedianUS: 20_000, Sigma: 0.3}, {Name: "GET /b", Rate: 20, MedianUS: 30_000, Sigma: 0.3}}})
	_, whole := requestRows(run)
	for _, q := range run.Requests {
		q.Hist = ""
	}
	_, fromWindows := requestRows(run)
	if whole.P95 < 15_000 || fromWindows != whole {
		t.Errorf("all requests: from the run %+v, from its windows %+v", whole, fromWindows)
	}
	for _, q := range run.Requests {
		q.Windows = nil
	}
	_, none := requestRows(run)
	if none.P95 != -1 || fmtMS(none.P95) != "–" || none.Count != whole.Count {
		t.Errorf("no histograms: %+v", none)
	}
}

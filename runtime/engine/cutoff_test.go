package engine_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/gates"
	"lab/runtime/engine"
	"lab/runtime/result"
)

// TestRequestsInFlightAtTheEndAreCutOff: the target stops answering a
// second before the end of an open-model run and answers again only after
// the grace period. Every request sent is in the Run: the stalled ones as
// failures cut off at the end of the grace period, timed from when they
// were due; and a run with requests cut off is not a clean pass.
func TestRequestsInFlightAtTheEndAreCutOff(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var stallAt time.Time
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at := stallAt
		mu.Unlock()
		if !at.IsZero() && time.Now().After(at) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.Write([]byte("ok"))
	}))
	// Cleanups run last-registered first: the handlers are released before
	// the server is closed.
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	path := writePlan(t, map[string]string{"plan.hcl": singleTask + `
shape "open" {
  stage {
    until = "3s"
    rate  = "20/s"
  }
}`})
	mu.Lock()
	stallAt = time.Now().Add(2 * time.Second) // about when the run's third second begins
	mu.Unlock()
	r := run(t, load(t, path, "host="+host), func(o *engine.Options) { o.Grace = 500 * time.Millisecond })
	q := r.Requests[0]
	if q.Sent == nil {
		t.Fatalf("the Run does not say how many requests were sent (recorded %d, %d arrivals dispatched)", q.Count, r.Generator.Sent)
	}
	if *q.Sent != q.Count || r.Generator.Sent != q.Count {
		t.Errorf("sent %d (%d arrivals dispatched), recorded %d: requests vanished", *q.Sent, r.Generator.Sent, q.Count)
	}
	if q.CutOff < 10 || q.Failures < q.CutOff {
		t.Errorf("%d requests cut off, %d failures; about 20 were in flight at the end", q.CutOff, q.Failures)
	}
	cut := int64(0)
	for _, f := range r.Failures {
		if strings.Contains(f.Reason, "cut off") {
			cut += f.Count
		}
	}
	if cut != q.CutOff {
		t.Errorf("failures %+v: %d named as cut off, want %d", r.Failures, cut, q.CutOff)
	}
	// Timed from when they were due to the cut: 0.5 s (the last arrival) to
	// 1.5 s (the first stalled one).
	if q.Response.Max < 400_000 {
		t.Errorf("response max %d µs: the cut-off requests' latency is missing", q.Response.Max)
	}
	h, err := result.Decode(q.Hist)
	if err != nil || h.TotalCount() != q.Count {
		t.Errorf("histogram holds %d, count %d (%v)", h.TotalCount(), q.Count, err)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("the run does not validate: %v", err)
	}
	v, ok := gates.RunVerdict(r)
	if !ok || v.Outcome == result.OutcomePass || !strings.Contains(v.Detail, "cut off") {
		t.Errorf("run verdict %+v (%v): requests cut off must not pass silently", v, ok)
	}
}

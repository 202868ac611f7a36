package cluster

import (
	"strings"
	"testing"

	"lab/runtime/result"
)

// testMaster is a master of two workers that joined, the run begun, with
// no worker process behind them: a test feeds their syncs to absorb.
func testMaster(t *testing.T, onLoss, shape string) (*Master, []*member) {
	t.Helper()
	plan, o := loadPlan(t, "http://127.0.0.1:9", shape)
	m, err := NewMaster(MasterConfig{Listen: "127.0.0.1:0", Version: "test", Workers: 2, OnLoss: onLoss, Plan: plan, Order: o, Log: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	mbs := []*member{m.newMember(Join{Name: "a", Host: "h"}, "x"), m.newMember(Join{Name: "b", Host: "h"}, "y")}
	m.begin()
	return m, mbs
}

// second is one streamed second: n requests of the plan's first name, f
// of them failed.
func second(m *Master, t, n, f int64) Second {
	c := make([][2]int64, len(m.names))
	c[0] = [2]int64{n, f}
	return Second{Second: result.Second{T: t, Users: 1, Requests: n, Failures: f}, Counts: c}
}

// finalRun is a worker's final Run claiming n requests of the first name
// (f failed), all in second t.
func finalRun(m *Master, t, n, f int64) *result.Run {
	run := &result.Run{Schema: result.Schema, Failures: []result.Failure{}, Seconds: []result.Second{{T: t, Users: 1, Requests: n, Failures: f}}}
	for i, name := range m.names {
		q := &result.Request{Name: name, Windows: []result.Window{}}
		if i == 0 {
			q.Count, q.Failures = n, f
			q.Windows = []result.Window{{T: t - t%10, Count: n, Failures: f}}
			if f > 0 {
				run.Failures = append(run.Failures, result.Failure{Name: name, Reason: "HTTP 500", Count: f})
			}
		}
		run.Requests = append(run.Requests, q)
	}
	return run
}

// A worker's final Run is believed only when it says what the worker
// streamed: one that claims more requests, other seconds or another name
// is refused, the worker counted as lost, and its part is what it
// streamed.
func TestAFinalRunThatDisagreesIsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		lie  func(m *Master, run *result.Run)
	}{
		{"more requests", func(m *Master, run *result.Run) {
			run.Requests[0].Count++
			run.Requests[0].Windows[0].Count++
			run.Seconds[0].Requests++
		}},
		{"another second", func(m *Master, run *result.Run) { run.Seconds[0].T++ }},
		{"another name", func(m *Master, run *result.Run) { run.Requests[1].Name = "GET /elsewhere" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, mbs := testMaster(t, "continue", closedShape)
			t0 := m.start.Unix() + 1
			m.absorb(mbs[0], &Sync{Seconds: []Second{second(m, t0, 5, 1)}, SecMark: t0 + 1})
			lie := finalRun(m, t0, 5, 1)
			c.lie(m, lie)
			m.absorb(mbs[0], &Sync{Final: lie, SecMark: t0 + 1})
			if mbs[0].final != nil || !strings.Contains(mbs[0].lost, "disagrees with what it streamed") {
				t.Fatalf("a lying final Run was taken (lost %q)", mbs[0].lost)
			}
			part := m.partial(mbs[0])
			if q := part.RequestByName(m.names[0]); q == nil || q.Count != 5 || q.Failures != 1 {
				t.Errorf("the lost worker's part is %+v, want the 5 requests (1 failed) it streamed", q)
			}
		})
	}
	m, mbs := testMaster(t, "continue", closedShape)
	t0 := m.start.Unix() + 1
	m.absorb(mbs[0], &Sync{Seconds: []Second{second(m, t0, 5, 1)}, SecMark: t0 + 1})
	m.absorb(mbs[0], &Sync{Final: finalRun(m, t0, 5, 1), SecMark: t0 + 1})
	if mbs[0].final == nil || mbs[0].lost != "" {
		t.Errorf("a final Run that says what was streamed was refused: %s", mbs[0].lost)
	}
}

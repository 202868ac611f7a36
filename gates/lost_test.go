package gates

import (
	"strings"
	"testing"
	"time"

	"lab/gates/exitcode"
	"lab/runtime/result"
)

// A lost worker whose share left requests unaccounted for (open model)
// makes the run short by a known amount: the verdict says by how much,
// and the run does not exit 0 (issue 19, defect 6).
func TestALostWorkersUnaccountedRequestsAreNoPass(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	run := &result.Run{Start: start, WorkerLog: []result.Worker{
		{ID: 1, Host: "a", Requests: 500},
		{ID: 2, Host: "b", Requests: 120, Left: start.Add(9 * time.Second), Lost: "no heartbeat for 3s", LostArrivals: 550},
	}}
	vs := LostWorkers(run)
	if len(vs) != 1 || vs[0].Outcome != result.OutcomeInconclusive || !strings.Contains(vs[0].Measured, "550 requests unaccounted for") ||
		!strings.Contains(vs[0].Detail, "120 requests it reported are counted") {
		t.Fatalf("got %+v", vs)
	}
	if ExitCode(vs) == exitcode.OK {
		t.Error("a run short by 550 requests exits 0")
	}
}

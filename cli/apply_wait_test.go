package cli

import (
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/exitcode"
)

// --wait-target lets the target start after lab apply (a Swarm stack starts
// the master and the shop in no order): the run goes ahead once it listens.
func TestApplyWaitsForATargetThatStartsLate(t *testing.T) {
	addr := clitest.FreePort(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	t.Cleanup(func() { srv.Close() })
	go func() {
		time.Sleep(700 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return // the test fails on the run not happening
		}
		srv.Serve(ln)
	}()
	dir := t.TempDir()
	// Closed model: an open one on a busy machine may be judged invalid (a
	// late generator), which is not what this test is about.
	plan := clitest.WritePlan(t, dir, "late.hcl", clitest.TwoRoutes, "http://"+addr, clitest.ClosedShape("1s", 2))
	results := filepath.Join(dir, "results")
	code, _, stderr := lab(t, nil, "apply", plan, "--wait-target", "30s", "--results", results, "--quiet")
	if code != exitcode.OK {
		t.Fatalf("exit %d, want 0 once the target listens:\n%s", code, stderr)
	}
	if _, run := clitest.LatestRun(t, results); run.Requests == nil {
		t.Error("the run sent nothing")
	}
}

// A target that never listens still stops the run, saying how long it was
// waited for.
func TestApplyWaitTargetGivesUp(t *testing.T) {
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "never.hcl", clitest.TwoRoutes, "http://"+clitest.FreePort(t), clitest.OpenShape("1s", "10/s"))
	code, _, stderr := lab(t, nil, "apply", plan, "--wait-target", "1s", "--results", filepath.Join(dir, "results"), "--quiet")
	if code != exitcode.CouldNotRun || !strings.Contains(stderr, "after waiting 1s") || !strings.Contains(stderr, "Nothing was sent") {
		t.Errorf("exit %d, want 3 saying it waited 1s:\n%s", code, stderr)
	}
}

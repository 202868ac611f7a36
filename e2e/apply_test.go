package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/exitcode"
)

// TestApplyInterrupted: SIGINT stops sending, the Run is written marked
// interrupted, the shop child is stopped, and the exit code is 1.
func TestApplyInterrupted(t *testing.T) {
	bin := clitest.Binary(t)
	addr := clitest.FreePort(t)
	results := t.TempDir()
	cmd := exec.Command(bin, "apply", "plans/smoke.hcl", "-var", "host=http://"+addr, "-var", "duration=60s", "--results", results, "--grace", "2s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until load is flowing: the shop answers.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the shop never came up:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("lab did not stop after SIGINT:\n%s", out.String())
	}
	if code := clitest.ExitCode(err); code != exitcode.Breach {
		t.Errorf("exit %d, want 1:\n%s", code, out.String())
	}
	data, rerr := os.ReadFile(filepath.Join(results, "smoke", "latest", "result.json"))
	if rerr != nil {
		t.Fatalf("no result.json: %v\n%s", rerr, out.String())
	}
	var run struct {
		Status   string
		Requests []struct{ Count int64 }
	}
	json.Unmarshal(data, &run)
	var n int64
	for _, q := range run.Requests {
		n += q.Count
	}
	if run.Status != "interrupted" || n == 0 {
		t.Errorf("status %q with %d requests", run.Status, n)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the shop is still listening after lab exited")
	}
}

// TestApplyUnreachableTarget: nothing listens at the host: exit 3, no run.
func TestApplyUnreachableTarget(t *testing.T) {
	addr := clitest.FreePort(t)
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "p.hcl", clitest.OneRoute, "http://"+addr, clitest.ClosedShape("5s", 2))
	code, _, stderr := lab(t, nil, "apply", plan, "--results", filepath.Join(dir, "results"), "--quiet")
	if code != exitcode.CouldNotRun || !strings.Contains(stderr, "connection refused") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "results")); err == nil {
		t.Error("a run was written for a run that never happened")
	}
}

// TestApplyWithoutFileUsesLastPlan: `lab apply` applies what `lab plan`
// planned, and refuses once the plan changed since.
func TestApplyWithoutFileUsesLastPlan(t *testing.T) {
	bin := clitest.Binary(t)
	dir := t.TempDir()
	for _, f := range []string{"smoke.hcl", "shop.workload.hcl"} {
		b, _ := os.ReadFile(filepath.Join("plans", f))
		os.MkdirAll(filepath.Join(dir, "plans"), 0o755)
		os.WriteFile(filepath.Join(dir, "plans", f), b, 0o644)
	}
	addr := clitest.FreePort(t)
	labIn := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return clitest.ExitCode(err), string(out)
	}
	if code, out := labIn("plan", "plans/smoke.hcl", "-var", "host=http://"+addr, "-var", "duration=3s"); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	code, out := labIn("apply", "--quiet")
	if code != 0 || !strings.Contains(out, "POST /checkout") {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "smoke", "latest", "result.json")); err != nil {
		t.Errorf("no run written: %v", err)
	}
	f := filepath.Join(dir, "plans", "shop.workload.hcl")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte("weight = 3"), []byte("weight = 4"), 1), 0o644)
	code, out = labIn("apply", "--quiet")
	if code != exitcode.BadInput || !strings.Contains(out, "shop.workload.hcl changed since") {
		t.Errorf("apply after a change: exit %d\n%s", code, out)
	}
}

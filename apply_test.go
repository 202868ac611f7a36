package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lab/gates/exitcode"
)

var (
	buildOnce sync.Once
	labBin    string
	buildErr  error
)

// labBinary builds the lab command once for the tests that run it as a
// process (signals, child shops, working folders).
func labBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		labBin = filepath.Join(dir, "lab")
		out, err := exec.Command("go", "build", "-o", labBin, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return labBin
}

// freePort hands out a loopback address for a server the test starts
// later. Not from the kernel's ephemeral range: there, the client
// connections of the load tests running alongside can take the port
// between this check and the server's bind (a shop that then fails to
// start, exit 3). Below that range only listeners bind, and no address is
// handed out twice in one test binary.
func freePort(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		p := 20000 + rand.IntN(12000) // under 32768, the usual ip_local_port_range floor
		if portsGiven[p] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		portsGiven[p] = true
		return addr
	}
	t.Fatal("no free loopback port in 20000-31999")
	return ""
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// TestApplyInterrupted: SIGINT stops sending, the Run is written marked
// interrupted, the shop child is stopped, and the exit code is 1.
func TestApplyInterrupted(t *testing.T) {
	bin := labBinary(t)
	addr := freePort(t)
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
	if code := exitCode(err); code != exitcode.Breach {
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
	addr := freePort(t)
	dir := t.TempDir()
	plan := writePlan(t, dir, "p.hcl", oneRoute, "http://"+addr, closedShape("5s", 2))
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
	bin := labBinary(t)
	dir := t.TempDir()
	for _, f := range []string{"smoke.hcl", "shop.workload.hcl"} {
		b, _ := os.ReadFile(filepath.Join("plans", f))
		os.MkdirAll(filepath.Join(dir, "plans"), 0o755)
		os.WriteFile(filepath.Join(dir, "plans", f), b, 0o644)
	}
	addr := freePort(t)
	labIn := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return exitCode(err), string(out)
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

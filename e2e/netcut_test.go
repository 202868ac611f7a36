package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/runtime/needs"
	"lab/runtime/result"
)

// netns is a network namespace of the test's own, joined to this one by a
// veth pair: hostIP here, nsIP there.
type netns struct {
	name, hostIf, hostIP, nsIP string
}

// newNetns makes the namespace and the pair, or skips where that cannot
// be done (not root; in CI, where it can, it fails instead).
func newNetns(t *testing.T) *netns {
	t.Helper()
	id := os.Getpid() % 10000
	n := &netns{name: fmt.Sprintf("labcut%d", id), hostIf: fmt.Sprintf("lcH%d", id),
		hostIP: fmt.Sprintf("10.213.%d.1", id%250), nsIP: fmt.Sprintf("10.213.%d.2", id%250)}
	nsIf := fmt.Sprintf("lcN%d", id)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", n.name); err != nil {
		needs.Missing(t, "cannot make a network namespace (%v); this test needs root", err)
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", n.hostIf).Run()
		exec.Command("ip", "netns", "del", n.name).Run()
	})
	for _, args := range [][]string{
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", n.name},
		{"addr", "add", n.hostIP + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"netns", "exec", n.name, "ip", "addr", "add", n.nsIP + "/30", "dev", nsIf},
		{"netns", "exec", n.name, "ip", "link", "set", nsIf, "up"},
		{"netns", "exec", n.name, "ip", "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestWorkerCutOffFromTheMaster: of two workers, one runs in a network
// namespace the test made, its only link a veth pair; mid-run the link is
// cut. The master reports it lost within its 3 s of silence and, under
// on_worker_loss = "continue", gives its users to the other worker; the
// run is complete and keeps what the cut-off worker reported before the
// cut (both workers' users in the seconds before it). The cut-off worker,
// hearing nothing from its master, stops on its own.
func TestWorkerCutOffFromTheMaster(t *testing.T) {
	if testing.Short() {
		t.Skip("a distributed run of 32 s")
	}
	n := newNetns(t)
	t.Parallel() // mostly waiting
	// The target listens where both workers reach it: on the pair's host end.
	ln, err := net.Listen("tcp", n.hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	bin := clitest.Binary(t)
	dir := t.TempDir()
	master := n.hostIP + ":" + strings.Split(clitest.FreePort(t), ":")[1]
	body := clitest.ClosedShape("32s", 12) + "topology {\n  workers = 2\n  on_worker_loss = \"continue\"\n}\n"
	plan := clitest.WritePlan(t, dir, "p.hcl", clitest.OneRoute, "http://"+ln.Addr().String(), body)
	env := append(os.Environ(), "LAB_TOKEN=netcut-test-token")
	cmd := exec.Command(bin, "apply", plan, "--remote-workers", "--listen", master, "--results", filepath.Join(dir, "results"), "--quiet", "--metrics", "off")
	cmd.Env = env
	lines, wait := startWatched(t, cmd)
	workers := []*exec.Cmd{
		exec.Command(bin, "worker", "--master", master, "--name", "here"),
		exec.Command("ip", "netns", "exec", n.name, bin, "worker", "--master", master, "--name", "cut-off"),
	}
	// Each worker's end, read once: done closes when err is set.
	type end struct {
		done chan struct{}
		err  error
	}
	ends := make([]*end, len(workers))
	var cutOut clitest.SyncBuffer
	workers[1].Stdout, workers[1].Stderr = &cutOut, &cutOut
	for i, w := range workers {
		w.Env = env
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		e := &end{done: make(chan struct{})}
		ends[i] = e
		go func() { e.err = w.Wait(); close(e.done) }()
		t.Cleanup(func() {
			select {
			case <-e.done:
			default:
				w.Process.Kill()
				<-e.done
			}
		})
	}
	lines.await(t, regexp.MustCompile(`run starts at`), 30*time.Second)
	// Windows are 10 s of the wall clock. The cut comes 2 s after a
	// window's end at least 8 s into the run (the start is set a moment
	// ahead of that line), so that a whole window, reported by the cut-off
	// worker by then, holds a few seconds of both workers; a fixed 14 s
	// left as little as one second before the cut when the run began just
	// before a window's end.
	from := time.Now().Add(8 * time.Second)
	cutAt := from.Truncate(10 * time.Second).Add(2 * time.Second)
	if cutAt.Before(from) {
		cutAt = cutAt.Add(10 * time.Second)
	}
	time.Sleep(time.Until(cutAt))
	cut := time.Now()
	if out, err := exec.Command("ip", "link", "set", n.hostIf, "down").CombinedOutput(); err != nil {
		t.Fatalf("cutting the link: %v: %s", err, out)
	}
	lines.await(t, regexp.MustCompile(`worker \d+ \(cut-off .*\) lost: no heartbeat`), 10*time.Second)
	if d := time.Since(cut); d > 4*time.Second {
		t.Errorf("the loss was reported %s after the cut, want within 3 s of silence", d.Round(100*time.Millisecond))
	}
	code := wait()
	run, err := result.Load(filepath.Join(dir, "results", "p", "latest"))
	if err != nil {
		t.Fatalf("no run written (exit %d): %v\n%s", code, err, lines.text())
	}
	if code != 0 || run.Status != result.Complete {
		t.Errorf("exit %d, status %s; want 0 and complete\n%s", code, run.Status, lines.text())
	}
	if lostWorkers(run) != 1 || len(run.WorkerLog) != 2 {
		t.Errorf("worker log %+v, want 2 workers, one lost", run.WorkerLog)
	}
	// In the first window, reported before the cut, both workers' users
	// are in the run; after the loss (3 s at most, 2 s to re-split) the
	// worker here runs all 12.
	// Windows are 10 s of the wall clock; the last one closed a second
	// before the cut had been synced whole.
	reported := int64(0)
	for _, q := range run.Requests {
		for _, w := range q.Windows {
			if end := w.T + int64(run.WindowS); end <= cut.Unix()-1 {
				reported = max(reported, end)
			}
		}
	}
	before, after := 0, 0
	for _, s := range run.Seconds {
		switch {
		case s.T >= run.Start.Add(2*time.Second).Unix() && s.T < reported:
			before++
			if s.Users != 12 {
				t.Errorf("second %d, in the window reported before the cut: %d users, want 12 (both workers)", s.T-run.Start.Unix(), s.Users)
			}
		case s.T >= cut.Add(5*time.Second).Unix()+1 && s.T < run.Start.Add(31*time.Second).Unix():
			after++
			if s.Users != 12 {
				t.Errorf("second %d, after the loss: %d users, want 12 on the worker left", s.T-run.Start.Unix(), s.Users)
			}
		}
	}
	if before < 2 || after < 2 {
		t.Errorf("%d seconds before the cut and %d after the re-split to check", before, after)
	}
	// The cut-off worker stops sending on its own, 5 s without its master
	// (its heartbeats time out then), and ends once its grace period and
	// last attempts to hand in its run are over.
	if !strings.Contains(cutOut.String(), "no answer from the master") {
		t.Errorf("the cut-off worker did not stop for its master's silence:\n%s", cutOut.String())
	}
	select {
	case <-ends[1].done:
		if clitest.ExitCode(ends[1].err) == 0 {
			t.Errorf("the cut-off worker ended with exit 0:\n%s", cutOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Errorf("the cut-off worker still runs 60 s after the end:\n%s", cutOut.String())
	}
}

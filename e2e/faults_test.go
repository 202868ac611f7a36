package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
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
	"lab/runtime/needs"
)

// silentTarget accepts connections and reads requests without ever
// answering, until the test ends.
func silentTarget(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			go bufio.NewReader(c).WriteTo(discardWriter{})
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// TestApplyInterruptedTwice: the first SIGINT starts the graceful stop
// (requests in flight may finish for the grace period, here 60 s against a
// target that never answers); a second one exits at once with 3. Nothing
// is left half-written: no run folder without its result.json, and the
// earlier run and the latest link are as they were.
func TestApplyInterruptedTwice(t *testing.T) {
	t.Parallel() // light runs that mostly wait
	bin := clitest.Binary(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	plan := clitest.WritePlan(t, dir, "p.hcl", clitest.OneRoute, silentTarget(t), clitest.OpenShape("60s", "20/s"))
	// An earlier run of the same plan, against a target that answers.
	earlierHost := "http://" + clitest.FreePort(t)
	// Closed: an open run a busy machine made late would be invalid (exit 3).
	earlier := clitest.WritePlan(t, t.TempDir(), "p.hcl", clitest.OneRoute, earlierHost, clitest.ClosedShape("2s", 2)+"sut \"shop\" {\n  listen = \""+strings.TrimPrefix(earlierHost, "http://")+"\"\n}\n")
	if out, err := exec.Command(bin, "apply", earlier, "--results", results, "--quiet", "--metrics", "off").CombinedOutput(); clitest.ExitCode(err) != 0 {
		t.Fatalf("the earlier run: %v\n%s", err, out)
	}
	before := treeHashes(t, results)

	cmd := exec.Command(bin, "apply", plan, "--results", results, "--grace", "60s", "--metrics", "off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(3 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(1 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("lab ended after one SIGINT with requests still in their grace period: %v\n%s", err, out.String())
	default:
	}
	second := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("lab did not exit after a second SIGINT:\n%s", out.String())
	}
	if code := clitest.ExitCode(err); code != exitcode.CouldNotRun || time.Since(second) > 3*time.Second {
		t.Errorf("exit %d %v after the second SIGINT, want 3 at once:\n%s", code, time.Since(second), out.String())
	}
	if !strings.Contains(out.String(), "second signal") {
		t.Errorf("lab did not say why it stopped at once:\n%s", out.String())
	}
	if after := treeHashes(t, results); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the results changed:\nbefore %v\nafter  %v", before, after)
	}
}

// treeHashes maps every file and link under root to its content's hash
// (a link to its target).
func treeHashes(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(path)
			out[rel] = "-> " + target
			return nil
		}
		b, _ := os.ReadFile(path)
		out[rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	return out
}

// mountOrSkip mounts what args say (as root), or skips on a machine that
// cannot; in CI, where root can, it fails instead.
func mountOrSkip(t *testing.T, dir string, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", append(args, dir)...).CombinedOutput(); err != nil {
		needs.Missing(t, "cannot mount (%v: %s); this test needs root", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// TestResultsCannotBeWritten: a results folder that is read-only, or on a
// disk that is full, does not lose the run's verdicts: lab apply says why
// it cannot write, prints the totals and every verdict, exits 3, and
// leaves the earlier runs and the latest link as they were.
func TestResultsCannotBeWritten(t *testing.T) {
	t.Parallel() // light runs that mostly wait
	bin := clitest.Binary(t)
	for _, c := range []struct{ name, want string }{{"read-only", "read-only file system"}, {"full", "no space left on device"}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			results := filepath.Join(dir, "results")
			os.MkdirAll(results, 0o755)
			if c.name == "full" {
				mountOrSkip(t, results, "-t", "tmpfs", "-o", "size=256k", "tmpfs")
			}
			host := "http://" + clitest.FreePort(t)
			// Closed: an open run a busy machine made late would be invalid.
			plan := clitest.WritePlan(t, dir, "p.hcl", clitest.OneRoute, host, clitest.ClosedShape("2s", 2)+"sut \"shop\" {\n  listen = \""+strings.TrimPrefix(host, "http://")+"\"\n}\nsla \"all\" {\n  p99 = \"1s\"\n}\n")
			if out, err := exec.Command(bin, "apply", plan, "--results", results, "--quiet", "--metrics", "off").CombinedOutput(); clitest.ExitCode(err) != 0 {
				t.Fatalf("the earlier run: %v\n%s", err, out)
			}
			switch c.name {
			case "read-only":
				mountOrSkip(t, results, "--bind", "-o", "ro", results)
			case "full":
				// Fill what is left.
				f, _ := os.Create(filepath.Join(results, "filler"))
				f.Write(make([]byte, 1<<20))
				f.Close()
			}
			before := treeHashes(t, results)
			time.Sleep(1100 * time.Millisecond) // a run folder of its own second
			cmd := exec.Command(bin, "apply", plan, "--results", results, "--quiet", "--metrics", "off")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code := clitest.ExitCode(cmd.Run())
			if code != exitcode.CouldNotRun || !strings.Contains(stderr.String(), "cannot be written") || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("exit %d, want 3 with %q:\n%s", code, c.want, stderr.String())
			}
			if !strings.Contains(stdout.String(), "p99") || !strings.Contains(stdout.String(), "requests") {
				t.Errorf("the totals and verdicts were not printed:\n%s", stdout.String())
			}
			if after := treeHashes(t, results); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the results changed:\nbefore %v\nafter  %v", before, after)
			}
			var earlier struct{ Status string }
			b, err := os.ReadFile(filepath.Join(results, "p", "latest", "result.json"))
			if err != nil || json.Unmarshal(b, &earlier) != nil || earlier.Status != "complete" {
				t.Errorf("the earlier run is not whole: %v %s", err, b)
			}
		})
	}
}

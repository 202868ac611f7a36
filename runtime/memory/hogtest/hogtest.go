// Package hogtest runs a tiny program whose memory tests watch (the hog):
// it holds what it is told to allocate, touching every page so that the
// kernel backs it. Built once per test binary, static, so that it also runs
// in an image FROM scratch. For tests only.
package hogtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hogSource is a tiny program whose memory the tests watch: it holds what it
// is told to allocate, touching every page so that the kernel backs it.
// Protocol on stdin/stdout: it prints "ready"; "alloc N" → "ok TOTAL";
// end of input → exit.
const hogSource = `package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

var held [][]byte

func main() {
	fmt.Println("ready")
	total := 0
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] != "alloc" {
			fmt.Println("error: want alloc N")
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil || n <= 0 {
			fmt.Println("error: want alloc N")
			continue
		}
		b := make([]byte, n)
		for i := 0; i < n; i += 4096 {
			b[i] = 1
		}
		b[n-1] = 1
		held = append(held, b)
		total += n
		fmt.Println("ok", total)
	}
}
`

var (
	hogDir  string
	hogOnce sync.Once
	hogPath string
	hogErr  error
)

// Cleanup removes the built hog; call it from TestMain after the tests.
func Cleanup() {
	if hogDir != "" {
		os.RemoveAll(hogDir)
	}
}

// Build builds the hog once per test binary, static (CGO_ENABLED=0) so
// that it also runs in an image FROM scratch, and returns its path.
func Build(t *testing.T) string {
	t.Helper()
	hogOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lab-hog-")
		if err != nil {
			hogErr = err
			return
		}
		hogDir = dir
		goBin, err := exec.LookPath("go")
		if err != nil {
			hogErr = fmt.Errorf("no go command on PATH: %v", err)
			return
		}
		src := filepath.Join(hogDir, "src")
		if err := os.MkdirAll(src, 0o755); err != nil {
			hogErr = err
			return
		}
		for name, text := range map[string]string{"main.go": hogSource, "go.mod": "module hog\n\ngo 1.21\n"} {
			if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
				hogErr = err
				return
			}
		}
		out := filepath.Join(hogDir, "hog")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
		if msg, err := cmd.CombinedOutput(); err != nil {
			hogErr = fmt.Errorf("building the hog: %v\n%s", err, msg)
			return
		}
		hogPath = out
	})
	if hogErr != nil {
		t.Fatal(hogErr)
	}
	return hogPath
}

// Hog is a running hog (directly, or through `docker run -i`).
type Hog struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

// Start runs argv (the hog, or a command that runs it) and waits for its
// ready line. The process is killed at the end of the test if still running.
func Start(t *testing.T, argv ...string) *Hog {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &Hog{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		h.in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() // this one process, by its handle
			<-done
		}
	})
	if line := h.next(t); line != "ready" {
		t.Fatalf("%s: want ready, got %q (stderr: %s)", argv[0], line, stderr.String())
	}
	return h
}

func (h *Hog) next(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-h.lines:
		if !ok {
			t.Fatal("the hog ended early")
		}
		return line
	case <-time.After(60 * time.Second):
		t.Fatal("no answer from the hog in 60 s")
	}
	return ""
}

// Alloc makes the hog allocate and touch n more bytes.
func (h *Hog) Alloc(t *testing.T, n int) {
	t.Helper()
	if _, err := fmt.Fprintf(h.in, "alloc %d\n", n); err != nil {
		t.Fatal(err)
	}
	if line := h.next(t); !strings.HasPrefix(line, "ok ") {
		t.Fatalf("alloc: got %q", line)
	}
}

// Stop ends the hog's input and waits (bounded) for it to exit.
func (h *Hog) Stop(t *testing.T) {
	t.Helper()
	h.in.Close()
	for range h.lines {
	}
	done := make(chan error, 1)
	go func() { done <- h.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the hog did not exit in 30 s")
	}
}

// MiB is a mebibyte, the unit the hog is told to allocate in.
const MiB = 1 << 20

// PID is the hog's process id (of `docker run` when it runs in a container).
func (h *Hog) PID() int { return h.cmd.Process.Pid }

package sut

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ReadyTimeout bounds how long Start waits for a child shop to answer /healthz.
const ReadyTimeout = 20 * time.Second

// Process is a shop running as a child process of lab.
type Process struct {
	cmd     *exec.Cmd
	baseURL string
	out     *childOutput
	exited  chan struct{} // closed when the child has exited
	waitErr error         // the child's exit, valid once exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start runs `binary sut <k.Args()>` and returns once GET /healthz answers
// 200, or with an error that quotes the child's last output if it exits or is
// not ready within ReadyTimeout. The child's output goes to logs (may be nil).
//
// The child's environment is environ (the command line's) with the admin
// token added (LAB_SUT_ADMIN_TOKEN), not in the arguments that ps shows;
// every other LAB_SUT_* variable of environ is withheld, so the child runs
// exactly k. The child gets its own process
// group, so a terminal's Ctrl-C reaches lab, which stops it; and on Linux it
// is sent SIGTERM if lab dies. Ending ctx stops the child as Stop(5s) would.
func Start(ctx context.Context, binary string, environ []string, k Knobs, logs io.Writer) (*Process, error) {
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("sut knobs: %w", err)
	}
	token := k.AdminToken
	k.AdminToken = ""
	args := append([]string{"sut"}, k.Args()...)

	p := &Process{out: newChildOutput(logs), exited: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = childEnv(environ, token)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = childSysProcAttr()
	// Output copying must not hold Wait forever if the child leaves a
	// grandchild holding its pipes.
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the shop (%s): %w", binary, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.Stop(shutdownGrace)
		case <-p.exited:
		}
	}()

	if err := p.waitReady(ctx); err != nil {
		_ = p.Stop(2 * time.Second)
		return nil, err
	}
	return p, nil
}

// PID is the child's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// BaseURL is where the shop answers, e.g. "http://127.0.0.1:8080".
func (p *Process) BaseURL() string { return p.baseURL }

// Exited is closed when the child has exited, for whatever reason.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Output is the tail of what the child printed (at most 16 KiB).
func (p *Process) Output() string { return p.out.tail() }

// Stop sends SIGTERM to the child (that PID only), waits up to grace for it
// to finish its in-flight requests and exit, then sends SIGKILL. It returns
// nil when the shop exited cleanly; calling it again returns the same result.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(grace) })
	return p.stopErr
}

func (p *Process) stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return p.exitError("had already exited")
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping the shop (pid %d): %w", p.PID(), err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
		return p.exitError("exited on SIGTERM")
	case <-t.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("the shop (pid %d) did not stop within %v of SIGTERM; killed it", p.PID(), grace)
}

func (p *Process) exitError(what string) error {
	if p.waitErr == nil {
		return nil
	}
	return fmt.Errorf("the shop (pid %d) %s: %v%s", p.PID(), what, p.waitErr, p.out.quote())
}

// waitReady learns the address from the ready line, then polls /healthz.
func (p *Process) waitReady(ctx context.Context) error {
	deadline := time.NewTimer(ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("the shop exited before it was ready (%v)%s", p.waitErr, p.out.quote())
		case <-ctx.Done():
			return fmt.Errorf("starting the shop: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("the shop was not ready within %v%s", ReadyTimeout, p.out.quote())
		case <-tick.C:
		}
		if p.baseURL == "" {
			addr := p.out.readyAddr()
			if addr == "" {
				continue
			}
			p.baseURL = "http://" + dialable(addr)
		}
		resp, err := client.Get(p.baseURL + "/healthz")
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
}

// dialable turns the bound address into one a client can dial: an
// unspecified host (0.0.0.0, ::) becomes loopback.
func dialable(bound string) string {
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return bound
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}

func childEnv(environ []string, token string) []string {
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "LAB_SUT_") {
			env = append(env, kv)
		}
	}
	if token != "" {
		env = append(env, "LAB_SUT_ADMIN_TOKEN="+token)
	}
	return env
}

// childOutput passes the child's output on and keeps its tail for errors.
type childOutput struct {
	mu    sync.Mutex
	logs  io.Writer
	buf   []byte
	addr  string
	lines bytes.Buffer // the current unfinished line, to find the ready line
}

const tailMax = 16 << 10

func newChildOutput(logs io.Writer) *childOutput {
	if logs == nil {
		logs = io.Discard
	}
	return &childOutput{logs: logs}
}

func (o *childOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = o.logs.Write(b) // a failing log must not stop the shop
	o.buf = append(o.buf, b...)
	if len(o.buf) > tailMax {
		o.buf = append(o.buf[:0], o.buf[len(o.buf)-tailMax:]...)
	}
	if o.addr == "" {
		o.lines.Write(b)
		for {
			line, err := o.lines.ReadString('\n')
			if err != nil {
				o.lines.Reset()
				o.lines.WriteString(line) // keep the unfinished line
				break
			}
			if a, ok := strings.CutPrefix(strings.TrimSpace(line), ReadyPrefix); ok {
				o.addr = a
				o.lines.Reset()
				break
			}
		}
	}
	return len(b), nil
}

func (o *childOutput) readyAddr() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.addr
}

func (o *childOutput) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf)
}

// quote formats the last lines of output for an error message.
func (o *childOutput) quote() string {
	t := strings.TrimSpace(o.tail())
	if t == "" {
		return "; it printed nothing"
	}
	lines := strings.Split(t, "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "; its last output:\n  " + strings.Join(lines, "\n  ")
}

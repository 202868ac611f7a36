package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"lab/gates/exitcode"
	"lab/gates/live"
	"lab/runtime/engine"
	"lab/runtime/guard"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// uiDefaultAddr is where --ui alone serves the live page (Locust's port).
const uiDefaultAddr = "127.0.0.1:8089"

// uiOpts are lab apply's flags for its live page.
type uiOpts struct {
	addr   string
	linger time.Duration
}

func (u *uiOpts) register(fs *pflag.FlagSet) {
	fs.StringVar(&u.addr, "ui", "", "serve the live page (charts, verdicts so far, a stop button) on ADDR; --ui alone: "+uiDefaultAddr+" (beyond loopback only with LAB_TOKEN, given as ?token=…)")
	fs.Lookup("ui").NoOptDefVal = uiDefaultAddr
	fs.DurationVar(&u.linger, "ui-linger", 0, "after the run is written, keep the live page up this long, showing the final verdicts (SIGINT ends it sooner)")
}

// uiArgs lets --ui take its address as the next argument too (--ui ADDR,
// as the help says), which pflag gives only to --ui=ADDR when the value is
// optional: an argument after --ui that is host:port is its address; a
// plan file never is.
func uiArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--ui" && i+1 < len(args) {
			if _, _, err := net.SplitHostPort(args[i+1]); err == nil && !strings.ContainsAny(args[i+1], "/\\") {
				a, i = "--ui="+args[i+1], i+1
			}
		}
		if a == "--" {
			return append(out, args[i:]...)
		}
		out = append(out, a)
	}
	return out
}

func (u *uiOpts) settle(token string) error {
	if !u.on() {
		return nil
	}
	return guard.Check("--ui", u.addr, token)
}

func (u *uiOpts) on() bool { return u.addr != "" && u.addr != "off" }

// liveUI feeds the live page from the run. Its methods are no-ops when the
// page is off (nil).
type liveUI struct {
	page   *live.Page
	srv    *http.Server
	addr   string
	linger time.Duration
	log    io.Writer
}

// startUI serves the plan's live page; an address that cannot be served
// stops the command before any load.
func startUI(ctx context.Context, env *cmdEnv, o *applyOpts) (*liveUI, error) {
	if !o.ui.on() {
		return nil, nil
	}
	ln, err := net.Listen("tcp", o.ui.addr)
	if err != nil {
		return nil, failf(exitcode.CouldNotRun, "--ui: %v", err)
	}
	local, _ := guard.Local(o.ui.addr)
	u := &liveUI{page: live.New(o.plan, tally.Window), addr: ln.Addr().String(), linger: o.ui.linger, log: env.stderr}
	u.srv = &http.Server{Handler: u.page.Handler(live.Access{Token: o.cluster.token, Local: local}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = u.srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		u.page.Stopping("interrupted by a signal")
	}()
	hint := ""
	if o.cluster.token != "" {
		hint = "?token=<LAB_TOKEN>"
	}
	fmt.Fprintf(env.stderr, "live page at http://%s/%s\n", u.addr, hint)
	return u, nil
}

// tick wraps the next tick handler.
func (u *liveUI) tick(next func(engine.Tick)) func(engine.Tick) {
	if u == nil {
		return next
	}
	return func(t engine.Tick) {
		next(t)
		s := t.Second
		u.page.Tick(live.Status{Elapsed: t.Elapsed, Total: t.Total, Stage: t.Stage, Stages: t.Stages, Users: t.Users,
			Target: t.Target, Rate: t.Rate, Workers: t.Workers, InFlight: t.InFlight},
			result.Second{T: s.T, Users: t.Users, Requests: s.Requests, Failures: s.Failures, P50: s.P50, P95: s.P95, P99: s.P99,
				Max: s.Max, Arrivals: s.Offered, InFlight: t.InFlight, Rate: t.Rate},
			s.Counts)
	}
}

// window takes a finished window.
func (u *liveUI) window(ws tally.WindowStats) {
	if u == nil {
		return
	}
	if err := u.page.Window(ws.Names, ws.Failures); err != nil {
		fmt.Fprintf(u.log, "warning: live page: %v\n", err)
	}
}

// started says the run started at t, and how to stop it.
func (u *liveUI) started(t time.Time, stop func(reason string)) {
	if u == nil {
		return
	}
	u.page.SetStop(stop)
	u.page.Start(t)
}

// stopping says an abort rule stopped the run.
func (u *liveUI) stopping(why string) {
	if u != nil {
		u.page.Stopping(why)
	}
}

func (u *liveUI) memory(tap *memoryTap) {
	if u != nil && tap != nil {
		u.page.SetMemory(tap.series)
	}
}

func (u *liveUI) workers(f func() []result.Worker) {
	if u != nil {
		u.page.SetWorkers(f)
	}
}

// finish shows the written run with its verdicts.
func (u *liveUI) finish(run *result.Run, exit int, dir string) {
	if u != nil {
		u.page.Finish(run, exit, dir)
	}
}

// close keeps the page up for --ui-linger (until a signal), then stops it.
func (u *liveUI) close(ctx context.Context) {
	if u == nil {
		return
	}
	if u.linger > 0 && ctx.Err() == nil {
		select {
		case <-time.After(u.linger):
		case <-ctx.Done():
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := u.srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = u.srv.Close()
	}
}

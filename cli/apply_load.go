package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"lab/gates/exitcode"
	"lab/gates/sla"
	"lab/runtime/engine"
	"lab/runtime/memory"
	"lab/runtime/progress"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// The load stage: the run in this process (here) or on workers
// (apply_distributed.go), followed by the same watchers either way.

// watchers follow a run while it goes, wired once for a run in this
// process and for one on workers: the progress line, the live abort rules
// (which stop the run when one fires), the metrics, the live page, and the
// target's memory.
type watchers struct {
	env     *cmdEnv
	o       *applyOpts
	prog    *progress.Printer
	logs    io.Writer // where the run reports as it goes (runLog)
	mon     *sla.Monitor
	sampler memory.Sampler
	rec     *memory.Recording
	stop    func(reason string) // the runner's Stop, set before the run starts
}

func newWatchers(env *cmdEnv, o *applyOpts, sampler memory.Sampler) *watchers {
	prog := newProgress(env, o)
	return &watchers{env: env, o: o, prog: prog, logs: runLog(env, o, prog), mon: o.live.monitor(o.plan), sampler: sampler}
}

// onTick is what each second of the run goes to.
func (w *watchers) onTick() func(engine.Tick) {
	return cpuWarning(w.logs, w.o.page.tick(w.o.live.tick(w.prog.Tick)))
}

// cpuBusyWarn is how many seconds in a row the generator must use nearly
// all its CPUs before the run says so.
const cpuBusyWarn = 5

// cpuWarning says once, during the run, when this process has used at
// least engine.CPUBusy of its CPUs for cpuBusyWarn seconds in a row: the
// generator, not the target, may then set the pace, and its latencies
// include its own delays.
func cpuWarning(logs io.Writer, next func(engine.Tick)) func(engine.Tick) {
	run, said := 0, false
	return func(t engine.Tick) {
		if t.CPU >= engine.CPUBusy {
			run++
		} else {
			run = 0
		}
		if run >= cpuBusyWarn && !said {
			said = true
			fmt.Fprintf(logs, "warning: lab has used %.0f%% of its %g CPUs for %d s: the generator, not the target, may be setting the pace, and its latencies include its own delays; give it more CPUs or workers (docs/DEPLOY.md)\n",
				100*t.CPU, math.Round(100*engine.CPUs())/100, run)
		}
		next(t)
	}
}

// onWindow is what each finished window goes to; nil when nothing
// watches windows.
func (w *watchers) onWindow() func(tally.WindowStats) {
	if w.mon == nil && w.o.live == nil && w.o.page == nil {
		return nil
	}
	return func(ws tally.WindowStats) {
		judgeLive(w.logs, w.mon, ws, func(r string) { w.o.page.stopping(r); w.stop(r) })
		w.o.live.window(ws, w.mon)
		w.o.page.window(ws)
	}
}

// started is told when the run's load began: the abort rules count
// windows from then, and memory is read once a second, each reading with
// the requests completed by then.
func (w *watchers) started(ctx context.Context, start time.Time, completed func() int64) {
	if w.mon != nil {
		w.mon.SetStart(start)
	}
	w.o.page.started(start, w.stop)
	if w.sampler != nil {
		w.rec = memory.Record(ctx, w.sampler, start, memory.DefaultInterval, completed)
	}
}

// done is told when the run ended; run is nil when it could not be
// carried out. The memory series goes into the Run, with how many
// readings failed: the leak verdict says so.
func (w *watchers) done(run *result.Run) {
	w.prog.Done()
	if w.rec == nil {
		return
	}
	series := w.rec.Stop()
	if run == nil {
		return
	}
	run.Memory = series
	if n, err := w.rec.Failures(); n > 0 && err != nil {
		fmt.Fprintf(w.env.stderr, "warning: %d memory reading(s) failed, the last: %v\n", n, err)
	}
}

// runLog is where the master and its worker processes report during the
// run: through the progress line, which their lines would otherwise run
// into, unless --quiet leaves no progress line to share stderr with.
func runLog(env *cmdEnv, o *applyOpts, prog *progress.Printer) io.Writer {
	if o.quiet {
		return env.stderr
	}
	return prog.Log()
}

// judgeLive runs a window through the abort rules; stop ends the run when
// one fires. What it says goes to logs (runLog).
func judgeLive(logs io.Writer, mon *sla.Monitor, ws tally.WindowStats, stop func(string)) {
	reason, err := mon.Window(ws.T, ws.Names)
	if err != nil {
		fmt.Fprintf(logs, "warning: abort rules: %v\n", err)
		return
	}
	if reason != "" {
		fmt.Fprintf(logs, "abort: %s\n", reason)
		stop(reason)
	}
}

// runLocally runs the load in this process, with the target's memory
// recorded alongside when sampler is set.
func runLocally(ctx context.Context, env *cmdEnv, o *applyOpts, sampler memory.Sampler) (*result.Run, error) {
	w := newWatchers(env, o, sampler)
	eng, err := engine.New(engine.Options{Plan: o.plan, Grace: o.grace, OnTick: w.onTick(), OnWindow: w.onWindow()})
	if err != nil {
		return nil, failf(exitcode.CouldNotRun, "%v", err)
	}
	w.stop = eng.Stop
	plan := o.plan
	fmt.Fprintf(env.stderr, "applying %s: shape %q (%s model, %s) against %s\n",
		plan.File, plan.Shape.Name, plan.Shape.Model, plan.Shape.Duration(), plan.Workload.Host)
	w.started(ctx, time.Now(), eng.Completed)
	run, err := eng.Run(ctx)
	if err != nil {
		w.done(nil)
		if errors.Is(err, engine.ErrUnreachable) {
			return nil, failf(exitcode.CouldNotRun, "%v\nIs the service running? Nothing was sent.", err)
		}
		return nil, failf(exitcode.CouldNotRun, "%v", err)
	}
	w.done(run)
	return run, nil
}

// newProgress is the run's progress output on stderr: on a terminal (and
// not in CI) a line redrawn every second, fitted to the terminal's width.
func newProgress(env *cmdEnv, o *applyOpts) *progress.Printer {
	live := isTerminal(env.stderr) && env.getenv("CI") == ""
	return progress.New(progressOut(env, o), live, useColor(env, env.stderr), progress.TermWidth(env.stderr, env.getenv))
}

func progressOut(env *cmdEnv, o *applyOpts) io.Writer {
	if o.quiet {
		return io.Discard
	}
	return env.stderr
}

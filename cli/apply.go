package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"lab/gates"
	"lab/gates/exitcode"
	"lab/gates/sla"
	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/memory"
	"lab/runtime/progress"
	"lab/runtime/result"
	"lab/runtime/tally"
	"lab/sut"
)

const applyAbout = `Run a plan: start the bundled shop if the plan has a sut block, send the
load in the plan's shape, write the Run to results/<plan>/<UTC time>/ (and a
latest link), and judge it: every budget becomes a verdict, printed as one
table per gate and stored with the run (result.json, summary.md, junit.xml,
report.html; the Markdown appended to $GITHUB_STEP_SUMMARY when that is set).
Windowed budgets with an abort rule are judged live and stop the run early
when they fire.

With no FILE, applies what 'lab plan' last planned (with the same -var,
-var-file and --shape), as terraform does; if the plan's files changed since,
run 'lab plan' again.

While it runs, its figures are served to Prometheus on --metrics
(127.0.0.1:9646/metrics by default; the names are in docs/METRICS.md), and
with --ui on a live page in the browser (http://127.0.0.1:8089/): the charts,
the requests, every budget's verdict so far, the stage and time left, the
workers, and a button that stops the run (it is then written, judged and
marked aborted, as an abort rule would).

SIGINT or SIGTERM stops sending, lets requests in flight finish for the
grace period, writes the Run marked interrupted, judges what it measured, and
exits 1 or 3 (never 0). A second signal exits at once with 3, leaving
whatever was written whole and writing nothing more.

Exit codes: 0 every budget met · 1 a budget breached, unmeasured or
inconclusive · 2 invalid plan or command line · 3 the run could not be
carried out or its figures are invalid (a saturated generator).`

// applyOpts is what lab apply was asked to do: the plan, loaded with its
// variables (or the one 'lab plan' last planned), and the flags.
type applyOpts struct {
	plan       *lang.Plan
	inputs     planFlags // what the plan was loaded with: workers load it the same way
	resultsDir string
	grace      time.Duration
	noSUT      bool
	quiet      bool
	cluster    clusterOpts
	// sutContainer is the Docker container the shop runs in (compose mode):
	// a leak block's memory = sut.NAME is sampled through the engine.
	sutContainer string
	// waitTarget is how long the plan's host may take to start listening
	// (in a stack the shop starts beside the master, not before it).
	waitTarget time.Duration
	metrics    metricsOpts
	live       *liveMetrics // the metrics being served, nil when off
	ui         uiOpts
	page       *liveUI // the live page being served, nil when off
}

func runApply(env *cmdEnv, args []string) int {
	o, stop, code := parseApplyFlags(env, args)
	if stop {
		return code
	}
	ctx, stopSignals := stopOnSignals(env)
	defer stopSignals()
	return apply(ctx, env, o)
}

// stopOnSignals cancels the run's context at the first SIGINT or SIGTERM:
// the run stops sending, lets requests in flight finish, is written marked
// interrupted and judged. A second signal exits at once with 3: what was
// written by then is whole (every file is written atomically), the rest is
// not written, and the shop child goes with lab (its parent-death signal).
func stopOnSignals(env *cmdEnv) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(env.stderr, "lab apply: stopping: requests in flight may finish, then the run is written (a second signal stops at once)")
		cancel()
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(env.stderr, "lab apply: stopped at once by a second signal: the run is not written (exit 3)")
		os.Exit(exitcode.CouldNotRun)
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// parseApplyFlags reads the command line and loads the plan; stop says
// the command ends here, with code.
func parseApplyFlags(env *cmdEnv, args []string) (o *applyOpts, stop bool, code int) {
	fs := newFlags("apply")
	var pf planFlags
	pf.register(fs)
	o = &applyOpts{}
	fs.StringVar(&o.resultsDir, "results", "results", "folder runs are written under")
	fs.DurationVar(&o.grace, "grace", 10*time.Second, "how long requests in flight may finish after the run ends")
	fs.BoolVar(&o.noSUT, "no-sut", false, "do not start the plan's shop (it runs elsewhere)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	o.cluster.register(fs)
	o.metrics.register(fs)
	o.ui.register(fs)
	fs.DurationVar(&o.waitTarget, "wait-target", 0, "wait up to this long for the plan's host to take connections before the run (0: it must already)")
	fs.StringVar(&o.sutContainer, "sut-container", "", "the shop runs in Docker container NAME (implies --no-sut): a leak block's memory = sut.NAME is read through the Docker engine")
	if stop, code := parseFlags(env, fs, uiArgs(args), "lab apply [FILE] [flags]", applyAbout); stop {
		return nil, true, code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(env.stderr, "lab apply: one plan file at a time; got %d\n", fs.NArg())
		return nil, true, exitcode.BadInput
	}
	file := fs.Arg(0)
	if file == "" {
		lp, code := lastPlanned(env)
		if code != exitcode.OK {
			return nil, true, code
		}
		file = lp.File
		// The flags given now win over those 'lab plan' was given.
		if !fs.Lookup("var").Changed {
			pf.vars = lp.Vars
		}
		if !fs.Lookup("var-file").Changed {
			pf.varFiles = lp.VarFiles
		}
		if !fs.Lookup("shape").Changed {
			pf.shape = lp.Shape
		}
		pf.allowOutside = pf.allowOutside || lp.Outside
	}
	if o.plan, _ = loadPlan(env, file, pf.options(env)); o.plan == nil {
		return nil, true, exitcode.BadInput
	}
	o.inputs = pf
	if err := o.cluster.settle(env, o.plan, fs); err != nil {
		fmt.Fprintf(env.stderr, "lab apply: %v\n", err)
		return nil, true, exitcode.BadInput
	}
	if err := o.metrics.settle(o.cluster.token, fs); err != nil {
		fmt.Fprintf(env.stderr, "lab apply: %v\n", err)
		return nil, true, exitcode.BadInput
	}
	if err := o.ui.settle(o.cluster.token); err != nil {
		fmt.Fprintf(env.stderr, "lab apply: %v\n", err)
		return nil, true, exitcode.BadInput
	}
	o.noSUT = o.noSUT || o.sutContainer != ""
	return o, false, exitcode.OK
}

// apply runs the plan in stages, each with one job: start the target, open
// the memory source, run the load, judge and store.
func apply(ctx context.Context, env *cmdEnv, o *applyOpts) int {
	target, code := startTarget(ctx, env, o)
	if code != exitcode.OK {
		return code
	}
	defer target.stop()
	if code := waitForTarget(ctx, env, o); code != exitcode.OK {
		return code
	}
	sampler, code := openMemory(ctx, env, o.leak(), target.info)
	if code != exitcode.OK {
		return code
	}
	if o.live, code = startMetrics(env, o); code != exitcode.OK {
		return code
	}
	defer o.live.close(ctx) // once the run is written
	if o.page, code = startUI(ctx, env, o); code != exitcode.OK {
		return code
	}
	defer o.page.close(ctx)
	sampler = tapMemory(sampler, o)
	// The load: in this process, or on workers this process coordinates
	// as their master (the target's memory is recorded here either way).
	var run *result.Run
	if o.cluster.distributed() {
		run, code = runDistributed(ctx, env, o, sampler)
	} else {
		run, code = runLocally(ctx, env, o, sampler)
	}
	if run == nil {
		return code
	}
	o.live.finish(run)
	return judgeAndStore(env, o, run)
}

// target is where the load goes, as the memory sampler needs it: the
// plan's host, or the shop this command started.
type target struct {
	info memory.SUTInfo
	shop *sut.Process // nil when the shop runs elsewhere
}

// startTarget starts the plan's shop, unless the plan has none or it runs
// elsewhere (--no-sut).
func startTarget(ctx context.Context, env *cmdEnv, o *applyOpts) (target, int) {
	t := target{info: memory.SUTInfo{BaseURL: o.plan.Workload.Host}}
	if o.plan.SUT == nil || o.noSUT {
		return t, exitcode.OK
	}
	shop, err := startShop(ctx, env, o.plan)
	if err != nil {
		fmt.Fprintf(env.stderr, "lab apply: the shop did not start: %v\n", err)
		return t, exitcode.CouldNotRun
	}
	fmt.Fprintf(env.stderr, "shop %q started (pid %d) at %s\n", o.plan.SUT.Name, shop.PID(), shop.BaseURL())
	t.shop = shop
	t.info = memory.SUTInfo{PID: shop.PID(), BaseURL: shop.BaseURL()}
	return t, exitcode.OK
}

func (t target) stop() {
	if t.shop != nil {
		t.shop.Stop(5 * time.Second)
	}
}

// leak is the plan's leak block, its memory = sut.NAME read from the
// shop's container through the Docker engine under --sut-container (the
// shop's process and loopback are another container's).
func (o *applyOpts) leak() *lang.Leak {
	l := o.plan.Leak
	if l == nil || o.sutContainer == "" || l.Memory.Kind != lang.MemorySUT {
		return l
	}
	c := *l
	c.Memory = lang.MemorySource{Kind: lang.MemoryContainer, Name: o.sutContainer}
	return &c
}

// openMemory opens the leak block's memory source (nil without a leak
// block): the leak hunter's samples, once a second during the run. The
// source is read once now, so one that cannot be read stops the run before
// any load rather than being found out after it.
func openMemory(ctx context.Context, env *cmdEnv, leak *lang.Leak, info memory.SUTInfo) (memory.Sampler, int) {
	if leak == nil {
		return nil, exitcode.OK
	}
	sampler, err := memory.NewSampler(leak.Memory, info)
	if err != nil {
		fmt.Fprintf(env.stderr, "lab apply: leak block: %v\n", err)
		return nil, exitcode.BadInput
	}
	if code := probeMemory(ctx, env, leak, sampler); code != exitcode.OK {
		return nil, code
	}
	return sampler, exitcode.OK
}

// runLocally runs the load in this process, with the target's memory
// recorded alongside when sampler is set. A nil Run means the run could
// not be carried out (exit 3).
func runLocally(ctx context.Context, env *cmdEnv, o *applyOpts, sampler memory.Sampler) (*result.Run, int) {
	eng, prog, mon, err := newEngine(env, o)
	if err != nil {
		fmt.Fprintf(env.stderr, "lab apply: %v\n", err)
		return nil, exitcode.CouldNotRun
	}
	plan := o.plan
	fmt.Fprintf(env.stderr, "applying %s: shape %q (%s model, %s) against %s\n",
		plan.File, plan.Shape.Name, plan.Shape.Model, plan.Shape.Duration(), plan.Workload.Host)
	start := time.Now()
	if mon != nil {
		mon.SetStart(start)
	}
	o.page.started(start, eng.Stop)
	var rec *memory.Recording
	if sampler != nil {
		rec = memory.Record(ctx, sampler, start, memory.DefaultInterval, eng.Completed)
	}
	run, err := eng.Run(ctx)
	prog.Done()
	if rec != nil {
		series := rec.Stop()
		if err == nil {
			run.Memory = series // with how many readings failed: the leak verdict says so
			if n, rerr := rec.Failures(); n > 0 && rerr != nil {
				fmt.Fprintf(env.stderr, "warning: %d memory reading(s) failed, the last: %v\n", n, rerr)
			}
		}
	}
	if err != nil {
		if errors.Is(err, engine.ErrUnreachable) {
			fmt.Fprintf(env.stderr, "lab apply: %v\nIs the service running? Nothing was sent.\n", err)
		} else {
			fmt.Fprintf(env.stderr, "lab apply: %v\n", err)
		}
		return nil, exitcode.CouldNotRun
	}
	return run, exitcode.OK
}

// newEngine builds the engine with its progress output and, when a budget
// has an abort rule, the monitor that judges windows live: the first rule
// to fire stops the run, and the Run says why.
func newEngine(env *cmdEnv, o *applyOpts) (*engine.Engine, *progress.Printer, *sla.Monitor, error) {
	prog := newProgress(env, o)
	logs := runLog(env, o, prog)
	var eng *engine.Engine
	mon := o.live.monitor(o.plan)
	opts := engine.Options{Plan: o.plan, Grace: o.grace, OnTick: o.page.tick(o.live.tick(prog.Tick))}
	if mon != nil || o.live != nil || o.page != nil {
		opts.OnWindow = func(ws tally.WindowStats) {
			judgeLive(logs, mon, ws, func(r string) { o.page.stopping(r); eng.Stop(r) })
			o.live.window(ws, mon)
			o.page.window(ws)
		}
	}
	eng, err := engine.New(opts)
	return eng, prog, mon, err
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

// judgeAndStore judges what the run measured, complete or not, writes it
// with its verdicts to results/<plan>/<time>/ (and the latest link), and
// prints the totals and verdicts.
func judgeAndStore(env *cmdEnv, o *applyOpts, run *result.Run) int {
	dir := result.DirFor(o.resultsDir, o.plan.Name, run.Start)
	// The baseline is found before this run is written: afterwards a
	// results/<plan>/latest baseline would point at the run itself.
	opt, warn := gates.LoadBaseline(o.plan.Regression, "", dir)
	if warn != nil {
		fmt.Fprintf(env.stderr, "warning: %v\n", warn)
	}
	vs, judgeErr := gates.Judge(o.plan, run, opt)
	if judgeErr != nil {
		fmt.Fprintf(env.stderr, "lab apply: judging the run: %v\n", judgeErr)
	}
	run.Verdicts = vs
	gates.RecordBaseline(run, opt)
	// A run that cannot be written (a read-only or full disk) is still
	// judged and its verdicts printed; its folder, without result.json, is
	// removed, and the latest link and earlier runs stay as they were.
	written := true
	if err := result.Write(dir, run); err != nil {
		fmt.Fprintf(env.stderr, "lab apply: the run cannot be written to %s: %v\nIts totals and verdicts follow; earlier runs and %s/latest are untouched (exit 3).\n",
			dir, err, filepath.Dir(dir))
		_ = os.RemoveAll(dir)
		written = false
	} else {
		if err := writeReport(dir, o.plan, run, opt.Baseline); err != nil {
			fmt.Fprintf(env.stderr, "lab apply: %v\n", err)
		}
		if err := result.Link(dir); err != nil {
			fmt.Fprintf(env.stderr, "lab apply: linking %s/latest: %v\n", filepath.Dir(dir), err)
		}
	}
	printTotals(env.stdout, run)
	exit := gates.ExitCode(vs)
	if judgeErr != nil || !written {
		exit = exitcode.CouldNotRun
	}
	heading := fmt.Sprintf("lab apply %s — run %s", o.plan.File, run.Status)
	reportDir := dir
	if !written {
		reportDir = ""
	}
	if err := report(env, heading, vs, exit, reportDir, "", ""); err != nil {
		fmt.Fprintf(env.stderr, "lab apply: %v\n", err)
	}
	if written {
		fmt.Fprintf(env.stderr, "run written to %s\n", dir)
		o.page.finish(run, exit, dir)
	} else {
		o.page.finish(run, exit, "")
	}
	return exit
}

// probeMemory takes one reading of the leak block's memory source before
// the run and says, when it fails, whether the plan is wrong (exit 2: it
// names a metric the endpoint does not export) or the run cannot be carried
// out (exit 3: the target is not there or cannot be read).
func probeMemory(ctx context.Context, env *cmdEnv, l *lang.Leak, s memory.Sampler) int {
	_, err := memory.Probe(ctx, s)
	if err == nil {
		return exitcode.OK
	}
	at := fmt.Sprintf("%s:%d", l.Range.Filename, l.Range.Start.Line)
	var pe *memory.PlanError
	if errors.As(err, &pe) {
		fmt.Fprintf(env.stderr, "lab apply: the plan is invalid (exit 2): %s: leak block, memory %s: %v\nNothing was sent.\n",
			at, lang.MemoryText(l.Memory), err)
		return exitcode.BadInput
	}
	fmt.Fprintf(env.stderr, "lab apply: the run cannot be carried out (exit 3): %s: leak block, memory %s cannot be read: %v\nNothing was sent.\n",
		at, lang.MemoryText(l.Memory), err)
	return exitcode.CouldNotRun
}

// startShop runs the bundled shop as a child process with the plan's
// knobs, each LAB_SUT_<KNOB> variable set winning over the plan's value (as
// in the generated Compose file): make compare's "the same plan with the
// shop 50% slower" needs no edited plan.
func startShop(ctx context.Context, env *cmdEnv, plan *lang.Plan) (*sut.Process, error) {
	knobs, err := planKnobs(plan.SUT)
	if err != nil {
		return nil, err
	}
	knobs, overrides, err := envKnobs(knobs, env.getenv)
	if err != nil {
		return nil, err
	}
	for _, o := range overrides {
		fmt.Fprintf(env.stderr, "shop knob %s (the plan's value is the default)\n", o)
	}
	bin, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return sut.Start(ctx, bin, knobs, nil)
}

// planKnobs are the shop's knobs as the plan's sut block sets them; a
// problem names the knob and its file:line in the plan.
func planKnobs(s *lang.SUT) (sut.Knobs, error) {
	var settings []knobSetting
	for _, k := range s.Knobs {
		where := fmt.Sprintf("%s:%d: %s", k.Range.Filename, k.Range.Start.Line, k.Name)
		settings = append(settings, knobSetting{k.Name, k.Text, where})
	}
	knobs, problems := setKnobs(sut.DefaultKnobs(), settings)
	if len(problems) > 0 {
		return knobs, fmt.Errorf("the plan's knobs were refused: %s", strings.Join(problems, "; "))
	}
	return knobs, nil
}

// envKnobs sets the knobs LAB_SUT_<KNOB> variables give (not listen, which
// the plan's host decides), and says which ("LAB_SUT_LATENCY=3ms").
func envKnobs(k sut.Knobs, getenv func(string) string) (sut.Knobs, []string, error) {
	var settings []knobSetting
	var said []string
	for _, s := range sut.KnobSpecs() {
		v := getenv(s.Env)
		if v == "" || s.Name == "listen" {
			continue
		}
		settings = append(settings, knobSetting{s.Name, v, s.Env})
		if s.Name != "admin_token" {
			said = append(said, s.Env+"="+v)
		}
	}
	k, problems := setKnobs(k, settings)
	if len(problems) > 0 {
		return k, nil, fmt.Errorf("the shop's knobs were refused: %s", strings.Join(problems, "; "))
	}
	return k, said, nil
}

// lastPlanned reads what `lab plan` last planned and checks it is current.
func lastPlanned(env *cmdEnv) (lastPlan, int) {
	var lp lastPlan
	data, err := os.ReadFile(lastPlanFile)
	if err != nil {
		fmt.Fprintln(env.stderr, "lab apply: no plan given and no plan planned here; run 'lab plan FILE' first, or 'lab apply FILE'")
		return lp, exitcode.BadInput
	}
	if err := json.Unmarshal(data, &lp); err != nil || lp.File == "" {
		fmt.Fprintf(env.stderr, "lab apply: %s is unreadable; run 'lab plan FILE' again\n", lastPlanFile)
		return lp, exitcode.BadInput
	}
	plan, _ := loadPlan(env, lp.File, lang.Options{Vars: lp.Vars, VarFiles: lp.VarFiles, Shape: lp.Shape, Env: env.getenv, AllowOutside: lp.Outside})
	if plan == nil {
		return lp, exitcode.BadInput
	}
	now := sourceHashes(plan)
	for path, sum := range lp.Sources {
		if now[path] != sum {
			fmt.Fprintf(env.stderr, "lab apply: %s changed since 'lab plan %s'; run 'lab plan' again to review the change\n", path, lp.File)
			return lp, exitcode.BadInput
		}
	}
	return lp, exitcode.OK
}

// printTotals prints per-request figures: names left-aligned, numbers right.
func printTotals(w io.Writer, run *result.Run) {
	width := len("request")
	for _, q := range run.Requests {
		width = max(width, len(q.Name))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\trequests\tfailures\treq/s\tp50\tp95\tp99\tmax\t\n", width, "request")
	var count, fails int64
	for _, q := range run.Requests {
		count += q.Count
		fails += q.Failures
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t\n", width, q.Name, q.Count, q.Failures, float64(q.Count)/run.Duration(),
			usText(q.Response.P50), usText(q.Response.P95), usText(q.Response.P99), usText(q.Response.Max))
	}
	fmt.Fprintf(tw, "%-*s\t%d\t%d\t%.1f\t\t\t\t\t\n", width, "total", count, fails, float64(count)/run.Duration())
	tw.Flush()
	fmt.Fprintf(w, "status: %s", run.Status)
	if run.Reason != "" {
		fmt.Fprintf(w, " (%s)", run.Reason)
	}
	var cut int64
	for _, q := range run.Requests {
		cut += q.CutOff
	}
	if cut > 0 {
		fmt.Fprintf(w, "; %d requests cut off at the end of the grace period (counted as failures)", cut)
	}
	fmt.Fprintln(w)
}

func usText(us int64) string {
	if us == 0 {
		return "-"
	}
	d := time.Duration(us) * time.Microsecond
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", us)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(us)/1000)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

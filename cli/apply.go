package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"
	"time"

	"lab/gates/exitcode"
	"lab/lang"
	"lab/runtime/result"
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

func runApply(env *cmdEnv, args []string) error {
	o, err := parseApplyFlags(env, args)
	if err != nil {
		return err
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
		env.notef("stopping: requests in flight may finish, then the run is written (a second signal stops at once)")
		cancel()
		select {
		case <-sigs:
		case <-done:
			return
		}
		env.notef("stopped at once by a second signal: the run is not written (exit 3)")
		os.Exit(exitcode.CouldNotRun)
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// parseApplyFlags reads the command line and loads the plan.
func parseApplyFlags(env *cmdEnv, args []string) (*applyOpts, error) {
	fs := newFlags("apply")
	var pf planFlags
	pf.register(fs)
	o := &applyOpts{}
	fs.StringVar(&o.resultsDir, "results", "results", "folder runs are written under")
	fs.DurationVar(&o.grace, "grace", 10*time.Second, "how long requests in flight may finish after the run ends")
	fs.BoolVar(&o.noSUT, "no-sut", false, "do not start the plan's shop (it runs elsewhere)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	o.cluster.register(fs)
	o.metrics.register(fs)
	o.ui.register(fs)
	fs.DurationVar(&o.waitTarget, "wait-target", 0, "wait up to this long for the plan's host to take connections before the run (0: it must already)")
	fs.StringVar(&o.sutContainer, "sut-container", "", "the shop runs in Docker container NAME (implies --no-sut): a leak block's memory = sut.NAME is read through the Docker engine")
	if err := parseFlags(env, fs, uiArgs(args), "lab apply [FILE] [flags]", applyAbout); err != nil {
		return nil, err
	}
	if fs.NArg() > 1 {
		return nil, failf(exitcode.BadInput, "one plan file at a time; got %d", fs.NArg())
	}
	file := fs.Arg(0)
	if file == "" {
		lp, err := lastPlanned(env)
		if err != nil {
			return nil, err
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
	var err error
	if o.plan, _, err = loadPlan(env, file, pf.options(env)); err != nil {
		return nil, err
	}
	o.inputs = pf
	if err := o.cluster.settle(env, o.plan, fs); err != nil {
		return nil, failf(exitcode.BadInput, "%v", err)
	}
	if err := o.metrics.settle(o.cluster.token, fs); err != nil {
		return nil, failf(exitcode.BadInput, "%v", err)
	}
	if err := o.ui.settle(o.cluster.token); err != nil {
		return nil, failf(exitcode.BadInput, "%v", err)
	}
	o.noSUT = o.noSUT || o.sutContainer != ""
	return o, nil
}

// apply runs the plan in stages, each with one job: start the target, open
// the memory source, run the load, judge and store.
func apply(ctx context.Context, env *cmdEnv, o *applyOpts) error {
	target, err := startTarget(ctx, env, o)
	if err != nil {
		return err
	}
	defer target.stop()
	if err := waitForTarget(ctx, o); err != nil {
		return err
	}
	if err := runSetup(ctx, env, o); err != nil {
		return err
	}
	sampler, err := openMemory(ctx, o.leak(), target.info)
	if err != nil {
		return err
	}
	if o.live, err = startMetrics(env, o); err != nil {
		return err
	}
	defer o.live.close(ctx) // once the run is written
	if o.page, err = startUI(ctx, env, o); err != nil {
		return err
	}
	defer o.page.close(ctx)
	sampler = tapMemory(sampler, o)
	// The load: in this process, or on workers this process coordinates
	// as their master (the target's memory is recorded here either way).
	var run *result.Run
	if o.cluster.distributed() {
		run, err = runDistributed(ctx, env, o, sampler)
	} else {
		run, err = runLocally(ctx, env, o, sampler)
	}
	if err != nil {
		return err
	}
	runTeardown(ctx, env, o, run)
	o.live.finish(run)
	return judgeAndStore(env, o, run)
}

// lastPlanned reads what `lab plan` last planned and checks it is current.
func lastPlanned(env *cmdEnv) (lastPlan, error) {
	var lp lastPlan
	data, err := os.ReadFile(lastPlanFile)
	if err != nil {
		return lp, failf(exitcode.BadInput, "no plan given and no plan planned here; run 'lab plan FILE' first, or 'lab apply FILE'")
	}
	if err := json.Unmarshal(data, &lp); err != nil || lp.File == "" {
		return lp, failf(exitcode.BadInput, "%s is unreadable; run 'lab plan FILE' again", lastPlanFile)
	}
	plan, _, err := loadPlan(env, lp.File, lang.Options{Vars: lp.Vars, VarFiles: lp.VarFiles, Shape: lp.Shape, Env: env.getenv, AllowOutside: lp.Outside})
	if err != nil {
		return lp, err
	}
	now := sourceHashes(plan)
	for path, sum := range lp.Sources {
		if now[path] != sum {
			return lp, failf(exitcode.BadInput, "%s changed since 'lab plan %s'; run 'lab plan' again to review the change", path, lp.File)
		}
	}
	return lp, nil
}

package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"lab/gates"
	"lab/gates/exitcode"
	"lab/gates/locust"
	"lab/lang/units"
	"lab/runtime/result"
)

const compareAbout = `Compare a run with a baseline run, request by request, and say which got
slower, served less or failed more (docs/STATISTICS.md): p95 growth,
throughput and error rate, each with an effect size and a significance test
over the runs' 10 s windows, Holm–Bonferroni across all of them. A request
of the baseline that the current run never completed is reported; a
generator that could not keep up in either run makes the comparison invalid
(exit 3); runs too short for a test to decide are inconclusive (exit 1),
with how long to run. Nothing is sent; nothing in either folder is changed.

BASELINE and CURRENT are run folders, or the PREFIX of CSV files Locust
wrote (recognised by PREFIX_stats.csv; --csv insists on it). Locust keeps no
per-window histograms, so its whole-run p95s are compared by the threshold
alone, with no significance test; the verdicts say so.

Thresholds: the plan language's defaults; the regression block of --plan
FILE, or else of the plan CURRENT ran (stored with it); then the flags.`

// compareOpts is what lab compare was asked for.
type compareOpts struct {
	pf                     planFlags
	baseline, current      string
	planFile               string
	csv                    bool
	growth, drop, errInc   string
	history                string
	junitFile, summaryFile string
}

func runCompare(env *cmdEnv, args []string) error {
	o, err := parseCompareFlags(env, args)
	if err != nil {
		return err
	}
	if _, err := o.flagThresholds(gates.DefaultThresholds()); err != nil {
		return err // a bad flag says so before any run is read
	}
	var runs [2]*result.Run
	for i, arg := range []string{o.baseline, o.current} {
		r, err := loadRunOrCSV(arg, o.csv)
		if err != nil {
			return failf(exitcode.BadInput, "%v", err)
		}
		runs[i] = r
	}
	th, err := o.thresholds(env, runs[1])
	if err != nil {
		return err
	}
	if o.history != "" {
		h, err := gates.LoadHistory(o.history, runs[0], o.current)
		if err != nil {
			return failf(exitcode.BadInput, "--history: %v", err)
		}
		th.History = h
	}
	vs, err := gates.Compare(runs[0], runs[1], th)
	if err != nil {
		return failf(exitcode.CouldNotRun, "%v", err)
	}
	exit := gates.ExitCode(vs)
	heading := fmt.Sprintf("lab compare %s %s", o.baseline, o.current)
	if err := report(env, heading, vs, exit, "", o.junitFile, o.summaryFile); err != nil {
		return failf(exitcode.CouldNotRun, "%v", err)
	}
	return exitWith(exit)
}

// parseCompareFlags reads the command line.
func parseCompareFlags(env *cmdEnv, args []string) (*compareOpts, error) {
	fs := newFlags("compare")
	o := &compareOpts{}
	o.pf.register(fs)
	fs.StringVar(&o.planFile, "plan", "", "take the thresholds from this plan's regression block")
	fs.BoolVar(&o.csv, "csv", false, "BASELINE and CURRENT are Locust CSV prefixes")
	fs.StringVar(&o.growth, "p95-growth", "", "p95 growth that fails, e.g. 10%")
	fs.StringVar(&o.drop, "rps-drop", "", "throughput drop that fails (closed model), e.g. 5%")
	fs.StringVar(&o.errInc, "error-rate-inc", "", "error-rate increase that fails, e.g. 0.5%")
	fs.StringVar(&o.history, "history", "", "a results/<plan> folder of earlier runs: with 10 or more of the baseline's plan (same sources, shape and variables, none newer than the baseline), thresholds widen to their noise")
	fs.StringVar(&o.junitFile, "junit", "", "also write JUnit XML to this file")
	fs.StringVar(&o.summaryFile, "summary", "", "also write the Markdown summary to this file")
	if err := parseFlags(env, fs, args, "lab compare BASELINE CURRENT [flags]", compareAbout); err != nil {
		return nil, err
	}
	if fs.NArg() != 2 {
		return nil, failf(exitcode.BadInput, "give two runs, BASELINE and CURRENT; got %d", fs.NArg())
	}
	o.baseline, o.current = fs.Arg(0), fs.Arg(1)
	return o, nil
}

// thresholds are the plan language's defaults; the regression block of
// --plan FILE, or else of the plan the current run stored (the thresholds
// its plan promised, which a comparison by hand must not silently trade
// for the defaults); then the flags.
func (o *compareOpts) thresholds(env *cmdEnv, current *result.Run) (gates.Thresholds, error) {
	th := gates.DefaultThresholds()
	switch {
	case o.planFile != "":
		plan, _, err := loadPlan(env, o.planFile, o.pf.options(env))
		if err != nil {
			return th, err
		}
		th = gates.ThresholdsOf(plan.Regression)
	case len(current.Plan.Sources) > 0:
		quiet := *env
		quiet.stderr = io.Discard
		if plan, err := storedPlan(&quiet, current); err == nil && plan.Regression != nil {
			th = gates.ThresholdsOf(plan.Regression)
			env.notef("thresholds from the regression block of %s, as %s ran it", plan.File, o.current)
		}
	}
	return o.flagThresholds(th)
}

// flagThresholds sets on th the thresholds the flags give.
func (o *compareOpts) flagThresholds(th gates.Thresholds) (gates.Thresholds, error) {
	for _, f := range []struct {
		name string
		val  string
		dst  *float64
	}{{"p95-growth", o.growth, &th.P95Growth}, {"rps-drop", o.drop, &th.RPSDrop}, {"error-rate-inc", o.errInc, &th.ErrorRateInc}} {
		if f.val == "" {
			continue
		}
		v, err := units.ParseRatio(f.val)
		if err != nil || (f.name == "rps-drop" && v >= 1) {
			return th, failf(exitcode.BadInput, "--%s %q: give a ratio like 10%% or 0.1 (a drop below 100%%)", f.name, f.val)
		}
		*f.dst = v
	}
	return th, nil
}

// loadRunOrCSV reads a run folder, or Locust's CSV files by their prefix.
func loadRunOrCSV(arg string, csv bool) (*result.Run, error) {
	if !csv {
		if _, err := os.Stat(filepath.Join(arg, "result.json")); err == nil {
			return result.Load(arg)
		}
		if _, err := os.Stat(arg + "_stats.csv"); err != nil {
			return result.Load(arg) // says it is not a run folder
		}
	}
	run, _, err := locust.Load(arg)
	return run, err
}

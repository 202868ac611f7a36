package main

import (
	"fmt"
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

Thresholds: the plan language's defaults, the regression block of --plan
FILE, then the flags.`

func runCompare(env *cmdEnv, args []string) int {
	fs := newFlags("compare")
	var pf planFlags
	pf.register(fs)
	planFile := fs.String("plan", "", "take the thresholds from this plan's regression block")
	csv := fs.Bool("csv", false, "BASELINE and CURRENT are Locust CSV prefixes")
	growth := fs.String("p95-growth", "", "p95 growth that fails, e.g. 10%")
	drop := fs.String("rps-drop", "", "throughput drop that fails (closed model), e.g. 5%")
	errInc := fs.String("error-rate-inc", "", "error-rate increase that fails, e.g. 0.5%")
	history := fs.String("history", "", "a results/<plan> folder of earlier runs: with 10 or more of the baseline's plan (same sources, shape and variables, none newer than the baseline), thresholds widen to their noise")
	junitFile := fs.String("junit", "", "also write JUnit XML to this file")
	summaryFile := fs.String("summary", "", "also write the Markdown summary to this file")
	if stop, code := parseFlags(env, fs, args, "lab compare BASELINE CURRENT [flags]", compareAbout); stop {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(env.stderr, "lab compare: give two runs, BASELINE and CURRENT; got %d\n", fs.NArg())
		return exitcode.BadInput
	}
	th := gates.DefaultThresholds()
	if *planFile != "" {
		plan, _ := loadPlan(env, *planFile, pf.options(env))
		if plan == nil {
			return exitcode.BadInput
		}
		if plan.Regression != nil {
			th = gates.Thresholds{P95Growth: plan.Regression.P95Growth, RPSDrop: plan.Regression.RPSDrop, ErrorRateInc: plan.Regression.ErrorRateInc}
		}
	}
	for _, f := range []struct {
		name string
		val  string
		dst  *float64
	}{{"p95-growth", *growth, &th.P95Growth}, {"rps-drop", *drop, &th.RPSDrop}, {"error-rate-inc", *errInc, &th.ErrorRateInc}} {
		if f.val == "" {
			continue
		}
		v, err := units.ParseRatio(f.val)
		if err != nil || (f.name == "rps-drop" && v >= 1) {
			fmt.Fprintf(env.stderr, "lab compare: --%s %q: give a ratio like 10%% or 0.1 (a drop below 100%%)\n", f.name, f.val)
			return exitcode.BadInput
		}
		*f.dst = v
	}
	var runs [2]*result.Run
	for i, arg := range []string{fs.Arg(0), fs.Arg(1)} {
		r, err := loadRunOrCSV(arg, *csv)
		if err != nil {
			fmt.Fprintf(env.stderr, "lab compare: %v\n", err)
			return exitcode.BadInput
		}
		runs[i] = r
	}
	if *history != "" {
		h, err := gates.LoadHistory(*history, runs[0], fs.Arg(1))
		if err != nil {
			fmt.Fprintf(env.stderr, "lab compare: --history: %v\n", err)
			return exitcode.BadInput
		}
		th.History = h
	}
	vs, err := gates.Compare(runs[0], runs[1], th)
	if err != nil {
		fmt.Fprintf(env.stderr, "lab compare: %v\n", err)
		return exitcode.CouldNotRun
	}
	exit := gates.ExitCode(vs)
	heading := fmt.Sprintf("lab compare %s %s", fs.Arg(0), fs.Arg(1))
	if err := report(env, heading, vs, exit, "", *junitFile, *summaryFile); err != nil {
		fmt.Fprintf(env.stderr, "lab compare: %v\n", err)
		return exitcode.CouldNotRun
	}
	return exit
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

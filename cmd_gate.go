package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"lab/gates"
	"lab/gates/exitcode"
	"lab/gates/locust"
	"lab/gates/sla"
	"lab/gates/verdict"
	"lab/lang"
	"lab/runtime/atomicfile"
	"lab/runtime/result"
)

const gateAbout = `Judge a stored run again, without sending a request: every budget of the
plan (sla, leak, regression) becomes a verdict, printed as one table per gate,
and the exit code says whether they all pass (0), one was breached (1), or a
measurement is invalid (3).

RUN_DIR is a run folder (results/<plan>/<time>, or a latest link). With no
--plan, the run is judged by the plan as it ran (its files and variables are
stored in result.json); --plan FILE judges it by another plan, e.g. with a
changed budget.

--csv PREFIX judges the CSV files Locust wrote (PREFIX_stats.csv,
PREFIX_stats_history.csv, PREFIX_failures.csv) by --plan FILE's budgets.
Locust keeps no histograms: a percentile it has no column for, the percentile
of several requests together and per-window percentiles are said to be
inconclusive rather than guessed.

The tables go to stdout; with $GITHUB_STEP_SUMMARY set, the same as Markdown
is appended to it. --write stores the verdicts in the run folder (result.json,
summary.md, junit.xml).`

func runGate(env *cmdEnv, args []string) int {
	fs := newFlags("gate")
	var pf planFlags
	pf.register(fs)
	planFile := fs.String("plan", "", "judge by this plan's budgets instead of the plan the run ran")
	csvPrefix := fs.String("csv", "", "judge Locust's CSV files PREFIX_stats.csv, … (needs --plan)")
	baseline := fs.String("baseline", "", "compare with this run folder instead of the regression block's baseline")
	write := fs.Bool("write", false, "store the verdicts in the run folder: result.json, summary.md, junit.xml")
	junitFile := fs.String("junit", "", "also write JUnit XML to this file")
	summaryFile := fs.String("summary", "", "also write the Markdown summary to this file")
	if stop, code := parseFlags(env, fs, args, "lab gate RUN_DIR [--plan FILE] [flags]\n  lab gate --csv PREFIX --plan FILE [flags]", gateAbout); stop {
		return code
	}
	var run *result.Run
	var table *sla.Table
	dir := ""
	switch {
	case *csvPrefix != "" && fs.NArg() > 0:
		fmt.Fprintln(env.stderr, "lab gate: give a run folder or --csv PREFIX, not both")
		return exitcode.BadInput
	case *csvPrefix != "":
		if *planFile == "" {
			fmt.Fprintln(env.stderr, "lab gate: --csv needs --plan FILE: Locust's files carry no budgets")
			return exitcode.BadInput
		}
		var err error
		if run, table, err = locust.Load(*csvPrefix); err != nil {
			fmt.Fprintf(env.stderr, "lab gate: %v\n", err)
			return exitcode.BadInput
		}
	case fs.NArg() == 1:
		dir = fs.Arg(0)
		var err error
		if run, err = result.Load(dir); err != nil {
			fmt.Fprintf(env.stderr, "lab gate: %v\n", err)
			return exitcode.BadInput
		}
	default:
		fmt.Fprintf(env.stderr, "lab gate: give one run folder (or --csv PREFIX); got %d arguments\n", fs.NArg())
		return exitcode.BadInput
	}
	if *write && dir == "" {
		fmt.Fprintln(env.stderr, "lab gate: --write stores verdicts in a run folder; with --csv use --junit and --summary")
		return exitcode.BadInput
	}

	var plan *lang.Plan
	if *planFile != "" {
		if plan, _ = loadPlan(env, *planFile, pf.options(env)); plan == nil {
			return exitcode.BadInput
		}
	} else {
		var code int
		if plan, code = storedPlan(env, run); plan == nil {
			return code
		}
	}
	opt := gates.Options{Table: table}
	if plan.Regression != nil {
		var baseDir string
		baseDir, opt.NoBaseline, opt.BadBaseline = resolveBaseline(env, plan.Regression, *baseline)
		if baseDir != "" {
			opt.Baseline, opt.NoBaseline, opt.BadBaseline = readBaseline(env, baseDir, dir)
			opt.History = runHistory(baseDir, opt.Baseline, dir)
		}
	}
	vs, err := gates.Judge(plan, run, opt)
	if err != nil {
		fmt.Fprintf(env.stderr, "lab gate: %v\n", err)
		return exitcode.CouldNotRun
	}
	exit := gates.ExitCode(vs)
	source := dir
	if dir == "" {
		source = *csvPrefix + " (Locust CSV)"
	}
	heading := fmt.Sprintf("lab gate %s — plan %s", source, plan.Name)
	if *write {
		run.Verdicts = vs
		if err := result.Write(dir, run); err != nil {
			fmt.Fprintf(env.stderr, "lab gate: writing the verdicts: %v\n", err)
			return exitcode.CouldNotRun
		}
	}
	writeDir := ""
	if *write {
		writeDir = dir
	}
	if err := report(env, heading, vs, exit, writeDir, *junitFile, *summaryFile); err != nil {
		fmt.Fprintf(env.stderr, "lab gate: %v\n", err)
		return exitcode.CouldNotRun
	}
	return exit
}

// storedPlan loads the plan a run ran, from the files and variables stored
// in its result.json.
func storedPlan(env *cmdEnv, run *result.Run) (*lang.Plan, int) {
	if len(run.Plan.Sources) == 0 || run.Plan.File == "" {
		fmt.Fprintln(env.stderr, "lab gate: the run does not store its plan; give --plan FILE")
		return nil, exitcode.BadInput
	}
	files := map[string][]byte{}
	for p, src := range run.Plan.Sources {
		files[p] = []byte(src)
	}
	// The variables as they were, as a var file: strings re-quoted for HCL.
	const varFile = "<stored variables>"
	var vb bytes.Buffer
	for name, text := range run.Plan.Vars {
		val := []byte(text)
		if s, err := strconv.Unquote(text); err == nil {
			val = hclwrite.TokensForValue(cty.StringVal(s)).Bytes()
		}
		fmt.Fprintf(&vb, "%s = %s\n", name, val)
	}
	files[varFile] = vb.Bytes()
	opts := lang.Options{VarFiles: []string{varFile}, Shape: run.Plan.Shape, ReadFile: func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		if b, ok := files[filepath.Clean(p)]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s is not among the plan files stored with the run: %w", p, os.ErrNotExist)
	}}
	plan, _ := loadPlan(env, run.Plan.File, opts)
	if plan == nil {
		fmt.Fprintln(env.stderr, "lab gate: the plan stored with the run no longer loads; give --plan FILE")
		return nil, exitcode.BadInput
	}
	return plan, exitcode.OK
}

// resolveBaseline finds the regression baseline's run folder: override
// when set, else the block's. When there is none, why says so for the
// verdict (a missing baseline is not an error; one that cannot be found
// for another reason is also reported on stderr).
func resolveBaseline(env *cmdEnv, r *lang.Regression, override string) (dir, none, bad string) {
	path := r.Baseline
	if override != "" {
		path = override
	}
	dir, err := gates.FindBaseline(path)
	switch {
	case errors.Is(err, gates.ErrNoBaseline):
		return "", err.Error(), ""
	case err != nil:
		fmt.Fprintf(env.stderr, "warning: baseline %s: %v\n", path, err)
		return "", "", fmt.Sprintf("the baseline at %s cannot be read (%v)", path, err)
	}
	return dir, "", ""
}

// runHistory reads the runs stored beside the baseline (its results/<plan>
// folder) that ran its plan, no later than it, leaving out the current
// run: the runner's noise, which widens the regression thresholds once
// there are enough of them.
func runHistory(baseDir string, baseline *result.Run, current string) *gates.History {
	if baseline == nil {
		return nil
	}
	h, err := gates.LoadHistory(filepath.Dir(baseDir), baseline, current)
	if err != nil {
		return nil
	}
	return h
}

// readBaseline reads the baseline run in dir, unless it is the current
// run's own folder.
func readBaseline(env *cmdEnv, dir, current string) (run *result.Run, none, bad string) {
	if current != "" {
		if cur, err := filepath.EvalSymlinks(current); err == nil && cur == dir {
			return nil, fmt.Sprintf("the baseline %s is this run itself", dir), ""
		}
	}
	run, err := result.Load(dir)
	if err != nil {
		fmt.Fprintf(env.stderr, "warning: baseline %s: %v\n", dir, err)
		return nil, "", fmt.Sprintf("the baseline at %s cannot be read (%v)", dir, err)
	}
	return run, "", ""
}

// report prints the verdict tables to stdout and writes the Markdown and
// JUnit forms: into dir (summary.md, junit.xml) when set, to the files
// asked for, and appended to $GITHUB_STEP_SUMMARY when that is set.
func report(env *cmdEnv, heading string, vs []result.Verdict, exit int, dir, junitFile, summaryFile string) error {
	if err := verdict.Table(env.stdout, vs, exit, useColor(env, env.stdout)); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := verdict.Markdown(&md, heading, vs, exit); err != nil {
		return err
	}
	junit, err := verdict.JUnit("lab", vs)
	if err != nil {
		return err
	}
	var errs []error
	if dir != "" {
		errs = append(errs, result.WriteFile(dir, "summary.md", md.Bytes()), result.WriteFile(dir, "junit.xml", junit))
	}
	if junitFile != "" {
		errs = append(errs, atomicfile.Write(junitFile, junit, 0o644))
	}
	if summaryFile != "" {
		errs = append(errs, atomicfile.Write(summaryFile, md.Bytes(), 0o644))
	}
	if p := env.getenv("GITHUB_STEP_SUMMARY"); p != "" {
		errs = append(errs, appendFile(p, append([]byte("\n"), md.Bytes()...)))
	}
	return errors.Join(errs...)
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("$GITHUB_STEP_SUMMARY: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("$GITHUB_STEP_SUMMARY: %w", err)
	}
	return f.Close()
}

package cli

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
summary.md, junit.xml) and rewrites its report.html.`

// gateOpts is what lab gate was asked for.
type gateOpts struct {
	pf          planFlags
	dir         string // the run folder ("" with --csv)
	planFile    string
	csvPrefix   string
	baseline    string
	write       bool
	junitFile   string
	summaryFile string
}

func runGate(env *cmdEnv, args []string) error {
	o, err := parseGateFlags(env, args)
	if err != nil {
		return err
	}
	run, table, err := o.loadRun()
	if err != nil {
		return err
	}
	if o.write && o.dir == "" {
		return failf(exitcode.BadInput, "--write stores verdicts in a run folder; with --csv use --junit and --summary")
	}
	plan, err := o.loadPlan(env, run)
	if err != nil {
		return err
	}
	return o.judge(env, plan, run, table)
}

// parseGateFlags reads the command line.
func parseGateFlags(env *cmdEnv, args []string) (*gateOpts, error) {
	fs := newFlags("gate")
	o := &gateOpts{}
	o.pf.register(fs)
	fs.StringVar(&o.planFile, "plan", "", "judge by this plan's budgets instead of the plan the run ran")
	fs.StringVar(&o.csvPrefix, "csv", "", "judge Locust's CSV files PREFIX_stats.csv, … (needs --plan)")
	fs.StringVar(&o.baseline, "baseline", "", "compare with this run folder instead of the regression block's baseline")
	fs.BoolVar(&o.write, "write", false, "store the verdicts in the run folder: result.json, summary.md, junit.xml, report.html")
	fs.StringVar(&o.junitFile, "junit", "", "also write JUnit XML to this file")
	fs.StringVar(&o.summaryFile, "summary", "", "also write the Markdown summary to this file")
	if err := parseFlags(env, fs, args, "lab gate RUN_DIR [--plan FILE] [flags]\n  lab gate --csv PREFIX --plan FILE [flags]", gateAbout); err != nil {
		return nil, err
	}
	switch {
	case o.csvPrefix != "" && fs.NArg() > 0:
		return nil, failf(exitcode.BadInput, "give a run folder or --csv PREFIX, not both")
	case o.csvPrefix != "":
		if o.planFile == "" {
			return nil, failf(exitcode.BadInput, "--csv needs --plan FILE: Locust's files carry no budgets")
		}
	case fs.NArg() == 1:
		o.dir = fs.Arg(0)
	default:
		return nil, failf(exitcode.BadInput, "give one run folder (or --csv PREFIX); got %d arguments", fs.NArg())
	}
	return o, nil
}

// loadRun reads the run folder, or Locust's CSV files with the whole-run
// percentiles they hold.
func (o *gateOpts) loadRun() (*result.Run, *sla.Table, error) {
	var run *result.Run
	var table *sla.Table
	var err error
	if o.csvPrefix != "" {
		run, table, err = locust.Load(o.csvPrefix)
	} else {
		run, err = result.Load(o.dir)
	}
	if err != nil {
		return nil, nil, failf(exitcode.BadInput, "%v", err)
	}
	return run, table, nil
}

// loadPlan loads --plan FILE, or else the plan the run ran.
func (o *gateOpts) loadPlan(env *cmdEnv, run *result.Run) (*lang.Plan, error) {
	if o.planFile == "" {
		return storedPlan(env, run)
	}
	plan, _, err := loadPlan(env, o.planFile, o.pf.options(env))
	return plan, err
}

// judge judges the run by the plan, stores the verdicts when asked, and
// reports them.
func (o *gateOpts) judge(env *cmdEnv, plan *lang.Plan, run *result.Run, table *sla.Table) error {
	opt, warn := gates.LoadBaseline(plan.Regression, o.baseline, o.dir)
	if warn != nil {
		fmt.Fprintf(env.stderr, "warning: %v\n", warn)
	}
	opt.Table = table
	vs, err := gates.Judge(plan, run, opt)
	if err != nil {
		return failf(exitcode.CouldNotRun, "%v", err)
	}
	exit := gates.ExitCode(vs)
	source := o.dir
	if o.dir == "" {
		source = o.csvPrefix + " (Locust CSV)"
	}
	heading := fmt.Sprintf("lab gate %s — plan %s", source, plan.Name)
	writeDir := ""
	if o.write {
		run.Verdicts = vs
		gates.RecordBaseline(run, opt)
		if err := result.Write(o.dir, run); err != nil {
			return failf(exitcode.CouldNotRun, "writing the verdicts: %v", err)
		}
		if err := writeReport(o.dir, plan, run, opt.Baseline); err != nil {
			return failf(exitcode.CouldNotRun, "%v", err)
		}
		writeDir = o.dir
	}
	if err := report(env, heading, vs, exit, writeDir, o.junitFile, o.summaryFile); err != nil {
		return failf(exitcode.CouldNotRun, "%v", err)
	}
	return exitWith(exit)
}

// storedPlan loads the plan a run ran, from the files and variables stored
// in its result.json.
func storedPlan(env *cmdEnv, run *result.Run) (*lang.Plan, error) {
	if len(run.Plan.Sources) == 0 || run.Plan.File == "" {
		return nil, failf(exitcode.BadInput, "the run does not store its plan; give --plan FILE")
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
	// Only the files stored with the run can be read: the folder rule was
	// applied when it ran.
	opts := lang.Options{VarFiles: []string{varFile}, Shape: run.Plan.Shape, AllowOutside: true, ReadFile: func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		if b, ok := files[filepath.Clean(p)]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s is not among the plan files stored with the run: %w", p, os.ErrNotExist)
	}}
	plan, _, err := loadPlan(env, run.Plan.File, opts)
	if err != nil {
		return nil, failf(exitcode.BadInput, "the plan stored with the run no longer loads; give --plan FILE")
	}
	return plan, nil
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

package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"lab/gates"
	"lab/gates/exitcode"
	"lab/lang/units"
	"lab/runtime/result"
)

// The stage after the load: the run judged, written and printed.

// judgeAndStore judges what the run measured, complete or not, writes it
// with its verdicts to results/<plan>/<time>/ (and the latest link), and
// prints the totals and verdicts.
func judgeAndStore(env *cmdEnv, o *applyOpts, run *result.Run) error {
	dir := result.DirFor(o.resultsDir, o.plan.Name, run.Start)
	// The baseline is found before this run is written: afterwards a
	// results/<plan>/latest baseline would point at the run itself.
	opt, warn := gates.LoadBaseline(o.plan.Regression, "", dir)
	if warn != nil {
		fmt.Fprintf(env.stderr, "warning: %v\n", warn)
	}
	run.Build = buildLabel(env, o.inputs.vars)
	vs, judgeErr := gates.Judge(o.plan, run, opt)
	if judgeErr != nil {
		env.notef("judging the run: %v", judgeErr)
	}
	run.Verdicts = vs
	gates.RecordBaseline(run, opt)
	// A run that cannot be written (a read-only or full disk) is still
	// judged and its verdicts printed; its folder, without result.json, is
	// removed, and the latest link and earlier runs stay as they were.
	written := true
	if err := result.Write(dir, run); err != nil {
		env.notef("the run cannot be written to %s: %v\nIts totals and verdicts follow; earlier runs and %s/latest are untouched (exit 3).",
			dir, err, filepath.Dir(dir))
		_ = os.RemoveAll(dir)
		written = false
	} else {
		if err := writeReport(dir, o.plan, run, opt.Baseline); err != nil {
			env.notef("%v", err)
		}
		if err := result.Link(dir); err != nil {
			env.notef("linking %s/latest: %v", filepath.Dir(dir), err)
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
		env.notef("%v", err)
	}
	if written {
		fmt.Fprintf(env.stderr, "run written to %s\n", dir)
		o.page.finish(run, exit, dir)
	} else {
		o.page.finish(run, exit, "")
	}
	return exitWith(exit)
}

// buildLabel is the target's build as the run was told it: -var build=
// (a plan that declares the variable), else $LAB_BUILD, else "". A
// regression history leaves out runs of another build (gates.LoadHistory).
func buildLabel(env *cmdEnv, vars []string) string {
	label := env.getenv("LAB_BUILD")
	for _, v := range vars {
		if name, value, ok := strings.Cut(v, "="); ok && strings.TrimSpace(name) == "build" {
			label = value // the last -var wins, as the plan's loader reads them
		}
	}
	return strings.Trim(strings.TrimSpace(label), `"`)
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
	return units.FormatLatency(float64(us))
}

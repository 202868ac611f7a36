package cli

import (
	"bytes"
	"fmt"

	"lab/gates"
	"lab/gates/exitcode"
	"lab/lang"
	"lab/runtime/result"
)

const reportAbout = `Rebuild report.html in a run folder from its result.json: one self-contained
page (no network, no script) with the run's header, charts over the whole run
(requests/s with the users or arrival rate, p50 and p95 with the SLA latency
budgets, failures/s), the verdict tables, the leak hunter's fit with its
memory samples, the per-request table and, with a baseline, the comparison.
lab apply writes the same file into every run folder; lab gate --write
rewrites it with the verdicts it stores.

The budgets come from the plan stored with the run. The baseline is
--baseline DIR, or else the one the run was judged against when it was
applied, or else the plan's regression baseline as lab gate finds it (a
baseline that is the run itself is none).

Exit codes: 0 written · 2 no readable result.json in RUN_DIR, or a bad
--baseline · 3 report.html could not be written.`

func runReport(env *cmdEnv, args []string) error {
	fs := newFlags("report")
	baseline := fs.String("baseline", "", "compare with this run folder")
	if err := parseFlags(env, fs, args, "lab report RUN_DIR [--baseline DIR]", reportAbout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return failf(exitcode.BadInput, "give one run folder; got %d arguments", fs.NArg())
	}
	dir := fs.Arg(0)
	run, err := result.Load(dir)
	if err != nil {
		return failf(exitcode.BadInput, "%v", err)
	}
	plan := reportPlan(env, run)
	base, err := reportBaseline(env, plan, run, *baseline, dir)
	if err != nil {
		return err
	}
	if err := writeReport(dir, plan, run, base); err != nil {
		return failf(exitcode.CouldNotRun, "%v", err)
	}
	fmt.Fprintf(env.stdout, "%s/report.html written\n", dir)
	return nil
}

// reportPlan is the plan stored with the run, or nil (said on stderr) when
// it is not stored or no longer loads: the report then draws no budgets.
func reportPlan(env *cmdEnv, run *result.Run) *lang.Plan {
	var quiet bytes.Buffer
	plan, _ := storedPlan(&cmdEnv{stdout: env.stdout, stderr: &quiet, getenv: env.getenv}, run)
	if plan == nil {
		env.notef("warning: the plan stored with the run does not load; the report draws no budgets")
	}
	return plan
}

// reportBaseline is --baseline DIR, else the baseline the run was judged
// against (recorded by lab apply), else the plan's regression baseline.
func reportBaseline(env *cmdEnv, plan *lang.Plan, run *result.Run, flag, dir string) (*result.Run, error) {
	if flag != "" {
		base, err := result.Load(flag)
		if err != nil {
			return nil, failf(exitcode.BadInput, "--baseline: %v", err)
		}
		return base, nil
	}
	if stored := gates.StoredBaseline(run); stored != "" {
		base, err := result.Load(stored)
		if err != nil {
			env.notef("warning: the baseline the run was judged against cannot be read, so no comparison: %v", err)
		}
		return base, nil
	}
	if plan == nil || plan.Regression == nil {
		return nil, nil
	}
	opt, warn := gates.LoadBaseline(plan.Regression, "", dir)
	if warn != nil {
		env.notef("warning: %v", warn)
	}
	return opt.Baseline, nil
}

// writeReport renders report.html into the run folder, atomically.
func writeReport(dir string, plan *lang.Plan, run, baseline *result.Run) error {
	page, err := gates.Report(plan, run, baseline)
	if err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	return result.WriteFile(dir, "report.html", page)
}

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"lab/cli/clitest"
	"lab/runtime/needs"
	"lab/sut"
)

const workflowFile = ".github/workflows/lab.yml"

// notHere are the workflow's steps that cannot run in this test, and why.
// Every other run: step runs here; a step added to the workflow must be
// one or the other.
var notHere = map[string]string{
	"Install the tools the tests drive": "sudo apt-get on GitHub's runner; .ci/run installs the same packages here",
	"Test":                              "make test is the suite this test is part of",
	"The night":                         "an hour; TestNightlyScript runs .github/nightly.sh shortened",
	"Open or update the nightly issue":  "GitHub's API; TestNightlyIssueScript runs the script with a stand-in gh",
}

// actionlint is run as its own module (go run …@version): it needs an
// earlier go.yaml.in/yaml/v4 than compose-go, so it cannot be a library
// of this module.
const actionlintPkg = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// workflow is what this test reads of a workflow file.
type workflow struct {
	Jobs map[string]struct {
		Steps []struct {
			Name string            `yaml:"name"`
			Run  string            `yaml:"run"`
			Uses string            `yaml:"uses"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// The CI workflow passes actionlint (the workflow syntax, the expressions
// and their contexts, the inputs of the actions it uses, this
// repository's action.yml among them, every run: script through
// shellcheck), and each of its run: steps that
// needs no GitHub passes here: the build, the format and generated/
// checks, the plan diff against a base (HEAD: nothing loosened), the
// smoke scenario (10 s, its shop on a free port).
func TestWorkflow(t *testing.T) {
	t.Parallel()
	shellcheck := needs.Tool(t, "shellcheck", "apt-get install shellcheck")
	lint := exec.Command("go", "run", actionlintPkg, "-no-color", "-shellcheck="+shellcheck, "-pyflakes=", workflowFile)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Fatalf("actionlint %s: %v\n%s", workflowFile, err, out)
	}

	src, err := os.ReadFile(workflowFile)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(src, &wf); err != nil {
		t.Fatalf("%s: %v", workflowFile, err)
	}
	ran := 0
	for _, job := range wf.Jobs {
		for _, step := range job.Steps {
			if step.Run == "" {
				continue
			}
			if why, skip := notHere[step.Name]; skip {
				t.Logf("not run here: %s (%s)", step.Name, why)
				continue
			}
			runStep(t, step.Name, step.Run, step.Env)
			ran++
		}
	}
	if ran < 5 {
		t.Errorf("%d run: steps ran here, want the build, the two checks, the plan diff and the smoke scenario", ran)
	}
}

// runStep runs one step's script with bash, as GitHub's runner does (-e,
// pipefail), its env: values set as they would be on a pull request that
// changes nothing.
func runStep(t *testing.T, name, script string, env map[string]string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "GITHUB_STEP_SUMMARY="+filepath.Join(dir, "summary.md"))
	if strings.Contains(script, "make smoke") {
		// short, its shop on a free port, its run written here
		cmd.Env = append(cmd.Env, "DURATION=10s", "LAB_VAR_host=http://"+clitest.FreePort(t),
			"LAB_FLAGS=--results "+filepath.Join(dir, "results")+" --metrics off --quiet")
	}
	for k, v := range env {
		switch {
		case k == "BASE":
			v = "HEAD"
		case strings.Contains(v, "${{"):
			v = "false"
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("step %q (%s) failed after %v: %v\n%s", name, script, time.Since(start).Round(time.Millisecond), err, out)
		return
	}
	t.Logf("step %q passed in %v", name, time.Since(start).Round(time.Millisecond))
}

// The pull request's plan diff fails on a loosened budget, says so in the
// job summary, and lets it through with the label.
func TestPlanDiffScriptFailsOnALoosenedBudget(t *testing.T) {
	t.Parallel()
	needs.Tool(t, "git", "apt-get install git")
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.email=lab@example.com", "-c", "user.name=lab"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	for _, f := range []string{"plans/smoke.hcl", "plans/shop.workload.hcl", ".github/plan-diff.sh"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, f), src, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "base")
	plan := filepath.Join(repo, "plans/smoke.hcl")
	src, _ := os.ReadFile(plan)
	loose := strings.Replace(string(src), `p95        = "250ms"`, `p95        = "400ms"`, 1)
	if loose == string(src) {
		t.Fatal("plans/smoke.hcl changed: its p95 budget is not where this test loosens it")
	}
	if err := os.WriteFile(plan, []byte(loose), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(t.TempDir(), "summary.md")
	run := func(allow string) (int, string) {
		cmd := exec.Command(filepath.Join(repo, ".github/plan-diff.sh"))
		cmd.Env = append(os.Environ(), "BASE=HEAD", "LAB="+clitest.Binary(t), "GITHUB_STEP_SUMMARY="+summary, "ALLOW_LOOSENED="+allow)
		out, err := cmd.CombinedOutput()
		return clitest.ExitCode(err), string(out)
	}
	if code, out := run("false"); code != 1 {
		t.Fatalf("a loosened p95: exit %d, want 1\n%s", code, out)
	}
	written, _ := os.ReadFile(summary)
	if !strings.Contains(string(written), "LOOSENED") || !strings.Contains(string(written), "250ms") {
		t.Errorf("the job summary does not show the loosened budget:\n%s", written)
	}
	if code, out := run("true"); code != 0 {
		t.Fatalf("with the label: exit %d, want 0\n%s", code, out)
	}
}

// TestNightlyScript runs .github/nightly.sh twice, each night shortened
// (the smoke plan as the soak, a plan whose budget fails as the leak demo,
// 30 s of the baseline plan), its results in a folder of its own. The first
// night has no baseline: its run meets its budgets and is kept, and the
// night passes. The second night, the shop three times slower and the
// "leak demo" passing: the comparison does not pass (regressed=true, its
// table written for the issue), the kept baseline is left as it was, and
// the night fails saying both.
func TestNightlyScript(t *testing.T) {
	if testing.Short() {
		t.Skip("two shortened nights, about a minute")
	}
	t.Parallel()
	bin := clitest.Binary(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	buyer := clitest.Shop(t, func(*sut.Knobs) {})
	night := func(leakBudget string, env ...string) (int, string, map[string]string) {
		summary, output := filepath.Join(dir, "summary.md"), filepath.Join(dir, "output")
		os.Remove(summary)
		os.Remove(output)
		cmd := exec.Command(".github/nightly.sh")
		cmd.Env = append(os.Environ(), "LAB="+bin, "RESULTS="+results, "GITHUB_STEP_SUMMARY="+summary, "GITHUB_OUTPUT="+output,
			"SOAK_PLAN=plans/smoke.hcl", "SOAK_ARGS=-var duration=3s -var host=http://"+clitest.FreePort(t),
			"LEAK_PLAN=e2e/testdata/plans/shop-measure.hcl", "LEAK_ARGS=-var duration=2s -var host="+buyer+" -var max_total="+leakBudget,
			"BASELINE_ARGS=-var duration=20s -var host=http://"+clitest.FreePort(t))
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		written, _ := os.ReadFile(summary)
		outputs := map[string]string{}
		raw, _ := os.ReadFile(output)
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				outputs[k] = v
			}
		}
		return clitest.ExitCode(err), string(out) + "\n--- summary ---\n" + string(written), outputs
	}
	kept := filepath.Join(results, "kept", "baseline", "result.json")

	code, out, outputs := night("0.01")
	if code != 0 || outputs["kept"] != "true" || outputs["regressed"] != "false" || !strings.Contains(out, "The night passed.") {
		t.Fatalf("first night: exit %d, outputs %v\n%s", code, outputs, out)
	}
	if !strings.Contains(out, "No baseline kept yet") || !strings.Contains(out, "The leak demo failed its budgets, as it must") {
		t.Errorf("first night's summary:\n%s", out)
	}
	first, err := os.ReadFile(kept)
	if err != nil {
		t.Fatalf("the first night kept no baseline: %v", err)
	}

	code, out, outputs = night("1000000", "LAB_SUT_LATENCY=15ms")
	if code != 1 || outputs["kept"] != "false" || outputs["regressed"] != "true" {
		t.Fatalf("second night: exit %d, outputs %v\n%s", code, outputs, out)
	}
	for _, want := range []string{"the leak demo passed: the leak hunter missed", "regressed against last night's run", "did not meet its budgets", "The night failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("second night does not say %q:\n%s", want, out)
		}
	}
	if now, _ := os.ReadFile(kept); string(now) != string(first) {
		t.Error("a night that did not meet its budgets replaced the kept baseline")
	}
	if table, err := os.ReadFile(filepath.Join(results, "compare.md")); err != nil || !strings.Contains(string(table), "p95") {
		t.Errorf("no comparison table for the issue: %v\n%s", err, table)
	}
}

// TestNightlyIssueScript: a regression opens the nightly issue with the
// comparison's table, and a second one comments on it while it is open.
// GitHub is not here: gh is a stand-in that keeps the issues in a file and
// answers the three calls the script makes.
func TestNightlyIssueScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := filepath.Join(dir, "issues")
	gh := `#!/usr/bin/env bash
state=` + state + `
case "$1 $2" in
"label create") exit 0 ;;
"issue list") [ -s "$state" ] && echo 7; exit 0 ;;
"issue create") printf 'create %s\n' "$*" >>"$state" ;;
"issue comment") printf 'comment %s\n' "$*" >>"$state" ;;
*) echo "unexpected gh $*" >&2; exit 2 ;;
esac
`
	os.WriteFile(filepath.Join(dir, "gh"), []byte(gh), 0o755)
	table := filepath.Join(dir, "compare.md")
	os.WriteFile(table, []byte("| subject | budget |\n|---|---|\n| POST /cart | p95 growth < 10% |\n"), 0o644)
	run := func() string {
		cmd := exec.Command(".github/nightly-issue.sh", table)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "GITHUB_REPOSITORY=o/r", "GITHUB_RUN_ID=42")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		calls, _ := os.ReadFile(state)
		return string(calls)
	}
	first := run()
	if !strings.HasPrefix(first, "create issue create --title Nightly: the baseline scenario regressed --label nightly-regression") ||
		!strings.Contains(first, "POST /cart") || !strings.Contains(first, "https://github.com/o/r/actions/runs/42") {
		t.Errorf("the first regression:\n%s", first)
	}
	second := strings.TrimPrefix(run(), first)
	if !strings.HasPrefix(second, "comment issue comment 7 --body") || strings.Contains(second, "create") {
		t.Errorf("the second regression does not comment on the open issue:\n%s", second)
	}
}

// TestScriptsPassShellcheck: every shell script of the repository — the
// workflow's, make up's, the benchmarks', CI's entry point — passes
// shellcheck at warning level (its style notes aside: the benchmarks
// split some lists on purpose).
func TestScriptsPassShellcheck(t *testing.T) {
	t.Parallel()
	shellcheck := needs.Tool(t, "shellcheck", "apt-get install shellcheck")
	var scripts []string
	for _, glob := range []string{".github/*.sh", "deploy/*.sh", "bench/*.sh", ".ci/run"} {
		m, _ := filepath.Glob(glob)
		scripts = append(scripts, m...)
	}
	if len(scripts) < 8 {
		t.Fatalf("found only %v", scripts)
	}
	if out, err := exec.Command(shellcheck, append([]string{"--severity=warning"}, scripts...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

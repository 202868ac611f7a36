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
)

const workflowFile = ".github/workflows/lab.yml"

// notHere are the workflow's steps that cannot run in this test, and why.
// Every other run: step runs here; a step added to the workflow must be
// one or the other.
var notHere = map[string]string{
	"Install the tools the tests drive": "sudo apt-get on GitHub's runner; .ci/run installs the same packages here",
	"Test":                              "make test is the suite this test is part of",
	"Soak":                              "45 minutes",
	"Leak test":                         "10 minutes; TestLeakEndToEnd runs the same plan shortened",
	"Baseline scenario against the stored baseline": "5 minutes of the baseline plan; its regression block and lab compare are tested end to end",
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
// repository's action.yml among them), and each of its run: steps that
// needs no GitHub passes here: the build, the format and generated/
// checks, the plan diff against a base (HEAD: nothing loosened), the
// smoke scenario (10 s, its shop on a free port).
func TestWorkflow(t *testing.T) {
	t.Parallel()
	lint := exec.Command("go", "run", actionlintPkg, "-no-color", "-shellcheck=", "-pyflakes=", workflowFile)
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

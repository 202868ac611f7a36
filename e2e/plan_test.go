package e2e

import (
	"bytes"
	"lab/gates/exitcode"
	"lab/runtime/needs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanAgainstGitRevision(t *testing.T) {
	needs.Tool(t, "git", "Debian package git")
	dir := t.TempDir()
	src, _ := os.ReadFile("plans/spike.hcl")
	os.MkdirAll(filepath.Join(dir, "plans"), 0o755)
	os.WriteFile(filepath.Join(dir, "plans", "spike.hcl"), src, 0o644)
	for _, f := range []string{"shop.workload.hcl", "shop.shapes.hcl"} {
		b, _ := os.ReadFile("plans/" + f)
		os.WriteFile(filepath.Join(dir, "plans", f), b, 0o644)
	}
	gitRun := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@t", "-c", "user.name=t"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitRun("init", "-q")
	gitRun("add", ".")
	gitRun("commit", "-qm", "base")
	os.WriteFile(filepath.Join(dir, "plans", "spike.hcl"), bytes.Replace(src, []byte(`error_rate = "1%"`), []byte(`error_rate = "5%"`), 1), 0o644)

	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(dir)
	code, stdout, stderr := lab(t, nil, "plan", "plans/spike.hcl", "--against", "git:HEAD", "--out", t.TempDir())
	if code != 0 || !strings.Contains(stdout, `sla "POST /checkout" error_rate  1% → 5%  LOOSENED`) {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = lab(t, nil, "plan", "plans/spike.hcl", "--against", "git:no-such-rev", "--out", t.TempDir())
	if code != exitcode.BadInput || !strings.Contains(stderr, "no-such-rev") {
		t.Errorf("bad revision: exit %d, %s", code, stderr)
	}
}

// Every broken plan in lang/testdata exits 2 through the command, with a
// file:line:column on its first line: the plan's own, or that of the file
// it reads where the mistake is (its name starts with the plan's).

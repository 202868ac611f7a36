package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lab/gates/exitcode"
	"lab/lang"
)

// lab runs the lab command in-process, as dispatch does for the binary,
// with thread-safe captured streams (commands may write from several
// goroutines) and the given environment variables; it returns the exit
// code, stdout and stderr.
func lab(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	env, out, errs := sutTestEnv(vars)
	code := dispatch(env, args)
	return code, out.String(), errs.String()
}

func TestUsageAndExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, exitcode.BadInput},                                // no command
		{[]string{"nope"}, exitcode.BadInput},                   // unknown command
		{[]string{"plan", "--nope"}, exitcode.BadInput},         // unknown flag
		{[]string{"plan", "-h"}, exitcode.OK},                   // help
		{[]string{"apply", "-h"}, exitcode.OK},                  // every command has -h
		{[]string{"fmt", "-h"}, exitcode.OK},                    //
		{[]string{"version"}, exitcode.OK},                      //
		{[]string{"version", "extra"}, exitcode.BadInput},       // stray argument
		{[]string{"help"}, exitcode.OK},                         //
		{[]string{"plan", "a.hcl", "b.hcl"}, exitcode.BadInput}, // one plan at a time
	}
	for _, tt := range tests {
		code, _, stderr := lab(t, nil, tt.args...)
		if code != tt.want {
			t.Errorf("lab %s: exit %d, want %d (stderr %q)", strings.Join(tt.args, " "), code, tt.want, stderr)
		}
	}
	_, _, stderr := lab(t, nil, "plna")
	if !strings.Contains(stderr, `did you mean "plan"`) {
		t.Errorf("unknown command gives no suggestion: %q", stderr)
	}
	_, stdout, _ := lab(t, nil, "plan", "-h")
	for _, flag := range []string{"--var", "--var-file", "--against", "--shape"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("lab plan -h does not list %s", flag)
		}
	}
}

func TestPlanIsDeterministicAndWritesGenerated(t *testing.T) {
	out := t.TempDir()
	code1, first, stderr := lab(t, nil, "plan", "plans/spike.hcl", "--out", out)
	code2, second, _ := lab(t, nil, "plan", "plans/spike.hcl", "--out", out)
	if code1 != 0 || code2 != 0 {
		t.Fatalf("exit %d, %d: %s", code1, code2, stderr)
	}
	if first != second {
		t.Error("lab plan printed different bytes twice")
	}
	written, err := os.ReadFile(filepath.Join(out, "spike", "plan.txt"))
	if err != nil || string(written) != first {
		t.Errorf("generated plan.txt differs from what was printed (%v)", err)
	}
	for _, want := range []string{"75.0% of users", "25.0% of users", "stage 2  2m → 3m", "200 users", "p95 ≤ 200ms", "total duration 6m"} {
		if !strings.Contains(first, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

func TestPlanAgainstMarksLoosenedBudgets(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("plans/spike.hcl")
	for _, f := range []string{"shop.workload.hcl", "shop.shapes.hcl"} {
		b, _ := os.ReadFile("plans/" + f)
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	raised := filepath.Join(dir, "raised.hcl")
	os.WriteFile(raised, bytes.Replace(src, []byte(`p95 = "200ms"`), []byte(`p95 = "300ms"`), 1), 0o644)
	out := t.TempDir()

	// OLD had a higher budget: the current plan tightens it.
	code, stdout, stderr := lab(t, nil, "plan", "plans/spike.hcl", "--against", raised, "--out", out, "--fail-on-loosened")
	if code != 0 || !strings.Contains(stdout, "tightened") || strings.Contains(stdout, "LOOSENED") {
		t.Errorf("against a higher budget: exit %d\n%s%s", code, stdout, stderr)
	}
	// The reverse loosens it, and --fail-on-loosened makes that exit 1.
	code, stdout, _ = lab(t, nil, "plan", raised, "--against", "plans/spike.hcl", "--out", out, "--fail-on-loosened")
	if code != exitcode.Breach || !strings.Contains(stdout, `sla "GET /" p95  200ms → 300ms  LOOSENED`) {
		t.Errorf("against a lower budget: exit %d\n%s", code, stdout)
	}
}

func TestBrokenPlansExitInvalid(t *testing.T) {
	files, _ := filepath.Glob("lang/testdata/broken/*.hcl")
	if len(files) < 30 {
		t.Fatalf("%d broken plans", len(files))
	}
	for _, f := range files {
		if !lang.IsPlanFile(f) {
			continue
		}
		code, _, stderr := lab(t, nil, "plan", f, "--out", t.TempDir())
		if code != exitcode.BadInput {
			t.Errorf("%s: exit %d, want 2", f, code)
		}
		at := regexp.MustCompile(`^` + regexp.QuoteMeta(strings.TrimSuffix(f, ".hcl")) + `(\.[a-z]+)?\.hcl:\d+:\d+: error: `)
		if !at.MatchString(stderr) || strings.Contains(stderr, "panic") {
			t.Errorf("%s: diagnostics do not start with file:line:column:\n%s", f, stderr)
		}
	}
}

func TestFmtCheck(t *testing.T) {
	dir := t.TempDir()
	ugly := filepath.Join(dir, "ugly.hcl")
	os.WriteFile(ugly, []byte("sla \"all\" {\np95=\"1s\"\n}\n"), 0o644)
	code, stdout, _ := lab(t, nil, "fmt", "-check", dir)
	if code != exitcode.Breach || !strings.Contains(stdout, "ugly.hcl") {
		t.Errorf("fmt -check on an unformatted file: exit %d, %q", code, stdout)
	}
	if b, _ := os.ReadFile(ugly); !bytes.Contains(b, []byte("p95=")) {
		t.Error("fmt -check rewrote the file")
	}
	if code, _, _ := lab(t, nil, "fmt", dir); code != 0 {
		t.Errorf("fmt exit %d", code)
	}
	if b, _ := os.ReadFile(ugly); string(b) != "sla \"all\" {\n  p95 = \"1s\"\n}\n" {
		t.Errorf("formatted:\n%s", b)
	}
	if code, _, _ := lab(t, nil, "fmt", "-check", dir); code != 0 {
		t.Errorf("fmt -check after fmt: exit %d", code)
	}
	os.WriteFile(ugly, []byte("sla \"all\" {\n"), 0o644)
	if code, _, stderr := lab(t, nil, "fmt", dir); code != exitcode.BadInput || !strings.Contains(stderr, "ugly.hcl:") {
		t.Errorf("fmt on broken syntax: exit %d, %s", code, stderr)
	}
	if code, _, _ := lab(t, nil, "fmt", "-check", "plans"); code != 0 {
		t.Error("shipped plans are not formatted")
	}
}

// Every shipped plan's summary prints its numbers as the plan writes them:
// no float noise such as "1000000.0000000001B/min" from a "1MB/min" budget.
func TestShippedPlanSummariesPrintUnitsAsWritten(t *testing.T) {
	noise := regexp.MustCompile(`\d\.\d{5,}`)
	files, _ := filepath.Glob("plans/*.hcl")
	for _, f := range files {
		if !lang.IsPlanFile(f) {
			continue
		}
		code, out, stderr := lab(t, nil, "plan", f, "--out", t.TempDir())
		if code != 0 {
			t.Fatalf("lab plan %s: exit %d: %s", f, code, stderr)
		}
		for _, line := range strings.Split(out, "\n") {
			if noise.MatchString(line) {
				t.Errorf("%s: %q", f, strings.TrimSpace(line))
			}
		}
	}
}

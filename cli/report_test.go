package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/exitcode"
	"lab/sut"
)

// lab apply writes report.html beside result.json; lab report rebuilds the
// same file from result.json alone; a folder without a run, or a bad
// baseline, is bad input (exit 2).
func TestReportRebuildsWhatApplyWrote(t *testing.T) {
	t.Parallel()
	host := clitest.Shop(t, func(k *sut.Knobs) { k.Latency = 2 * time.Millisecond })
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "smoke.hcl", clitest.FunnelWorkload, host, clitest.ClosedShape("4s", 5)+`
sla "all" {
  p95        = "250ms"
  error_rate = "5%"
}
`)
	results := filepath.Join(dir, "results")
	if code, out, errOut := lab(t, map[string]string{"NO_COLOR": "1"}, "apply", plan, "--results", results, "--quiet"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	runDir, run := clitest.LatestRun(t, results)
	runDir, _ = filepath.EvalSymlinks(runDir)
	path := filepath.Join(runDir, "report.html")
	applied, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("lab apply wrote no report.html: %v", err)
	}
	for _, want := range []string{"all p95 ≤ 250ms", "POST /checkout", "✓ pass", `id="chart-latency"`} {
		if !bytes.Contains(applied, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if n := bytes.Count(applied, []byte(`data-points="`)); n < 5 || len(run.Seconds) == 0 {
		t.Errorf("%d series for %d seconds", n, len(run.Seconds))
	}
	os.Remove(path)
	code, out, errOut := lab(t, nil, "report", runDir)
	if code != exitcode.OK || !strings.Contains(out, "report.html written") {
		t.Fatalf("lab report: exit %d\n%s%s", code, out, errOut)
	}
	rebuilt, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(rebuilt, applied) {
		t.Errorf("lab report wrote another file than lab apply (%d bytes, was %d): %v", len(rebuilt), len(applied), err)
	}
	// A second run judged against results/smoke (the first run, then its
	// latest): its report compares with the first, and so does its
	// rebuild, though latest has moved on to the second run itself.
	regress := clitest.WritePlan(t, dir, "smoke.hcl", clitest.FunnelWorkload, host, clitest.ClosedShape("4s", 5)+
		fmt.Sprintf("regression {\n  baseline = %q\n}\n", filepath.Join(results, "smoke")))
	if code, out, errOut := lab(t, map[string]string{"NO_COLOR": "1"}, "apply", regress, "--results", results, "--quiet"); code > 1 {
		t.Fatalf("apply with a baseline: exit %d\n%s%s", code, out, errOut)
	}
	second, _ := filepath.EvalSymlinks(filepath.Join(results, "smoke", "latest"))
	withBase, _ := os.ReadFile(filepath.Join(second, "report.html"))
	if second == runDir || !bytes.Contains(withBase, []byte(`id="compare"`)) {
		t.Fatalf("the second run's report has no comparison")
	}
	if code, _, errOut := lab(t, nil, "report", second); code != 0 {
		t.Fatalf("lab report on the second run: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(second, "report.html")); !bytes.Equal(b, withBase) {
		t.Error("the rebuilt report of the second run differs from what lab apply wrote")
	}

	// With a baseline (here the run itself), the comparison appears.
	if code, _, errOut := lab(t, nil, "report", runDir, "--baseline", runDir); code != 0 {
		t.Fatalf("--baseline: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(`id="compare"`)) || !bytes.Contains(b, []byte("0.0%")) {
		t.Error("no comparison with --baseline")
	}
	for _, args := range [][]string{{"report", dir}, {"report", runDir, "--baseline", dir}, {"report"}, {"report", runDir, runDir}} {
		if code, _, _ := lab(t, nil, args...); code != exitcode.BadInput {
			t.Errorf("lab %v: exit %d, want 2", args, code)
		}
	}
}

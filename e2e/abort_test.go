package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/runtime/result"
	"lab/sut"
)

// An abort rule fires at the same window whether the run goes in one
// process or on two workers: both wire the same watchers (the monitor
// counts windows from the run's own start in either), so the run stops
// at the end of its second full window, not one early or late.
func TestAbortRuleFiresAtTheSameWindowLocallyAndOnWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("two runs of about 25 s")
	}
	t.Parallel()
	host := clitest.Shop(t, func(k *sut.Knobs) { k.ErrorRate = 0.5 })
	bin := clitest.Binary(t)
	for _, workers := range []string{"1", "2"} {
		t.Run("workers="+workers, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			plan := clitest.WritePlan(t, dir, "abort.hcl", clitest.TwoRoutes, host, clitest.OpenShape("90s", "40/s")+`
sla "all" {
  error_rate  = "5%"
  window      = "10s"
  abort_after = 2
}
`)
			results := filepath.Join(dir, "results")
			out, err := exec.Command(bin, "apply", plan, "--workers", workers, "--results", results, "--quiet", "--metrics", "off").CombinedOutput()
			if code := clitest.ExitCode(err); code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, out)
			}
			_, run := clitest.LatestRun(t, results)
			if run.Status != result.Aborted || !strings.Contains(run.Reason, "in 2 consecutive 10s windows") {
				t.Fatalf("status %s, reason %q\n%s", run.Status, run.Reason, out)
			}
			// Windows start on wall-clock multiples of 10 s, and one is
			// judged when the run covers at least half of it (gates/sla):
			// the rule fires when the second judged window ends.
			first := run.Start.Truncate(10 * time.Second)
			if run.Start.Sub(first) > 5*time.Second {
				first = first.Add(10 * time.Second)
			}
			fires := first.Add(20 * time.Second)
			if run.End.Before(fires) || run.End.After(fires.Add(8*time.Second)) {
				t.Errorf("on %s worker(s) the run started %s and ended %s: %s after the second judged window ended at %s, want within 8 s after it\n%s",
					workers, run.Start.Format("15:04:05.000"), run.End.Format("15:04:05.000"), run.End.Sub(fires), fires.Format("15:04:05"), out)
			}
		})
	}
}

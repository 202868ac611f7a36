package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/gates/exitcode"
	"lab/gates/synth"
	"lab/runtime/result"
)

// lab compare without --plan judges by the regression block of the plan
// the current run stored, not by the defaults: a p95 30% slower fails
// the default 10% and passes a plan that allows 50%; --plan and the flags
// still win.
func TestCompareTakesTheStoredPlansThresholds(t *testing.T) {
	dir := t.TempDir()
	runOf := func(name string, medianUS float64, seed uint64, growth string) string {
		run := synth.Run(synth.Spec{Plan: "cmp", Duration: 3 * time.Minute, Seed: seed, Requests: []synth.Request{
			{Name: "GET /", Rate: 50, MedianUS: medianUS, Sigma: 0.3},
		}})
		run.Plan.File = "cmp.hcl"
		run.Plan.Sources = map[string]string{
			"cmp.hcl": "workload \"w\" {\n  source = \"w.hcl\"\n  host   = \"http://127.0.0.1:1\"\n}\n" +
				"shape \"s\" {\n  stage {\n    until = \"3m\"\n    rate  = \"50/s\"\n  }\n}\n" +
				"regression {\n  baseline   = \"results/cmp/baseline\"\n  p95_growth = \"" + growth + "\"\n}\n",
			"w.hcl": "user \"u\" {\n  task \"t\" {\n    get = \"/\"\n  }\n}\n",
		}
		out := filepath.Join(dir, name)
		if err := result.Write(out, run); err != nil {
			t.Fatal(err)
		}
		return out
	}
	base := runOf("base", 3000, 1, "50%")
	slower := runOf("slower", 3900, 2, "50%")
	strict := runOf("strict", 3900, 3, "10%")

	code, stdout, stderr := lab(t, nil, "compare", base, slower)
	if code != exitcode.OK || !strings.Contains(stderr, "thresholds from the regression block of cmp.hcl") {
		t.Errorf("30%% slower against a plan allowing 50%%: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := lab(t, nil, "compare", base, strict); code != exitcode.Breach || !strings.Contains(stdout, "p95 growth < 10%") {
		t.Errorf("30%% slower against a plan allowing 10%%: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := lab(t, nil, "compare", base, slower, "--p95-growth", "10%"); code != exitcode.Breach {
		t.Errorf("the flag does not win over the stored plan: exit %d\n%s", code, stdout)
	}
}

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/runtime/result"
	"lab/sut"
)

// Budgets per stage, end to end: the shop serialises checkouts on a lock
// held 10 ms, so one buyer checks out in about 10 ms and eight queue for
// it. The same p95 budget passes in the first stage and fails in the
// second, each judged on its own stage's windows; the run exits 1 for
// the second alone.
func TestStageBudgetsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a 40 s run")
	}
	t.Parallel()
	host := clitest.Shop(t, func(k *sut.Knobs) { k.Contention = 10 * time.Millisecond })
	dir := t.TempDir()
	workload := `
user "buyer" {
  sequence "checkout" {
    step "cart" {
      post    = "/cart"
      json    = { product_id = random_int(1, 500), qty = 1 }
      capture = { cart_id = response.json.cart_id }
    }
    step "pay" {
      post = "/checkout"
      json = { cart_id = captured.cart_id }
    }
  }
}
`
	body := `
shape "s" {
  stage {
    until = "20s"
    users = 1
  }
  stage {
    until = "40s"
    users = 8
  }
}

sla "POST /checkout" {
  stage = 1
  p95   = "40ms"
}

sla "POST /checkout" {
  stage = 2
  p95   = "40ms"
}
`
	plan := clitest.WritePlan(t, dir, "stages.hcl", workload, host, body)
	results := filepath.Join(dir, "results")
	code, stdout, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet", "--metrics", "off")
	_, run := clitest.LatestRun(t, results)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	got := map[string]string{}
	for _, v := range run.Verdicts {
		if v.Gate == "sla" {
			got[v.Budget] = v.Outcome + " " + v.Measured
		}
	}
	first, second := got["p95 ≤ 40ms in stage 1"], got["p95 ≤ 40ms in stage 2"]
	if !strings.HasPrefix(first, result.OutcomePass) || !strings.HasPrefix(second, result.OutcomeFail) {
		t.Errorf("stage 1: %q, stage 2: %q\n%s", first, second, stdout)
	}
}

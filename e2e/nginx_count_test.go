package e2e

import (
	"bytes"
	"path/filepath"
	"testing"

	"lab/cli/clitest"
	"lab/runtime/nginxtest"
	"lab/runtime/result"
)

// TestExactCountAgainstNginx: a run in one process counts exactly the
// requests nginx logged, closed and open model alike.
func TestExactCountAgainstNginx(t *testing.T) {
	for model, shape := range map[string]string{"closed": clitest.ClosedShape("4s", 32), "open": clitest.OpenShape("4s", "500/s")} {
		host, stop := nginxtest.Start(t)
		dir := t.TempDir()
		plan := clitest.WritePlan(t, dir, "p.hcl", clitest.OneRoute, host, shape)
		results := filepath.Join(dir, "results")
		code, stdout, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet", "--metrics", "off")
		logged := bytes.Count(stop(), []byte("\n"))
		if code != 0 {
			t.Fatalf("%s model: exit %d\n%s%s", model, code, stdout, stderr)
		}
		_, r := clitest.LatestRun(t, results)
		var counted, failed int64
		for _, q := range r.Requests {
			counted += q.Count
			failed += q.Failures
		}
		if r.Status != result.Complete || counted == 0 || int64(logged) != counted {
			t.Errorf("%s model: the Run counts %d requests, nginx logged %d (status %s)", model, counted, logged, r.Status)
		}
		if failed != 0 {
			t.Errorf("%s model: %d failures: %+v", model, failed, r.Failures)
		}
	}
}

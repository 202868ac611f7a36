package engine_test

import (
	"bytes"
	"testing"

	"lab/runtime/nginxtest"
	"lab/runtime/result"
)

// TestExactCountAgainstNginx: the Run counts exactly the requests nginx
// logged, closed and open model alike.
func TestExactCountAgainstNginx(t *testing.T) {
	for _, shape := range []string{`
shape "closed" {
  stage {
    until      = "4s"
    users      = 32
    spawn_rate = 64
  }
}`, `
shape "open" {
  stage {
    until = "4s"
    rate  = "500/s"
  }
}`} {
		host, stop := nginxtest.Start(t)
		path := writePlan(t, map[string]string{"plan.hcl": singleTask + shape})
		r := run(t, load(t, path, "host="+host))
		logged := bytes.Count(stop(), []byte("\n"))
		var counted int64
		for _, q := range r.Requests {
			counted += q.Count
		}
		if r.Status != result.Complete || counted == 0 || int64(logged) != counted {
			t.Errorf("%s model: the Run counts %d requests, nginx logged %d (status %s)", r.Model, counted, logged, r.Status)
		}
		if r.Requests[0].Failures != 0 {
			t.Errorf("%s model: %d failures: %+v", r.Model, r.Requests[0].Failures, r.Failures)
		}
	}
}

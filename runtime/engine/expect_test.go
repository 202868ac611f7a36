package engine_test

import (
	"net/http"
	"strings"
	"testing"

	"lab/runtime/result"
)

// An expected JSON field is present only when it is there, not null, and,
// for a string, not empty: `"order_id": null` is the shop's kind of wrong
// answer delivered fast, and must fail the request, not pass it.
func TestExpectedJSONFieldNullOrEmptyIsMissing(t *testing.T) {
	bodies := map[string]string{
		"/null":    `{"order_id": null}`,
		"/empty":   `{"order_id": ""}`,
		"/absent":  `{"total": 3}`,
		"/nested":  `{"order": {"id": null}}`,
		"/zero":    `{"order_id": 0, "order": {"id": 0}}`,
		"/false":   `{"order_id": false, "order": {"id": "x"}}`,
		"/list":    `{"order_id": [], "order": {"id": {}}}`,
		"/present": `{"order_id": 17, "order": {"id": "a1"}}`,
	}
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(bodies[r.URL.Path]))
	}))
	var tasks strings.Builder
	for path := range bodies {
		tasks.WriteString(`
  task "` + path[1:] + `" {
    get = "` + path + `"
    expect {
      json = ["order_id"]
    }
  }
  task "nested` + path[1:] + `" {
    get  = "` + path + `"
    name = "nested ` + path + `"
    expect {
      json = ["order.id"]
    }
  }`)
	}
	plan := writePlan(t, map[string]string{"plan.hcl": `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    wait = constant("5ms")
` + tasks.String() + `
  }
}
shape "s" {
  stage {
    until = "2s"
    users = 2
  }
}
`})
	r := run(t, load(t, plan, "host="+host))
	want := map[string]string{
		"GET /null": "json field order_id is null", "GET /empty": "json field order_id is empty",
		"GET /absent": "json field order_id missing", "GET /nested": "json field order_id missing", "GET nested /nested": "json field order.id is null",
		"GET nested /absent": "json field order.id missing", "GET nested /null": "json field order.id missing",
		"GET nested /empty": "json field order.id missing",
	}
	for _, q := range r.Requests {
		if q.Count == 0 {
			t.Errorf("%s: never sent", q.Name)
			continue
		}
		reason, fails := want[q.Name]
		if !fails {
			if q.Failures != 0 {
				t.Errorf("%s: %d of %d failed (%v), want none: the field is present", q.Name, q.Failures, q.Count, reasons(r, q.Name))
			}
			continue
		}
		if q.Failures != q.Count {
			t.Errorf("%s: %d of %d failed, want all", q.Name, q.Failures, q.Count)
		}
		if got := reasons(r, q.Name); len(got) != 1 || got[0] != reason {
			t.Errorf("%s: failure reasons %q, want %q", q.Name, got, reason)
		}
	}
}

func reasons(r *result.Run, name string) []string {
	var out []string
	for _, f := range r.Failures {
		if f.Name == name {
			out = append(out, f.Reason)
		}
	}
	return out
}

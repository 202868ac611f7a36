package engine_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// capture_failed: a login answered 401 that still carries a token fails
// its check, and the pass reads the token all the same (k6 reads a failed
// answer): the target sees the next request with it. Without it, the
// failed step captures nothing and the next, written to need the token,
// is skipped.
func TestCaptureFromAFailedAnswer(t *testing.T) {
	for _, on := range []bool{true, false} {
		var mu sync.Mutex
		withToken := 0
		host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/login":
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"token": "t-1"}`)
			case "/pizza":
				mu.Lock()
				if r.Header.Get("Authorization") == "token t-1" {
					withToken++
				}
				mu.Unlock()
			}
		}))
		p := load(t, writePlan(t, map[string]string{"plan.hcl": fmt.Sprintf(`
variable "host" {}
workload "w" {
  host = var.host
  user "u" {
    wait = constant("50ms")
    sequence "s" {
      on_failure = "continue"
      step "login" {
        post           = "/login"
        capture        = { token = response.json.token }
        capture_failed = %v
        expect {
          status = 200
        }
      }
      step "pizza" {
        when    = can(captured.token)
        post    = "/pizza"
        headers = { Authorization = "token ${captured.token}" }
      }
    }
  }
}
shape "s" {
  stage {
    until = "1s"
    users = 2
  }
}
`, on)}), "host="+host)
		r := run(t, p)
		login, pizza := r.RequestByName("POST /login"), r.RequestByName("POST /pizza")
		mu.Lock()
		seen := withToken
		mu.Unlock()
		if login == nil || login.Failures != login.Count || login.Count == 0 {
			t.Fatalf("capture_failed %v: login %+v: a 401 must count as failed", on, login)
		}
		switch {
		case on && (pizza == nil || int64(seen) != pizza.Count || pizza.Count < login.Count-2):
			t.Errorf("capture_failed: %d logins, the target saw %d pizzas with the token (lab %+v)", login.Count, seen, pizza)
		case !on && (seen != 0 || pizza == nil || pizza.Count != 0 || pizza.Skipped == 0):
			t.Errorf("without capture_failed: the target saw %d pizzas with the token; lab %+v", seen, pizza)
		}
	}
}

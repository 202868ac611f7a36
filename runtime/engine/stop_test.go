package engine_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"lab/runtime/engine"
)

// TestSendsNothingAfterStop: a pass whose second step comes a second after
// its first must not send that step once the run has stopped, whether Stop
// was called (SIGINT, an abort rule) or the shape ended, in the open model
// (which did) as in the closed one. Counted at the target: requests that
// arrive more than 200 ms after the stop (a request already on the wire
// arrives within that).
func TestSendsNothingAfterStop(t *testing.T) {
	var mu sync.Mutex
	var arrived []time.Time
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, time.Now())
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	const planSrc = `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    sequence "s" {
      step "a" {
        get = "/a"
      }
      step "b" {
        get   = "/b"
        think = constant("1s")
      }
    }
  }
}
`
	shapes := map[string]string{"open": `
shape "s" {
  stage {
    until = "3s"
    rate  = "20/s"
  }
}`, "closed": `
shape "s" {
  stage {
    until = "3s"
    users = 20
  }
}`}
	for _, c := range []struct{ model, how string }{{"open", "Stop"}, {"open", "the end of the shape"}, {"closed", "Stop"}, {"closed", "the end of the shape"}} {
		how := c.how
		mu.Lock()
		arrived = nil
		mu.Unlock()
		plan := writePlan(t, map[string]string{"plan.hcl": planSrc + shapes[c.model]})
		e, err := engine.New(engine.Options{Plan: load(t, plan, "host="+host), Grace: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var stopped time.Time
		if how == "Stop" {
			go func() {
				time.Sleep(1500 * time.Millisecond)
				e.Stop("test")
				mu.Lock()
				stopped = time.Now()
				mu.Unlock()
			}()
		}
		r, err := e.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s model, %s: %v", c.model, how, err)
		}
		mu.Lock()
		if how != "Stop" {
			stopped = r.Start.Add(3 * time.Second)
		}
		after := 0
		for _, at := range arrived {
			if at.After(stopped.Add(200 * time.Millisecond)) {
				after++
			}
		}
		total := len(arrived)
		mu.Unlock()
		if after != 0 || total < 20 {
			t.Errorf("%s model, after %s: %d of %d requests arrived at the target more than 200 ms after the run stopped", c.model, how, after, total)
		}
	}
}

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

// TestLapsedLeaseSendsNothingMore: a worker whose master has not answered
// for a while (it was paused, or cut off) must send nothing once its lease
// ends, not even the arrivals that fell due meanwhile and wait behind a
// slow target (the backlog a resumed worker fired before). Counted at the
// target; the arrivals not sent are offered unsent, so the Run adds up.
func TestLapsedLeaseSendsNothingMore(t *testing.T) {
	var mu sync.Mutex
	var arrived []time.Time
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, time.Now())
		mu.Unlock()
		time.Sleep(300 * time.Millisecond) // holds the in-flight bound: a backlog forms
		w.Write([]byte("ok"))
	}))
	const planSrc = `
variable "host" {
  default = "http://127.0.0.1:1"
}
workload "w" {
  host = var.host
  user "u" {
    task "t" {
      get = "/"
    }
  }
}
`
	shapes := map[string]string{"open": `
shape "s" {
  stage {
    until = "3s"
    rate  = "40/s"
  }
  max_in_flight = 4
}`, "closed": `
shape "s" {
  stage {
    until = "3s"
    users = 10
  }
}`}
	for _, model := range []string{"open", "closed"} {
		mu.Lock()
		arrived = nil
		mu.Unlock()
		plan := writePlan(t, map[string]string{"plan.hcl": planSrc + shapes[model]})
		start := time.Now().Add(200 * time.Millisecond)
		e, err := engine.New(engine.Options{Plan: load(t, plan, "host="+host), Start: start, Grace: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		lease := start.Add(time.Second)
		e.Lease(lease)
		r, err := e.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s model: %v", model, err)
		}
		mu.Lock()
		after, total := 0, len(arrived)
		for _, at := range arrived {
			if at.After(lease.Add(50 * time.Millisecond)) {
				after++
			}
		}
		mu.Unlock()
		if after != 0 || total < 4 {
			t.Errorf("%s model: %d of %d requests arrived more than 50 ms after the lease ended", model, after, total)
		}
		if r.Reason != engine.LeaseLapsed {
			t.Errorf("%s model: the run says it stopped for %q", model, r.Reason)
		}
		if model == "open" && r.Generator.Unsent == 0 {
			t.Errorf("open model: no arrival is counted unsent (%+v)", r.Generator)
		}
	}
}

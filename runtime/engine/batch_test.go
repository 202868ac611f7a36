package engine_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/result"
)

// batchTarget serves a page whose three assets each take 60 ms, and a
// request after them that needs what two of them gave (a token in a body,
// a cookie). It sees, from its own side, how many of one user's asset
// requests were on the wire at once, whether a request after the batch
// came while one of them was still being answered, and what every request
// carried.
type batchTarget struct {
	mu       sync.Mutex
	inFlight map[string]int // user → asset requests being answered
	maxAt    map[string]int // user → most at once
	early    int            // /after while an asset of its user was being answered
	bad      int            // /after without the token or the cookie
	counts   map[string]int64
	slow     time.Duration // /c's answer time (0: 60 ms)
}

func newBatchTarget() *batchTarget {
	return &batchTarget{inFlight: map[string]int{}, maxAt: map[string]int{}, counts: map[string]int64{}}
}

func (bt *batchTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user := r.Header.Get("X-User")
	bt.mu.Lock()
	bt.counts[r.Method+" "+r.URL.Path]++
	switch r.URL.Path {
	case "/a", "/b", "/c":
		bt.inFlight[user]++
		bt.maxAt[user] = max(bt.maxAt[user], bt.inFlight[user])
		bt.mu.Unlock()
		d := 60 * time.Millisecond
		if r.URL.Path == "/c" && bt.slow > 0 {
			d = bt.slow
		}
		time.Sleep(d)
		switch r.URL.Path {
		case "/a":
			fmt.Fprintf(w, `{"token":"t-%s"}`, user)
		case "/b":
			http.SetCookie(w, &http.Cookie{Name: "asset", Value: "b-" + user, Path: "/"})
		}
		bt.mu.Lock()
		bt.inFlight[user]--
		bt.mu.Unlock()
		return
	case "/after":
		if bt.inFlight[user] > 0 {
			bt.early++
		}
		c, err := r.Cookie("asset")
		if r.URL.Query().Get("token") != "t-"+user || err != nil || c.Value != "b-"+user {
			bt.bad++
			w.WriteHeader(http.StatusForbidden)
		}
	}
	bt.mu.Unlock()
}

const batchPlan = `
workload "w" {
  host    = "%s"
  cookies = "pass"
  user "buyer" {
    wait = constant("50ms")
    sequence "page" {
      step "page" {
        get     = "/page"
        headers = { X-User = "${user.id}" }
      }
      batch {
        think = constant("10ms")
        step "a" {
          get     = "/a"
          headers = { X-User = "${user.id}" }
          capture = { token = response.json.token }
        }
        step "b" {
          get     = "/b"
          headers = { X-User = "${user.id}" }
        }
        step "c" {
          get     = "/c"
          headers = { X-User = "${user.id}" }
          when    = user.id %% 2 == 0
        }
      }
      step "after" {
        get     = "/after?token=${captured.token}"
        headers = { X-User = "${user.id}" }
      }
    }
  }
}
shape "s" {
  %s
}
`

func loadSource(t *testing.T, src string) *lang.Plan {
	t.Helper()
	return load(t, writePlan(t, map[string]string{"plan.hcl": src}))
}

// A batch's steps are on the wire at once, as the target sees them: three
// of a user's assets being answered together (two for the users whose
// when skips /c), and the step after the batch only once every answer
// came, carrying the capture of one and the cookie of another. Counts
// agree with the target's; skipped steps are counted as skipped. Both
// load models.
func TestBatchSendsItsStepsAtOnce(t *testing.T) {
	for _, shape := range []string{
		`stage {
    until = "3s"
    users = 4
  }`,
		`stage {
    until = "3s"
    rate  = "6/s"
  }`,
	} {
		bt := newBatchTarget()
		host := serve(t, bt)
		r := run(t, loadSource(t, fmt.Sprintf(batchPlan, host, shape)))
		if r.Status != result.Complete {
			t.Fatalf("%s: status %s (%s)", shape, r.Status, r.Reason)
		}
		bt.mu.Lock()
		for user, m := range bt.maxAt {
			var id int
			fmt.Sscan(user, &id)
			if want := 2 + (1 - id%2); m != want {
				t.Errorf("%s: user %s had at most %d asset requests on the wire at once, want %d", shape, user, m, want)
			}
		}
		if len(bt.maxAt) == 0 || bt.early > 0 || bt.bad > 0 {
			t.Errorf("%s: %d users seen; /after came early %d times, without the token or cookie %d times", shape, len(bt.maxAt), bt.early, bt.bad)
		}
		skipped := int64(0)
		for _, q := range r.Requests {
			path := strings.Fields(q.Name)[1]
			if got := bt.counts["GET "+path]; got != q.Count {
				t.Errorf("%s: %s: lab counted %d, the target %d", shape, q.Name, q.Count, got)
			}
			if q.Failures > 0 {
				t.Errorf("%s: %s failed %d times: %v", shape, q.Name, q.Failures, r.Failures)
			}
			if q.Name == "GET /c" {
				skipped = q.Skipped
			}
		}
		if skipped == 0 || bt.counts["GET /after"] < 4 {
			t.Errorf("%s: /c skipped %d times, %d passes ended", shape, skipped, bt.counts["GET /after"])
		}
		bt.mu.Unlock()
	}
}

// A batch still on the wire when the grace period ends: its slow step is
// cut off, its fast steps that were answered meanwhile are counted too
// (as cut off: their pass never judged them), and every request sent is
// counted once — the target's count equals lab's.
func TestBatchCutOffCountsEveryRequest(t *testing.T) {
	bt := newBatchTarget()
	bt.slow = 3 * time.Second
	host := serve(t, bt)
	r := run(t, loadSource(t, fmt.Sprintf(batchPlan, host, `stage {
    until = "1s"
    users = 2
  }`)),
		func(o *engine.Options) { o.Grace = 500 * time.Millisecond })
	var cut int64
	for _, q := range r.Requests {
		path := strings.Fields(q.Name)[1]
		bt.mu.Lock()
		got := bt.counts["GET "+path]
		bt.mu.Unlock()
		if got != q.Count || q.Sent == nil || *q.Sent != q.Count {
			t.Errorf("%s: lab counted %d (sent %v), the target %d", q.Name, q.Count, q.Sent, got)
		}
		cut += q.CutOff
	}
	if cut == 0 {
		t.Errorf("nothing cut off: %+v", r.Failures)
	}
}

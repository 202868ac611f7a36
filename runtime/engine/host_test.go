package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"lab/runtime/engine"
	"lab/runtime/result"
)

// hostCounter is a target that counts what it is sent, by path, and the
// cookies it is sent by name; it sets a cookie of its own on every answer.
type hostCounter struct {
	mu      sync.Mutex
	paths   map[string]int64
	cookies map[string]int64
	header  map[string]int64 // X-Flag values seen
	setName string
}

func newHostCounter(setName string) *hostCounter {
	return &hostCounter{paths: map[string]int64{}, cookies: map[string]int64{}, header: map[string]int64{}, setName: setName}
}

func (h *hostCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.paths[r.Method+" "+r.URL.Path]++
	for _, c := range r.Cookies() {
		h.cookies[c.Name]++
	}
	if v := r.Header.Get("X-Flag"); v != "" {
		h.header[v]++
	}
	http.SetCookie(w, &http.Cookie{Name: h.setName, Value: "x", Path: "/"})
	fmt.Fprint(w, `{"count": 3, "token": "seeded"}`)
}

const hostPlan = `
variable "main" {}
variable "flags" {}
workload "w" {
  host    = var.main
  cookies = "user"
  setup {
    step "seed" {
      host    = var.flags
      post    = "/seed"
      capture = { token = response.json.token }
    }
  }
  user "u" {
    wait = constant("50ms")
    sequence "s" {
      step "flags" {
        host    = var.flags
        get     = "/flags"
        capture = { n = response.json.count }
      }
      step "home" {
        get     = "/"
        headers = { X-Flag = "${setup.token}-${captured.n}" }
      }
    }
  }
}
shape "s" {
  stage {
    until = "2s"
    users = 3
  }
}
`

// Issue 20: a step (or a setup step) may go to another host than its
// user's: each host sees exactly its own requests, the main host reads
// what the other answered (a setup value and a capture), and neither host
// is sent the cookies the other set — the jar is the user's host's.
func TestStepOnAnotherHost(t *testing.T) {
	main, flags := newHostCounter("main_sid"), newHostCounter("flags_sid")
	mainURL, flagsURL := serve(t, main), serve(t, flags)
	p := load(t, writePlan(t, map[string]string{"plan.hcl": hostPlan}), "main="+mainURL, "flags="+flagsURL)
	if ts := p.Workload.Targets(); len(ts) != 2 || ts[1].Host != flagsURL {
		t.Fatalf("targets %+v", ts)
	}
	s := p.NewSetupScope()
	if err := engine.RunSteps(context.Background(), p, p.Workload.Setup, s); err != nil {
		t.Fatal(err)
	}
	p.SetSetup(s.CapturedValues())
	r := run(t, p)
	if r.Status != result.Complete {
		t.Fatalf("status %s", r.Status)
	}
	main.mu.Lock()
	defer main.mu.Unlock()
	flags.mu.Lock()
	defer flags.mu.Unlock()
	home, fl := r.RequestByName("GET /"), r.RequestByName("GET /flags")
	if home == nil || fl == nil || home.Failures+fl.Failures != 0 {
		t.Fatalf("GET / %+v, GET /flags %+v: %v", home, fl, r.Failures)
	}
	if main.paths["GET /"] != home.Count || main.paths["GET /flags"] != 0 || flags.paths["GET /flags"] != fl.Count || flags.paths["GET /"] != 0 {
		t.Errorf("main saw %v, flags saw %v; lab counted / %d, /flags %d", main.paths, flags.paths, home.Count, fl.Count)
	}
	if flags.paths["POST /seed"] != 1 || main.header["seeded-3"] != home.Count {
		t.Errorf("setup on the flags host %d times; the main host saw X-Flag %v", flags.paths["POST /seed"], main.header)
	}
	if flags.cookies["main_sid"] != 0 || main.cookies["flags_sid"] != 0 || main.cookies["main_sid"] == 0 {
		t.Errorf("cookies crossed hosts: main was sent %v, flags %v", main.cookies, flags.cookies)
	}
}

// drop_cookies takes a cookie out of the jar before the request: the
// target sees the step sent without it, and the answer's cookie is kept
// again for the next step (Locust's del session.cookies["sessionid"]
// before a new login).
func TestDropCookies(t *testing.T) {
	var mu sync.Mutex
	with := map[string]int{}    // path → requests that carried sid
	without := map[string]int{} // path → requests that did not
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if _, err := r.Cookie("sid"); err == nil {
			with[r.URL.Path]++
		} else {
			without[r.URL.Path]++
		}
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "keep", Value: "k", Path: "/"})
	}))
	p := load(t, writePlan(t, map[string]string{"plan.hcl": `
variable "host" {}
workload "w" {
  host    = var.host
  cookies = "user"
  user "u" {
    wait = constant("50ms")
    sequence "s" {
      step "a" {
        get = "/a"
      }
      step "login" {
        get          = "/login"
        drop_cookies = ["sid"]
      }
      step "b" {
        get = "/b"
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
`}), "host="+host)
	if got := p.Workload.Users[0].Tasks[0].Steps[1].DropCookies; len(got) != 1 || got[0] != "sid" {
		t.Fatalf("drop_cookies %q", got)
	}
	run(t, p)
	mu.Lock()
	defer mu.Unlock()
	if with["/login"] != 0 || without["/login"] == 0 || with["/b"] == 0 || without["/b"] != 0 || with["/a"] == 0 {
		t.Errorf("with sid %v, without %v", with, without)
	}
}

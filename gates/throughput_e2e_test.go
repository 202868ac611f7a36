package gates

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/gates/exitcode"
	"lab/runtime/engine"
	"lab/runtime/result"
	"lab/sut"
	"lab/sut/shoptest"
)

// engineRun runs an open-model plan with the real engine against a shop
// served in-process, stores the Run and loads it back: the Run as lab
// compare reads it.
func engineRun(t *testing.T, workload, rate string, dur time.Duration, tune func(*sut.Knobs)) *result.Run {
	t.Helper()
	k := sut.DefaultKnobs()
	k.Latency = 2 * time.Millisecond
	if tune != nil {
		tune(&k)
	}
	host := shoptest.Start(t, k)

	src := fmt.Sprintf(`workload "w" {
  host = %q
%s
}
shape "open" {
  stage {
    until = %q
    rate  = %q
  }
}
`, host, workload, dur.String(), rate)
	p := writePlan(t, map[string]string{"p.hcl": src})
	e, err := engine.New(engine.Options{Plan: p, Grace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := result.Write(dir, run); err != nil {
		t.Fatal(err)
	}
	stored, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// One arrival runs the home page then a product page, in that order.
const twoSteps = `
  user "visitor" {
    sequence "browse" {
      step "home" {
        get = "/"
      }
      step "product" {
        get  = "/products/${random_int(1, 500)}"
        name = "/products/:id"
      }
    }
  }
`

// TestOpenThroughputComparedWithTheBaseline compares stored runs of the
// real engine. The same load twice passes the throughput check; a run at
// half the baseline's arrival rate is not a like-for-like comparison and
// must not pass (it passed as "100% of offered"); a run whose first step
// fails a fifth of the time (the shop's error rate), so that its second
// step is sent a fifth less often at the same offered load, fails the
// second step's throughput.
func TestOpenThroughputComparedWithTheBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("25 s of load (-short)")
	}
	const dur = 25 * time.Second
	runs := map[string]*result.Run{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, c := range map[string]struct {
		rate string
		tune func(*sut.Knobs)
	}{
		"base": {"40/s", nil},
		"same": {"40/s", nil},
		"half": {"20/s", nil},
		// The shop answers 500 to a fifth of its requests: a pass whose
		// home page failed ends there.
		"funnel": {"40/s", func(k *sut.Knobs) { k.ErrorRate = 0.2 }},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := engineRun(t, twoSteps, c.rate, dur, c.tune)
			mu.Lock()
			runs[name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	throughput := func(vs []result.Verdict, name string) result.Verdict {
		for _, v := range vs {
			if v.Gate == "regression" && v.Subject == name && (strings.Contains(v.Budget, "offered") || strings.Contains(v.Budget, "req/s")) {
				return v
			}
		}
		t.Fatalf("no throughput verdict for %s in %+v", name, vs)
		return result.Verdict{}
	}
	for _, name := range []string{"GET /", "GET /products/:id"} {
		vs, err := Compare(runs["base"], runs["same"], DefaultThresholds())
		if err != nil {
			t.Fatal(err)
		}
		if v := throughput(vs, name); v.Outcome != result.OutcomePass {
			t.Errorf("the same load twice, %s: %+v", name, v)
		}
		vs, err = Compare(runs["base"], runs["half"], DefaultThresholds())
		if err != nil {
			t.Fatal(err)
		}
		if v := throughput(vs, name); v.Outcome == result.OutcomePass || v.Outcome == result.OutcomeAdvisory || !strings.Contains(v.Detail, "like-for-like") {
			t.Errorf("half the arrival rate, %s: %+v", name, v)
		}
		if ExitCode(vs) != exitcode.Breach {
			t.Errorf("half the arrival rate: exit %d, want 1: %+v", ExitCode(vs), vs)
		}
		if name == "GET /" {
			t.Logf("half the arrival rate: %+v", throughput(vs, name))
		}
	}
	vs, err := Compare(runs["base"], runs["funnel"], DefaultThresholds())
	if err != nil {
		t.Fatal(err)
	}
	if v := throughput(vs, "GET /"); v.Outcome != result.OutcomePass {
		t.Errorf("funnel, the first step (same offered load, all answered): %+v", v)
	}
	if v := throughput(vs, "GET /products/:id"); v.Outcome != result.OutcomeFail {
		t.Errorf("funnel, the second step, sent a fifth less often: %+v", v)
	} else {
		t.Logf("funnel: %+v", v)
	}
}

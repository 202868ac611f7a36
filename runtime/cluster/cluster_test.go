package cluster

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/lang"
	"lab/runtime/result"
	"lab/sut"
	"lab/sut/shoptest"
)

// syncBuffer is a log several goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const testWorkload = `
user "browser" {
  weight = 3
  task "home" {
    get = "/"
  }
  task "product" {
    get  = "/products/${random_int(1, 50)}"
    name = "GET /products/:id"
  }
}

user "buyer" {
  weight = 1
  sequence "buy" {
    step "cart" {
      post = "/cart"
      json = { product_id = 7, qty = 1 }
      capture = { cart = "$.cart_id" }
    }
    step "checkout" {
      post = "/checkout"
      json = { cart_id = captured.cart }
    }
  }
}
`

// loadPlan writes a plan against host with the given shape and loads it.
func loadPlan(t testing.TB, host, shape string) (*lang.Plan, Order) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.workload.hcl"), []byte(testWorkload), 0o644)
	src := "workload \"shop\" {\n  source = \"w.workload.hcl\"\n  host = \"" + host + "\"\n}\n" + shape
	path := filepath.Join(dir, "p.hcl")
	os.WriteFile(path, []byte(src), 0o644)
	plan, diags := lang.Load(path, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	o := Order{File: path, Sources: map[string]string{}, Summary: plan.Summary(), Grace: 5 * time.Second}
	for p, s := range plan.Sources {
		o.Sources[p] = string(s)
	}
	return plan, o
}

const closedShape = `
shape "s" {
  duration = "6s"
  stage {
    until      = "6s"
    users      = 12
    spawn_rate = 100
  }
}
`

type cluster struct {
	m      *Master
	log    *syncBuffer
	errs   []error
	finals []*result.Run
}

// runCluster runs the plan on n in-process workers and returns the merged
// Run with each worker's own.
func runCluster(t *testing.T, plan *lang.Plan, o Order, n int) (*result.Run, *cluster) {
	t.Helper()
	c := &cluster{log: &syncBuffer{}}
	m, err := NewMaster(MasterConfig{Listen: "127.0.0.1:0", Version: "test", Workers: n, JoinTimeout: 10 * time.Second,
		OnLoss: "fail", Plan: plan, Order: o, StartDelay: time.Second, Log: c.log})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c.m = m
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = RunWorker(context.Background(), WorkerConfig{Master: m.Addr(), Version: "test", Name: "w", Host: "here", Wait: 5 * time.Second, Log: c.log})
		}()
	}
	run, err := m.Run(context.Background())
	wg.Wait()
	if err != nil {
		t.Fatalf("%v\n%s", err, c.log.String())
	}
	c.errs = errs
	for _, mb := range m.members {
		c.finals = append(c.finals, mb.final)
	}
	return run, c
}

// The merged Run of 1, 2 and 4 workers adds up (Validate), its per-name
// totals are the sum of the workers', every worker ran its part of each
// class, and its percentiles are those of one histogram holding every
// worker's samples.
func TestMergedRunIsTheSumOfTheWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("three 8-second runs")
	}
	host := shoptest.Start(t, shop(time.Millisecond))
	plan, o := loadPlan(t, host, closedShape)
	for _, n := range []int{1, 2, 4} {
		run, c := runCluster(t, plan, o, n)
		for i, err := range c.errs {
			if err != nil {
				t.Fatalf("%d workers: worker %d: %v", n, i+1, err)
			}
		}
		if err := run.Validate(); err != nil {
			t.Fatalf("%d workers: the merged run does not add up: %v", n, err)
		}
		if run.Status != result.Complete || run.Workers != n || len(run.WorkerLog) != n {
			t.Fatalf("%d workers: status %s, workers %d, log %v", n, run.Status, run.Workers, run.WorkerLog)
		}
		for _, q := range run.Requests {
			var count int64
			all := result.NewHist()
			for _, f := range c.finals {
				fq := f.RequestByName(q.Name)
				count += fq.Count
				h, err := result.Decode(fq.Hist)
				if err != nil {
					t.Fatal(err)
				}
				all.Merge(h)
			}
			if q.Count != count || q.Count == 0 {
				t.Errorf("%d workers: %s counts %d, the workers %d", n, q.Name, q.Count, count)
			}
			merged, _ := result.Decode(q.Hist)
			for _, p := range []float64{50, 95, 99, 99.9, 100} {
				if a, b := merged.ValueAtQuantile(p), all.ValueAtQuantile(p); a != b {
					t.Errorf("%d workers: %s p%v is %d, one histogram of every sample says %d", n, q.Name, p, a, b)
				}
			}
		}
		// 12 users, 3:1: 9 browsers and 3 buyers, split among the workers
		// with each class within one user of even.
		if run.Classes[0].PeakUsers != 9 || run.Classes[1].PeakUsers != 3 {
			t.Errorf("%d workers: classes %+v, want 9 browsers and 3 buyers", n, run.Classes)
		}
		for _, f := range c.finals {
			if b := f.Classes[0].PeakUsers; b < 9/n || b > (9+n-1)/n {
				t.Errorf("%d workers: a worker ran %d browsers", n, b)
			}
		}
	}
}

// The open model's arrivals, dealt out among 3 workers, are the one
// schedule: as many as one process would offer, none twice.
func TestOpenArrivalsSplitAmongWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("an 8-second run")
	}
	host := shoptest.Start(t, shop(time.Millisecond))
	plan, o := loadPlan(t, host, `
shape "s" {
  duration = "6s"
  stage {
    until = "6s"
    rate  = "50/s"
  }
}
`)
	run, c := runCluster(t, plan, o, 3)
	if err := run.Validate(); err != nil {
		t.Fatal(err)
	}
	if run.Generator.Scheduled != 300 {
		t.Errorf("scheduled %d arrivals, want 50/s × 6 s = 300", run.Generator.Scheduled)
	}
	for i, f := range c.finals {
		if s := f.Generator.Scheduled; s != 100 {
			t.Errorf("worker %d scheduled %d, want a third (100)", i+1, s)
		}
	}
}

// A wrong token and another version are refused, and both sides say why.
func TestRefusedWorkersAreToldWhy(t *testing.T) {
	host := shoptest.Start(t, shop(0))
	plan, o := loadPlan(t, host, closedShape)
	log := &syncBuffer{}
	m, err := NewMaster(MasterConfig{Listen: "127.0.0.1:0", Token: "s3cret", Version: "v1", Workers: 1, JoinTimeout: time.Second,
		Plan: plan, Order: o, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cases := []struct {
		token, version, worker, master string
	}{
		{"", "v1", "wrong or missing token", "wrong or missing token"},
		{"guess", "v1", "wrong or missing token", "wrong or missing token"},
		{"s3cret", "v2", "the master runs lab v1 (protocol 1), the worker lab v2", "another version"},
	}
	for _, c := range cases {
		err := RunWorker(context.Background(), WorkerConfig{Master: m.Addr(), Token: c.token, Version: c.version, Name: "x", Wait: time.Second, Log: log})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.worker) {
			t.Errorf("token %q version %q: worker says %v, want a refusal naming %q", c.token, c.version, err, c.worker)
		}
		if !strings.Contains(log.String(), c.master) {
			t.Errorf("token %q version %q: the master's log does not say %q:\n%s", c.token, c.version, c.master, log.String())
		}
	}
	if len(m.members) != 0 {
		t.Errorf("%d refused workers were admitted", len(m.members))
	}
}

// A master beyond loopback without a token is refused at the start, by
// the rule runtime/guard holds for every endpoint (tested there).
func TestMasterBeyondLoopbackNeedsAToken(t *testing.T) {
	if err := CheckListen("0.0.0.0:5557", ""); err == nil || !strings.Contains(err.Error(), "master") {
		t.Errorf("0.0.0.0 without a token: %v", err)
	}
	if err := CheckListen("0.0.0.0:5557", "t"); err != nil {
		t.Errorf("0.0.0.0 with a token: %v", err)
	}
	if err := CheckListen("127.0.0.1:5557", ""); err != nil {
		t.Errorf("loopback: %v", err)
	}
}

func shop(latency time.Duration) sut.Knobs {
	k := sut.DefaultKnobs()
	k.Latency = latency
	return k
}

// A worker that joins after the start is given its even part at its first
// sync, taking effect at the same instant on every worker: in the closed
// model the users stay 12 in all (none twice, none missing), in the open
// model the arrivals stay the one schedule (300 at 50/s for 6 s).
func TestLateWorkerGetsAPart(t *testing.T) {
	if testing.Short() {
		t.Skip("two 8-second runs")
	}
	host := shoptest.Start(t, shop(time.Millisecond))
	for _, model := range []string{"closed", "open"} {
		shape := closedShape
		if model == "open" {
			shape = "shape \"s\" {\n  duration = \"6s\"\n  stage {\n    until = \"6s\"\n    rate  = \"50/s\"\n  }\n}\n"
		}
		plan, o := loadPlan(t, host, shape)
		run := runWithLateWorker(t, plan, o)
		if err := run.Validate(); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		if len(run.WorkerLog) != 3 {
			t.Fatalf("%s: worker log %+v, want 3", model, run.WorkerLog)
		}
		// The run ends when the shape does (its last requests answered),
		// not on the late worker's clock: req/s divide by this.
		if d := run.End.Sub(run.Start); d < 6*time.Second || d > 7*time.Second {
			t.Errorf("%s: the merged run lasts %s for a 6 s shape", model, d)
		}
		late := run.WorkerLog[2]
		if late.Share < 0.3 || late.Requests == 0 {
			t.Errorf("%s: the late worker holds %.2f of the load and ran %d requests; want a third and some", model, late.Share, late.Requests)
		}
		if model == "open" {
			if run.Generator.Scheduled != 300 {
				t.Errorf("open: %d arrivals scheduled, want the one schedule's 300", run.Generator.Scheduled)
			}
			continue
		}
		for _, s := range run.Seconds {
			if off := s.T - run.Start.Unix(); off >= 1 && off <= 5 && s.Users != 12 {
				t.Errorf("closed: second %d: %d users, want 12 all along", off, s.Users)
			}
		}
	}
}

// runWithLateWorker runs the plan on 2 workers and a third that joins 2 s
// after the start.
func runWithLateWorker(t *testing.T, plan *lang.Plan, o Order) *result.Run {
	t.Helper()
	log := &syncBuffer{}
	m, err := NewMaster(MasterConfig{Listen: "127.0.0.1:0", Version: "test", Workers: 2, JoinTimeout: 10 * time.Second,
		OnLoss: "fail", Plan: plan, Order: o, StartDelay: time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var wg sync.WaitGroup
	work := func() {
		defer wg.Done()
		if err := RunWorker(context.Background(), WorkerConfig{Master: m.Addr(), Version: "test", Host: "h", Wait: 5 * time.Second, Log: log}); err != nil {
			t.Errorf("worker: %v", err)
		}
	}
	wg.Add(3)
	go work()
	go work()
	m.OnStart(func(start time.Time) {
		go func() {
			time.Sleep(time.Until(start) + 2*time.Second)
			work()
		}()
	})
	run, err := m.Run(context.Background())
	wg.Wait()
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	return run
}

// A worker that was to join and cannot (a local process that exited)
// ends the wait at once: the run does not start and says why.
func TestAbandonedWaitEndsAtOnce(t *testing.T) {
	plan, o := loadPlan(t, "http://127.0.0.1:9", closedShape)
	m, err := NewMaster(MasterConfig{Listen: "127.0.0.1:0", Version: "test", Workers: 2, JoinTimeout: time.Minute, Plan: plan, Order: o})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	go func() {
		time.Sleep(200 * time.Millisecond)
		m.Abandon("worker process 42 ended before the run started")
	}()
	done := make(chan error, 1)
	go func() {
		_, err := m.Run(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "worker process 42 ended") || !strings.Contains(err.Error(), "0 of 2 workers joined") {
			t.Errorf("got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still waiting for workers after the wait was abandoned")
	}
}

// TestMeasuresMergeAcrossWorkers: a measure taken on two workers is, in
// the merged Run, one measure of every value: counts and sums add up, the
// extremes are the extremes, the percentiles are those of one histogram
// of every worker's values, and every cart the shop answered has its value.
func TestMeasuresMergeAcrossWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("a 6-second run")
	}
	host := shoptest.Start(t, shop(time.Millisecond))
	dir := t.TempDir()
	wl := strings.Replace(testWorkload, `capture = { cart = "$.cart_id" }`, `capture = { cart = "$.cart_id" }
      measure = { total = response.json.total }`, 1)
	os.WriteFile(filepath.Join(dir, "w.workload.hcl"), []byte(wl), 0o644)
	path := filepath.Join(dir, "p.hcl")
	os.WriteFile(path, []byte("workload \"shop\" {\n  source = \"w.workload.hcl\"\n  host = \""+host+"\"\n}\n"+closedShape+"\nmeasure \"total\" {\n  max = 1000000\n}\n"), 0o644)
	plan, diags := lang.Load(path, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	o := Order{File: path, Sources: map[string]string{}, Summary: plan.Summary(), Grace: 5 * time.Second}
	for p, s := range plan.Sources {
		o.Sources[p] = string(s)
	}
	run, c := runCluster(t, plan, o, 2)
	if err := run.Validate(); err != nil {
		t.Fatal(err)
	}
	m := run.MeasureByName("total")
	if m == nil || m.Count == 0 {
		t.Fatalf("merged measures %+v", run.Measures)
	}
	all := result.NewMeasureHist()
	var count int64
	var sum float64
	lo, hi := m.Max, 0.0
	for _, f := range c.finals {
		w := f.MeasureByName("total")
		if w == nil || w.Count == 0 {
			t.Fatalf("a worker measured nothing: %+v", f.Measures)
		}
		count += w.Count
		sum += w.Sum
		lo, hi = min(lo, w.Min), max(hi, w.Max)
		h, err := result.DecodeMeasure(w.Hist)
		if err != nil {
			t.Fatal(err)
		}
		all.Merge(h)
	}
	if m.Count != count || math.Abs(m.Sum-sum) > 1e-9*sum || m.Min != lo || m.Max != hi {
		t.Errorf("merged count %d sum %v min %v max %v; the workers' %d, %v, %v, %v", m.Count, m.Sum, m.Min, m.Max, count, sum, lo, hi)
	}
	merged, _ := result.DecodeMeasure(m.Hist)
	for _, p := range []float64{50, 95, 100} {
		if a, b := merged.ValueAtQuantile(p), all.ValueAtQuantile(p); a != b {
			t.Errorf("p%v is %d, one histogram of every value says %d", p, a, b)
		}
	}
	if q := run.RequestByName("POST /cart"); q == nil || q.Count-q.Failures != m.Count || m.Missing != 0 {
		t.Errorf("carts %+v answered, %d measured and %d missing", q, m.Count, m.Missing)
	}
	// Window by window too: each merged window holds what the workers'
	// windows of that start held.
	byT := map[int64]int64{}
	for _, f := range c.finals {
		for _, w := range f.MeasureByName("total").Windows {
			byT[w.T] += w.Count
		}
	}
	if len(m.Windows) != len(byT) || len(byT) == 0 {
		t.Errorf("merged %d windows, the workers had %d starts", len(m.Windows), len(byT))
	}
	for _, w := range m.Windows {
		if byT[w.T] != w.Count {
			t.Errorf("window %d: merged %d values, the workers %d", w.T, w.Count, byT[w.T])
		}
	}
}

package sut

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childKnobsEnv, when set, makes this test binary act as `lab sut`: Start
// runs it as the child binary, so the child-process tests need no build of
// the lab command. It carries the knobs as JSON; the child checks that its
// arguments are exactly what Start derived from them.
const childKnobsEnv = "SUT_TEST_CHILD_KNOBS"

func TestMain(m *testing.M) {
	if js := os.Getenv(childKnobsEnv); js != "" {
		os.Exit(runTestChild(js))
	}
	os.Exit(m.Run())
}

func runTestChild(js string) int {
	var k Knobs
	if err := json.Unmarshal([]byte(js), &k); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	k.AdminToken = os.Getenv("LAB_SUT_ADMIN_TOKEN")
	noToken := k
	noToken.AdminToken = ""
	if want := append([]string{"sut"}, noToken.Args()...); !slices.Equal(os.Args[1:], want) {
		fmt.Fprintf(os.Stderr, "child: arguments %q, want %q\n", os.Args[1:], want)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, k, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 3
	}
	return 0
}

// startChild runs a shop with k as a child process and stops it at cleanup.
func startChild(t *testing.T, k Knobs) *Process {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	js, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childKnobsEnv, string(js))
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	p, err := Start(context.Background(), self, os.Environ(), k, &lockedWriter{w: &logs})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(5 * time.Second); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func childKnobs() Knobs {
	k := DefaultKnobs()
	k.Listen = "127.0.0.1:0"
	return k
}

// httpClient is one keep-alive client per test, sized for its workers.
func httpClient(conns int) *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns},
	}
}

func call(t testing.TB, c *http.Client, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

func scrapeURL(t testing.TB, c *http.Client, base string) exposition {
	t.Helper()
	code, body := call(t, c, "GET", base+"/metrics", "")
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	return parseExposition(bytes.NewReader(body))
}

// vmRSS reads the resident set of pid from /proc, in bytes.
func vmRSS(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

func TestStartAndStop(t *testing.T) {
	k := childKnobs()
	k.ErrorRate = 0.5
	k.AdminToken = testToken
	p := startChild(t, k)
	c := httpClient(1)

	if code, _ := call(t, c, "GET", p.BaseURL()+"/healthz", ""); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	// PID is the shop's: its command line is ours with "sut", without the token.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID()))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) < 2 || args[1] != "sut" || !slices.Contains(args, "--error-rate=0.5") {
		t.Errorf("pid %d runs %q", p.PID(), args)
	}
	if strings.Contains(string(cmdline), testToken) {
		t.Error("the admin token is on the child's command line")
	}
	// The token went through the environment.
	req, _ := http.NewRequest("GET", p.BaseURL()+"/admin/knobs", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("admin with the token: %d", resp.StatusCode)
	}
	if v := scrapeURL(t, c, p.BaseURL()).value(`shop_knob{knob="error_rate"}`); v != 0.5 {
		t.Errorf("the child runs error_rate %v, want 0.5", v)
	}

	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the child exited")
	}
	if !strings.Contains(p.Output(), "shutting down") {
		t.Errorf("the shop did not shut down gracefully; it printed:\n%s", p.Output())
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

func TestStartReportsAChildThatDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	k := childKnobs()
	k.Listen = busy.Addr().String()
	js, _ := json.Marshal(k)
	t.Setenv(childKnobsEnv, string(js))
	self, _ := os.Executable()
	_, err = Start(context.Background(), self, os.Environ(), k, nil)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Start on a busy port: %v, want the child's exit and its last output", err)
	}

	k = childKnobs()
	k.ErrorRate = 7
	if _, err := Start(context.Background(), self, os.Environ(), k, nil); err == nil || !strings.Contains(err.Error(), "error_rate") {
		t.Errorf("Start with invalid knobs: %v", err)
	}
	if _, err := Start(context.Background(), "/nonexistent/lab", os.Environ(), childKnobs(), nil); err == nil {
		t.Error("Start of a missing binary succeeded")
	}
}

// TestLeakGrowsRSS: leak_per_request 50KB grows the resident set by at least
// 40 MB over 1,000 checkouts; with the knob off, the same load does not.
func TestLeakGrowsRSS(t *testing.T) {
	for _, c := range []struct {
		leak     int64
		min, max int64
	}{
		{50_000, 40 << 20, 1 << 40},
		{0, -1 << 40, 20 << 20},
	} {
		k := childKnobs()
		k.LeakPerRequest = c.leak
		p := startChild(t, k)
		cl := httpClient(4)
		checkouts(t, cl, p.BaseURL(), 20) // warm the shop up before the baseline
		before := vmRSS(t, p.PID())
		checkouts(t, cl, p.BaseURL(), 1000)
		after := vmRSS(t, p.PID())
		grew := after - before
		t.Logf("leak_per_request %d B: RSS %d MiB → %d MiB over 1,000 checkouts", c.leak, before>>20, after>>20)
		if grew < c.min || grew > c.max {
			t.Errorf("leak_per_request %d B: RSS grew %.1f MiB, want %.0f to %.0f MiB", c.leak, float64(grew)/(1<<20), float64(c.min)/(1<<20), float64(c.max)/(1<<20))
		}
		m := scrapeURL(t, cl, p.BaseURL())
		if v := m.value(MetricLeaked); v != float64(1020*c.leak) {
			t.Errorf("%s = %v, want %d", MetricLeaked, v, 1020*c.leak)
		}
		if rss := m.value(MetricResidentBytes); rss < float64(after)*0.8 {
			t.Errorf("%s = %v, but /proc says %d", MetricResidentBytes, rss, after)
		}
	}
}

// checkouts places n orders through 4 concurrent clients.
func checkouts(t *testing.T, c *http.Client, base string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				code, body := call(t, c, "POST", base+"/cart", fmt.Sprintf(`{"product_id": %d, "qty": 1}`, 1+i%500))
				var cart cartJSON
				if code != 200 || json.Unmarshal(body, &cart) != nil {
					t.Errorf("POST /cart: %d %s", code, body)
					return
				}
				code, body = call(t, c, "POST", base+"/checkout", fmt.Sprintf(`{"cart_id": %d}`, cart.CartID))
				if code != 200 || !bytes.Contains(body, []byte(`"order_id"`)) {
					t.Errorf("POST /checkout: %d %s", code, body)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestGCChurnInChild: gc_churn with no leak keeps the live heap flat (within
// 10 MB) while the allocated heap saws — climbs and drops with each GC cycle,
// which is what a naive leak detector watching heap size would flag.
func TestGCChurnInChild(t *testing.T) {
	k := childKnobs()
	k.GCChurn = 1 << 20
	p := startChild(t, k)
	c := httpClient(1)
	get := func(n int) {
		for i := range n {
			if code, _ := call(t, c, "GET", fmt.Sprintf("%s/products/%d", p.BaseURL(), 1+i%500), ""); code != 200 {
				t.Fatalf("GET: %d", code)
			}
		}
	}
	get(50) // past the first GC cycles, so heap_live is measured
	first := scrapeURL(t, c, p.BaseURL())
	var live, heap []float64
	for range 40 {
		get(25)
		m := scrapeURL(t, c, p.BaseURL())
		live = append(live, m.value(MetricHeapLive))
		heap = append(heap, m.value(MetricHeapObjects))
	}
	last := scrapeURL(t, c, p.BaseURL())

	spread := slices.Max(live) - slices.Min(live)
	if spread > 10e6 {
		t.Errorf("%s spread %.1f MB over 1,000 requests, want flat (≤ 10 MB): %v", MetricHeapLive, spread/1e6, live)
	}
	allocated := last.value(MetricHeapAllocs) - first.value(MetricHeapAllocs)
	if allocated < 1000*(1<<20) {
		t.Errorf("%s grew %.0f MiB over 1,000 requests, want ≥ 1000 MiB of churn", MetricHeapAllocs, allocated/(1<<20))
	}
	cycles := last.value(MetricGCCycles) - first.value(MetricGCCycles)
	if cycles < 20 {
		t.Errorf("%v GC cycles over 1 GiB of garbage, want ≥ 20", cycles)
	}
	rises, falls := 0, 0
	for i := 1; i < len(heap); i++ {
		switch {
		case heap[i] > heap[i-1]:
			rises++
		case heap[i] < heap[i-1]:
			falls++
		}
	}
	if rises < 5 || falls < 5 {
		t.Errorf("allocated heap rose %d and fell %d times in 40 samples, want a sawtooth: %v", rises, falls, heap)
	}
	t.Logf("heap_live %.1f..%.1f MB; heap objects %.1f..%.1f MB (%d rises, %d falls); %.0f GC cycles; %.0f MiB allocated",
		slices.Min(live)/1e6, slices.Max(live)/1e6, slices.Min(heap)/1e6, slices.Max(heap)/1e6, rises, falls, cycles, allocated/(1<<20))
}

func TestStartContextEndStopsTheChild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	k := childKnobs()
	js, _ := json.Marshal(k)
	t.Setenv(childKnobsEnv, string(js))
	self, _ := os.Executable()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, self, os.Environ(), k, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		_ = p.Stop(0)
		t.Fatal("the child outlived its context")
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("Stop after the context ended: %v", err)
	}
}

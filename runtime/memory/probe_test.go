package memory_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lab/lang"
	"lab/runtime/memory"
	"lab/runtime/needs"
)

// fakeEngine serves a Docker engine on a unix socket that knows no
// container, and points DOCKER_HOST at it.
func fakeEngine(t *testing.T) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		needs.Missing(t, "no unix sockets here: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/stats")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"No such container: ` + name + `"}`))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	t.Setenv("DOCKER_HOST", "unix://"+sock)
}

// Probe reads every kind of source once and says what is wrong, and
// whether the plan is at fault (PlanError) or the target (any other error).
func TestProbeSaysWhatIsWrong(t *testing.T) {
	fakeEngine(t)
	noStat := t.TempDir()
	badStat := t.TempDir()
	os.WriteFile(filepath.Join(badStat, "memory.stat"), []byte("file 12\n"), 0o644)
	refused := "http://" + freeAddr(t) + "/metrics"
	heapOnly := serve(t, 200, "text/plain", "# TYPE go_gc_heap_live_bytes gauge\ngo_gc_heap_live_bytes 1e6\n")
	for _, c := range []struct {
		name string
		src  lang.MemorySource
		sut  memory.SUTInfo
		err  string
		plan bool
	}{
		{"missing container", lang.MemorySource{Kind: lang.MemoryContainer, Name: "lab-absent"}, memory.SUTInfo{}, "No such container: lab-absent", false},
		{"missing pid", lang.MemorySource{Kind: lang.MemoryPID, PID: 999999999}, memory.SUTInfo{}, "process 999999999 is not running", false},
		{"missing cgroup", lang.MemorySource{Kind: lang.MemoryCgroup, Path: "/nonexistent/lab-absent"}, memory.SUTInfo{}, "no cgroup /nonexistent/lab-absent", false},
		{"not a cgroup", lang.MemorySource{Kind: lang.MemoryCgroup, Path: noStat}, memory.SUTInfo{}, "no memory.stat in " + noStat, false},
		{"no anon in memory.stat", lang.MemorySource{Kind: lang.MemoryCgroup, Path: badStat}, memory.SUTInfo{}, "no anon (cgroup v2) or total_rss (v1) line", false},
		{"metrics refused", lang.MemorySource{Kind: lang.MemoryMetrics, URL: refused, Metric: "app_heap"}, memory.SUTInfo{}, "connection refused", false},
		{"metrics not found", lang.MemorySource{Kind: lang.MemoryMetrics, URL: serve(t, 404, "text/plain", "no"), Metric: "app_heap"}, memory.SUTInfo{}, "404 Not Found", false},
		{"metric missing", lang.MemorySource{Kind: lang.MemoryMetrics, URL: serve(t, 200, "text/plain", page), Metric: "app_heep"}, memory.SUTInfo{}, "no metric app_heep (did you mean app_heap?)", true},
		{"metric a histogram", lang.MemorySource{Kind: lang.MemoryMetrics, URL: serve(t, 200, "text/plain", page), Metric: "req_seconds"}, memory.SUTInfo{}, "req_seconds is a histogram", true},
		{"live heap without GC count", lang.MemorySource{Kind: lang.MemoryMetrics, URL: heapOnly, Metric: memory.MetricHeapLive}, memory.SUTInfo{}, "without a GC cycle count", false},
		{"shop not running", lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{BaseURL: strings.TrimSuffix(refused, "/metrics")}, "connection refused", false},
	} {
		s, err := memory.NewSampler(c.src, c.sut)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, err = memory.Probe(context.Background(), s)
		var pe *memory.PlanError
		if err == nil || !strings.Contains(err.Error(), c.err) || errors.As(err, &pe) != c.plan {
			t.Errorf("%s: Probe: %v; want an error containing %q, plan's fault %v", c.name, err, c.err, c.plan)
		}
	}
	// A readable source probes fine, live heap and GC count together.
	s, _ := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryMetrics, URL: serve(t, 200, "text/plain", page), Metric: memory.MetricHeapLive}, memory.SUTInfo{})
	if r, err := memory.Probe(context.Background(), s); err != nil || r.Bytes != 1.2345e7 || r.GCCycles != 42 {
		t.Errorf("readable live heap: %+v, %v", r, err)
	}
	if _, err := memory.Probe(context.Background(), nil); err == nil {
		t.Error("Probe(nil): no error")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

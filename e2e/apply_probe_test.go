package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/exitcode"
	"lab/runtime/needs"
)

// probeApply runs lab apply in-process on a 2-second open-model plan whose
// leak block reads memory, against a load target that counts what it is
// sent; it returns the exit code, stderr and the count.
func probeApply(t *testing.T, memory string) (int, string, int64) {
	t.Helper()
	var sent atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "probe.hcl", clitest.TwoRoutes, target.URL,
		clitest.OpenShape("2s", "20/s")+"leak {\n  memory = "+memory+"\n}\n")
	results := filepath.Join(dir, "results")
	code, _, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet")
	if _, err := os.Stat(results); err == nil {
		t.Errorf("%s: a run was written for a run that never happened", memory)
	}
	return code, stderr, sent.Load()
}

// A memory source that cannot be read stops lab apply before any load is
// sent: exit 3 (the run could not be carried out), or 2 when the plan names
// a metric the endpoint does not have, saying which and what was wrong.
func TestApplyProbesMemoryBeforeTheLoad(t *testing.T) {
	page := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/metrics"
	}
	metrics := page("# TYPE app_heap_bytes gauge\napp_heap_bytes 4096\n")
	heapOnly := page("# TYPE go_gc_heap_live_bytes gauge\ngo_gc_heap_live_bytes 1e6\n")
	notCgroup := t.TempDir()
	for _, c := range []struct {
		memory string
		code   int
		says   []string
	}{
		{"pid(999999999)", exitcode.CouldNotRun, []string{"process 999999999 is not running"}},
		{`cgroup("/nonexistent/lab-probe")`, exitcode.CouldNotRun, []string{"no cgroup /nonexistent/lab-probe"}},
		{fmt.Sprintf("cgroup(%q)", notCgroup), exitcode.CouldNotRun, []string{"no memory.stat in " + notCgroup}},
		{fmt.Sprintf("metrics(%q, %q)", "http://"+clitest.FreePort(t)+"/metrics", "app_heap_bytes"), exitcode.CouldNotRun, []string{"connection refused"}},
		{fmt.Sprintf("metrics(%q, %q)", metrics, "app_heap_byte"), exitcode.BadInput, []string{"no metric app_heap_byte (did you mean app_heap_bytes?)", "the plan is invalid"}},
		{fmt.Sprintf("metrics(%q, %q)", heapOnly, "go_gc_heap_live_bytes"), exitcode.CouldNotRun, []string{"without a GC cycle count"}},
	} {
		code, stderr, sent := probeApply(t, c.memory)
		if code != c.code || sent != 0 {
			t.Errorf("memory = %s: exit %d with %d requests sent; want exit %d, none sent\n%s", c.memory, code, sent, c.code, stderr)
			continue
		}
		want := append(c.says, "Nothing was sent")
		if c.code == exitcode.CouldNotRun {
			want = append(want, "the run cannot be carried out")
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("memory = %s: stderr lacks %q:\n%s", c.memory, w, stderr)
			}
		}
	}
}

// The same with a container the real Docker engine does not know: the run
// stops before any load with the engine's answer.
func TestApplyProbesAMissingContainer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	docker := needs.Tool(t, "docker", "the Docker engine")
	if out, err := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		needs.Missing(t, "the Docker engine is not available: %v %s", err, out)
	}
	name := fmt.Sprintf("lab-probe-absent-%d", os.Getpid())
	code, stderr, sent := probeApply(t, fmt.Sprintf("container(%q)", name))
	if code != exitcode.CouldNotRun || sent != 0 || !strings.Contains(stderr, "No such container: "+name) ||
		!strings.Contains(stderr, "Nothing was sent") {
		t.Errorf("missing container: exit %d, %d sent:\n%s", code, sent, stderr)
	}
}

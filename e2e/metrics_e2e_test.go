package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"lab/cli/clitest"
	"lab/runtime/result"
	"lab/sut"
)

// scrape reads /metrics with the Prometheus text parser; nil when it
// cannot be read (the server is not up, or has stopped).
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Errorf("/metrics does not parse: %v", err)
		return nil
	}
	return fams
}

// label is a metric's value of a label.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// sumBy sums a counter family by one label.
func sumBy(f *dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		out[label(m, name)] += m.GetCounter().GetValue()
	}
	return out
}

// A real run against the shop with metrics on: scraped while it runs, the
// counters move and the users show; scraped once more after the run is
// written (--metrics-linger), every figure equals the Run's: requests and
// failures per request name, the histogram's count, and request labels
// are only the plan's names.
func TestMetricsDuringARun(t *testing.T) {
	if testing.Short() {
		t.Skip("22 s of load (-short)")
	}
	t.Parallel()
	plan, results := metricsPlan(t)
	addr := clitest.FreePort(t)
	last := scrapeWhile(t, addr, nil, func() (int, string) {
		code, stdout, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet", "--metrics", addr, "--metrics-linger", "2m")
		return code, stdout + stderr
	})
	_, run := clitest.LatestRun(t, results)
	checkFinalScrape(t, last, run)
	checkClosedModel(t, last)
	if w := gauge(last["lab_workers"]); w != 1 {
		t.Errorf("lab_workers %v, want 1", w)
	}
}

// The same as the master of two worker processes: the master's merged
// ticks and windows feed the metrics.
func TestMetricsFromTheMaster(t *testing.T) {
	if testing.Short() {
		t.Skip("22 s of distributed load (-short)")
	}
	t.Parallel()
	bin := clitest.Binary(t)
	plan, results := metricsPlan(t)
	addr := clitest.FreePort(t)
	var workers float64
	last := scrapeWhile(t, addr, nil, func() (int, string) {
		out, err := exec.Command(bin, "apply", plan, "--workers", "2", "--results", results, "--quiet",
			"--metrics", addr, "--metrics-linger", "2m").CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}, func(fams map[string]*dto.MetricFamily) { workers = max(workers, gauge(fams["lab_workers"])) })
	_, run := clitest.LatestRun(t, results)
	checkFinalScrape(t, last, run)
	checkClosedModel(t, last)
	if workers != 2 {
		t.Errorf("lab_workers peaked at %v, want 2", workers)
	}
}

// In the open model the arrivals due count to the Run's, the target rate
// shows while it runs, and the generator's lag is the Run's at the end.
func TestMetricsOpenModel(t *testing.T) {
	if testing.Short() {
		t.Skip("12 s of load (-short)")
	}
	t.Parallel()
	host := clitest.Shop(t, func(k *sut.Knobs) { k.ErrorRate = 0.05 })
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "open.hcl", clitest.TwoRoutes, host, clitest.OpenShape("12s", "60/s")+"sla \"all\" {\n  error_rate = \"20%\"\n}\n")
	results := filepath.Join(dir, "results")
	addr := clitest.FreePort(t)
	var rate float64
	// A busy machine may make the generator late, and the run invalid.
	late := func(code int, out string) bool {
		return code == 3 && strings.Contains(out, "the generator started arrivals late")
	}
	last := scrapeWhile(t, addr, late, func() (int, string) {
		code, stdout, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet", "--metrics", addr, "--metrics-linger", "2m")
		return code, stdout + stderr
	}, func(fams map[string]*dto.MetricFamily) { rate = max(rate, gauge(fams["lab_target_rate"])) })
	_, run := clitest.LatestRun(t, results)
	checkFinalScrape(t, last, run)
	if due := sum(last["lab_arrivals_due_total"]); due != float64(run.Generator.Scheduled) || due == 0 {
		t.Errorf("lab_arrivals_due_total %v, the Run scheduled %d", due, run.Generator.Scheduled)
	}
	if rate != 60 {
		t.Errorf("lab_target_rate peaked at %v, want 60", rate)
	}
	if lag := gauge(last["lab_generator_lag_p99_seconds"]); lag != float64(run.Generator.LagP99US)/1e6 || lag == 0 {
		t.Errorf("lab_generator_lag_p99_seconds %v, the Run's %d µs", lag, run.Generator.LagP99US)
	}
}

// metricsPlan writes a 22 s closed-model plan against a shop failing 5% of
// requests, with a windowed p95 budget it meets.
func metricsPlan(t *testing.T) (plan, results string) {
	host := clitest.Shop(t, func(k *sut.Knobs) { k.ErrorRate = 0.05 })
	dir := t.TempDir()
	plan = clitest.WritePlan(t, dir, "metrics.hcl", clitest.FunnelWorkload, host, clitest.ClosedShape("22s", 8)+`
sla "all" {
  p95    = "2s"
  window = "10s"
}

# The shop's 5% errors, judged (a run whose failures no budget judges fails).
sla "*" {
  error_rate = "20%"
}
`)
	return plan, filepath.Join(dir, "results")
}

// scrapeWhile runs apply (which must exit 0, or as ok allows) while scraping addr every
// 200 ms, and returns the last scrape served: with --metrics-linger, one
// after the run was written. Every scrape goes to each of also.
func scrapeWhile(t *testing.T, addr string, ok func(code int, out string) bool, apply func() (int, string), also ...func(map[string]*dto.MetricFamily)) map[string]*dto.MetricFamily {
	t.Helper()
	type outcome struct {
		code int
		out  string
	}
	done := make(chan outcome)
	go func() {
		code, out := apply()
		done <- outcome{code, out}
	}()
	var last map[string]*dto.MetricFamily
	var midRun bool // a scrape saw requests counted and the load running
	for {
		select {
		case o := <-done:
			if o.code != 0 && (ok == nil || !ok(o.code, o.out)) {
				t.Fatalf("exit %d\n%s", o.code, o.out)
			}
			if !midRun {
				t.Error("no scrape during the run saw requests and users or a target rate")
			}
			if last == nil {
				t.Fatal("no scrape succeeded")
			}
			return last
		default:
		}
		if fams := scrape(t, addr); fams != nil {
			last = fams
			load := gauge(fams["lab_users"]) + gauge(fams["lab_target_rate"])
			midRun = midRun || (sum(fams["lab_requests_total"]) > 0 && load > 0)
			for _, f := range also {
				f(fams)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sum(f *dto.MetricFamily) float64 {
	s := 0.0
	for _, m := range f.GetMetric() {
		s += m.GetCounter().GetValue()
	}
	return s
}

func gauge(f *dto.MetricFamily) float64 {
	if f == nil || len(f.GetMetric()) == 0 {
		return 0
	}
	return f.GetMetric()[0].GetGauge().GetValue()
}

// checkFinalScrape holds the last scrape to the Run's figures.
func checkFinalScrape(t *testing.T, fams map[string]*dto.MetricFamily, run *result.Run) {
	t.Helper()
	names := run.Plan.Name // only for messages
	reqs := sumBy(fams["lab_requests_total"], "request")
	fails := sumBy(fams["lab_failures_total"], "request")
	hcount := map[string]uint64{}
	for _, m := range fams["lab_response_seconds"].GetMetric() {
		hcount[label(m, "request")] = m.GetHistogram().GetSampleCount()
	}
	planNames := map[string]bool{}
	var failures int64
	for _, q := range run.Requests {
		planNames[q.Name] = true
		failures += q.Failures
		if reqs[q.Name] != float64(q.Count) || fails[q.Name] != float64(q.Failures) || hcount[q.Name] != uint64(q.Count) {
			t.Errorf("%s %s: scraped %v requests, %v failures, histogram count %d; the Run has %d, %d",
				names, q.Name, reqs[q.Name], fails[q.Name], hcount[q.Name], q.Count, q.Failures)
		}
	}
	if failures == 0 {
		t.Error("the shop's 5% errors made no failure: the failure counters are not tested")
	}
	for _, fam := range []string{"lab_requests_total", "lab_failures_total", "lab_response_seconds"} {
		for _, m := range fams[fam].GetMetric() {
			if r := label(m, "request"); !planNames[r] {
				t.Errorf("%s has request label %q, not a request name of the plan", fam, r)
			}
		}
	}
	for _, m := range fams["lab_failures_total"].GetMetric() {
		if c := label(m, "class"); !slices.Contains([]string{"timeout", "connect", "status", "check", "cut_off", "other"}, c) {
			t.Errorf("failure class %q", c)
		}
	}
	info := fams["lab_run_info"].GetMetric()
	if len(info) != 1 || label(info[0], "plan") != run.Plan.Name || label(info[0], "model") != run.Model {
		t.Errorf("lab_run_info %v", info)
	}
}

// checkClosedModel holds the last scrape of metricsPlan's run to its
// budget and shape.
func checkClosedModel(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	ok := fams["lab_budget_ok"].GetMetric()
	if len(ok) != 1 || label(ok[0], "subject") != "all" || label(ok[0], "budget") != "p95" || ok[0].GetGauge().GetValue() != 1 {
		t.Errorf("lab_budget_ok %v: want all/p95 = 1 (the shop answers well within 2 s)", ok)
	}
	if got := gauge(fams["lab_target_users"]); got != 8 {
		t.Errorf("lab_target_users %v, want 8", got)
	}
	if bs := fams["lab_budget_seconds"].GetMetric(); len(bs) != 1 || bs[0].GetGauge().GetValue() != 2 {
		t.Errorf("lab_budget_seconds %v, want all/p95 = 2", bs)
	}
}

// Metrics beyond loopback without a token are refused before any load
// (exit 2); --metrics off serves none.
func TestMetricsAddress(t *testing.T) {
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "p.hcl", clitest.OneRoute, "http://127.0.0.1:1", clitest.ClosedShape("1s", 1))
	code, _, stderr := lab(t, nil, "apply", plan, "--results", filepath.Join(dir, "results"), "--metrics", "0.0.0.0:9646")
	if code != 2 || !strings.Contains(stderr, "LAB_TOKEN") {
		t.Errorf("exit %d, %s", code, stderr)
	}
	code, _, stderr = lab(t, nil, "apply", plan, "--results", filepath.Join(dir, "results"), "--metrics", "off")
	if strings.Contains(stderr, "metrics at") {
		t.Errorf("--metrics off served metrics (exit %d): %s", code, stderr)
	}
}

// With a leak block, the target's memory samples and the leak budget are
// served. (The trend needs minutes of samples: leak.TestTrendAt.)
func TestMetricsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("6 s of load (-short)")
	}
	t.Parallel()
	host := clitest.Shop(t, func(*sut.Knobs) {})
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "leak.hcl", clitest.OneRoute, host, clitest.ClosedShape("6s", 2)+fmt.Sprintf(`
leak {
  memory     = metrics("%s/metrics", "go_gc_heap_live_bytes")
  max_growth = "50MB"
}
`, host))
	results := filepath.Join(dir, "results")
	addr := clitest.FreePort(t)
	var memory float64
	// Six seconds cannot be judged for a leak: exit 1, inconclusive.
	inconclusive := func(code int, _ string) bool { return code == 1 }
	last := scrapeWhile(t, addr, inconclusive, func() (int, string) {
		code, stdout, stderr := lab(t, nil, "apply", plan, "--results", results, "--quiet", "--metrics", addr, "--metrics-linger", "2m")
		return code, stdout + stderr
	}, func(fams map[string]*dto.MetricFamily) { memory = max(memory, gauge(fams["lab_sut_memory_bytes"])) })
	_, run := clitest.LatestRun(t, results)
	if run.Memory == nil || len(run.Memory.Samples) == 0 {
		t.Fatal("the run has no memory samples")
	}
	if memory == 0 || gauge(last["lab_sut_memory_bytes"]) == 0 {
		t.Errorf("lab_sut_memory_bytes never set (peak %v)", memory)
	}
	if b := gauge(last["lab_leak_budget_bytes"]); b != 50e6 && b != 50<<20 {
		t.Errorf("lab_leak_budget_bytes %v, want 50 MB", b)
	}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/grafana"
	"lab/lang"
	"lab/runtime/needs"
)

// The token the runs ask Prometheus for, as the master in the stack does.
const promTestToken = "grafana-test-token"

// TestPanelQueriesOnPrometheus starts the real Prometheus (Debian package
// prometheus) with each plan's generated prometheus.yml, pointed at a
// short lab apply against the shop on loopback, then runs every panel
// query of the plan's dashboard through Prometheus's HTTP API over the
// run: each must give a non-empty result. smoke (closed model, 200 users
// so its 1% of wrong checkouts fill the failure panels with more than
// zeros), baseline (open model, a budget on several requests), leak-test
// (the memory panels: its leak fit gives a trend after the 60 s warm-up;
// 90 s was enough, tried) and stress (a windowed sla, judged live: the
// Budgets panel) run side by side, each under a Prometheus of its own.
func TestPanelQueriesOnPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("four runs side by side, the longest 100 s")
	}
	prom := needs.Tool(t, "prometheus", "Debian package prometheus")
	// Light runs that mostly wait: beside the other end-to-end tests.
	t.Parallel()
	bin := clitest.Binary(t)
	runs := []struct {
		plan string
		vars []string
	}{
		{"smoke", []string{"duration=30s", "users=200"}},
		{"baseline", []string{"duration=30s"}},
		{"leak-test", []string{"duration=100s"}},
		{"stress", []string{"duration=40s", "users=40"}}, // a windowed sla: the Budgets panel
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		plan := loadPlanVars(t, r.plan, r.vars)
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := runWithPrometheus(t, prom, bin, plan, r.vars)
			if len(got) == 0 && !t.Failed() {
				t.Errorf("%s: no query asked", r.plan)
			}
			for q, ok := range got {
				if !ok {
					t.Errorf("%s: the panel query %q gave no result on Prometheus", r.plan, q)
				}
			}
		}()
	}
	wg.Wait()
}

func loadPlanVars(t *testing.T, name string, vars []string) *lang.Plan {
	t.Helper()
	plan, diags := lang.NewLoader(lang.Options{Vars: vars}).Load("plans/" + name + ".hcl")
	if diags.HasErrors() {
		t.Fatalf("%s: %v", name, diags)
	}
	return plan
}

// runWithPrometheus runs plan under a Prometheus of its own and returns,
// per panel query, whether Prometheus answered it with a series.
func runWithPrometheus(t *testing.T, prom, bin string, plan *lang.Plan, vars []string) map[string]bool {
	name, dir := plan.Name, t.TempDir()
	metricsAddr, promAddr := clitest.FreePort(t), clitest.FreePort(t)
	base := startPrometheus(t, prom, plan, dir, metricsAddr, promAddr)
	if base == "" {
		return nil
	}
	args := []string{"apply", "plans/" + name + ".hcl", "-var", "host=http://" + clitest.FreePort(t),
		"--metrics", metricsAddr, "--metrics-linger", "15s", "--results", filepath.Join(dir, "results"), "--quiet"}
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "LAB_TOKEN="+promTestToken)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	end := time.Now()
	if code := clitest.ExitCode(err); code >= 2 || code == -1 { // 2: the plan; 3: the run could not be carried out
		t.Errorf("%s: lab apply exit %d\n%s", name, code, out)
		return nil
	}
	dash, err := grafana.Dashboard(plan)
	if err != nil {
		t.Error(err)
		return nil
	}
	// Grafana's variables as Grafana would set them over the whole run.
	vals := map[string]string{"$__rate_interval": "20s", "$__interval": "5s",
		"$__range": strconv.Itoa(int(end.Sub(start).Seconds())+1) + "s"}
	got := map[string]bool{}
	for _, q := range grafana.Queries(dash) {
		n, err := queryRange(base, grafana.Expand(q, vals), start, end)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Logf("%s: %d series for %s", name, n, q)
		got[q] = n > 0
	}
	return got
}

// startPrometheus runs Prometheus on promAddr with the plan's generated
// prometheus.yml, its target moved to metricsAddr and its token file to
// dir, and returns its base URL once it is ready and has loaded that
// configuration ("" after a failure).
func startPrometheus(t *testing.T, prom string, plan *lang.Plan, dir, metricsAddr, promAddr string) string {
	cfg, err := grafana.PrometheusConfig(plan)
	if err != nil {
		t.Error(err)
		return ""
	}
	token := filepath.Join(dir, "token")
	text := strings.ReplaceAll(string(cfg), grafana.MasterTarget, metricsAddr)
	text = strings.ReplaceAll(text, grafana.TokenFile, token)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(token, []byte(promTestToken), 0o600); err != nil {
		t.Error(err)
		return ""
	}
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		t.Error(err)
		return ""
	}
	var log strings.Builder
	cmd := exec.Command(prom, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return ""
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	base := "http://" + promAddr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: Prometheus not ready in 30 s:\n%s", plan.Name, log.String())
			return ""
		}
		time.Sleep(200 * time.Millisecond)
	}
	var status struct {
		Data struct{ YAML string }
	}
	if err := getJSON(base+"/api/v1/status/config", &status); err != nil {
		t.Errorf("%s: %v", plan.Name, err)
		return ""
	}
	for _, want := range []string{"job_name: lab", metricsAddr, "credentials_file: " + token, "lab_plan: " + plan.Name} {
		if !strings.Contains(status.Data.YAML, want) {
			t.Errorf("%s: Prometheus's loaded configuration lacks %q:\n%s", plan.Name, want, status.Data.YAML)
			return ""
		}
	}
	return base
}

// queryRange runs expr over [start, end] every 5 s and counts the series.
func queryRange(base, expr string, start, end time.Time) (int, error) {
	q := url.Values{"query": {expr}, "start": {unix(start)}, "end": {unix(end)}, "step": {"5"}}
	var res struct {
		Status string
		Error  string
		Data   struct{ Result []json.RawMessage }
	}
	if err := getJSON(base+"/api/v1/query_range?"+q.Encode(), &res); err != nil {
		return 0, fmt.Errorf("query %q: %w", expr, err)
	}
	if res.Status != "success" {
		return 0, fmt.Errorf("query %q: %s", expr, res.Error)
	}
	return len(res.Data.Result), nil
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %v: %s", u, err, body)
	}
	return nil
}

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lab/cli/clitest"
	"lab/runtime/result"
)

// The live page in a real browser during the shipped spike plan (45 s,
// 10 → 100 → 10 users), one budget tightened below the shop's latency so
// that it fails: no console error, every chart draws the run's seconds
// (the spike's 100 users among them), the tightened budget shows failing,
// and the stop button stops the run, which is written, judged and marked
// as stopped. Screenshots: the page during the spike (docs/screenshots
// under -docs) and after the stop.
func TestLivePageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s run in a browser")
	}
	t.Parallel()
	b := newBrowser(t)
	dir := t.TempDir()
	for _, f := range []string{"spike.hcl", "shop.workload.hcl", "shop.shapes.hcl"} {
		src, err := os.ReadFile(filepath.Join("plans", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "spike.hcl" {
			// GET / against a 5 ms shop: a 2 ms budget cannot hold.
			tight := strings.Replace(string(src), "sla \"GET /\" {\n  p95 = \"200ms\"", "sla \"GET /\" {\n  p95 = \"2ms\"", 1)
			if tight == string(src) {
				t.Fatal("plans/spike.hcl changed: its GET / budget is not where this test tightens it")
			}
			src = []byte(tight)
		}
		if err := os.WriteFile(filepath.Join(dir, f), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ui := clitest.FreePort(t)
	results := filepath.Join(dir, "results")
	cmd := exec.Command(clitest.Binary(t), "apply", filepath.Join(dir, "spike.hcl"), "-var", "duration=45s", "-var", "users=10",
		"-var", "host=http://"+clitest.FreePort(t), "--ui", ui, "--ui-linger", "60s", "--metrics", "off", "--results", results)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited, ended := make(chan error, 1), make(chan struct{})
	go func() { exited <- cmd.Wait(); close(ended) }()
	defer func() {
		select {
		case <-ended:
		default:
			_ = cmd.Process.Kill()
			<-ended
		}
	}()
	waitUp(t, "http://"+ui+"/api/state", exited, &stderr)

	b.do(t, 30*time.Second, chromedp.Navigate("http://"+ui+"/"))
	// 27 s in: the spike (15 s → 22.5 s) and the start of the recovery.
	b.waitFor(t, 45*time.Second, `document.body.dataset.seconds >= 27`)
	charts := eval[[]chartSeen](t, b, `[...document.querySelectorAll('#part-charts svg.chart')].map(c => ({
		id: c.id, seconds: +document.body.dataset.seconds,
		series: [...c.querySelectorAll('g.series')].map(g => ({name: g.dataset.name, points: +g.dataset.points, max: +g.dataset.max})),
		budgets: [...c.querySelectorAll('g.budget')].map(g => g.textContent)}))`)
	checkLiveCharts(t, charts)
	bad := eval[[]string](t, b, `[...document.querySelectorAll('#part-verdicts tr.bad')].map(r => r.textContent)`)
	if len(bad) == 0 || !strings.Contains(strings.Join(bad, "|"), "GET /") {
		t.Errorf("the breached GET / p95 budget does not show failing: failing rows %q", bad)
	}
	if cls := eval[string](t, b, `document.getElementById('summary').className`); !strings.Contains(cls, "fail") {
		t.Errorf("the summary badge is %q, want it failing", cls)
	}
	b.screenshot(t, "live-spike.png")
	// A wide screen and a laptop's half: the charts scale, and no label
	// may land on another at either width (every screenshot checks it).
	for _, w := range []int64{1400, 800} {
		b.do(t, 10*time.Second, chromedp.EmulateViewport(w, 900))
		b.screenshot(t, fmt.Sprintf("live-spike-%d.png", w))
		if over := eval[float64](t, b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
			t.Errorf("the live page at %d px is %v px wider than the window", w, over)
		}
	}
	b.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors during the run: %q", errs)
	}

	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("stop")))
	b.waitFor(t, 40*time.Second, `document.body.dataset.state === 'done'`)
	b.screenshot(t, "live-stopped.png")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	_ = cmd.Process.Signal(syscall.SIGINT) // ends --ui-linger
	var code int
	select {
	case err := <-exited:
		code = clitest.ExitCode(err)
	case <-time.After(30 * time.Second):
		t.Fatalf("lab apply did not end after SIGINT:\n%s", stderr.String())
	}
	_, run := clitest.LatestRun(t, results)
	if code != 1 || run.Status != result.Aborted || !strings.Contains(run.Reason, "stopped from the live page") {
		t.Fatalf("after the stop button: exit %d, status %s (%s), want 1 and aborted by the live page\n%s", code, run.Status, run.Reason, stderr.String())
	}
	if d := run.End.Sub(run.Start); d > 40*time.Second {
		t.Errorf("the run went on for %v of its 45 s after the stop at about 28 s", d)
	}
}

type chartSeen struct {
	ID      string
	Seconds int
	Series  []struct {
		Name   string
		Points int
		Max    float64
	}
	Budgets []string
}

// checkLiveCharts: the three charts of a run without a leak block, each
// with series drawn over every second so far; the spike's 100 users on
// the throughput chart; the tightened budget on the latency chart.
func checkLiveCharts(t *testing.T, charts []chartSeen) {
	t.Helper()
	if len(charts) != 3 {
		t.Fatalf("%d charts on the page, want throughput, latency and failures: %+v", len(charts), charts)
	}
	for _, c := range charts {
		if len(c.Series) == 0 {
			t.Errorf("%s draws no series", c.ID)
		}
		for _, s := range c.Series {
			if s.Points != c.Seconds {
				t.Errorf("%s %s: %d points for %d seconds", c.ID, s.Name, s.Points, c.Seconds)
			}
		}
	}
	find := func(id, name string) float64 {
		for _, c := range charts {
			for _, s := range c.Series {
				if c.ID == id && s.Name == name {
					return s.Max
				}
			}
		}
		t.Errorf("no series %q on %s", name, id)
		return 0
	}
	if users := find("chart-throughput", "users"); users != 100 {
		t.Errorf("the users drawn peak at %v, want the spike's 100", users)
	}
	if rps := find("chart-throughput", "requests/s"); rps <= 0 {
		t.Errorf("no requests drawn (peak %v/s)", rps)
	}
	if p95 := find("chart-latency", "p95"); p95 < 2 {
		t.Errorf("p95 drawn at most %v ms against a 5 ms shop", p95)
	}
	if got := strings.Join(charts[1].Budgets, "|"); !strings.Contains(got, "GET / p95 ≤ 2ms") {
		t.Errorf("the latency chart does not draw the GET / budget: %q", got)
	}
}

// waitUp waits until url answers 200, or the process ends (then fails).
func waitUp(t *testing.T, url string, exited <-chan error, log *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("lab apply ended (%v) before its live page answered:\n%s", err, log.String())
		default:
		}
		if resp, err := http.Get(url); err == nil {
			var v map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the live page did not answer at %s:\n%s", url, log.String())
}

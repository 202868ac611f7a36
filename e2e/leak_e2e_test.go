package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lab/cli/clitest"
	"lab/gates/exitcode"
	"lab/runtime/result"
)

// TestLeakEndToEnd runs plans/leak-test.hcl as a user would, shortened to
// the least the leak hunter judges (its 60 s warm-up floor and the plan's
// 90 s window, plus a few seconds): the shop keeping 50 KB per checkout at
// 25 checkouts/s fails with a per-checkout estimate of 35–65 KB; the same
// shop with no leak and its GC sawtooth passes. Both run at once to keep
// the suite short (about 2 minutes 40 s).
func TestLeakEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("two runs of 155 s")
	}
	// Beside the regression end-to-end test (also about 3 minutes of light
	// load): one after the other they would add 2½ minutes to make test.
	t.Parallel()
	bin := clitest.Binary(t)
	type outcome struct {
		code int
		out  string
		run  *result.Run
		dir  string // the run's folder
	}
	results := map[string]*outcome{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, leak := range []string{"50KB", "0B"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := t.TempDir()
			cmd := exec.Command(bin, "apply", "plans/leak-test.hcl", "-var", "leak="+leak,
				"-var", "duration=155s", "-var", "host=http://"+clitest.FreePort(t), "--results", dir, "--quiet")
			out, err := cmd.CombinedOutput()
			o := &outcome{code: clitest.ExitCode(err), out: string(out), dir: filepath.Join(dir, "leak-test", "latest")}
			if r, lerr := result.Load(filepath.Join(dir, "leak-test", "latest")); lerr == nil {
				o.run = r
			}
			mu.Lock()
			results[leak] = o
			mu.Unlock()
		}()
	}
	wg.Wait()

	leaky, healthy := results["50KB"], results["0B"]
	for leak, o := range results {
		if o.run != nil {
			for _, v := range o.run.Verdicts {
				if v.Gate == "leak" {
					t.Logf("leak %s: %s: %s", leak, v.Outcome, v.Detail)
				}
			}
		}
	}
	if leaky.code != exitcode.Breach || leaky.run == nil {
		t.Fatalf("50 KB per checkout: exit %d, want 1\n%s", leaky.code, leaky.out)
	}
	var detail string
	for _, v := range leaky.run.Verdicts {
		if v.Gate == "leak" && v.Outcome == "fail" {
			detail = v.Detail
		}
	}
	// The funnel's names move together: which one leaks cannot be told
	// from the counts (issue 19, defect 14), so the verdict says so; the
	// leak per request of all names, times requests per checkout, is the
	// leak per checkout.
	m := regexp.MustCompile(`≈ \+([0-9.]+) KB per request`).FindStringSubmatch(detail)
	if m == nil || !strings.Contains(detail, "which request leaks cannot be told") {
		t.Fatalf("no failing leak verdict with a per-request estimate that says the culprit cannot be told: %+v", leaky.run.Verdicts)
	}
	co := leaky.run.RequestByName("POST /checkout")
	if co == nil || co.Count < 25*140 {
		t.Fatalf("checkouts: %+v, want about 25 per second", co)
	}
	var all int64
	for _, q := range leaky.run.Requests {
		all += q.Count
	}
	if kb, _ := strconv.ParseFloat(m[1], 64); kb*float64(all)/float64(co.Count) < 35 || kb*float64(all)/float64(co.Count) > 65 {
		t.Errorf("leak per request %v KB × %d requests / %d checkouts, want 35–65 KB per checkout: %s", kb, all, co.Count, detail)
	}
	if healthy.code != exitcode.OK || healthy.run == nil {
		t.Errorf("no leak: exit %d, want 0\n%s", healthy.code, healthy.out)
	}
	if healthy.run != nil && (healthy.run.Memory == nil || len(healthy.run.Memory.Samples) < 150) {
		t.Errorf("no leak: memory samples %+v", healthy.run.Memory)
	}
	if !strings.Contains(leaky.out, "leak") {
		t.Errorf("the verdict table does not show the leak gate:\n%s", leaky.out)
	}
	checkLeakReport(t, leaky.dir)
}

// checkLeakReport opens the leaking run's report.html in a real browser:
// no console error, the leak verdict failing, the memory chart with its
// samples, fitted trend and budget, the load charts drawn; a screenshot
// (docs/screenshots/report-leak.png under -docs).
func checkLeakReport(t *testing.T, dir string) {
	b := newBrowser(t)
	page, err := filepath.Abs(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, 30*time.Second, chromedp.Navigate("file://"+page))
	bad := eval[[]string](t, b, `[...document.querySelectorAll('#verdicts tr.bad')].map(r => r.textContent)`)
	if !strings.Contains(strings.Join(bad, "|"), "memory") {
		t.Errorf("report.html does not show the leak verdict failing: failing rows %q", bad)
	}
	series := eval[map[string]int](t, b, `Object.fromEntries([...document.querySelectorAll('svg.chart g.series')].map(g => [g.closest('svg').id + ' ' + g.dataset.name, +g.dataset.points]))`)
	if series["chart-leak samples"] < 150 || series["chart-leak fitted trend"] != 2 || series["chart-throughput requests/s"] < 150 {
		t.Errorf("report.html charts: %v", series)
	}
	found := false
	for name := range series {
		found = found || strings.HasPrefix(name, "chart-leak budget")
	}
	if !found {
		t.Errorf("the memory chart does not draw the budget: %v", series)
	}
	if h := eval[string](t, b, `document.querySelector("#leak h2").textContent`); !strings.Contains(strings.ToLower(h), "fail") {
		t.Errorf("leak section heading %q", h)
	}
	b.screenshot(t, "report-leak.png")
	// A wide screen and a laptop's half: no label may land on another, and
	// the page may not need scrolling sideways (a wide table scrolls in its
	// own box).
	for _, w := range []int64{1400, 800} {
		b.do(t, 10*time.Second, chromedp.EmulateViewport(w, 900))
		b.screenshot(t, fmt.Sprintf("report-leak-%d.png", w))
		if over := eval[float64](t, b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
			t.Errorf("report.html at %d px is %v px wider than the window", w, over)
		}
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors on report.html: %q", errs)
	}
}

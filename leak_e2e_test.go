package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

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
	bin := labBinary(t)
	type outcome struct {
		code int
		out  string
		run  *result.Run
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
				"-var", "duration=155s", "-var", "host=http://"+freePort(t), "--results", dir, "--quiet")
			out, err := cmd.CombinedOutput()
			o := &outcome{code: exitCode(err), out: string(out)}
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
	m := regexp.MustCompile(`POST /checkout \+([0-9.]+)KB`).FindStringSubmatch(detail)
	if m == nil {
		t.Fatalf("no failing leak verdict with a per-checkout estimate: %+v", leaky.run.Verdicts)
	}
	if kb, _ := strconv.ParseFloat(m[1], 64); kb < 35 || kb > 65 {
		t.Errorf("leak per checkout %v KB, want 35–65 KB: %s", kb, detail)
	}
	if co := leaky.run.RequestByName("POST /checkout"); co == nil || co.Count < 25*140 {
		t.Errorf("checkouts: %+v, want about 25 per second", co)
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
}

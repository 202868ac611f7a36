package result

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run whose totals do not add up is refused when written and when
// loaded, and the error says which total; a run written before lab counted
// what it sent (no "sent") still loads.
func TestTotalsMustAddUp(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	cases := []struct {
		name   string
		mutate func(*Run)
		want   string
	}{
		{"sent more than recorded", func(r *Run) { r.Requests[0].Sent = n(160) }, "160 requests sent, 100 recorded"},
		{"a window lost", func(r *Run) { r.Requests[0].Windows[0].Count = 60 }, "windows count 60 requests"},
		{"a window twice", func(r *Run) {
			w := r.Requests[0].Windows[0]
			w.Count, w.Failures, w.Hist = 0, 0, ""
			r.Requests[0].Windows = append(r.Requests[0].Windows, w)
		}, "listed twice"},
		{"per-second counts short", func(r *Run) { r.Requests[0].PerSec = [][3]int{{0, 90, 3}} }, "per-second counts sum to 90"},
		{"run-wide seconds short", func(r *Run) { r.Seconds[0].Requests = 40 }, "per-second series counts 40 requests"},
		{"failure reasons short", func(r *Run) { r.Failures[0].Count = 1 }, "failure reasons count 1, failures 3"},
		{"cut off beyond failures", func(r *Run) { r.Requests[0].CutOff = 5 }, "5 cut off, but only 3 failures"},
		{"offered: windows short", func(r *Run) { r.Requests[0].Windows[0].Offered = 90 }, "windows count 90 offered"},
		{"offered: more unsent than offered", func(r *Run) { r.Requests[0].Unsent, r.Generator.Unsent = 101, 101 }, "100 offered, 101 unsent"},
		{"offered: not what the generator scheduled", func(r *Run) { r.Generator.Scheduled = 120 }, "the generator scheduled 120"},
		{"offered: arrivals per second short", func(r *Run) { r.Seconds[0].Arrivals = 99 }, "per-second series counts 99 arrivals due"},
		{"histogram short", func(r *Run) {
			r.Requests[0].Count, r.Requests[0].Windows[0].Count, r.Seconds[0].Requests = 101, 101, 101
		}, "histogram holds 100 requests, the total is 101"},
	}
	for _, c := range cases {
		run := sampleRun(t)
		run.Requests[0].Sent = n(100)
		run.Requests[0].PerSec = [][3]int{{0, 100, 3}}
		run.Model, run.Requests[0].Offered, run.Requests[0].Windows[0].Offered = "open", n(100), 100
		run.Generator.Scheduled, run.Generator.Sent, run.Seconds[0].Arrivals = 100, 100, 100
		if err := run.Validate(); err != nil {
			t.Fatalf("the sample run does not validate: %v", err)
		}
		c.mutate(run)
		dir := t.TempDir()
		if err := Write(dir, run); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Write: %v, want an error saying %q", c.name, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "result.json")); err == nil {
			t.Errorf("%s: result.json written", c.name)
		}
		data, _ := json.Marshal(run)
		os.WriteFile(filepath.Join(dir, "result.json"), data, 0o644)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	// Written before lab counted what it sent: loads.
	old := sampleRun(t)
	dir := t.TempDir()
	data, _ := json.Marshal(old)
	os.WriteFile(filepath.Join(dir, "result.json"), data, 0o644)
	if _, err := Load(dir); err != nil {
		t.Errorf("a run without sent counts: %v", err)
	}
}

package gates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/lang"
	"lab/runtime/result"
)

// LoadBaseline gives Judge what a regression block's baseline is: none yet
// (advisory), there but unreadable (never a pass, with a warning), the run
// being judged itself (none), or a run with the history stored beside it.
func TestLoadBaseline(t *testing.T) {
	if opt, warn := LoadBaseline(nil, "", ""); warn != nil || opt.Baseline != nil || opt.NoBaseline != "" || opt.BadBaseline != "" {
		t.Errorf("no regression block: %+v, %v", opt, warn)
	}
	dir := filepath.Join(t.TempDir(), "results", "p")
	start := time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
	var runs []string
	for i := range 3 {
		r := noisyRun(uint64(i), 1, start.Add(time.Duration(i)*time.Hour))
		d := result.DirFor(filepath.Dir(dir), "p", r.Start)
		if err := result.Write(d, r); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, d)
	}
	result.Link(runs[1])
	block := &lang.Regression{Baseline: dir}

	opt, warn := LoadBaseline(block, "", runs[2])
	if warn != nil || opt.Baseline == nil || !opt.Baseline.Start.Equal(start.Add(time.Hour)) || opt.History == nil || opt.History.Runs != 2 {
		t.Errorf("the latest run as the baseline: %+v, %v", opt, warn)
	}
	if opt, _ := LoadBaseline(block, runs[0], ""); opt.Baseline == nil || !opt.Baseline.Start.Equal(start) {
		t.Errorf("the override is not the baseline: %+v", opt)
	}
	if opt, warn := LoadBaseline(block, "", runs[1]); warn != nil || opt.Baseline != nil || !strings.Contains(opt.NoBaseline, "is this run itself") {
		t.Errorf("the run itself as its baseline: %+v, %v", opt, warn)
	}
	if opt, warn := LoadBaseline(&lang.Regression{Baseline: filepath.Join(dir, "none")}, "", ""); warn != nil || opt.BadBaseline != "" ||
		!strings.Contains(opt.NoBaseline, "no baseline run") {
		t.Errorf("no baseline yet: %+v, %v", opt, warn)
	}
	os.WriteFile(filepath.Join(runs[0], "result.json"), []byte("{"), 0o644)
	if opt, warn := LoadBaseline(block, runs[0], ""); warn == nil || opt.Baseline != nil || opt.NoBaseline != "" ||
		!strings.Contains(opt.BadBaseline, "cannot be read") {
		t.Errorf("an unreadable baseline: %+v, %v", opt, warn)
	}
}

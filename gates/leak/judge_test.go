package leak

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lab/lang"
	"lab/runtime/result"
)

// runOf stores a trace as a Run read from a long metrics source.
func runOf(tr trace, seed uint64) *result.Run {
	start := time.Unix(1_700_000_000, 0)
	s := tr.samples(rand.New(rand.NewPCG(seed, 21)))
	m := &result.MemorySeries{Kind: "heap_live",
		Source: `go_gc_heap_live_bytes of shop "shop" at http://127.0.0.1:18080/metrics`}
	for _, x := range s {
		m.Samples = append(m.Samples, result.MemorySample{AtS: x.At.Seconds(), Bytes: x.Bytes, GCCycles: x.GCCycles, Requests: x.Requests})
	}
	return &result.Run{Start: start, End: start.Add(time.Duration(tr.seconds) * time.Second), WindowS: 10, Memory: m}
}

// Issue 19, defect 13: a passing leak row says which budget passed it and
// shows both figures it was held to; a significant trend is called a
// trend, not "no leak"; and the row fits a 100-column table, the long
// source on its own line.
func TestLeakRowSaysWhichBudgetDecided(t *testing.T) {
	// 6 MB/min for 7 minutes on the live heap: a significant trend of
	// about +36 MB over the window.
	tr := trace{seconds: 420, rate: 100, reqKnown: true, src: HeapLive, gcKnown: true,
		base: 50 * mb, gcEvery: 1, noise: 0.3 * mb, leakPerReq: 1e3}
	run := runOf(tr, 1)
	for _, c := range []struct {
		l       lang.Leak
		decided string
	}{
		{lang.Leak{MaxGrowthRate: 10 * mb / 60, MaxGrowth: 10 * mb}, "the rate budget decided"},
		{lang.Leak{MaxGrowthRate: 1 * mb / 60, MaxGrowth: 100 * mb}, "the growth budget decided"},
	} {
		c.l.Memory = lang.MemorySource{Kind: lang.MemoryMetrics, URL: "http://127.0.0.1:18080/metrics", Metric: "go_gc_heap_live_bytes"}
		v := Judge(&c.l, run)
		if v.Outcome != result.OutcomePass {
			t.Fatalf("%s: %s: %s", c.decided, v.Outcome, v.Detail)
		}
		if !strings.Contains(v.Note, c.decided) || !strings.Contains(v.Note, "memory read: the Go heap's live bytes (what") ||
			!strings.Contains(v.Note, "127.0.0.1:18080/metrics") {
			t.Errorf("note %q: want %q and what memory was read", v.Note, c.decided)
		}
		if strings.HasPrefix(v.Detail, "no leak") || !strings.Contains(v.Detail, "significant upward trend") {
			t.Errorf("a significant trend called something else: %s", v.Detail)
		}
		if !strings.Contains(v.Measured, "/min, +") || !strings.Contains(v.Budget, "total ≤") {
			t.Errorf("measured %q against budget %q: want the rate and the total against both", v.Measured, v.Budget)
		}
		// subject, budget, "✗ " measured, "? inconclusive", two spaces between and before
		w := 2 + utf8.RuneCountInString(v.Subject) + 2 + utf8.RuneCountInString(v.Budget) + 2 +
			utf8.RuneCountInString(v.Measured) + 2 + 2 + 2 + len("inconclusive")
		if w > 100 || strings.Contains(v.Subject, "http") {
			t.Errorf("row %d columns wide (subject %q, budget %q, measured %q)", w, v.Subject, v.Budget, v.Measured)
		}
	}
}

// A leak found late (step 7b) shows the climb's rate and what memory rose,
// not slope × W.
func TestLateLeakRowShowsTheRise(t *testing.T) {
	tr := trace{seconds: 900, rate: 100, reqKnown: true, src: HeapLive, gcKnown: true,
		base: 50 * mb, gcEvery: 1, noise: 0.5 * mb, leakPerReq: 60 * mb / 60 / 100, leakFrom: 780}
	run := runOf(tr, 2)
	l := lang.Leak{MaxGrowthRate: 10 * mb / 60, MaxGrowth: 50 * mb,
		Memory: lang.MemorySource{Kind: lang.MemoryMetrics, URL: "http://x/metrics", Metric: "go_gc_heap_live_bytes"}}
	v := Judge(&l, run)
	if v.Outcome != result.OutcomeFail || !strings.Contains(v.Detail, "memory leak late in the window") || !strings.Contains(v.Detail, "above both budgets") {
		t.Fatalf("%s: %s", v.Outcome, v.Detail)
	}
	rep, _ := Fit(&l, run)
	if rep.Rise < 100*mb || rep.Rise > 125*mb {
		t.Errorf("rise %.1f MB, want about 120 MB (2 minutes at 60 MB/min)", rep.Rise/mb)
	}
	var rate, rise float64
	if _, err := fmt.Sscanf(v.Measured, "+%fMB/min, +%fMB", &rate, &rise); err != nil || rate < 50 || rate > 70 || rise < 100 || rise > 125 {
		t.Errorf("measured %q: want the climb's rate (~60 MB/min) and the rise (~120 MB)", v.Measured)
	}
}

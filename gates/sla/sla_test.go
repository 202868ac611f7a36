package sla

import (
	"math"
	"strings"
	"testing"
	"time"

	"lab/gates/synth"
	"lab/lang"
	"lab/runtime/result"
)

func ratio(v float64) *float64 { return &v }

func find(t *testing.T, vs []result.Verdict, subject, budgetPrefix string) result.Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Subject == subject && strings.HasPrefix(v.Budget, budgetPrefix) {
			return v
		}
	}
	t.Fatalf("no verdict for %s %q in %+v", subject, budgetPrefix, vs)
	return result.Verdict{}
}

func shopRun(seed uint64, checkoutErr float64, d time.Duration) *result.Run {
	return synth.Run(synth.Spec{Plan: "t", Duration: d, Seed: seed, Requests: []synth.Request{
		{Name: "GET /", Rate: 40, MedianUS: 3000, Sigma: 0.3},
		{Name: "GET /products/:id", Rate: 60, MedianUS: 5000, Sigma: 0.3},
		{Name: "POST /checkout", Rate: 10, MedianUS: 20000, Sigma: 0.4, ErrorRate: checkoutErr},
	}})
}

// merged returns the p of the named requests' whole-run histograms merged by hdrhistogram.
func merged(t *testing.T, run *result.Run, p float64, names ...string) float64 {
	h := result.NewHist()
	for _, n := range names {
		d, err := result.Decode(run.RequestByName(n).Hist)
		if err != nil {
			t.Fatal(err)
		}
		result.Merge(h, d)
	}
	return float64(h.ValueAtPercentile(p))
}

func TestWholeRunBudgets(t *testing.T) {
	run := shopRun(1, 0.02, 2*time.Minute)
	checkoutP95 := merged(t, run, 95, "POST /checkout")
	allP99 := merged(t, run, 99, "GET /", "GET /products/:id", "POST /checkout")
	under := time.Duration(checkoutP95*0.8) * time.Microsecond
	slas := []*lang.SLA{
		{Label: "POST /checkout", Matches: []string{"POST /checkout"},
			Percentiles: []lang.PercentileBudget{{P: 95, Name: "p95", Max: under}}, ErrorRate: ratio(0.05)},
		{Label: "all", All: true, Aggregate: true, Matches: []string{"GET /", "GET /products/:id", "POST /checkout"},
			Percentiles: []lang.PercentileBudget{{P: 99, Name: "p99", Max: time.Second}}, MinRPS: ratio(500)},
		{Label: "GET /*", Matches: []string{"GET /", "GET /products/:id"}, Max: 10 * time.Second},
	}
	vs, err := Judge(slas, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p95 := find(t, vs, "POST /checkout", "p95")
	if p95.Outcome != result.OutcomeFail || p95.Measured != Micros(checkoutP95) {
		t.Errorf("checkout p95: %+v, want fail at %s", p95, Micros(checkoutP95))
	}
	want := "POST /checkout p95 " + Micros(checkoutP95) + " > budget " + Micros(float64(under.Microseconds()))
	if !strings.HasPrefix(p95.Detail, want) {
		t.Errorf("detail %q, want prefix %q", p95.Detail, want)
	}
	er := find(t, vs, "POST /checkout", "error_rate")
	q := run.RequestByName("POST /checkout")
	if er.Outcome != result.OutcomePass || er.Measured != Ratio(float64(q.Failures)/float64(q.Count)) {
		t.Errorf("error rate: %+v (%d of %d)", er, q.Failures, q.Count)
	}
	all := find(t, vs, "all", "p99")
	if all.Outcome != result.OutcomePass || all.Measured != Micros(allP99) {
		t.Errorf("all p99: %+v, want %s from the merged histograms", all, Micros(allP99))
	}
	rps := find(t, vs, "all", "min_rps")
	if rps.Outcome != result.OutcomeFail || !strings.Contains(rps.Detail, "< budget 500/s") {
		t.Errorf("min_rps of ~110/s against 500/s: %+v", rps)
	}
	// A glob that is not aggregate judges each request on its own.
	for _, n := range []string{"GET /", "GET /products/:id"} {
		if v := find(t, vs, n, "max"); v.Outcome != result.OutcomePass {
			t.Errorf("%s max: %+v", n, v)
		}
	}
}

// Percentiles of several requests come from their merged histograms, which
// is not the average (nor any mean) of their percentiles.
func TestAggregateMergesHistograms(t *testing.T) {
	run := shopRun(2, 0, time.Minute)
	s := &lang.SLA{Label: "GET *", Aggregate: true, Matches: []string{"GET /", "GET /products/:id"},
		Percentiles: []lang.PercentileBudget{{P: 50, Name: "p50", Max: time.Second}}}
	vs, _ := Judge([]*lang.SLA{s}, run, Options{})
	got := find(t, vs, "GET *", "p50")
	want := merged(t, run, 50, "GET /", "GET /products/:id")
	avg := (merged(t, run, 50, "GET /") + merged(t, run, 50, "GET /products/:id")) / 2
	if got.Measured != Micros(want) || Micros(avg) == Micros(want) {
		t.Errorf("aggregate p50 %s, merged %s, average of p50s %s", got.Measured, Micros(want), Micros(avg))
	}
}

func TestNoSamplesNeverPasses(t *testing.T) {
	run := shopRun(3, 0, time.Minute)
	run.Requests[2].Count, run.Requests[2].Hist, run.Requests[2].Windows = 0, "", nil // checkout never completed
	slas := []*lang.SLA{
		{Label: "POST /checkout", Matches: []string{"POST /checkout"}, Percentiles: []lang.PercentileBudget{{P: 95, Name: "p95", Max: time.Second}}, ErrorRate: ratio(0.5)},
		{Label: "DELETE /cart", Matches: []string{"DELETE /cart"}, Max: time.Second}, // in the plan, never in the run
		{Label: "POST /checkout", Matches: []string{"POST /checkout"}, Window: 10 * time.Second, ErrorRate: ratio(0.5)},
	}
	vs, err := Judge(slas, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 {
		t.Fatalf("%d verdicts: %+v", len(vs), vs)
	}
	for _, v := range vs {
		if v.Outcome != result.OutcomeNoSamples || !strings.Contains(v.Detail, "no samples") {
			t.Errorf("%+v: want no samples", v)
		}
	}
}

// windowed runs a synthetic run whose checkout fails hard in some windows.
func windowedRun(bad map[int]bool) *result.Run {
	run := shopRun(4, 0, 3*time.Minute)
	q := run.RequestByName("POST /checkout")
	q.Failures = 0
	for i := range q.Windows {
		w := &q.Windows[i]
		w.Failures = 0
		if bad[i] {
			w.Failures = w.Count / 2
		}
		q.Failures += w.Failures
	}
	return run
}

func TestWindowedBudgetAndAbortRule(t *testing.T) {
	// The run starts 3 s into window 0 (7 s covered: judged) and ends 3 s
	// into window 18 (not judged).
	run := windowedRun(map[int]bool{5: true, 9: true, 10: true, 11: true})
	s := &lang.SLA{Label: "all", All: true, Aggregate: true, Matches: []string{"GET /", "GET /products/:id", "POST /checkout"},
		ErrorRate: ratio(0.01), Window: 10 * time.Second, AbortAfter: 3}
	vs, err := Judge([]*lang.SLA{s}, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	er := find(t, vs, "all", "error_rate")
	if er.Outcome != result.OutcomeFail || !strings.Contains(er.Detail, "4 of 18 10s windows over budget") {
		t.Errorf("windowed error rate: %+v", er)
	}
	ab := find(t, vs, "all", "abort after 3")
	from := run.Requests[0].Windows[9].T
	wantSpan := span(from, from+30)
	if ab.Outcome != result.OutcomeFail || !strings.Contains(ab.Detail, "would have stopped the run at "+clock(from+30)) || !strings.Contains(ab.Detail, wantSpan) {
		t.Errorf("abort verdict: %+v, want a stop at %s (%s)", ab, clock(from+30), wantSpan)
	}

	// The live monitor, fed the same windows, stops at the same window and says the same.
	m := NewMonitor([]*lang.SLA{s}, []string{"GET /", "GET /products/:id", "POST /checkout"}, run.Start)
	var reason string
	stoppedAt := int64(0)
	for k := range run.Requests[0].Windows {
		wins := make([]*result.Window, 3)
		for i, q := range run.Requests {
			wins[i] = &q.Windows[k]
		}
		r, err := m.Window(wins[0].T, wins)
		if err != nil {
			t.Fatal(err)
		}
		if r != "" {
			reason, stoppedAt = r, wins[0].T+10
			break
		}
	}
	if stoppedAt != from+30 || !strings.Contains(ab.Detail, reason) {
		t.Errorf("monitor stopped at %s with %q; the gate says %q", clock(stoppedAt), reason, ab.Detail)
	}
	if !strings.HasPrefix(reason, `sla "all": error_rate `) || !strings.Contains(reason, "> 1% in 3 consecutive 10s windows") {
		t.Errorf("reason %q", reason)
	}
	// Once a run was aborted, the verdict quotes why.
	run.Status, run.Reason = result.Aborted, reason
	vs, _ = Judge([]*lang.SLA{s}, run, Options{})
	if ab := find(t, vs, "all", "abort after"); !strings.Contains(ab.Detail, "stopped early: "+reason) {
		t.Errorf("aborted run: %+v", ab)
	}
}

func TestWindowedPassAndLongerWindows(t *testing.T) {
	run := windowedRun(map[int]bool{7: true}) // one bad 10 s window
	s := &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"}, ErrorRate: ratio(0.3), Window: 30 * time.Second, AbortAfter: 2}
	vs, _ := Judge([]*lang.SLA{s}, run, Options{})
	// 50% errors in one of three windows: about 17% over the 30 s window, within 30%.
	er := find(t, vs, "POST /checkout", "error_rate")
	if er.Outcome != result.OutcomePass || !strings.Contains(er.Detail, "30s windows within budget") {
		t.Errorf("%+v", er)
	}
	if ab := find(t, vs, "POST /checkout", "abort"); ab.Outcome != result.OutcomePass || ab.Measured != "0 in a row" {
		t.Errorf("%+v", ab)
	}
}

func TestTable(t *testing.T) {
	run := shopRun(5, 0, time.Minute)
	for _, q := range run.Requests {
		q.Hist, q.Windows = "", nil // as read from Locust's CSV
	}
	table := &Table{Source: "Locust's stats.csv", Note: "rounded", Rows: map[string][]Point{
		"POST /checkout": {{50, 20000}, {95, 41000}, {98, 52000}, {99, 60000}, {100, 90000}},
		"all":            {{50, 5000}, {95, 30000}, {100, 90000}},
	}}
	p := func(pp float64, name string, ms int) lang.PercentileBudget {
		return lang.PercentileBudget{P: pp, Name: name, Max: time.Duration(ms) * time.Millisecond}
	}
	slas := []*lang.SLA{
		{Label: "POST /checkout", Matches: []string{"POST /checkout"}, Percentiles: []lang.PercentileBudget{
			p(95, "p95", 40), p(96, "p96", 60), p(97, "p97", 50), p(97.5, "p97_5", 45), p(99.5, "p99_5", 55)}, Max: 100 * time.Millisecond},
		{Label: "all", All: true, Percentiles: []lang.PercentileBudget{p(95, "p95", 50)}},
		{Label: "GET *", Aggregate: true, Matches: []string{"GET /", "GET /products/:id"}, Percentiles: []lang.PercentileBudget{p(95, "p95", 50)}},
	}
	vs, err := Judge(slas, run, Options{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ subject, budget, outcome, measured string }{
		{"POST /checkout", "p95", result.OutcomeFail, "41ms"},        // the column itself
		{"POST /checkout", "p96", result.OutcomePass, "≤ 52ms"},      // p98 = 52ms ≤ 60ms
		{"POST /checkout", "p97 ", result.OutcomeInconclusive, "–"},  // p95 41ms ≤ 50ms < p98 52ms
		{"POST /checkout", "p97_5", result.OutcomeInconclusive, "–"}, // 41ms ≤ 45ms < 52ms: the columns straddle it
		{"POST /checkout", "p99_5", result.OutcomeFail, "≥ 60ms"},    // p99 = 60ms already over 55ms
		{"POST /checkout", "max", result.OutcomePass, "90ms"},        // the max column
		{"all", "p95", result.OutcomePass, "30ms"},                   // the Aggregated row
		{"GET *", "p95", result.OutcomeInconclusive, "–"},            // several requests together: no histogram
	}
	for _, c := range cases {
		v := find(t, vs, c.subject, c.budget)
		if v.Outcome != c.outcome || v.Measured != c.measured {
			t.Errorf("%s %s: %s %q (%s), want %s %q", c.subject, c.budget, v.Outcome, v.Measured, v.Detail, c.outcome, c.measured)
		}
	}
}

func TestFormats(t *testing.T) {
	cases := map[string]string{
		Micros(850): "850µs", Micros(61234): "61.2ms", Micros(1234567): "1.23s", Micros(999.6): "1ms",
		Ratio(0.0052): "0.52%", Ratio(0.125): "12.5%", Ratio(0): "0%", Ratio(1): "100%",
		Rate(182.4): "182/s", Rate(3.254): "3.25/s", Micros(math.NaN()): "–",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// By default a measured value over its budget fails, and the verdict says
// how likely chance was: 3 wrong answers in 92 checkouts against a 1%
// budget is 3.26%, a breach (a new user's real Locust run exited 0 here
// when the chance-tolerant rule was the default).
func TestMeasuredOverBudgetFails(t *testing.T) {
	run := shopRun(6, 0, time.Minute)
	q := run.RequestByName("POST /checkout")
	q.Count, q.Failures = 92, 3
	p50 := merged(t, run, 50, "POST /checkout")
	for _, c := range []struct {
		name   string
		sla    *lang.SLA
		detail []string
	}{
		{"3 of 92 failed", &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"}, ErrorRate: ratio(0.01)},
			[]string{"3.26% > budget 1%", "3 of 92 requests failed", "binomial p = 0.065", "a longer run would tell"}},
		{"20 of 100 failed", &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"}, ErrorRate: ratio(0.01)},
			[]string{"beyond chance"}},
		{"p95 at the median", &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"},
			Percentiles: []lang.PercentileBudget{{P: 95, Name: "p95", Max: time.Duration(p50) * time.Microsecond}}},
			[]string{"requests over", "where 5% may", "beyond chance"}},
	} {
		if c.name == "20 of 100 failed" {
			q.Count, q.Failures = 100, 20
		}
		vs, err := Judge([]*lang.SLA{c.sla}, run, Options{})
		if err != nil || len(vs) != 1 {
			t.Fatalf("%s: %v %+v", c.name, err, vs)
		}
		if vs[0].Outcome != result.OutcomeFail {
			t.Errorf("%s: %s (%s), want fail", c.name, vs[0].Outcome, vs[0].Detail)
		}
		for _, want := range c.detail {
			if !strings.Contains(vs[0].Detail, want) {
				t.Errorf("%s: detail lacks %q: %s", c.name, want, vs[0].Detail)
			}
		}
	}
}

// With breach = "significant", a measured value over its budget is a
// breach only when the excess cannot be chance: one failure in eight
// requests does not break a 5% budget, twenty in a hundred does; the same
// for requests over a latency budget.
func TestSignificantBreachToleratesChance(t *testing.T) {
	run := shopRun(6, 0, time.Minute)
	q := run.RequestByName("POST /checkout")
	p50 := merged(t, run, 50, "POST /checkout")
	cases := []struct {
		name     string
		count    int64
		failures int64
		sla      *lang.SLA
		outcome  string
	}{
		{"1 of 8 failed", 8, 1, &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"}, ErrorRate: ratio(0.05)}, result.OutcomeAdvisory},
		{"20 of 100 failed", 100, 20, &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"}, ErrorRate: ratio(0.05)}, result.OutcomeFail},
		{"1 of 1000 failed, none allowed", 1000, 1, &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"}, ErrorRate: ratio(0)}, result.OutcomeFail},
		// Half the requests over a p95 budget set at the median: far beyond the 5% allowed.
		{"p95 at the median", q.Count, 0, &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"},
			Percentiles: []lang.PercentileBudget{{P: 95, Name: "p95", Max: time.Duration(p50) * time.Microsecond}}}, result.OutcomeFail},
	}
	for _, c := range cases {
		q.Count, q.Failures = c.count, c.failures
		c.sla.Breach = lang.BreachSignificant
		vs, err := Judge([]*lang.SLA{c.sla}, run, Options{})
		if err != nil || len(vs) != 1 {
			t.Fatalf("%s: %v %+v", c.name, err, vs)
		}
		if vs[0].Outcome != c.outcome {
			t.Errorf("%s: %s (%s), want %s", c.name, vs[0].Outcome, vs[0].Detail, c.outcome)
		}
		if c.outcome == result.OutcomeAdvisory && !strings.Contains(vs[0].Detail, "within chance") {
			t.Errorf("%s: %s", c.name, vs[0].Detail)
		}
	}
	// A p99 budget a hair under the measured p99 of a small sample: the few
	// requests over it are what a p99 allows.
	small := synth.Run(synth.Spec{Duration: 20 * time.Second, Seed: 9, Requests: []synth.Request{{Name: "GET /", Rate: 5, MedianUS: 5000, Sigma: 0.5}}})
	p99 := merged(t, small, 99, "GET /")
	s := &lang.SLA{Label: "GET /", Matches: []string{"GET /"}, Breach: lang.BreachSignificant,
		Percentiles: []lang.PercentileBudget{{P: 99, Name: "p99", Max: time.Duration(p99*0.9) * time.Microsecond}}}
	vs, _ := Judge([]*lang.SLA{s}, small, Options{})
	if vs[0].Outcome != result.OutcomeAdvisory || !strings.Contains(vs[0].Detail, "requests over") {
		t.Errorf("p99 of %d requests just over budget: %+v", small.Requests[0].Count, vs[0])
	}
}

// A watcher follows a windowed budget without an abort rule: its state is
// the last judged window's, and it never stops the run.
func TestWatcherStates(t *testing.T) {
	run := windowedRun(map[int]bool{5: true})
	s := &lang.SLA{Label: "all", All: true, Aggregate: true, Matches: []string{"GET /", "GET /products/:id", "POST /checkout"},
		ErrorRate: ratio(0.01), Window: 10 * time.Second}
	names := []string{"GET /", "GET /products/:id", "POST /checkout"}
	if NewMonitor([]*lang.SLA{s}, names, run.Start) != nil {
		t.Fatal("a monitor for a budget without an abort rule")
	}
	m := NewWatcher([]*lang.SLA{s}, names, run.Start)
	if st := m.States(); len(st) != 1 || st[0].Judged {
		t.Fatalf("before any window: %+v", st)
	}
	for k := range 7 {
		wins := make([]*result.Window, 3)
		for i, q := range run.Requests {
			wins[i] = &q.Windows[k]
		}
		if r, err := m.Window(wins[0].T, wins); r != "" || err != nil {
			t.Fatalf("window %d: %q, %v", k, r, err)
		}
		st := m.States()
		if want := k != 5; len(st) != 1 || !st[0].Judged || st[0].OK != want || st[0].Subject != "all" || st[0].Budget != "error_rate" {
			t.Errorf("after window %d: %+v, want OK %v", k, st, want)
		}
	}
}

// The run's last seconds are judged: a run that ends early in its last
// window (here 3 s into it) has that window merged into the one before,
// so failures there fail the budget, for 10 s and 30 s windows alike. A
// window still left out (the first, too short) is said on the verdict's
// note, which the terminal shows even when it passes (issue 19, defect 5).
func TestTheRunsLastSecondsAreJudged(t *testing.T) {
	run := windowedRun(map[int]bool{18: true}) // ends 3 s into window 18
	last := run.Requests[0].Windows[18].T
	for _, window := range []time.Duration{10 * time.Second, 30 * time.Second} {
		s := &lang.SLA{Label: "all", All: true, Aggregate: true, Matches: []string{"GET /", "GET /products/:id", "POST /checkout"},
			ErrorRate: ratio(0.01), Window: window}
		vs, err := Judge([]*lang.SLA{s}, run, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := find(t, vs, "all", "error_rate")
		end := floorTo(last, int64(window.Seconds())) + int64(window.Seconds())
		if v.Outcome != result.OutcomeFail || !strings.Contains(v.Detail, "–"+clock(end)) {
			t.Errorf("%v windows: failures in the run's last 3 s: %+v; want a fail whose worst window ends at %s", window, v, clock(end))
		}
	}
	// A run that starts 8 s into its first window: that window is left
	// out, and the note says so.
	ok := windowedRun(nil)
	ok.Start = ok.Start.Add(5 * time.Second)
	s := &lang.SLA{Label: "all", All: true, Aggregate: true, Matches: []string{"GET /", "GET /products/:id", "POST /checkout"},
		ErrorRate: ratio(0.01), Window: 10 * time.Second}
	vs, err := Judge([]*lang.SLA{s}, ok, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := find(t, vs, "all", "error_rate")
	if v.Outcome != result.OutcomePass || !strings.Contains(v.Note, "not judged: "+span(ok.Requests[0].Windows[0].T, ok.Requests[0].Windows[0].T+10)) {
		t.Errorf("a first window of 2 s: %+v; want a pass whose note names it", v)
	}
}

// TestAvgBudget: avg judges the mean latency of the merged histograms —
// above the median of a skewed distribution — against its budget, per
// request and for several together.
func TestAvgBudget(t *testing.T) {
	run := shopRun(3, 0, 2*time.Minute)
	h := result.NewHist()
	d, err := result.Decode(run.RequestByName("POST /checkout").Hist)
	if err != nil {
		t.Fatal(err)
	}
	result.Merge(h, d)
	mean := h.Mean()
	median := float64(h.ValueAtPercentile(50))
	if mean <= median {
		t.Fatalf("a lognormal latency's mean %v is not above its median %v", mean, median)
	}
	between := time.Duration((mean+median)/2) * time.Microsecond
	above := time.Duration(mean*1.05) * time.Microsecond
	slas := []*lang.SLA{
		{Label: "POST /checkout", Matches: []string{"POST /checkout"}, Avg: between},
		{Label: "GET /*", Aggregate: true, Matches: []string{"GET /", "GET /products/:id"}, Avg: above},
	}
	vs, err := Judge(slas, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := find(t, vs, "POST /checkout", "avg"); v.Outcome != result.OutcomeFail || !strings.Contains(v.Detail, "avg") {
		t.Errorf("checkout mean %.0fµs against an avg budget of %s (above its median): %+v", mean, between, v)
	}
	if v := find(t, vs, "GET /*", "avg"); v.Outcome != result.OutcomePass {
		t.Errorf("GET /* together under %s: %+v", above, v)
	}
}

// A stage budget judges the windows wholly inside its stage: checkout
// failing in two windows of the second half fails the second stage's
// budget and passes the first's; a window a boundary cuts counts in
// neither; a stage holding no whole window is inconclusive, never a pass.
func TestStageBudgets(t *testing.T) {
	run := windowedRun(map[int]bool{12: true, 13: true}) // starts 3 s into window 0
	stage := func(n int, from, to time.Duration) *lang.SLA {
		return &lang.SLA{Label: "POST /checkout", Matches: []string{"POST /checkout"}, ErrorRate: ratio(0.01), Stage: n, StageFrom: from, StageTo: to}
	}
	vs, err := Judge([]*lang.SLA{stage(1, 0, 90*time.Second), stage(2, 90*time.Second, 3*time.Minute), stage(3, 60*time.Second, 65*time.Second)}, run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := run.RequestByName("POST /checkout")
	first, second := find(t, vs, "POST /checkout", "error_rate ≤ 1% in stage 1"), find(t, vs, "POST /checkout", "error_rate ≤ 1% in stage 2")
	if first.Outcome != result.OutcomePass || !strings.Contains(first.Detail, span(q.Windows[1].T, q.Windows[9].T)) {
		t.Errorf("stage 1 (windows 1–8): %+v", first)
	}
	var count, fails int64
	for _, w := range q.Windows[10:18] {
		count, fails = count+w.Count, fails+w.Failures
	}
	if second.Outcome != result.OutcomeFail || second.Measured != Ratio(float64(fails)/float64(count)) {
		t.Errorf("stage 2 (windows 10–17, %d of %d failed): %+v", fails, count, second)
	}
	if short := find(t, vs, "POST /checkout", "error_rate ≤ 1% in stage 3"); short.Outcome != result.OutcomeInconclusive || !strings.Contains(short.Detail, "no whole 10 s window") {
		t.Errorf("a 5 s stage: %+v", short)
	}
}

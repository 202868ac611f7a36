package regress

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"lab/gates/stats"
	"lab/runtime/needs"
)

var closedRun = RunInfo{Model: Closed}

func find(t *testing.T, rep Report, req string, m Metric) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Request == req && r.Metric == m {
			return r
		}
	}
	t.Fatalf("no %s result for %s in %+v", m, req, rep.Results)
	return Result{}
}

// a noisy runner: latencies lognormal around 12 ms (p95 ≈ 20 ms), shifted
// per window by AR(1) noise σ = 8% (ρ = 0.5); throughput
// noise 5%, bursty errors at 0.5%; 5-minute runs at 40 req/s.
var noisy = proc{windows: 30, rps: 40, rpsSigma: 0.05, median: 12000, spread: 0.3, sigma: 0.08, rho: 0.5,
	errRate: 0.005, burst: 0.5}

// Two runs of the same noisy process: the rate of false failures, over
// 4,000 seeded pairs (half open, half closed model), stays below 1% — for
// the whole comparison (latency, throughput and error tests under Holm,
// INCONCLUSIVE counted as a failure: it exits 1 too) and for latency alone.
// Then the same machinery must detect a +20% latency change (power check),
// so the low rate is not bought by never failing.
func TestSameProcessFalsePositiveRate(t *testing.T) {
	needs.NoRace(t, "a single-goroutine simulation")
	const sims = 4000
	fails := 0
	byMetric := map[Metric]int{}
	for seed := uint64(0); seed < sims; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := noisy
		model := closedRun
		if seed%2 == 1 {
			p.open, model = true, RunInfo{Model: Open}
		}
		b, c := p.pair(rng, 1)
		rep, err := Compare(Input{Baseline: model, Current: model, Requests: []Request{
			{Name: "GET /products", Baseline: b, Current: c},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict == Fail || rep.Verdict == Inconclusive {
			fails++
		}
		for _, r := range rep.Results {
			if r.Verdict == Fail || r.Verdict == Inconclusive {
				byMetric[r.Metric]++
			}
		}
	}
	rate := float64(fails) / sims
	t.Logf("false failures: %d of %d (%.2f%%), by metric %v", fails, sims, 100*rate, byMetric)
	if rate >= 0.01 {
		t.Errorf("false-failure rate %.2f%% ≥ 1%%", 100*rate)
	}
	if lat := float64(byMetric[Latency]) / sims; lat >= 0.01 {
		t.Errorf("latency false-failure rate %.2f%% ≥ 1%%", 100*lat)
	}

	detected := 0
	const powerSims = 200
	for seed := uint64(0); seed < powerSims; seed++ {
		rng := rand.New(rand.NewPCG(seed, 2))
		b, c := noisy.pair(rng, 1.2)
		rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
			{Name: "GET /products", Baseline: b, Current: c},
		}})
		if find(t, rep, "GET /products", Latency).Verdict == Fail {
			detected++
		}
	}
	t.Logf("power at +20%%: %d of %d", detected, powerSims)
	if detected < powerSims*9/10 {
		t.Errorf("+20%% latency detected in only %d of %d runs", detected, powerSims)
	}
}

// +30% latency on one route fails that route, and only that route.
func TestLatencyRegressionOnOneRoute(t *testing.T) {
	routes := []string{"GET /", "GET /products/${id}", "POST /cart", "GET /cart", "POST /checkout"}
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		var reqs []Request
		for i, name := range routes {
			factor := 1.0
			if i == 2 {
				factor = 1.3
			}
			b, c := noisy.pair(rng, factor)
			reqs = append(reqs, Request{Name: name, Baseline: b, Current: c})
		}
		rep, err := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: reqs})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != Fail {
			t.Fatalf("seed %d: report verdict %s", seed, rep.Verdict)
		}
		for _, r := range rep.Results {
			want := Pass
			if r.Request == "POST /cart" && r.Metric == Latency {
				want = Fail
				if r.Effect < 1.2 || r.Effect > 1.4 || !strings.HasPrefix(r.Reason, "slower") {
					t.Errorf("seed %d: ratio %v, reason %q", seed, r.Effect, r.Reason)
				}
			}
			if r.Verdict != want {
				t.Errorf("seed %d: %s %s: %s (%s), want %s", seed, r.Request, r.Metric, r.Verdict, r.Reason, want)
			}
		}
	}
}

// +5% latency is below τ = 10%: it passes even when it is significant.
func TestSmallLatencyGrowthPasses(t *testing.T) {
	quiet := noisy
	quiet.sigma, quiet.runSigma = 0.02, 0 // so quiet that +5% is clearly significant
	significant := 0
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 4))
		b, c := quiet.pair(rng, 1.05)
		rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
			{Name: "GET /", Baseline: b, Current: c},
		}})
		r := find(t, rep, "GET /", Latency)
		if r.Verdict != Pass {
			t.Errorf("seed %d: %s: %s", seed, r.Verdict, r.Reason)
		}
		if r.PAdjusted < Alpha {
			significant++
			if !strings.HasPrefix(r.Reason, "below τ") {
				t.Errorf("seed %d: reason %q", seed, r.Reason)
			}
		}
	}
	if significant < 15 {
		t.Errorf("+5%% was significant in only %d of 20 runs: the test does not reach the τ rule", significant)
	}
}

// A p95 that grows 50% but by less than 1 ms is not a regression.
func TestLatencyUnderOneMillisecondPasses(t *testing.T) {
	fast := noisy
	fast.median, fast.sigma, fast.runSigma = 600, 0.02, 0 // p95 ≈ 1 ms
	rng := rand.New(rand.NewPCG(5, 5))
	b, c := fast.pair(rng, 1.5)
	rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
		{Name: "GET /health", Baseline: b, Current: c},
	}})
	r := find(t, rep, "GET /health", Latency)
	if r.Verdict != Pass || !strings.Contains(r.Reason, "under 1 ms") {
		t.Errorf("%s: %s", r.Verdict, r.Reason)
	}
}

func TestErrorRateZeroToTwoPercent(t *testing.T) {
	clean := noisy
	clean.errRate = 0
	broken := clean
	broken.errRate = 0.02
	for seed := uint64(0); seed < 10; seed++ {
		rng := rand.New(rand.NewPCG(seed, 6))
		bs, cs := clean.run(rng, 1), broken.run(rng, 1)
		rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
			{Name: "POST /checkout", Baseline: bs.series(bs.p95()), Current: cs.series(bs.p95())},
		}})
		r := find(t, rep, "POST /checkout", ErrorRate)
		if r.Verdict != Fail || r.Baseline != 0 || r.Current < 0.015 || r.Current > 0.025 {
			t.Errorf("seed %d: %s base %v cur %v: %s", seed, r.Verdict, r.Baseline, r.Current, r.Reason)
		}
		if l := find(t, rep, "POST /checkout", Latency); l.Verdict != Pass {
			t.Errorf("seed %d: latency %s: %s", seed, l.Verdict, l.Reason)
		}
	}
}

// Few errors: Fisher's exact test decides. 0 → 9 in 30,000 requests, one
// every 30 s, is significant but below the default 0.1 pp; with a tighter
// threshold it fails.
func TestErrorRateSmallCounts(t *testing.T) {
	mk := func(errs int) *Series {
		s := &Series{P95: 20000, SlowKnown: true}
		for i := 0; i < 30; i++ {
			w := Window{Count: 1000, Slow: 50, Seconds: 10}
			if i%3 == 0 && i/3 < errs {
				w.Errors = 1
			}
			s.Windows = append(s.Windows, w)
		}
		return s
	}
	in := Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
		{Name: "GET /", Baseline: mk(0), Current: mk(9)},
	}}
	rep, _ := Compare(in)
	r := find(t, rep, "GET /", ErrorRate)
	want, _ := stats.FisherExact(stats.Proportion{Events: 0, Trials: 30000}, stats.Proportion{Events: 9, Trials: 30000})
	if r.Verdict != Pass || r.P != want || !strings.Contains(r.Reason, "Fisher") || !strings.HasPrefix(r.Reason, "within") {
		t.Errorf("%s p=%v (want %v): %s", r.Verdict, r.P, want, r.Reason)
	}
	in.Requests[0].Thresholds.ErrorRateInc = 0.0001
	rep, _ = Compare(in)
	if r := find(t, rep, "GET /", ErrorRate); r.Verdict != Fail {
		t.Errorf("tight threshold: %s: %s", r.Verdict, r.Reason)
	}
}

// From a 2% baseline, +0.5 pp is below half the baseline rate: it passes
// even though the increase is significant.
func TestErrorRateIncreaseBelowHalfBaseline(t *testing.T) {
	p := noisy
	p.errRate, p.burst, p.rps = 0.02, 0, 1000
	q := p
	q.errRate = 0.025
	rng := rand.New(rand.NewPCG(7, 7))
	bs, cs := p.run(rng, 1), q.run(rng, 1)
	rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
		{Name: "GET /", Baseline: bs.series(bs.p95()), Current: cs.series(bs.p95())},
	}})
	r := find(t, rep, "GET /", ErrorRate)
	if r.Verdict != Pass || r.PAdjusted >= Alpha || math.Abs(r.Threshold-0.5*r.Baseline) > 1e-12 {
		t.Errorf("%s p_adj %v threshold %v: %s", r.Verdict, r.PAdjusted, r.Threshold, r.Reason)
	}
}

func TestNewErrorClass(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, c := range []struct {
		base, cur map[string]int64
		want      Verdict // "" = no error_classes result
	}{
		{map[string]int64{"HTTP 503": 40}, map[string]int64{"HTTP 503": 35, "connection refused": 12}, Fail},
		{map[string]int64{"HTTP 503": 40}, map[string]int64{"HTTP 503": 35, "connection refused": 9}, Advisory},
		{nil, map[string]int64{"timeout": 10}, Fail},
		{map[string]int64{"HTTP 503": 40}, map[string]int64{"HTTP 503": 400}, ""},
		{nil, nil, ""},
	} {
		b, cur := noisy.pair(rng, 1)
		b.ErrorClasses, cur.ErrorClasses = c.base, c.cur
		rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "GET /", Baseline: b, Current: cur}}})
		var got Verdict
		for _, r := range rep.Results {
			if r.Metric == ErrorClasses {
				got = r.Verdict
				if !strings.Contains(r.Reason, "×") {
					t.Errorf("reason %q names no class", r.Reason)
				}
			}
		}
		if got != c.want {
			t.Errorf("%v → %v: %q, want %q", c.base, c.cur, got, c.want)
		}
	}
}

func TestMissingAndNewRequests(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	b, c := noisy.pair(rng, 1)
	old, _ := noisy.pair(rng, 1)
	_, fresh := noisy.pair(rng, 1)
	rep, err := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
		{Name: "GET /", Baseline: b, Current: c},
		{Name: "GET /old", Baseline: old},
		{Name: "GET /zero", Baseline: old, Current: &Series{Windows: []Window{{Seconds: 10}}}},
		{Name: "GET /new", Current: fresh},
		{Name: "GET /never"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  string
		want Verdict
	}{{"GET /old", Missing}, {"GET /zero", Missing}, {"GET /new", Advisory}} {
		if r := find(t, rep, c.req, Presence); r.Verdict != c.want {
			t.Errorf("%s: %s, want %s", c.req, r.Verdict, c.want)
		}
	}
	for _, r := range rep.Results {
		if r.Request == "GET /never" {
			t.Errorf("a request absent from both runs is reported: %+v", r)
		}
	}
	if rep.Verdict != Missing {
		t.Errorf("report verdict %s, want MISSING", rep.Verdict)
	}
}

func TestSaturatedOrMismatchedRunsAreInvalid(t *testing.T) {
	for _, c := range []struct {
		base, cur RunInfo
		says      string
	}{
		{closedRun, RunInfo{Model: Closed, Saturated: true}, "generator saturated in the current run"},
		{RunInfo{Model: Closed, Saturated: true}, closedRun, "generator saturated in the baseline run"},
		{RunInfo{Model: Open}, closedRun, "the baseline used the open model"},
	} {
		rng := rand.New(rand.NewPCG(10, 10))
		b, cur := noisy.pair(rng, 2)
		rep, _ := Compare(Input{Baseline: c.base, Current: c.cur, Requests: []Request{
			{Name: "GET /", Baseline: b, Current: cur},
		}})
		if rep.Verdict != Invalid {
			t.Errorf("%+v vs %+v: verdict %s", c.base, c.cur, rep.Verdict)
		}
		for _, r := range rep.Results {
			if r.Verdict != Invalid || !strings.Contains(r.Reason, c.says) || !strings.Contains(r.Reason, "invalid comparison") {
				t.Errorf("%s %s: %s: %s", r.Request, r.Metric, r.Verdict, r.Reason)
			}
		}
	}
}

// History: σ̂ of 5% widens τ to 3√2·5% ≈ 21%, so +15% passes; σ̂ of 8%
// gives τ ≈ 34% > 25%: the runner is too noisy and the verdict advisory.
func TestHistoryWidensTau(t *testing.T) {
	history := func(sigma float64) []float64 {
		// 12 runs whose successive log differences Δ have
		// 1.4826·MAD(Δ)/√2 = sigma exactly: log p95s 0, 0, c, 0, 0, c, …
		// give Δ = 0, c, −c, 0, c, −c, …: median 0, MAD c.
		c := sigma * math.Sqrt2 / stats.MADScale
		var h []float64
		for i := 0; i < 12; i++ {
			v := 20000.0
			if i%3 == 2 {
				v *= math.Exp(c)
			}
			h = append(h, v)
		}
		return h
	}
	quiet := noisy
	quiet.sigma, quiet.runSigma = 0.02, 0
	rng := rand.New(rand.NewPCG(11, 11))
	b, c := quiet.pair(rng, 1.15)
	run := func(h []float64) Result {
		rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
			{Name: "GET /", Baseline: b, Current: c, Thresholds: Thresholds{History: h}},
		}})
		return find(t, rep, "GET /", Latency)
	}
	if r := run(nil); r.Verdict != Fail || r.Threshold != DefaultP95Growth {
		t.Errorf("no history: %s τ=%v: %s", r.Verdict, r.Threshold, r.Reason)
	}
	if r := run(history(0.05)[:9]); r.Verdict != Fail || r.Threshold != DefaultP95Growth {
		t.Errorf("9 runs of history must not widen τ: %s τ=%v", r.Verdict, r.Threshold)
	}
	r := run(history(0.05))
	if r.Verdict != Pass || math.Abs(r.Threshold-3*math.Sqrt2*0.05) > 1e-9 || !strings.Contains(r.Reason, "widened") {
		t.Errorf("σ̂ 5%%: %s τ=%v: %s", r.Verdict, r.Threshold, r.Reason)
	}
	r = run(history(0.08))
	if r.Verdict != Advisory || !strings.Contains(r.Reason, "too noisy") {
		t.Errorf("σ̂ 8%%: %s τ=%v: %s", r.Verdict, r.Threshold, r.Reason)
	}
	// +50% is beyond even the noisy runner's τ (34%): the runner's noise
	// cannot explain it, so it fails (it used to be an advisory "would fail",
	// exit 0).
	c = scaled50(quiet, rng, b)
	r = run(history(0.08))
	if r.Verdict != Fail || !strings.Contains(r.Reason, "beyond the runner's noise") {
		t.Errorf("σ̂ 8%%, +50%%: %s τ=%v: %s", r.Verdict, r.Threshold, r.Reason)
	}
}

// Issue 19, defect 4: ten earlier runs whose p95 fell steadily (the
// service got faster over ten builds, 10% a build) are a trend, not runner
// noise. The spread of their log p95s would widen τ to 146%; measured on
// successive differences the trend is gone and τ stays the plan's, so a
// +122% regression fails — it used to pass as "runner too noisy". A noisy
// history still widens τ, never past MaxWidened.
func TestHistoryTrendIsNotNoise(t *testing.T) {
	var falling []float64 // newest first: the baseline's build is the fastest
	for i := range 10 {
		falling = append(falling, 20000*math.Exp(0.1*float64(i)))
	}
	quiet := noisy
	quiet.sigma, quiet.runSigma = 0.02, 0
	rng := rand.New(rand.NewPCG(19, 4))
	b, c := quiet.pair(rng, 2.22)
	rep, err := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
		{Name: "GET /", Baseline: b, Current: c, Thresholds: Thresholds{History: falling}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := find(t, rep, "GET /", Latency)
	if r.Verdict != Fail || r.Threshold != DefaultP95Growth || strings.Contains(r.Reason, "noisy") {
		t.Errorf("+122%% after ten builds that got faster: %s, τ = %v: %s", r.Verdict, r.Threshold, r.Reason)
	}
	// A history that is all noise, σ̂ ≈ 40%: τ is capped at MaxWidened.
	wild := make([]float64, 12)
	for i := range wild {
		wild[i] = 20000 * math.Exp(0.4*float64(1-2*(i%2))*float64(1+i%3))
	}
	rep, _ = Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
		{Name: "GET /", Baseline: b, Current: c, Thresholds: Thresholds{History: wild}},
	}})
	r = find(t, rep, "GET /", Latency)
	if r.Threshold != MaxWidened || r.Verdict != Fail || !strings.Contains(r.Reason, "capped") {
		t.Errorf("noisy history: %s, τ = %v: %s", r.Verdict, r.Threshold, r.Reason)
	}
}

// scaled50 is a current run of p with latencies 50% above those of the
// baseline b was drawn with (b's own p95 is the threshold).
func scaled50(p proc, rng *rand.Rand, b *Series) *Series {
	return p.run(rng, 1.5).series(b.P95)
}

func TestOpenModelThroughput(t *testing.T) {
	open := RunInfo{Model: Open}
	mk := func(offered bool, windows int, sched, count, unsent int64) *Series {
		s := &Series{Offered: offered, P95: 20000, SlowKnown: true}
		for i := 0; i < windows; i++ {
			s.Windows = append(s.Windows, Window{Scheduled: sched, Count: count, Unsent: unsent, Slow: count / 20, Seconds: 10})
		}
		return s
	}
	for _, c := range []struct {
		what      string
		base, cur *Series
		want      Verdict
		says      string
	}{
		{"same", mk(true, 30, 1000, 1000, 0), mk(true, 30, 1000, 1000, 0), Pass, "kept up"},
		{"0.5% short", mk(true, 30, 1000, 1000, 0), mk(true, 30, 1000, 995, 0), Pass, "kept up"},
		{"3% short", mk(true, 30, 1000, 1000, 0), mk(true, 30, 1000, 970, 0), Fail, "fell behind"},
		{"unsent", mk(true, 30, 1000, 1000, 0), mk(true, 30, 1000, 1000, 5), Fail, "unsent"},
		{"offered half", mk(true, 30, 1000, 1000, 0), mk(true, 30, 500, 500, 0), Inconclusive, "like-for-like"},
		{"offered none now", mk(true, 30, 1000, 1000, 0), mk(true, 30, 0, 1000, 0), Inconclusive, "like-for-like"},
		// Requests offered nothing of their own (a later step of a pass),
		// or whose offered load a run did not count: held to the
		// baseline's req/s.
		{"later step, same", mk(true, 30, 0, 1000, 0), mk(true, 30, 0, 990, 0), Pass, "within the allowed drop"},
		{"later step, a fifth less", mk(true, 30, 0, 1000, 0), mk(true, 30, 0, 800, 0), Fail, "served less"},
		{"later step, a third less, 15 requests", mk(true, 3, 0, 5, 0), mk(true, 3, 0, 3, 0), Inconclusive, "too few requests to tell it from chance"},
		{"not counted, a fifth less", mk(false, 30, 0, 1000, 0), mk(false, 30, 0, 800, 0), Fail, "before lab did"},
		{"baseline not counted, current behind", mk(false, 30, 0, 1000, 0), mk(true, 30, 1000, 970, 0), Fail, "fell behind"},
	} {
		rep, _ := Compare(Input{Baseline: open, Current: open, Requests: []Request{{Name: "GET /", Baseline: c.base, Current: c.cur}}})
		r := find(t, rep, "GET /", Throughput)
		if r.Verdict != c.want || !strings.Contains(r.Reason, c.says) {
			t.Errorf("%s: %s: %s", c.what, r.Verdict, r.Reason)
		}
	}
}

func TestClosedModelThroughput(t *testing.T) {
	for _, c := range []struct {
		factor float64
		want   Verdict
	}{{0.7, Fail}, {0.95, Pass}, {1.3, Pass}} {
		slow := noisy
		slow.rps *= c.factor
		rng := rand.New(rand.NewPCG(12, 12))
		bs, cs := noisy.run(rng, 1), slow.run(rng, 1)
		rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{
			{Name: "GET /", Baseline: bs.series(bs.p95()), Current: cs.series(bs.p95())},
		}})
		r := find(t, rep, "GET /", Throughput)
		if r.Verdict != c.want || math.Abs(r.Effect-c.factor) > 0.06 {
			t.Errorf("×%v: %s ratio %v: %s", c.factor, r.Verdict, r.Effect, r.Reason)
		}
	}
}

// Four windows a run cannot measure the noise across windows: latency and
// throughput are inconclusive and say to run 50 s.
func TestTooFewWindowsInconclusive(t *testing.T) {
	short := noisy
	short.windows = 4
	rng := rand.New(rand.NewPCG(14, 14))
	b, c := short.pair(rng, 1)
	rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "GET /", Baseline: b, Current: c}}})
	for _, m := range []Metric{Latency, Throughput} {
		if r := find(t, rep, "GET /", m); r.Verdict != Inconclusive || !strings.Contains(r.Reason, "too few windows") ||
			r.RunFor != 50 || !strings.Contains(r.Reason, "at least 50s each") {
			t.Errorf("%s: %s (run for %v): %s", m, r.Verdict, r.RunFor, r.Reason)
		}
	}
	if rep.Verdict != Inconclusive {
		t.Errorf("report %s", rep.Verdict)
	}
	empty, _ := Compare(Input{Baseline: closedRun, Current: closedRun})
	if empty.Verdict != Invalid || len(empty.Results) != 1 {
		t.Errorf("nothing to compare: %+v", empty)
	}
}

// Holm runs over every request × metric that is a test.
func TestHolmOverTheFamily(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	var reqs []Request
	for i := 0; i < 6; i++ {
		b, c := noisy.pair(rng, 1+0.05*float64(i))
		reqs = append(reqs, Request{Name: fmt.Sprintf("GET /r%d", i), Baseline: b, Current: c})
	}
	rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: reqs})
	var ps []float64
	for _, r := range rep.Results {
		ps = append(ps, r.P)
	}
	want := stats.Holm(ps)
	tests := 0
	for i, r := range rep.Results {
		if !math.IsNaN(r.P) {
			tests++
		}
		if !(r.PAdjusted == want[i] || math.IsNaN(r.PAdjusted) && math.IsNaN(want[i])) {
			t.Errorf("%s %s: adjusted %v, want %v", r.Request, r.Metric, r.PAdjusted, want[i])
		}
	}
	if tests != 18 { // latency, throughput and errors for 6 requests
		t.Errorf("%d tests in the family, want 18", tests)
	}
}

func TestBadInput(t *testing.T) {
	good := func() *Series { return &Series{P95: 1, Windows: []Window{{Count: 10, Seconds: 10}}} }
	bad := func(w Window) *Series { return &Series{Windows: []Window{w}} }
	for name, in := range map[string]Input{
		"no model":        {Baseline: RunInfo{}, Current: closedRun},
		"no name":         {Baseline: closedRun, Current: closedRun, Requests: []Request{{Baseline: good()}}},
		"duplicate name":  {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a"}, {Name: "a"}}},
		"errors > count":  {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Current: bad(Window{Count: 1, Errors: 2, Seconds: 10})}}},
		"NaN p95":         {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Current: &Series{P95: math.NaN(), Windows: []Window{{Count: 1, Seconds: 10}}}}}},
		"slow > count":    {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Current: bad(Window{Count: 1, Slow: 2, Seconds: 10})}}},
		"zero seconds":    {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Current: bad(Window{Count: 1})}}},
		"timeouts > errs": {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Current: bad(Window{Count: 5, Errors: 1, Timeouts: 2, Seconds: 10})}}},
		"negative tau":    {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Thresholds: Thresholds{P95Growth: -0.1}}}},
		"zero history":    {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Thresholds: Thresholds{History: []float64{0}}}}},
		"negative class":  {Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "a", Current: &Series{ErrorClasses: map[string]int64{"x": -1}}}}},
	} {
		if _, err := Compare(in); !errors.Is(err, ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", name, err)
		}
	}
}

// BenchmarkCompareDay compares two day-long runs (8,640 windows of 10 s)
// of 10 request names.
func BenchmarkCompareDay(b *testing.B) {
	rng := rand.New(rand.NewPCG(16, 16))
	day := noisy
	day.windows, day.rps = 8640, 6 // the compare sees counts: their size costs nothing here
	var reqs []Request
	for i := 0; i < 10; i++ {
		b, c := day.pair(rng, 1)
		reqs = append(reqs, Request{Name: fmt.Sprintf("GET /r%d", i), Baseline: b, Current: c})
	}
	in := Input{Baseline: closedRun, Current: closedRun, Requests: reqs}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Compare(in); err != nil {
			b.Fatal(err)
		}
	}
}

// Issue 8, defect 1: a test whose smallest attainable p, times the number
// of tests, is not below α can never fail: it is INCONCLUSIVE, whatever
// the data, and says how long to run. One minute of closed-model windows
// for five names: the req/s test (Mann–Whitney over 6 windows a run)
// cannot decide. RunFor is the shortest multiple of the runs' length at
// which it could.
func TestUnreachableSignificanceIsInconclusive(t *testing.T) {
	short := noisy
	short.windows, short.rps, short.sigma = 6, 80, 0.02
	drop := short
	drop.rps *= 0.6
	rng := rand.New(rand.NewPCG(17, 17))
	var reqs []Request
	for i := range 5 {
		bs, cs := short.run(rng, 1), drop.run(rng, 1)
		reqs = append(reqs, Request{Name: fmt.Sprintf("GET /r%d", i), Baseline: bs.series(bs.p95()), Current: cs.series(bs.p95())})
	}
	rep, err := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Inconclusive {
		t.Errorf("report %s", rep.Verdict)
	}
	m := 0
	for _, r := range rep.Results {
		if !math.IsNaN(r.P) {
			m++
		}
	}
	for _, r := range rep.Results {
		switch r.Metric {
		case Throughput:
			if r.Verdict != Inconclusive || float64(m)*r.PMin < Alpha || !strings.HasPrefix(r.Reason, "cannot reach significance") ||
				r.RunFor != 120 || !strings.Contains(r.Reason, "at least 2m each (these ran 60s)") {
				t.Errorf("%s req/s: %s, p_min %v × %d tests, run for %v: %s", r.Request, r.Verdict, r.PMin, m, r.RunFor, r.Reason)
			}
		case Latency, ErrorRate:
			// Thousands of requests: these can decide.
			if r.Verdict == Inconclusive || float64(m)*r.PMin >= Alpha {
				t.Errorf("%s %s: %s, p_min %v: %s", r.Request, r.Metric, r.Verdict, r.PMin, r.Reason)
			}
		}
	}
	// At RunFor the test can decide: twice the windows, and the 40% drop fails.
	long := short
	long.windows = 12
	ldrop := long
	ldrop.rps *= 0.6
	reqs = reqs[:0]
	for i := range 5 {
		bs, cs := long.run(rng, 1), ldrop.run(rng, 1)
		reqs = append(reqs, Request{Name: fmt.Sprintf("GET /r%d", i), Baseline: bs.series(bs.p95()), Current: cs.series(bs.p95())})
	}
	rep, _ = Compare(Input{Baseline: closedRun, Current: closedRun, Requests: reqs})
	for _, r := range rep.Results {
		if r.Metric == Throughput && r.Verdict != Fail {
			t.Errorf("two minutes: %s req/s: %s: %s", r.Request, r.Verdict, r.Reason)
		}
	}
}

// Without per-window counts of slow requests (Locust's CSV), the p95s are
// compared by the threshold alone: not a test, so outside Holm's family.
func TestLatencyByThresholdAlone(t *testing.T) {
	mk := func(p95 float64) *Series {
		s := &Series{P95: p95}
		for range 30 {
			s.Windows = append(s.Windows, Window{Count: 1000, Seconds: 10})
		}
		return s
	}
	for _, c := range []struct {
		cur  float64
		want Verdict
		says string
	}{{20000, Pass, "below τ"}, {21500, Pass, "below τ"}, {22500, Fail, "slower"}, {1.5 * 20000, Fail, "slower"}} {
		rep, err := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "GET /", Baseline: mk(20000), Current: mk(c.cur)}}})
		if err != nil {
			t.Fatal(err)
		}
		r := find(t, rep, "GET /", Latency)
		if r.Verdict != c.want || !strings.HasPrefix(r.Reason, c.says) || !strings.Contains(r.Reason, "by the threshold alone") ||
			!math.IsNaN(r.P) || !math.IsNaN(r.PMin) {
			t.Errorf("p95 20 ms → %v µs: %s (p %v): %s", c.cur, r.Verdict, r.P, r.Reason)
		}
	}
	// Known on one side only is not enough for the test either.
	b, c := mk(20000), mk(30000)
	b.SlowKnown = true
	rep, _ := Compare(Input{Baseline: closedRun, Current: closedRun, Requests: []Request{{Name: "GET /", Baseline: b, Current: c}}})
	if r := find(t, rep, "GET /", Latency); r.Verdict != Fail || !strings.Contains(r.Reason, "by the threshold alone") {
		t.Errorf("counts in the baseline only: %s: %s", r.Verdict, r.Reason)
	}
}

package regress

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"lab/gates/stats"
)

// The regression compare's acceptance simulation (issue 8, figures in
// docs/STATISTICS.md): pairs of three-minute runs of plans/baseline.hcl's
// workload against the shop, run side by side, request by request.

// shopNames are plans/baseline.hcl's request names and their rates at 50
// arrivals/s (75 requests/s in all).
var shopNames = []struct {
	name string
	rps  float64
}{{"GET /", 15}, {"GET /products", 12.5}, {"GET /products/:id", 22.5}, {"POST /cart", 12.5}, {"POST /checkout", 12.5}}

// shopShape is the shop's latency at latency = 5ms, in µs at the quantiles
// 0%, 1%, …, 99% and (last) 99.9%: 54,568 requests of the first four
// three-minute runs of plans/baseline.hcl measured on this repository's
// 2-core machine, every name pooled (their p95s differ by under 3%). The timer wakes on whole
// milliseconds, so the shop's calibrated sleep spreads over 4.2–6.1 ms.
var shopShape = []float64{
	4168, 4275, 4299, 4319, 4331, 4343, 4355, 4367, 4379, 4391, 4399, 4411, 4423, 4435, 4451, 4463, 4475, 4487, 4499, 4511,
	4527, 4539, 4551, 4567, 4579, 4595, 4607, 4623, 4639, 4655, 4675, 4691, 4711, 4731, 4751, 4779, 4803, 4823, 4851, 4879,
	4907, 4939, 4975, 5019, 5067, 5135, 5211, 5267, 5299, 5319, 5335, 5347, 5359, 5371, 5379, 5391, 5399, 5407, 5415, 5423,
	5431, 5439, 5451, 5459, 5467, 5479, 5491, 5503, 5511, 5523, 5535, 5547, 5559, 5571, 5583, 5599, 5611, 5623, 5635, 5651,
	5667, 5683, 5703, 5719, 5739, 5763, 5783, 5807, 5835, 5863, 5891, 5927, 5963, 6007, 6059, 6119, 6203, 6323, 6563, 7115,
	16495,
}

// shopNoise is how a runner disturbs the shop's latency. Every latency is
// shifted (in log): per window, AR(1) and common to a run's names (the
// machine slows all requests at once), partly shared by the two runs of a
// pair (side by side, they share the machine's moments) and partly each
// run's own; per run, common to its names; per name and run; and per pair
// (both runs share the machine's state: its level). On a busy machine some
// requests also wait for a core: in each window a share of them (lognormal
// across windows, mostly shared by the pair) is delayed by a lognormal
// factor.
type shopNoise struct {
	what        string
	shared, own float64 // σ of the windows' log shift: shared by the pair, each run's own
	rho         float64 // their AR(1) coefficient, and the delayed share's
	run, name   float64
	level       float64
	// Delayed requests: the median share per window, the σ of its log
	// across windows (the pair shares sharedDelayed of its variance), and
	// the median and σ of the log of the delay (as a fraction of the
	// request's latency).
	delayed, delayedSD, sharedDelayed float64
	delay, delaySD                    float64
}

// pairState is what the two runs of a pair share: the machine's level,
// its windows' log shifts, and its windows' standard normal draws of the
// delayed share.
type pairState struct {
	level   float64
	shared  []float64
	delayed []float64
}

func (nz shopNoise) pair(rng *rand.Rand, windows int) pairState {
	return pairState{level: nz.level * rng.NormFloat64(), shared: ar1(rng, windows, nz.shared, nz.rho), delayed: ar1(rng, windows, 1, nz.rho)}
}

// ar1 draws n steps of an AR(1) process with marginal σ sigma.
func ar1(rng *rand.Rand, n int, sigma, rho float64) []float64 {
	out := make([]float64, n)
	innov := math.Sqrt(1 - rho*rho)
	for i := range out {
		e := sigma * rng.NormFloat64()
		if i > 0 {
			e = rho*out[i-1] + innov*e
		}
		out[i] = e
	}
	return out
}

// shopRun simulates one three-minute run: per name, its windows and their
// log latencies. level and shared are the pair's; factor scales a name's
// latencies.
func shopRun(rng *rand.Rand, nz shopNoise, ps pairState, factor map[string]float64, logShape []float64) map[string]sample {
	windows := len(ps.shared)
	drift := ar1(rng, windows, nz.own, nz.rho)
	own := ar1(rng, windows, 1, nz.rho)
	share := make([]float64, windows)
	c := math.Sqrt(nz.sharedDelayed)
	for i := range drift {
		drift[i] += ps.shared[i]
		if nz.delayed > 0 {
			share[i] = min(1, nz.delayed*math.Exp(nz.delayedSD*(c*ps.delayed[i]+math.Sqrt(1-nz.sharedDelayed)*own[i])))
		}
	}
	run := ps.level + nz.run*rng.NormFloat64()
	out := make(map[string]sample, len(shopNames))
	for _, n := range shopNames {
		shift := run + nz.name*rng.NormFloat64()
		if f, ok := factor[n.name]; ok {
			shift += math.Log(f)
		}
		s := sample{windows: make([]Window, windows), lat: make([][]float64, windows)}
		for w := range windows {
			count := poisson(rng, n.rps*10)
			s.windows[w] = Window{Count: count, Scheduled: count, Seconds: 10}
			lat := make([]float64, count)
			for j := range lat {
				x := rng.Float64() * float64(len(logShape)-1)
				k := int(x)
				lat[j] = logShape[k] + (x-float64(k))*(logShape[k+1]-logShape[k]) + shift + drift[w]
				if share[w] > 0 && rng.Float64() < share[w] {
					lat[j] += math.Log1p(nz.delay * math.Exp(nz.delaySD*rng.NormFloat64()))
				}
			}
			s.lat[w] = lat
		}
		out[n.name] = s
	}
	return out
}

// shopOutcome counts what the compare said of simulated pairs: exit 1
// (FAIL, INCONCLUSIVE, MISSING or INVALID), FAIL, and, for the scaled
// names' p95s, how many failed and how many passed.
type shopOutcome struct {
	nonzero, failed, detected, passed, tests int
}

// shopPairs simulates pairs of side-by-side runs of windows 10 s windows
// (the current one with latencies scaled by factor) and compares them.
func shopPairs(t *testing.T, nz shopNoise, windows, pairs int, seed uint64, factor map[string]float64) shopOutcome {
	logShape := make([]float64, len(shopShape))
	for i, v := range shopShape {
		logShape[i] = math.Log(v)
	}
	open := RunInfo{Model: Open}
	var o shopOutcome
	for i := range pairs {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		ps := nz.pair(rng, windows)
		base := shopRun(rng, nz, ps, nil, logShape)
		cur := shopRun(rng, nz, ps, factor, logShape)
		in := Input{Baseline: open, Current: open}
		for _, n := range shopNames {
			bs, cs := compared(base[n.name], cur[n.name], DefaultP95Growth)
			in.Requests = append(in.Requests, Request{Name: n.name, Baseline: bs, Current: cs})
		}
		rep, err := Compare(in)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != Pass && rep.Verdict != Advisory {
			o.nonzero++
		}
		if rep.Verdict == Fail {
			o.failed++
		}
		for _, r := range rep.Results {
			if _, ok := factor[r.Request]; !ok || r.Metric != Latency {
				continue
			}
			o.tests++
			switch r.Verdict {
			case Fail:
				o.detected++
			case Pass:
				o.passed++
			}
		}
	}
	return o
}

// The two regimes of this repository's 2-core machine, shared with other
// work, measured on fourteen pairs of side-by-side runs (docs/STATISTICS.md,
// "Calibration: the shop on this machine"): quiet (twelve pairs) and busy
// (one pair; the last was so stalled that its generator fell behind and
// both runs were invalid).
// TestShopCalibration holds the model to the measurements.
var shopRegimes = []shopNoise{
	{what: "quiet", shared: 0.03, own: 0.01, rho: 0.4, run: 0.025, name: 0.015, level: 0.02},
	{what: "busy", shared: 0.03, own: 0.01, rho: 0.4, run: 0.025, name: 0.015, level: 0.02,
		delayed: 0.05, delayedSD: 1.5, sharedDelayed: 0.98, delay: 0.5, delaySD: 1},
}

// 1,000 same-build pairs of two- and of three-minute runs of the baseline
// workload, in each regime: under 1% FAIL and under 3% exit 1 (FAIL or
// INCONCLUSIVE) — issue 19's budget. TestShopPower shows the low rate is
// not bought by never failing.
func TestShopSameBuildFalseFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("4,000 simulated pairs of runs (-short)")
	}
	for i, nz := range shopRegimes {
		for _, windows := range []int{12, 18} {
			const pairs = 1000
			o := shopPairs(t, nz, windows, pairs, uint64(100+i), nil)
			t.Logf("%s, %d s: %d of %d same-build pairs exit 1 (%.1f%%), %d FAIL", nz.what, 10*windows, o.nonzero, pairs, 100*float64(o.nonzero)/pairs, o.failed)
			if o.failed >= pairs/100 || o.nonzero >= pairs*3/100 {
				t.Errorf("%s, %d s: %d of %d same-build pairs exit 1, %d fail", nz.what, 10*windows, o.nonzero, pairs, o.failed)
			}
		}
	}
}

// Power for three-minute runs: POST /cart's latency scaled by 1.2, 1.5 and
// 2 (its p95 +20%, +50%, +100%), 500 pairs each, per regime. +100% fails
// in nearly every pair.
func TestShopPower(t *testing.T) {
	if testing.Short() {
		t.Skip("3,000 simulated pairs of runs (-short)")
	}
	for i, nz := range shopRegimes {
		var line string
		for _, f := range []float64{1.2, 1.5, 2} {
			const pairs = 500
			o := shopPairs(t, nz, 18, pairs, uint64(200+i), map[string]float64{"POST /cart": f})
			line += fmt.Sprintf("  +%.0f%%: %.1f%%", 100*(f-1), 100*float64(o.detected)/pairs)
			if want := map[string]int{"quiet": 99, "busy": 90}[nz.what]; f == 2 && o.detected < pairs*want/100 {
				t.Errorf("%s: +100%% detected in %d of %d pairs, want %d%%", nz.what, o.detected, pairs, want)
			}
		}
		t.Logf("%s: power%s", nz.what, line)
	}
}

// Issue 19, defect 2: a doubled p95 on one request never passes, at 60 s,
// 2 or 3 minutes, in either regime: it fails or is inconclusive ("run
// longer"). Before, a test too weak to reach significance passed it as
// "not significant" (busy, 2 minutes: 50 of 400 pairs).
func TestShopDoubledP95NeverPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("1,800 simulated pairs of runs (-short)")
	}
	for i, nz := range shopRegimes {
		for _, windows := range []int{6, 12, 18} {
			const pairs = 300
			o := shopPairs(t, nz, windows, pairs, uint64(400+i), map[string]float64{"POST /cart": 2})
			t.Logf("%s, %d s: +100%% on POST /cart: %d FAIL, %d PASS of %d", nz.what, 10*windows, o.detected, o.passed, pairs)
			if o.passed > 0 {
				t.Errorf("%s, %d s: a doubled p95 passed in %d of %d pairs", nz.what, 10*windows, o.passed, pairs)
			}
		}
	}
}

// Issue 19, defect 3: the shop 50% slower on every request fails on every
// request in two-minute runs (quiet regime, the shop's measured one).
// Before, zero-error tests doubled Holm's family, and φ on 4 batches of a
// run left the t-test 3 degrees of freedom: a run with every current
// request above the baseline's p95 could end INCONCLUSIVE
// (TestEveryRequestSlowerDecidesInTwoMinutes has such a pair).
//
// On the busy runner the baseline's p95 sits in a bursty tail of requests
// that waited for a core, so +50% everywhere moves few current requests
// above it: the share test decided 46.5% of these tests and passed 10.5%.
// The bulk test (most current requests beyond the baseline's median
// grown by τ) decides at least 98% and passes at most 0.5%.
func TestShopSlowerEverywhereFailsInTwoMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("600 simulated pairs of runs (-short)")
	}
	all := map[string]float64{}
	for _, n := range shopNames {
		all[n.name] = 1.5
	}
	const pairs = 300
	o := shopPairs(t, shopRegimes[0], 12, pairs, 500, all)
	t.Logf("quiet, 120 s, +50%% everywhere: %d of %d p95 tests fail", o.detected, o.tests)
	if o.detected != o.tests {
		t.Errorf("+50%% on every request: %d of %d p95 tests fail", o.detected, o.tests)
	}
	o = shopPairs(t, shopRegimes[1], 12, pairs, 501, all)
	t.Logf("busy, 120 s, +50%% everywhere: %d of %d p95 tests fail, %d pass", o.detected, o.tests, o.passed)
	if o.detected < o.tests*98/100 || o.passed > o.tests/200 {
		t.Errorf("busy, +50%% on every request: %d of %d p95 tests fail, %d pass", o.detected, o.tests, o.passed)
	}
}

// shopStats are the statistics the regimes are calibrated on, over pairs
// of runs: the median standard deviation of a window's log p95 within a
// run, the median overdispersion φ of the windows' counts of requests
// slower than the run's own p95, the median correlation of window log p95s
// between the two runs of a pair, and the standard deviation of the log
// ratio of the pair's whole-run p95s (per name).
type shopStats struct {
	windowSD, phi, corr, pairSD float64
}

func measureShop(nz shopNoise, pairs int, seed uint64) shopStats {
	logShape := make([]float64, len(shopShape))
	for i, v := range shopShape {
		logShape[i] = math.Log(v)
	}
	var sds, phis, corrs, ratios []float64
	for i := range pairs {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		ps := nz.pair(rng, 18)
		a := shopRun(rng, nz, ps, nil, logShape)
		b := shopRun(rng, nz, ps, nil, logShape)
		for _, n := range shopNames {
			wa, wb := windowLogP95s(a[n.name]), windowLogP95s(b[n.name])
			sds = append(sds, sd(wa))
			corrs = append(corrs, correlation(wa, wb))
			ratios = append(ratios, math.Log(b[n.name].p95()/a[n.name].p95()))
			own := a[n.name].series(a[n.name].p95())
			phi, _, _ := stats.Dispersion(counts(own.Windows, func(w Window) int64 { return w.Slow }))
			phis = append(phis, phi)
		}
	}
	return shopStats{windowSD: medianOf(sds), phi: medianOf(phis), corr: medianOf(corrs), pairSD: sd(ratios)}
}

func windowLogP95s(s sample) []float64 {
	out := make([]float64, len(s.lat))
	for i, l := range s.lat {
		out[i] = math.Log(sample{lat: [][]float64{slices.Clone(l)}}.p95())
	}
	return out
}

func sd(x []float64) float64 {
	var m, ss float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

func correlation(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx, my = mx+x[i], my+y[i]
	}
	mx, my = mx/float64(len(x)), my/float64(len(y))
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// The simulated regimes look like the real runs they were calibrated on:
// each statistic within the range the real pairs showed (quiet: twelve
// pairs; busy: one pair, so its runs may drift apart more than it did —
// the safe side for a false-failure figure, not less).
func TestShopCalibration(t *testing.T) {
	type span struct{ lo, hi float64 }
	want := map[string]struct{ windowSD, phi, corr, pairSD span }{
		// Measured per pair: window sd 0.024–0.066, φ 1.5–6.7, corr
		// 0.54–0.85; pair sd 0.036 over the 60 name-pairs.
		"quiet": {span{0.024, 0.066}, span{1.5, 6.7}, span{0.54, 0.85}, span{0.036, 0.06}},
		// Measured: window sd 0.28, φ 10.1, corr 0.95, pair sd 0.027.
		"busy": {span{0.2, 0.4}, span{7, 14}, span{0.8, 1}, span{0.027, 0.1}},
	}
	for i, nz := range shopRegimes {
		s := measureShop(nz, 200, uint64(300+i))
		t.Logf("%s: window log-p95 sd %.3f, φ %.2f, corr %.2f, pair log-ratio sd %.3f", nz.what, s.windowSD, s.phi, s.corr, s.pairSD)
		w := want[nz.what]
		for _, c := range []struct {
			what string
			v    float64
			in   span
		}{{"window sd", s.windowSD, w.windowSD}, {"φ", s.phi, w.phi}, {"corr", s.corr, w.corr}, {"pair sd", s.pairSD, w.pairSD}} {
			if c.v < c.in.lo || c.v > c.in.hi {
				t.Errorf("%s: %s %.3f outside the measured %.3f–%.3f", nz.what, c.what, c.v, c.in.lo, c.in.hi)
			}
		}
	}
}

// The power curve in docs/STATISTICS.md: per regime, run length and
// effect, the share of the changed names' p95 tests that FAIL (decided),
// and that PASS (the rest are INCONCLUSIVE), over 300 pairs; and the
// same-build pairs that exit 1. Run with -v to see it.
func TestShopPowerCurve(t *testing.T) {
	if testing.Short() {
		t.Skip("10,800 simulated pairs of runs (-short)")
	}
	all := map[string]float64{}
	for _, n := range shopNames {
		all[n.name] = 1.5
	}
	effects := []struct {
		what   string
		factor map[string]float64
	}{
		{"same build", nil},
		{"POST /cart +20%", map[string]float64{"POST /cart": 1.2}},
		{"POST /cart +50%", map[string]float64{"POST /cart": 1.5}},
		{"POST /cart +100%", map[string]float64{"POST /cart": 2}},
		{"every name +50%", all},
	}
	for i, nz := range shopRegimes {
		for _, e := range effects {
			line := fmt.Sprintf("%-5s %-17s", nz.what, e.what)
			for _, windows := range []int{6, 12, 18} {
				const pairs = 300
				o := shopPairs(t, nz, windows, pairs, uint64(600+i), e.factor)
				if e.factor == nil {
					line += fmt.Sprintf(" | %3d s: exit 1 %5.1f%%, FAIL %4.1f%%", 10*windows, 100*float64(o.nonzero)/pairs, 100*float64(o.failed)/pairs)
					continue
				}
				line += fmt.Sprintf(" | %3d s: FAIL %5.1f%%, PASS %4.1f%%", 10*windows, 100*float64(o.detected)/float64(o.tests), 100*float64(o.passed)/float64(o.tests))
				if nz.what == "quiet" && e.factor["GET /"] == 1.5 && windows >= 12 && o.detected != o.tests {
					t.Errorf("quiet, %d s: +50%% everywhere decided in %d of %d tests", 10*windows, o.detected, o.tests)
				}
			}
			t.Log(line)
		}
	}
}

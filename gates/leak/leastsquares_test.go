package leak

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"lab/gates/stats"
)

var fitTraces = flag.Int("fit-traces", 100, "traces per row in TestTheilSenAgainstLeastSquares (docs/STATISTICS.md: 2000)")

// fit is one way to fit the trend of the leak rule: which points, which
// line, which test. Everything else — warm-up, window, blocks, budget,
// tail check — is the rule's.
type fit struct {
	name string
	raw  bool // the judged samples themselves, not the 10 block points
	ols  bool // least squares and its t-test, not Theil–Sen and Mann–Kendall
}

var fits = []fit{
	{"Theil–Sen + Mann–Kendall, 10 blocks", false, false},
	{"least squares + t-test, 10 blocks", false, true},
	{"least squares + t-test, raw 1 Hz samples", true, true},
	{"Theil–Sen + Mann–Kendall, raw 1 Hz samples", true, false},
}

// verdictWith judges samples by the leak rule with the trend fitted as f
// says. Stale blocks get no special treatment here (every fit is plain),
// so the fits differ only in points and estimator; the rule as built is
// Analyze. ok is false when the rule stops before the trend (too short, a
// gap): every fit then says what Analyze says.
func verdictWith(samples []Sample, src Source, b Budget, f fit) (v Verdict, trend bool, ok bool) {
	if validate(samples, src, b) != nil {
		return Inconclusive, false, false
	}
	r := newReport(src)
	a := newAnalysis(samples, src, b, &r)
	if !a.readable() || !a.cutWarmup() || !a.cutWindow() || !a.splitBlocks() {
		return r.Verdict, false, false
	}
	t0 := a.judged[0].At
	var x, y []float64
	if f.raw {
		for _, s := range a.judged {
			x = append(x, (s.At - t0).Seconds())
			y = append(y, s.Bytes)
		}
	} else {
		for _, blk := range r.Blocks {
			x = append(x, (blk.At - t0).Seconds())
			y = append(y, blk.Bytes)
		}
	}
	tail := len(x) / 2 // the last half: 5 of 10 blocks, or the samples of the last half of W
	line := func(x, y []float64) (slope, p float64) {
		if f.ols {
			l, err := stats.LeastSquares(x, y)
			if err != nil {
				panic(err)
			}
			return l.Slope, l.P
		}
		l, err := stats.TheilSen(x, y)
		if err != nil {
			panic(err)
		}
		mk, _ := stats.MannKendall(y)
		return l.Slope, mk.P
	}
	r.Slope, r.P = line(x, y)
	r.TailSlope, _ = line(x[tail:], y[tail:])
	r.Growth, r.PerMinute = r.Slope*r.Window.Seconds(), 60*r.Slope
	r.MaxGrowth, r.MaxGrowthRate = b.MaxGrowth, b.MaxGrowthRate
	if r.MaxGrowth == 0 {
		r.MaxGrowth = max(MaxGrowthFloor, PeakToPeakFactor*peakToPeak(a.judged, r.Blocks))
	}
	decide(&r)
	return r.Verdict, r.P < Alpha, true
}

// fitRates counts, over traces, the verdicts of the rule as built and of
// each fit, and how often each fit's trend test alone was significant.
type fitRates struct {
	n       int
	rule    map[Verdict]int
	verdict []map[Verdict]int
	trend   []int
}

func newFitRates() *fitRates {
	f := &fitRates{rule: map[Verdict]int{}, trend: make([]int, len(fits))}
	for range fits {
		f.verdict = append(f.verdict, map[Verdict]int{})
	}
	return f
}

func (c *fitRates) add(t *testing.T, s []Sample, src Source, b Budget) {
	r, err := Analyze(s, src, b)
	if err != nil {
		t.Fatal(err)
	}
	c.n++
	c.rule[r.Verdict]++
	for i, f := range fits {
		v, trend, ok := verdictWith(s, src, b, f)
		if !ok {
			v = r.Verdict
		}
		c.verdict[i][v]++
		if trend {
			c.trend[i]++
		}
	}
}

func (c *fitRates) pct(k int) string {
	v := 100 * float64(k) / float64(c.n)
	if v > 0 && v < 1 {
		return fmt.Sprintf("%.2f%%", v)
	}
	return fmt.Sprintf("%.1f%%", v)
}

// leaking is a 7-minute run of one of the memory kinds of
// TestPowerAcrossSources, leaking mbPerMin.
func leaking(rng *rand.Rand, kind int, mbPerMin float64) trace {
	lo, hi := 2.0, 12.0
	if kind >= 2 {
		lo, hi = 36, 240
	}
	tr := trace{seconds: 420, rate: 20 + rng.Float64()*480, ramp: rng.Float64() * 30, src: Resident,
		gcKnown: kind%2 == 0, reqKnown: true, base: 150*mb + rng.Float64()*100*mb,
		sawAmp: 20 * mb, sawPeriod: lo + rng.Float64()*(hi-lo), sawPhase: rng.Float64(),
		noise: (0.5 + rng.Float64()*1.5) * mb}
	if kind == 4 {
		tr.src, tr.gcKnown, tr.gcEvery, tr.noise, tr.base = HeapLive, true, 0.3+rng.Float64()*3, (1+rng.Float64()*4)*mb, 20*mb+rng.Float64()*30*mb
	}
	tr.leakPerReq = mbPerMin * mb / 60 / tr.rate
	return tr
}

// TestTheilSenAgainstLeastSquares measures the leak rule with its trend
// fitted four ways on the same traces: Theil–Sen and Mann–Kendall over the
// 10 block points (the rule's fit), least squares and its t-test over the
// same points, and both over the raw 1 Hz samples. Healthy traces are
// TestHealthyTracesNeverFail's (and the same without their step or cache
// fill: a sawtooth and noise only); leaking ones are TestPowerAcrossSources's
// kinds of memory. The table of docs/STATISTICS.md ("Why Theil–Sen and not
// least squares"): go test -run TestTheilSenAgainstLeastSquares -v
// ./gates/leak -fit-traces 2000.
func TestTheilSenAgainstLeastSquares(t *testing.T) {
	if testing.Short() {
		t.Skip("measures four fits on thousands of traces")
	}
	type row struct {
		name  string
		trace func(rng *rand.Rand, seed int) (trace, Budget)
		leaks bool // show FAIL / PASS (caught / missed), else trend p < α / FAIL
	}
	flat := func(rng *rand.Rand, _ int) (trace, Budget) {
		tr, b := healthy(rng)
		tr.cacheFill, tr.step = 0, 0
		return tr, b
	}
	tight := func(gen func(*rand.Rand, int) (trace, Budget)) func(*rand.Rand, int) (trace, Budget) {
		return func(rng *rand.Rand, seed int) (trace, Budget) {
			tr, b := gen(rng, seed)
			b.MaxGrowth = 10 * mb
			return tr, b
		}
	}
	leak := func(rate float64) func(*rand.Rand, int) (trace, Budget) {
		return func(rng *rand.Rand, seed int) (trace, Budget) { return leaking(rng, seed%5, rate), Budget{} }
	}
	rows := []row{
		{"healthy, sawtooth and noise only", flat, false},
		{"healthy, sawtooth and noise only, max_growth 10 MB", tight(flat), false},
		{"healthy, all kinds (steps and cache fills too)", func(rng *rand.Rand, _ int) (trace, Budget) { return healthy(rng) }, false},
		{"4 MB/min, max_growth 10 MB", tight(leak(4)), true},
		{"10 MB/min", leak(10), true},
		{"20 MB/min", leak(20), true},
		{"60 MB/min", leak(60), true},
	}
	head := "| traces: healthy trend p < 0.01 / FAIL; leaking FAIL / PASS | the rule as built |"
	for _, f := range fits {
		head += " " + f.name + " |"
	}
	t.Log(head)
	for k, r := range rows {
		c := newFitRates()
		for seed := 0; seed < *fitTraces; seed++ {
			rng := rand.New(rand.NewPCG(uint64(seed), 79+uint64(k)))
			tr, b := r.trace(rng, seed)
			c.add(t, tr.samples(rng), tr.src, b)
		}
		line := "| " + r.name + " |"
		for i := -1; i < len(fits); i++ {
			fail, pass, trend := c.rule[Fail], c.rule[Pass], "–"
			if i >= 0 {
				fail, pass, trend = c.verdict[i][Fail], c.verdict[i][Pass], c.pct(c.trend[i])
			}
			if r.leaks {
				line += " " + c.pct(fail) + " / " + c.pct(pass) + " |"
			} else {
				line += " " + trend + " / " + c.pct(fail) + " |"
			}
		}
		t.Log(line)
		// What docs/STATISTICS.md concludes from the table.
		const blocksTS, blocksLS, rawLS, rawTS = 0, 1, 2, 3
		switch {
		case !r.leaks && c.rule[Fail] > 0:
			t.Errorf("%s: the rule failed %d healthy traces", r.name, c.rule[Fail])
		case r.leaks && c.rule[Pass] > c.verdict[blocksLS][Pass]:
			t.Errorf("%s: the rule passed %d leaks, least squares over the blocks %d", r.name, c.rule[Pass], c.verdict[blocksLS][Pass])
		case k == 0 && (c.trend[rawLS] <= c.trend[blocksTS] || c.trend[rawTS] <= c.trend[blocksTS]):
			t.Errorf("%s: raw samples should show the sawtooth's autocorrelation as trends more often than the blocks: %v", r.name, c.trend)
		}
	}
}

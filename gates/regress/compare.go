package regress

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"lab/gates/stats"
)

// pending is a result whose verdict waits for the Holm adjustment.
type pending struct {
	res    Result
	decide func(pAdjusted float64) (Verdict, string) // nil: verdict already set
}

// Compare compares every request of the current run with the baseline.
// It returns an error only for malformed input; a comparison that cannot be
// made is an INVALID result saying why.
func Compare(in Input) (Report, error) {
	if err := validate(in); err != nil {
		return Report{}, err
	}
	var pend []pending
	for _, rq := range in.Requests {
		pend = append(pend, compareRequest(rq, in.Current.Model)...)
	}
	if len(pend) == 0 {
		pend = append(pend, pending{res: Result{
			Metric: Presence, Verdict: Invalid, Effect: math.NaN(), Threshold: math.NaN(),
			P: math.NaN(), PAdjusted: math.NaN(),
			Reason: "no request has traffic in either run: nothing to compare",
		}})
	}
	ps := make([]float64, len(pend))
	for i, p := range pend {
		ps[i] = p.res.P
	}
	adjusted := stats.Holm(ps)
	invalid, unlike := runInvalid(in), offeredMismatch(in)
	rep := Report{Verdict: Pass, Results: make([]Result, 0, len(pend))}
	for i, p := range pend {
		r := p.res
		r.PAdjusted = adjusted[i]
		if p.decide != nil {
			r.Verdict, r.Reason = p.decide(r.PAdjusted)
		}
		if invalid != "" {
			r.Verdict, r.Reason = Invalid, invalid+" (measured: "+r.Reason+")"
		} else if unlike != "" && !strings.HasPrefix(r.Reason, "not a like-for-like") {
			r.Verdict, r.Reason = Invalid, unlike+" (measured: "+r.Reason+")"
		}
		if r.Verdict.severity() > rep.Verdict.severity() {
			rep.Verdict = r.Verdict
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// runInvalid says why the two runs cannot be compared at all, or "".
func runInvalid(in Input) string {
	var why []string
	switch {
	case in.Baseline.Saturated && in.Current.Saturated:
		why = append(why, "generator saturated in both runs")
	case in.Baseline.Saturated:
		why = append(why, "generator saturated in the baseline run")
	case in.Current.Saturated:
		why = append(why, "generator saturated in the current run")
	}
	if in.Baseline.Model != in.Current.Model {
		why = append(why, fmt.Sprintf("the baseline used the %v model and the current run the %v model", in.Baseline.Model, in.Current.Model))
	}
	if len(why) == 0 {
		return ""
	}
	return "invalid comparison: " + strings.Join(why, "; ")
}

func newResult(name string, m Metric) Result {
	nan := math.NaN()
	return Result{Request: name, Metric: m, Baseline: nan, Current: nan, Effect: nan, Threshold: nan, P: nan, PAdjusted: nan}
}

func totalCount(s *Series) int64 {
	if s == nil {
		return 0
	}
	var n int64
	for _, w := range s.Windows {
		n += w.Count
	}
	return n
}

func compareRequest(rq Request, model Model) []pending {
	nb, nc := totalCount(rq.Baseline), totalCount(rq.Current)
	switch {
	case nb == 0 && nc == 0:
		return nil
	case nc == 0:
		r := newResult(rq.Name, Presence)
		r.Baseline, r.Current, r.Verdict = float64(nb), 0, Missing
		r.Reason = fmt.Sprintf("sent %d times in the baseline, never completed in the current run", nb)
		return []pending{{res: r}}
	case nb == 0:
		r := newResult(rq.Name, Presence)
		r.Baseline, r.Current, r.Verdict = 0, float64(nc), Advisory
		r.Reason = "new request: no baseline to compare with"
		return []pending{{res: r}}
	}
	th := rq.Thresholds.withDefaults()
	bw, cw, note := prepare(rq.Baseline.Windows, rq.Current.Windows)
	out := []pending{
		latency(rq.Name, bw, cw, th, note),
		throughput(rq, model, bw, cw, th),
		errorRate(rq.Name, bw, cw, th),
	}
	if p, ok := errorClasses(rq.Name, rq.Baseline.ErrorClasses, rq.Current.ErrorClasses); ok {
		out = append(out, p)
	}
	return out
}

// widen returns the effect threshold: the plan's, or 3√2·σ̂ when at least
// MinHistory earlier baseline runs give σ̂ = 1.4826·MAD(log value) and that
// is larger. 3√2·σ̂ is three standard deviations of the difference of two
// runs: below it, two runs of an unchanged build differ that much anyway.
func widen(planned float64, history []float64) (tau float64, note string) {
	if len(history) < MinHistory {
		return planned, ""
	}
	logs := make([]float64, len(history))
	for i, v := range history {
		logs[i] = math.Log(v)
	}
	sigma, err := stats.MAD(logs)
	if err != nil {
		return planned, ""
	}
	w := 3 * math.Sqrt2 * sigma
	if w <= planned {
		return planned, ""
	}
	return w, fmt.Sprintf("widened from %s by %d baseline runs, σ̂ = %s", pct(planned), len(history), pct(sigma))
}

func medianOf(v []float64) float64 {
	m, err := stats.Median(v)
	if err != nil {
		return math.NaN()
	}
	return m
}

func latency(name string, b, c []Window, th Thresholds, note string) pending {
	r := newResult(name, Latency)
	var bv, cv, lb, lc []float64
	for _, w := range b {
		if w.Count > 0 && w.P95 > 0 {
			bv, lb = append(bv, w.P95), append(lb, math.Log(w.P95))
		}
	}
	for _, w := range c {
		if w.Count > 0 && w.P95 > 0 {
			cv, lc = append(cv, w.P95), append(lc, math.Log(w.P95))
		}
	}
	r.Baseline, r.Current = medianOf(bv), medianOf(cv)
	suffix := ""
	if note != "" {
		suffix = "; " + note
	}
	if len(lb) < MinWindows || len(lc) < MinWindows {
		r.Verdict = Invalid
		r.Reason = fmt.Sprintf("too few windows with traffic to compare p95s: %d baseline, %d current, need %d each%s",
			len(lb), len(lc), MinWindows, suffix)
		return pending{res: r}
	}
	tau, widened := widen(th.P95Growth, th.History)
	r.Threshold = tau
	hl, mw, err := shift(lc, lb)
	if err != nil {
		r.Verdict, r.Reason = Invalid, "p95s cannot be compared: "+err.Error()
		return pending{res: r}
	}
	ratio := math.Exp(hl)
	r.Effect, r.P = ratio, mw.P
	grewUS := r.Baseline * (ratio - 1)
	return pending{res: r, decide: func(padj float64) (Verdict, string) {
		desc := fmt.Sprintf("p95 %s → %s (%s, p = %.2g, Holm %.2g, τ = %s", us(r.Baseline), us(r.Current),
			signedPct(ratio-1), r.P, padj, pct(tau))
		if widened != "" {
			desc += ", " + widened
		}
		desc += ")" + suffix
		var why string
		switch {
		case padj >= Alpha:
			why = "not significant"
		case ratio < 1+tau:
			why = "below τ"
		case grewUS < MinLatencyGrowthUS:
			why = fmt.Sprintf("grew %s, under 1 ms", us(grewUS))
		}
		switch {
		case tau > NoisyThreshold && why == "":
			return Advisory, "runner too noisy to judge (τ over 25%); would fail: " + desc
		case tau > NoisyThreshold:
			return Advisory, "runner too noisy to judge (τ over 25%); would pass: " + desc
		case why == "":
			return Fail, "slower: " + desc
		}
		return Pass, why + ": " + desc
	}}
}

// shift returns the Hodges–Lehmann shift of x over y and the one-sided
// Mann–Whitney test that x is larger. Errors come only from values that
// overflowed (a window of a few nanoseconds).
func shift(x, y []float64) (float64, stats.MannWhitneyResult, error) {
	hl, err := stats.HodgesLehmann(x, y)
	if err != nil {
		return 0, stats.MannWhitneyResult{}, err
	}
	mw, err := stats.MannWhitney(x, y)
	return hl, mw, err
}

func throughput(rq Request, model Model, b, c []Window, th Thresholds) pending {
	name := rq.Name
	if model == Open {
		return openThroughput(name, b, c, th, rq.Baseline.Offered, rq.Current.Offered)
	}
	r := newResult(name, Throughput)
	rates := func(ws []Window) (raw, logs []float64) {
		for _, w := range ws {
			// Half a request keeps a stalled window's log finite (and slow).
			v := math.Max(float64(w.Count), 0.5) / w.Seconds
			raw, logs = append(raw, v), append(logs, math.Log(v))
		}
		return raw, logs
	}
	bv, lb := rates(b)
	cv, lc := rates(c)
	r.Baseline, r.Current = medianOf(bv), medianOf(cv)
	if len(lb) < MinWindows || len(lc) < MinWindows {
		r.Verdict = Invalid
		r.Reason = fmt.Sprintf("too few windows to compare req/s: %d baseline, %d current, need %d each", len(lb), len(lc), MinWindows)
		return pending{res: r}
	}
	drop, widened := widen(th.RPSDrop, th.RPSHistory)
	r.Threshold = drop
	hl, mw, err := shift(lb, lc) // baseline larger: current slower
	if err != nil {
		r.Verdict, r.Reason = Invalid, "req/s cannot be compared: "+err.Error()
		return pending{res: r}
	}
	hl = -hl
	ratio := math.Exp(hl)
	r.Effect, r.P = ratio, mw.P
	return pending{res: r, decide: func(padj float64) (Verdict, string) {
		desc := fmt.Sprintf("%.1f → %.1f req/s (%s, p = %.2g, Holm %.2g, allowed drop %s", r.Baseline, r.Current,
			signedPct(ratio-1), r.P, padj, pct(drop))
		if widened != "" {
			desc += ", " + widened
		}
		desc += ")"
		var why string
		switch {
		case padj >= Alpha:
			why = "not significant"
		case ratio > 1-drop:
			why = "within the allowed drop"
		}
		switch {
		case drop > NoisyThreshold && why == "":
			return Advisory, "runner too noisy to judge (threshold over 25%); would fail: " + desc
		case drop > NoisyThreshold:
			return Advisory, "runner too noisy to judge (threshold over 25%); would pass: " + desc
		case why == "":
			return Fail, "throughput dropped: " + desc
		}
		return Pass, why + ": " + desc
	}}
}

func errorRate(name string, b, c []Window, th Thresholds) pending {
	r := newResult(name, ErrorRate)
	props := func(ws []Window) (ps []stats.Proportion, timeouts int64) {
		for _, w := range ws {
			if w.Count > 0 {
				ps = append(ps, stats.Proportion{Events: w.Errors, Trials: w.Count})
			}
			timeouts += w.Timeouts
		}
		return ps, timeouts
	}
	bp, _ := props(b)
	cp, timeouts := props(c)
	pt, err := stats.CompareProportions(bp, cp)
	if err != nil { // unreachable: both runs have traffic and counts were validated
		r.Verdict, r.Reason = Invalid, "error rates cannot be compared: "+err.Error()
		return pending{res: r}
	}
	br, cr := pt.Base.Rate(), pt.Cur.Rate()
	inc := math.Max(th.ErrorRateInc, 0.5*br)
	r.Baseline, r.Current, r.Effect, r.Threshold, r.P = br, cr, cr-br, inc, pt.P
	test := map[string]string{"z": "z-test", "t": "overdispersed t-test", "fisher": "Fisher's exact test"}[pt.Method]
	return pending{res: r, decide: func(padj float64) (Verdict, string) {
		desc := fmt.Sprintf("error rate %s → %s (%d of %d, %d timeouts; %s, φ = %.2g, p = %.2g, Holm %.2g, allowed +%s)",
			pct(br), pct(cr), pt.Cur.Events, pt.Cur.Trials, timeouts, test, pt.Phi, r.P, padj, pct(inc))
		switch {
		case padj >= Alpha:
			return Pass, "not significant: " + desc
		case cr-br < inc:
			return Pass, "within the allowed increase: " + desc
		}
		return Fail, "more errors: " + desc
	}}
}

// errorClasses reports error reasons seen now and never in the baseline;
// ok is false when there are none.
func errorClasses(name string, base, cur map[string]int64) (pending, bool) {
	type class struct {
		name string
		n    int64
	}
	var fresh []class
	for k, n := range cur {
		if n > 0 && base[k] == 0 {
			fresh = append(fresh, class{k, n})
		}
	}
	if len(fresh) == 0 {
		return pending{}, false
	}
	slices.SortFunc(fresh, func(a, b class) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	r := newResult(name, ErrorClasses)
	r.Baseline, r.Threshold = 0, NewClassMinEvents
	var parts []string
	var total int64
	for _, c := range fresh {
		parts = append(parts, fmt.Sprintf("%q ×%d", c.name, c.n))
		total += c.n
	}
	r.Current, r.Effect = float64(total), float64(fresh[0].n)
	list := strings.Join(parts, ", ")
	if fresh[0].n >= NewClassMinEvents {
		r.Verdict, r.Reason = Fail, "new error class: "+list
	} else {
		r.Verdict, r.Reason = Advisory, fmt.Sprintf("new error class below %d events: %s", NewClassMinEvents, list)
	}
	return pending{res: r}, true
}

func us(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "?"
	case a >= 1e6:
		return fmt.Sprintf("%.2f s", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1f ms", v/1e3)
	}
	return fmt.Sprintf("%.0f µs", v)
}

func pct(v float64) string { return fmt.Sprintf("%.3g%%", 100*v) }

func signedPct(v float64) string { return fmt.Sprintf("%+.1f%%", 100*v) }

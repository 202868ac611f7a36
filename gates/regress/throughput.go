package regress

import (
	"fmt"
	"math"

	"lab/gates/stats"
)

// openLoad is one run's traffic of one request, summed over its windows.
type openLoad struct {
	count, offered, unsent int64
	secs                   float64
	phi                    float64 // overdispersion of the window counts (≥ 1)
}

func sumOpen(ws []Window) openLoad {
	var l openLoad
	for _, w := range ws {
		l.count += w.Count
		l.offered += w.Scheduled
		l.unsent += w.Unsent
		l.secs += w.Seconds
	}
	// Pearson's χ² of the window counts around the run's mean rate, per
	// degree of freedom: counts burstier than Poisson widen the test, as
	// errors bursting do in the error-rate test. A shape whose rate changes
	// makes it larger still (the test is then conservative).
	l.phi = 1
	if len(ws) > 1 && l.count > 0 && l.secs > 0 {
		rate := float64(l.count) / l.secs
		chi2 := 0.0
		for _, w := range ws {
			e := rate * w.Seconds
			if e > 0 {
				d := float64(w.Count) - e
				chi2 += d * d / e
			}
		}
		l.phi = math.Max(1, chi2/float64(len(ws)-1))
	}
	return l
}

func (l openLoad) rate() float64        { return float64(l.count) / l.secs }
func (l openLoad) offeredRate() float64 { return float64(l.offered) / l.secs }

// openThroughput compares what a request served in an open-model run with
// what it was offered, and with the baseline (docs/STATISTICS.md,
// "Open-model throughput"). The schedule offers each arrival to the first
// request of its pass, so for such a request:
//
//   - the current run must serve what it was offered: achieved/offered ≥
//     MinAchievedRatio and at most MaxUnsentFraction never sent;
//   - the two runs must have been offered the same load (within
//     OfferedTolerance, beyond Poisson noise), else the comparison is not
//     like for like and cannot pass: a run offered half the load serves
//     half, and would otherwise pass as "100% of offered".
//
// A request offered nothing (it follows another in a pass: its load comes
// from the earlier step's answers), or whose offered load one run did not
// count, is held to the baseline's req/s: it fails when it dropped by the
// threshold or more, significantly (a one-sided test on Poisson counts
// widened by the windows' overdispersion); a drop that large but not
// significant is inconclusive, never a pass.
func openThroughput(name string, b, c []Window, th Thresholds, bOffered, cOffered bool, secs float64) pending {
	r := newResult(name, Throughput)
	bl, cl := sumOpen(b), sumOpen(c)
	r.Baseline, r.Current = bl.rate(), cl.rate()
	drop := th.RPSDrop

	// What the current run was offered and served.
	var fellBehind string
	served := ""
	if cOffered && cl.offered > 0 {
		ratio := float64(cl.count) / float64(cl.offered)
		unsent := float64(cl.unsent) / float64(cl.offered)
		r.Effect, r.Threshold = ratio, MinAchievedRatio
		served = fmt.Sprintf("achieved %.1f of %.1f req/s offered (%s), %d of %d offered never sent (%s)",
			cl.rate(), cl.offeredRate(), pct(ratio), cl.unsent, cl.offered, pct(unsent))
		switch {
		case ratio < MinAchievedRatio:
			fellBehind = "fell behind the offered load: " + served
		case unsent > MaxUnsentFraction:
			fellBehind = "requests went unsent: " + served
		}
	}
	// Like for like: offered the same load in both runs.
	var unlike string
	first := bOffered && cOffered && (bl.offered > 0 || cl.offered > 0)
	if first {
		ob, oc := bl.offeredRate(), cl.offeredRate()
		if offeredDiffer(bl, cl) {
			unlike = fmt.Sprintf("not a like-for-like comparison: the baseline was offered %.1f req/s, the current run %.1f (%s); compare runs of the same shape and rate",
				ob, oc, signedPct(oc/ob-1))
		}
		if fellBehind != "" {
			r.Verdict, r.Reason = Fail, fellBehind
			if unlike != "" {
				r.Reason += "; " + unlike
			}
			return pending{res: r}
		}
		if unlike != "" {
			now := "the current run was offered nothing"
			if served != "" {
				now = served
			}
			r.Verdict, r.Reason = Inconclusive, fmt.Sprintf("%s (%s; baseline achieved %.1f req/s)", unlike, now, bl.rate())
			return pending{res: r}
		}
		r.Verdict = Pass
		r.Reason = fmt.Sprintf("kept up with the offered load, as in the baseline: %s; baseline offered %.1f, achieved %.1f req/s",
			served, ob, bl.rate())
		return pending{res: r}
	}

	// Against the baseline's req/s.
	var note string
	switch {
	case !bOffered && !cOffered:
		note = "; neither run counted its offered load (written before lab did)"
	case !bOffered:
		note = "; the baseline did not count its offered load (written before lab did)"
	case !cOffered:
		note = "; the current run did not count its offered load"
	default:
		note = "; offered nothing itself: it follows another request in a pass"
	}
	ratio := r.Current / r.Baseline
	// The one-sided test that the current run serves less: log ratio of
	// Poisson counts, widened by the windows' overdispersion.
	pOf := func(k, cur float64) float64 {
		se := math.Sqrt(bl.phi/(k*float64(bl.count)) + cl.phi/math.Max(k*cur, 0.5))
		return stats.NormalCDF(math.Log(math.Max(k*cur, 0.5)/(k*float64(bl.count))*bl.secs/cl.secs) / se)
	}
	r.P = pOf(1, float64(cl.count))
	if fellBehind == "" {
		r.Effect, r.Threshold = ratio, drop
	}
	desc := func(padj float64) string {
		d := fmt.Sprintf("%.1f → %.1f req/s (%s, φ = %.2g, p = %.2g, Holm %.2g, allowed drop %s)%s",
			r.Baseline, r.Current, signedPct(ratio-1), math.Max(bl.phi, cl.phi), r.P, padj, pct(drop), note)
		if served != "" {
			d += "; " + served
		}
		return d
	}
	if fellBehind != "" {
		r.Verdict, r.Reason = Fail, fellBehind+"; against the baseline: "+desc(math.NaN())
		return pending{res: r}
	}
	t := &test{fail: "served less than the baseline", small: "within the allowed drop", big: ratio <= 1-drop,
		unsure: true, seconds: secs, desc: desc,
		// The most extreme outcome: the current run served nothing.
		pMin: func(k int) float64 { return pOf(float64(k), 0) }}
	return pending{res: r, test: t}
}

// offeredDiffer tells whether two runs were offered materially different
// loads: by more than OfferedTolerance, and by more than OfferedZ standard
// errors of the log ratio of Poisson counts (the split of arrivals among
// requests is random when the runs' seeds differ).
func offeredDiffer(b, c openLoad) bool {
	if b.offered == 0 || c.offered == 0 {
		return true
	}
	lr := math.Log(c.offeredRate() / b.offeredRate())
	se := math.Sqrt(1/float64(b.offered) + 1/float64(c.offered))
	return math.Abs(lr) > math.Log1p(OfferedTolerance) && math.Abs(lr)/se > OfferedZ
}

// offeredMismatch says why two open-model runs are not comparable like for
// like, or "": the arrivals offered per second over all requests differ
// (offeredDiffer). It needs both runs to have counted their offered load.
func offeredMismatch(in Input) string {
	if in.Baseline.Model != Open || in.Current.Model != Open {
		return ""
	}
	var b, c openLoad
	for _, rq := range in.Requests {
		for _, x := range []struct {
			s *Series
			l *openLoad
		}{{rq.Baseline, &b}, {rq.Current, &c}} {
			if x.s == nil {
				continue
			}
			if !x.s.Offered {
				return ""
			}
			var secs float64
			for _, w := range x.s.Windows {
				x.l.offered += w.Scheduled
				secs += w.Seconds
			}
			x.l.secs = max(x.l.secs, secs) // every request of a run has the same windows
		}
	}
	if b.secs == 0 || c.secs == 0 || (b.offered == 0 && c.offered == 0) || !offeredDiffer(b, c) {
		return ""
	}
	return fmt.Sprintf("not a like-for-like comparison: the baseline was offered %.1f arrivals/s, the current run %.1f (%s); compare runs of the same shape and rate",
		b.offeredRate(), c.offeredRate(), signedPct(c.offeredRate()/b.offeredRate()-1))
}

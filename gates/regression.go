package gates

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"lab/gates/hist"
	"lab/gates/regress"
	"lab/gates/sla"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/result"
)

// Thresholds are the regression block's limits (lang.Regression without
// its baseline path), for `lab compare` without a plan.
type Thresholds struct {
	P95Growth, RPSDrop, ErrorRateInc float64
}

// DefaultThresholds are the plan language's defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{P95Growth: lang.DefaultP95Growth, RPSDrop: lang.DefaultRPSDrop, ErrorRateInc: lang.DefaultErrorRateInc}
}

func thresholdsOf(r *lang.Regression) Thresholds {
	return Thresholds{P95Growth: r.P95Growth, RPSDrop: r.RPSDrop, ErrorRateInc: r.ErrorRateInc}
}

// Compare compares the current run with the baseline, request by request
// (GATES-STATISTICS.md §2): p95 growth, throughput and error rate, each
// with an effect size and a significance test, Holm–Bonferroni across all
// of them. A request of the baseline missing now is reported; a saturated
// generator in either run makes the comparison invalid. Runs without
// per-window histograms (Locust's CSV) are compared on what they have, and
// the verdicts say what could not be.
func Compare(baseline, current *result.Run, th Thresholds) ([]result.Verdict, error) {
	return compare(baseline, current, th, nil, nil)
}

// p95s holds each window's p95 of one run, filled by a scan.
type p95s struct {
	v [][]float64 // per request, per window (NaN: no histogram)
}

func newP95s(run *result.Run) *p95s {
	p := &p95s{v: make([][]float64, len(run.Requests))}
	for i, q := range run.Requests {
		p.v[i] = make([]float64, len(q.Windows))
		for k := range p.v[i] {
			p.v[i][k] = math.NaN()
		}
	}
	return p
}

// hook records a window's p95; each window has its own slot, so the scan's
// goroutines need no lock.
func (p *p95s) hook(req, win int, h *hist.Hist) {
	if h.TotalCount() > 0 {
		p.v[req][win] = float64(h.ValueAtPercentile(95))
	}
}

func scanP95s(run *result.Run) (*p95s, error) {
	p := newP95s(run)
	if err := sla.Scan(run, p.hook); err != nil {
		return nil, err
	}
	return p, nil
}

// compare builds the regress input from the two runs; cur may hold the
// current run's p95s from the SLA gate's scan.
func compare(base, cur *result.Run, th Thresholds, basePs, curPs *p95s) ([]result.Verdict, error) {
	for _, r := range []*result.Run{base, cur} {
		if err := sla.CheckSpan(r); err != nil {
			return nil, err
		}
	}
	var err error
	if basePs == nil {
		if basePs, err = scanP95s(base); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
	}
	if curPs == nil {
		if curPs, err = scanP95s(cur); err != nil {
			return nil, err
		}
	}
	dec := &hist.Decoder{}
	bs, cs := seriesOf(base, basePs, dec), seriesOf(cur, curPs, dec)
	names := slices.Clone(requestNames(base))
	for _, n := range requestNames(cur) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	in := regress.Input{Baseline: runInfo(base), Current: runInfo(cur)}
	for _, n := range names {
		in.Requests = append(in.Requests, regress.Request{Name: n, Baseline: bs[n], Current: cs[n], Thresholds: regress.Thresholds{
			P95Growth: th.P95Growth, RPSDrop: th.RPSDrop, ErrorRateInc: th.ErrorRateInc,
		}})
	}
	rep, err := regress.Compare(in)
	if err != nil {
		return nil, err
	}
	runLevel := runInfo(base).Saturated || runInfo(cur).Saturated || in.Baseline.Model != in.Current.Model
	notes := dataNotes(base, cur)
	out := make([]result.Verdict, 0, len(rep.Results))
	for _, r := range rep.Results {
		out = append(out, regressionVerdict(r, th, cur, runLevel, notes))
	}
	return out, nil
}

func requestNames(run *result.Run) []string {
	out := make([]string, 0, len(run.Requests))
	for _, q := range run.Requests {
		if q.Count > 0 {
			out = append(out, q.Name)
		}
	}
	return out
}

func runInfo(run *result.Run) regress.RunInfo {
	ri := regress.RunInfo{Model: regress.Closed, Saturated: run.Generator.Saturated}
	if run.Model == "open" {
		ri.Model = regress.Open
	}
	return ri
}

// seriesOf turns a run into the regress package's per-request series: one
// window per 10 s slot the run covers at least half of (the edges are
// shorter and noisier), empty slots included so that a stalled window
// counts as zero throughput.
func seriesOf(run *result.Run, ps *p95s, dec *hist.Decoder) map[string]*regress.Series {
	step := int64(run.WindowS)
	if step <= 0 {
		step = 10
	}
	start := float64(run.Start.UnixNano()) / 1e9
	end := float64(run.End.UnixNano()) / 1e9
	first := int64(math.Floor(start)) / step * step
	// Open model: the schedule is per task, not per request name; every
	// name's offered load is its completed requests plus its share of the
	// arrivals that were never sent.
	unsentShare := 0.0
	if run.Model == "open" && run.Generator.Sent > 0 {
		unsentShare = float64(run.Generator.Unsent) / float64(run.Generator.Sent)
	}
	classes := map[string]map[string]int64{}
	for _, f := range run.Failures {
		if classes[f.Name] == nil {
			classes[f.Name] = map[string]int64{}
		}
		classes[f.Name][f.Reason] += f.Count
	}
	out := map[string]*regress.Series{}
	for i, q := range run.Requests {
		if q.Count == 0 {
			continue
		}
		byT := map[int64]int{}
		for k, w := range q.Windows {
			byT[w.T] = k
		}
		s := &regress.Series{ErrorClasses: classes[q.Name]}
		for t := first; float64(t) < end; t += step {
			secs := min(float64(t+step), end) - max(float64(t), start)
			if secs < float64(step)/2 {
				continue
			}
			w := regress.Window{Seconds: secs}
			if k, ok := byT[t]; ok {
				rw := q.Windows[k]
				w.Count, w.Errors, w.Timeouts = rw.Count, rw.Failures, min(rw.Timeouts, rw.Failures)
				if p := ps.v[i][k]; !math.IsNaN(p) {
					w.P95 = p
					w.Hist = &lazyHist{enc: rw.Hist, dec: dec}
				}
			}
			if run.Model == "open" {
				w.Unsent = int64(math.Round(float64(w.Count) * unsentShare))
				w.Scheduled = w.Count + w.Unsent
			}
			s.Windows = append(s.Windows, w)
		}
		out[q.Name] = s
	}
	return out
}

// lazyHist is a window's histogram, decoded only if the compare merges
// sparse windows: a 24-hour run's histograms never all sit in memory.
type lazyHist struct {
	enc string
	dec *hist.Decoder
}

// sparseHist is a decoded (merged) histogram.
type sparseHist struct{ h *hist.Hist }

var (
	_ regress.Hist = (*lazyHist)(nil)
	_ regress.Hist = sparseHist{}
)

func (l *lazyHist) decode() *hist.Hist {
	var h hist.Hist
	if err := l.dec.Decode(l.enc, &h); err != nil {
		// The scan decoded this same histogram before the compare began.
		panic(fmt.Sprintf("gates: a histogram that decoded once no longer does: %v", err))
	}
	return &h
}

func (l *lazyHist) Merge(o regress.Hist) regress.Hist { return sparseHist{l.decode()}.Merge(o) }
func (l *lazyHist) P95() float64                      { return float64(l.decode().ValueAtPercentile(95)) }

func (s sparseHist) Merge(o regress.Hist) regress.Hist {
	m := s.h.Clone()
	switch o := o.(type) {
	case *lazyHist:
		m.Add(o.decode())
	case sparseHist:
		m.Add(o.h)
	default:
		panic(fmt.Sprintf("gates: cannot merge a %T", o))
	}
	return sparseHist{m}
}

func (s sparseHist) P95() float64 { return float64(s.h.ValueAtPercentile(95)) }

// dataNotes says what the runs' data could not support, for the verdicts.
func dataNotes(runs ...*result.Run) string {
	for _, r := range runs {
		if src, _ := r.Extra["source"].(string); src != "" {
			if lim, _ := r.Extra["limits"].(string); lim != "" {
				return lim
			}
		}
	}
	return ""
}

func regressionVerdict(r regress.Result, th Thresholds, cur *result.Run, runLevel bool, notes string) result.Verdict {
	v := result.Verdict{Gate: "regression", Subject: r.Request}
	switch r.Metric {
	case regress.Latency:
		v.Budget = "p95 growth < " + units.FormatRatio(r.Threshold)
		if math.IsNaN(r.Threshold) {
			v.Budget = "p95 growth < " + units.FormatRatio(th.P95Growth)
		}
		v.Measured = fmt.Sprintf("%s → %s", sla.Micros(r.Baseline), sla.Micros(r.Current))
		if !math.IsNaN(r.Effect) {
			v.Measured += fmt.Sprintf(" (%+.1f%%)", 100*(r.Effect-1))
		}
	case regress.Throughput:
		if cur.Model == "open" {
			v.Budget = "achieved ≥ 99% of offered"
			v.Measured = fmt.Sprintf("%s → %s", sla.Rate(r.Baseline), sla.Rate(r.Current))
			if !math.IsNaN(r.Effect) {
				v.Measured += fmt.Sprintf(" (%s of offered)", sla.Ratio(r.Effect))
			}
		} else {
			v.Budget = "req/s drop < " + units.FormatRatio(th.RPSDrop)
			v.Measured = fmt.Sprintf("%s → %s", sla.Rate(r.Baseline), sla.Rate(r.Current))
			if !math.IsNaN(r.Effect) {
				v.Measured += fmt.Sprintf(" (%+.1f%%)", 100*(r.Effect-1))
			}
		}
	case regress.ErrorRate:
		v.Budget = "error rate increase < " + units.FormatRatio(th.ErrorRateInc)
		v.Measured = fmt.Sprintf("%s → %s", sla.Ratio(r.Baseline), sla.Ratio(r.Current))
	case regress.ErrorClasses:
		v.Budget = fmt.Sprintf("no new error class (≥ %d events)", regress.NewClassMinEvents)
		v.Measured = fmt.Sprintf("%.0f new", r.Current)
	case regress.Presence:
		v.Budget = "completed in both runs"
		v.Measured = fmt.Sprintf("%.0f → %.0f requests", r.Baseline, r.Current)
		if r.Request == "" {
			v.Subject = "all requests"
		}
	}
	switch r.Verdict {
	case regress.Pass:
		v.Outcome = Pass
	case regress.Fail:
		v.Outcome = Fail
	case regress.Advisory:
		v.Outcome = Advisory
	case regress.Missing:
		v.Outcome = Missing
	default:
		// A saturated generator or mixed models make the whole comparison
		// invalid; too few windows only means this run cannot tell.
		v.Outcome = Inconclusive
		if runLevel {
			v.Outcome = Invalid
		}
	}
	v.Detail = r.Reason
	if r.Request != "" {
		v.Detail = r.Request + ": " + r.Reason
	}
	if notes != "" && (r.Metric == regress.Latency || r.Metric == regress.Throughput || r.Metric == regress.ErrorRate) {
		v.Detail += " [" + notes + "]"
	}
	return v
}

// noBaseline is the verdict of a regression block whose baseline does not
// exist yet. It is advisory, not a failure: a team adopting the gate stores
// its first run as the baseline, and that run cannot be compared with
// anything; failing it would block the very run that bootstraps the gate.
// The table shows it, so a mistyped path does not go unnoticed.
func noBaseline(r *lang.Regression, why string) result.Verdict {
	if why == "" {
		why = fmt.Sprintf("no baseline run at %s", r.Baseline)
	}
	return result.Verdict{Gate: "regression", Subject: "baseline", Budget: "compare with " + r.Baseline, Measured: "no baseline yet",
		Outcome: Advisory, Detail: why + ": nothing to compare with; store a run there to start comparing (" +
			strings.TrimSpace("cp -r results/<plan>/latest/. "+r.Baseline) + ")"}
}

// Package sla is the SLA gate: it turns each budget of a plan's sla blocks
// into verdicts, on the whole run and, for windowed budgets, on every window
// of the run; its Monitor judges the same windows live and says when an
// abort rule fires.
//
// Latency percentiles always come from merged HDR histograms of the matched
// requests (never from averaged percentiles); the error rate counts every
// failed request, wrong answers included; req/s is requests over the time
// they were counted in. A budget whose requests have no samples fails with
// "no samples": an empty measurement never passes.
//
// Judge builds the gate's result.Verdicts itself, as every gate package
// does (gates/leak and gates/regress were made to: the smaller change).
package sla

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"lab/gates/hist"
	"lab/gates/stats"
	"lab/lang"
	"lab/lang/units"
)

// Kind is what a limit bounds.
type Kind int

const (
	Percentile Kind = iota + 1 // a latency percentile ≤ Value µs
	Max                        // the largest latency ≤ Value µs
	Mean                       // the mean latency ≤ Value µs (avg)
	ErrorRate                  // failures/requests ≤ Value
	MinRPS                     // requests per second ≥ Value
)

// Limit is one limit of an sla block.
type Limit struct {
	Kind  Kind
	Name  string  // as the plan writes it: "p95", "max", "error_rate", "min_rps"
	P     float64 // the percentile, for Percentile
	Value float64 // µs for latency, a fraction for ErrorRate, req/s for MinRPS
	// Significant: over the limit breaches only beyond chance (the plan's
	// breach = "significant"); otherwise a measured value over it does.
	Significant bool
}

// Limits lists the limits of an sla block, in the order the table shows
// them: percentiles (ascending), avg, max, error rate, req/s.
func Limits(s *lang.SLA) []Limit {
	var out []Limit
	defer func() {
		for i := range out {
			out[i].Significant = s.Breach == lang.BreachSignificant
		}
	}()
	for _, p := range s.Percentiles {
		out = append(out, Limit{Kind: Percentile, Name: p.Name, P: p.P, Value: float64(p.Max.Microseconds())})
	}
	if s.Avg > 0 {
		out = append(out, Limit{Kind: Mean, Name: "avg", Value: float64(s.Avg.Microseconds())})
	}
	if s.Max > 0 {
		out = append(out, Limit{Kind: Max, Name: "max", Value: float64(s.Max.Microseconds())})
	}
	if s.ErrorRate != nil {
		out = append(out, Limit{Kind: ErrorRate, Name: "error_rate", Value: *s.ErrorRate})
	}
	if s.MinRPS != nil {
		out = append(out, Limit{Kind: MinRPS, Name: "min_rps", Value: *s.MinRPS})
	}
	return out
}

// Budget prints the limit as the verdict table shows it: "p95 ≤ 500ms".
func (l Limit) Budget() string {
	switch l.Kind {
	case ErrorRate:
		return "error_rate ≤ " + units.FormatRatio(l.Value)
	case MinRPS:
		return "min_rps ≥ " + units.FormatCountRate(l.Value)
	}
	return l.Name + " ≤ " + units.FormatDuration(time.Duration(l.Value)*time.Microsecond)
}

// Format prints a measured value of this limit with its unit.
func (l Limit) Format(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch l.Kind {
	case ErrorRate:
		return Ratio(v)
	case MinRPS:
		return Rate(v)
	}
	return Micros(v)
}

// breached tells whether a measured value is over (or, for MinRPS, under) the limit.
func (l Limit) breached(v float64) bool {
	if l.Kind == MinRPS {
		return v < l.Value
	}
	return v > l.Value
}

// op is the comparison a breach shows: "612ms > 500ms", "3.1/s < 5/s".
func (l Limit) op(breached bool) string {
	switch {
	case l.Kind == MinRPS && breached:
		return "<"
	case l.Kind == MinRPS:
		return "≥"
	case breached:
		return ">"
	}
	return "≤"
}

// Subject is what one set of verdicts is about: one request name, the
// matched names together (aggregate) or every request ("all").
type Subject struct {
	Name  string   // "POST /checkout", "GET /products*", "all"
	Names []string // the request names it covers
}

// Subjects lists what an sla block judges in a run: for "all" and aggregate
// blocks one subject; otherwise one per request name. Names are those the
// plan matched plus those of the run the label matches, so a budget for a
// request the run never sent still gets its "no samples" verdict.
func Subjects(s *lang.SLA, runNames []string) []Subject {
	names := append([]string(nil), s.Matches...)
	for _, n := range runNames {
		if s.Match(n) && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if s.All || s.Aggregate {
		label := s.Label
		if s.All {
			label = "all"
		}
		return []Subject{{Name: label, Names: names}}
	}
	out := make([]Subject, len(names))
	for i, n := range names {
		out[i] = Subject{Name: n, Names: []string{n}}
	}
	return out
}

// Tally is a subject's traffic over a span of time.
type Tally struct {
	Hist     hist.Acc
	Count    int64
	Failures int64
	Seconds  float64 // the span the requests were counted in
}

// Reset empties the tally, keeping its histogram storage.
func (t *Tally) Reset() {
	t.Hist.Reset()
	t.Count, t.Failures, t.Seconds = 0, 0, 0
}

// Alpha is the level of the binomial test a latency-percentile or
// error-rate breach must pass (see Measure).
const Alpha = 0.01

// Measure is one limit measured on a tally.
type Measure struct {
	Value float64 // µs, fraction or req/s; NaN when not measured
	// Over is set when the measured value is beyond the limit; Breached
	// when, besides, the excess cannot be chance (for percentiles and error
	// rates: see Limit.Measure). Over but not Breached is noise.
	Over, Breached bool
	// Excess of N requests were slower than the latency limit, or failed;
	// P is the one-sided binomial p of that many at the budget's rate
	// (NaN where no test applies).
	Excess, N int64
	P         float64
	NoSamples bool // no request to measure
	// NoHist is set for a latency limit on requests that came without a
	// histogram (figures read from Locust's CSV): it cannot be measured.
	NoHist bool
}

// counts tells whether the measure was taken (it has a value to judge).
func (m Measure) counts() bool { return !m.NoSamples && !m.NoHist }

// Measure measures the limit on t. With no requests, every limit is "no
// samples" and breached (a min_rps of zero requests is a plain breach).
//
// A percentile or error rate over its limit is a breach (the default, and
// what a reader of the table expects), and P says how likely chance was:
// "p95 ≤ 500ms" allows 5% of requests over 500 ms and "error_rate ≤ 1%" 1%
// of them failing, so P = P(X ≥ k) for X ~ Binomial(n, allowed share), k
// such requests of n. With Significant, the excess breaches only when
// P < Alpha: one failure in eight requests is 12.5%, but a 5% budget gives
// that much a third of the time; on large runs the test changes nothing
// but the last few per cent.
func (l Limit) Measure(t *Tally) Measure {
	nan := math.NaN()
	if t.Count == 0 {
		if l.Kind == MinRPS && t.Seconds > 0 {
			return Measure{Value: 0, Over: l.Value > 0, Breached: l.Value > 0, P: nan}
		}
		return Measure{Value: nan, Over: true, Breached: true, NoSamples: true, P: nan}
	}
	m := Measure{P: nan}
	switch l.Kind {
	case Percentile, Max, Mean:
		if t.Hist.TotalCount() == 0 {
			return Measure{Value: nan, NoHist: true, P: nan}
		}
		if l.Kind == Mean {
			// The histogram's mean: its buckets are within 0.1%, as its
			// percentiles are.
			m.Value = t.Hist.Mean()
			m.Over = l.breached(m.Value)
			m.Breached = m.Over
			break
		}
		if l.Kind == Max {
			m.Value = float64(t.Hist.Max())
			m.Over = l.breached(m.Value)
			m.Breached = m.Over
			break
		}
		m.Value = float64(t.Hist.ValueAtPercentile(l.P))
		m.Over = l.breached(m.Value)
		m.N = t.Hist.TotalCount()
		m.Excess = t.Hist.CountAbove(int64(l.Value))
		if m.Over {
			m.P = stats.BinomialSurvival(m.Excess, m.N, 1-l.P/100)
			m.Breached = !l.Significant || m.P < Alpha
		}
	case ErrorRate:
		m.Value = float64(t.Failures) / float64(t.Count)
		m.Over = l.breached(m.Value)
		m.Excess, m.N = t.Failures, t.Count
		if m.Over {
			m.P = stats.BinomialSurvival(m.Excess, m.N, l.Value)
			m.Breached = !l.Significant || m.P < Alpha
		}
	case MinRPS:
		m.Value = float64(t.Count) / math.Max(t.Seconds, 1e-3)
		m.Over = l.breached(m.Value)
		m.Breached = m.Over
	}
	return m
}

// noise says why a measure over its limit is not a breach (breach =
// "significant").
func (l Limit) noise(m Measure) string {
	what, allowed := l.excess(m)
	return fmt.Sprintf("but %s is within chance when %s may (binomial p = %.2g ≥ %v): not a breach on this evidence (breach = \"significant\"); a longer run can tell",
		what, allowed, m.P, Alpha)
}

// chance says how likely a breach was by chance alone: how many requests
// were over (or failed), and the binomial p of that many if the true share
// were exactly what the budget allows. "" where no test applies.
func (l Limit) chance(m Measure) string {
	if math.IsNaN(m.P) {
		return ""
	}
	switch {
	case m.P < Alpha:
		return fmt.Sprintf("; beyond chance (binomial p = %.2g)", m.P)
	case l.Significant:
		return ""
	}
	return fmt.Sprintf("; chance alone gives this much with binomial p = %.2g, so a longer run would tell whether it is real (breach = \"significant\" fails only beyond chance)", m.P)
}

func (l Limit) excess(m Measure) (what, allowed string) {
	if l.Kind == ErrorRate {
		return fmt.Sprintf("%s of %s requests failed", count(m.Excess), count(m.N)), Ratio(l.Value)
	}
	return fmt.Sprintf("%s of %s requests over %s", count(m.Excess), count(m.N), l.Format(l.Value)), Ratio(1 - l.P/100)
}

// Micros prints a latency in µs as every table does (units.FormatLatency):
// "850µs", "61.2ms", "1.23s".
func Micros(us float64) string { return units.FormatLatency(us) }

// Ratio prints a fraction as a percentage with up to three significant digits: "0.52%", "12.5%".
func Ratio(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if v == 0 {
		return "0%"
	}
	return sig3(100*v) + "%"
}

// Rate prints requests per second: "182/s", "3.25/s".
func Rate(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return sig3(v) + "/s"
}

func sig3(v float64) string {
	if v == 0 {
		return "0"
	}
	digits := 2 - int(math.Floor(math.Log10(math.Abs(v))))
	if digits < 0 {
		digits = 0
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// clock prints a unix time as the verdicts show it: "20:31:10".
func clock(unix int64) string {
	return time.Unix(unix, 0).UTC().Format("15:04:05")
}

// span prints a span of unix seconds: "20:31:10–20:31:40 UTC".
func span(from, to int64) string {
	return fmt.Sprintf("%s–%s UTC", clock(from), clock(to))
}

package sla

import (
	"fmt"
	"math"
	"strings"
	"time"

	"lab/gates/hist"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/result"
)

// Table holds whole-run latency percentiles for a run that has no
// histograms (read from Locust's CSV): per request name, and under "all"
// for every request together.
type Table struct {
	Source string             // named in verdicts: "Locust's stats.csv"
	Note   string             // what is approximate about the figures
	Rows   map[string][]Point // by name, ascending P; P = 100 is the maximum
}

// Point is one percentile of a Table, in µs.
type Point struct {
	P  float64
	US float64
}

// Options tune Judge.
type Options struct {
	// Hook is also called with every window histogram the windowed
	// budgets' scan decodes — set it to get the regression compare's
	// per-window p95s from the same pass (the scan then decodes every
	// request's windows, windowed budgets or not).
	Hook Hook
	// Table supplies whole-run percentiles where the run has no histograms.
	Table *Table
}

// Judge turns every limit of every sla block into verdicts on the run: one
// per subject and limit, plus one per subject for an abort rule.
func Judge(slas []*lang.SLA, run *result.Run, opt Options) ([]result.Verdict, error) {
	names := make([]string, len(run.Requests))
	index := map[string]int{}
	for i, q := range run.Requests {
		names[i] = q.Name
		index[q.Name] = i
	}
	var specs []*tracker
	for _, s := range slas {
		if s.Window <= 0 {
			continue
		}
		for _, subj := range Subjects(s, names) {
			specs = append(specs, newTracker(s, subj, index))
		}
	}
	var series [][]WindowResult
	if len(specs) > 0 || opt.Hook != nil {
		var err error
		if series, err = scan(run, specs, opt.Hook); err != nil {
			return nil, err
		}
	}
	var out []result.Verdict
	var dec hist.Decoder
	ti := 0
	for _, s := range slas {
		for _, subj := range Subjects(s, names) {
			if s.Window > 0 {
				out = append(out, windowVerdicts(s, subj, series[ti], run, opt.Table)...)
				ti++
				continue
			}
			judge := wholeRun
			if s.Stage > 0 {
				judge = stageRun
			}
			vs, err := judge(s, subj, run, index, &dec, opt.Table)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
	}
	return out, nil
}

// wholeRun judges an unwindowed block's limits for one subject on the whole run.
func wholeRun(s *lang.SLA, subj Subject, run *result.Run, index map[string]int, dec *hist.Decoder, table *Table) ([]result.Verdict, error) {
	var t Tally
	t.Seconds = run.Duration()
	var missing []string
	for _, n := range subj.Names {
		i, ok := index[n]
		if !ok || run.Requests[i].Count == 0 {
			missing = append(missing, n)
			continue
		}
		q := run.Requests[i]
		if err := dec.AddTo(q.Hist, &t.Hist); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		t.Count += q.Count
		t.Failures += q.Failures
	}
	var out []result.Verdict
	for _, l := range Limits(s) {
		m := l.Measure(&t)
		v := result.Verdict{Gate: "sla", Subject: subj.Name, Budget: l.Budget(), Measured: l.Format(m.Value)}
		switch {
		case m.NoSamples:
			v.Outcome = result.OutcomeNoSamples
			v.Detail = noSamples(subj, missing)
		case m.NoHist:
			v.Outcome, v.Measured, v.Detail = fromTable(l, subj, table)
		case m.Breached:
			v.Outcome = result.OutcomeFail
			v.Detail = fmt.Sprintf("%s %s %s %s budget %s%s%s", subj.Name, l.Name, l.Format(m.Value), l.op(true), l.Format(l.Value), about(l, &t, m), l.chance(m))
		case m.Over:
			v.Outcome = result.OutcomeAdvisory
			v.Detail = fmt.Sprintf("%s %s %s %s budget %s, %s", subj.Name, l.Name, l.Format(m.Value), l.op(true), l.Format(l.Value), l.noise(m))
		default:
			v.Outcome = result.OutcomePass
			v.Detail = fmt.Sprintf("%s %s %s %s %s%s", subj.Name, l.Name, l.Format(m.Value), l.op(false), l.Format(l.Value), about(l, &t, m))
		}
		if len(missing) > 0 && len(missing) < len(subj.Names) && v.Outcome != result.OutcomeNoSamples {
			v.Detail += "; no samples of " + strings.Join(missing, ", ")
		}
		out = append(out, v)
	}
	return out, nil
}

// stageRun judges a stage budget's limits for one subject on the windows
// of the run that lie wholly inside the stage's span (k6 tags a
// scenario's requests; lab's are in 10 s windows on the wall clock, so a
// window a stage boundary cuts is left out). A stage that holds no whole
// window cannot be judged: INCONCLUSIVE, never a pass.
func stageRun(s *lang.SLA, subj Subject, run *result.Run, index map[string]int, dec *hist.Decoder, table *Table) ([]result.Verdict, error) {
	end := run.Start.Add(s.StageTo)
	if run.End.Before(end) {
		end = run.End // a run stopped early, or judged while it goes
	}
	from, to := run.Start.Add(s.StageFrom).UnixNano(), end.UnixNano()
	win := int64(max(run.WindowS, 1)) * int64(time.Second)
	inside := func(t int64) bool { return t*int64(time.Second) >= from && t*int64(time.Second)+win <= to }
	var t Tally
	var missing []string
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, n := range subj.Names {
		i, ok := index[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		var got int64
		for _, w := range run.Requests[i].Windows {
			if !inside(w.T) {
				continue
			}
			first, last = min(first, w.T), max(last, w.T)
			if w.Count == 0 {
				continue
			}
			if err := dec.AddTo(w.Hist, &t.Hist); err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			t.Count += w.Count
			t.Failures += w.Failures
			got += w.Count
		}
		if got == 0 {
			missing = append(missing, n)
		}
	}
	stage := " in " + s.StageText()
	var out []result.Verdict
	for _, l := range Limits(s) {
		v := result.Verdict{Gate: "sla", Subject: subj.Name, Budget: l.Budget() + stage}
		if first > last {
			v.Outcome, v.Measured = result.OutcomeInconclusive, "–"
			v.Detail = fmt.Sprintf("%s (%s → %s) holds no whole %d s window of the run: too short, or not reached, to be judged apart", s.StageText(), units.FormatDuration(s.StageFrom), units.FormatDuration(s.StageTo), run.WindowS)
			out = append(out, v)
			continue
		}
		t.Seconds = float64(last-first) + float64(run.WindowS)
		m := l.Measure(&t)
		v.Measured = l.Format(m.Value)
		over := fmt.Sprintf("%s over the windows of %s, %s", subj.Name, s.StageText(), span(first, last+int64(run.WindowS)))
		switch {
		case m.NoSamples:
			v.Outcome = result.OutcomeNoSamples
			v.Detail = noSamples(subj, missing) + " in " + s.StageText()
		case m.NoHist:
			v.Outcome, v.Measured = result.OutcomeInconclusive, "–"
			v.Detail = "the run keeps no window histograms, so " + s.StageText() + " cannot be judged apart"
		case m.Breached:
			v.Outcome = result.OutcomeFail
			v.Detail = fmt.Sprintf("%s: %s %s %s budget %s%s%s", over, l.Name, l.Format(m.Value), l.op(true), l.Format(l.Value), about(l, &t, m), l.chance(m))
		case m.Over:
			v.Outcome = result.OutcomeAdvisory
			v.Detail = fmt.Sprintf("%s: %s %s %s budget %s, %s", over, l.Name, l.Format(m.Value), l.op(true), l.Format(l.Value), l.noise(m))
		default:
			v.Outcome = result.OutcomePass
			v.Detail = fmt.Sprintf("%s: %s %s %s %s%s", over, l.Name, l.Format(m.Value), l.op(false), l.Format(l.Value), about(l, &t, m))
		}
		out = append(out, v)
	}
	return out, nil
}

// about says what a measure was taken over: " (148 of 1,234 requests failed)".
func about(l Limit, t *Tally, m Measure) string {
	switch {
	case l.Kind == Percentile && m.Over:
		return fmt.Sprintf(" (%s of %s requests over %s, where %s may)", count(m.Excess), count(m.N), l.Format(l.Value), Ratio(1-l.P/100))
	}
	switch l.Kind {
	case ErrorRate:
		return fmt.Sprintf(" (%s of %s requests failed)", count(t.Failures), count(t.Count))
	case MinRPS:
		return fmt.Sprintf(" (%s requests in %s)", count(t.Count), seconds(t.Seconds))
	}
	return fmt.Sprintf(" (%s requests)", count(t.Count))
}

func noSamples(subj Subject, missing []string) string {
	if len(subj.Names) == 1 {
		return fmt.Sprintf("%s: no samples — no request of this name completed in the run", subj.Names[0])
	}
	return fmt.Sprintf("%s: no samples — none of %s completed in the run", subj.Name, strings.Join(missing, ", "))
}

// fromTable judges a latency limit from a table of whole-run percentiles.
// A percentile the table has is read as is; one between two columns is
// judged only when both neighbours agree; anything else is inconclusive.
func fromTable(l Limit, subj Subject, table *Table) (outcome, measured, detail string) {
	if l.Kind == Mean {
		// Percentile tables (Locust's CSV) are judged by their columns;
		// their averages are not read.
		return result.OutcomeInconclusive, "–", fmt.Sprintf("%s: the run has no latency histogram for %s, so its avg cannot be measured", subj.Name, strings.Join(subj.Names, ", "))
	}
	if table == nil {
		return result.OutcomeInconclusive, "–", fmt.Sprintf("%s: the run has no latency histogram for %s, so %s cannot be measured", subj.Name, strings.Join(subj.Names, ", "), l.Name)
	}
	key := subj.Name
	if len(subj.Names) == 1 {
		key = subj.Names[0]
	}
	rows, ok := table.Rows[key]
	if !ok {
		return result.OutcomeInconclusive, "–", fmt.Sprintf("%s: %s has one row per request and no histograms; the %s of several requests together cannot be computed from it (percentiles do not average)",
			subj.Name, table.Source, l.Name)
	}
	p := l.P
	if l.Kind == Max {
		p = 100
	}
	note := ""
	if table.Note != "" {
		note = "; " + table.Note
	}
	lo, hi := -1, -1
	for i, pt := range rows {
		if pt.P == p {
			v := pt.US
			if l.breached(v) {
				return result.OutcomeFail, l.Format(v), fmt.Sprintf("%s %s %s > budget %s (%s's %s column%s)", subj.Name, l.Name, l.Format(v), l.Format(l.Value), table.Source, pname(p), note)
			}
			return result.OutcomePass, l.Format(v), fmt.Sprintf("%s %s %s ≤ %s (%s's %s column%s)", subj.Name, l.Name, l.Format(v), l.Format(l.Value), table.Source, pname(p), note)
		}
		if pt.P < p {
			lo = i
		} else if hi < 0 {
			hi = i
		}
	}
	switch {
	case hi >= 0 && !l.breached(rows[hi].US):
		return result.OutcomePass, "≤ " + l.Format(rows[hi].US), fmt.Sprintf("%s %s ≤ %s = %s ≤ %s (%s has no %s column%s)",
			subj.Name, l.Name, pname(rows[hi].P), l.Format(rows[hi].US), l.Format(l.Value), table.Source, l.Name, note)
	case lo >= 0 && l.breached(rows[lo].US):
		return result.OutcomeFail, "≥ " + l.Format(rows[lo].US), fmt.Sprintf("%s %s ≥ %s = %s > budget %s (%s has no %s column%s)",
			subj.Name, l.Name, pname(rows[lo].P), l.Format(rows[lo].US), l.Format(l.Value), table.Source, l.Name, note)
	}
	return result.OutcomeInconclusive, "–", fmt.Sprintf("%s: %s has no %s column and its neighbours straddle the budget %s", subj.Name, table.Source, l.Name, l.Format(l.Value))
}

func pname(p float64) string {
	if p == 100 {
		return "max"
	}
	return "p" + strings.ReplaceAll(fmt.Sprint(p), ".", "_")
}

// windowVerdicts judges a windowed block's limits for one subject over its
// windows, and its abort rule.
func windowVerdicts(s *lang.SLA, subj Subject, ws []WindowResult, run *result.Run, table *Table) []result.Verdict {
	limits := Limits(s)
	per := units.FormatDuration(s.Window) + " window"
	var out []result.Verdict
	judged := 0
	var inWindows int64
	for _, w := range ws {
		if w.Judged {
			judged++
		}
		inWindows += w.Count
	}
	var total int64
	for _, n := range subj.Names {
		if q := run.RequestByName(n); q != nil {
			total += q.Count
		}
	}
	if total > 0 && inWindows == 0 {
		// Requests, but no per-window figures: a run read from Locust's CSV
		// without --csv-full-history.
		why := fmt.Sprintf("%s: the run has %s requests but no per-window figures, so budgets per %s cannot be judged", subj.Name, count(total), per)
		if table != nil {
			why += " (Locust writes per-request rows to stats_history.csv only with --csv-full-history)"
		}
		for _, l := range limits {
			out = append(out, result.Verdict{Gate: "sla", Subject: subj.Name, Budget: l.Budget() + " per " + per, Measured: "–", Outcome: result.OutcomeInconclusive, Detail: why})
		}
		if s.AbortAfter > 0 {
			out = append(out, result.Verdict{Gate: "sla", Subject: subj.Name, Budget: fmt.Sprintf("abort after %d breached %s windows in a row", s.AbortAfter, units.FormatDuration(s.Window)),
				Measured: "–", Outcome: result.OutcomeInconclusive, Detail: why})
		}
		return out
	}
	for li, l := range limits {
		v := result.Verdict{Gate: "sla", Subject: subj.Name, Budget: l.Budget() + " per " + per}
		var worst *WindowResult
		breached, measured, noHist, noise := 0, 0, 0, 0
		for i := range ws {
			w := &ws[i]
			m := w.Measures[li]
			if m.NoHist && w.Count > 0 {
				noHist++
			}
			if !w.Judged || !m.counts() {
				continue
			}
			measured++
			if m.Breached {
				breached++
			} else if m.Over {
				noise++
			}
			if worst == nil || worse(l, m.Value, worst.Measures[li].Value) {
				worst = w
			}
		}
		switch {
		case measured == 0 && noHist > 0:
			v.Outcome, v.Measured = result.OutcomeInconclusive, "–"
			v.Detail = fmt.Sprintf("%s: the run has no per-window latency histograms, so %s per %s cannot be measured", subj.Name, l.Name, per)
		case measured == 0:
			v.Outcome, v.Measured = result.OutcomeNoSamples, "–"
			v.Detail = fmt.Sprintf("%s: no samples — no %s of the run had requests of %s", subj.Name, per, strings.Join(subj.Names, ", "))
		default:
			m := worst.Measures[li]
			v.Measured = l.Format(m.Value)
			desc := fmt.Sprintf("worst %s: %s %s %s %s", span(worst.Start, worst.End), l.Name, l.Format(m.Value), l.op(m.Over), l.Format(l.Value))
			if noise > 0 {
				desc += fmt.Sprintf("; %d window(s) over budget by no more than chance (binomial p ≥ %v) not counted", noise, Alpha)
			}
			if breached > 0 {
				v.Outcome = result.OutcomeFail
				v.Detail = fmt.Sprintf("%s: %d of %d %ss over budget; %s", subj.Name, breached, measured, per, desc)
			} else {
				v.Outcome = result.OutcomePass
				v.Detail = fmt.Sprintf("%s: all %d %ss within budget; %s", subj.Name, measured, per, desc)
			}
			if skipped := len(ws) - judged; skipped > 0 {
				v.Detail += fmt.Sprintf(" (%d partial or empty window(s) not judged)", skipped)
				v.Note = unjudged(subj, l, per, ws)
			}
		}
		out = append(out, v)
	}
	if s.AbortAfter > 0 {
		out = append(out, abortVerdict(s, subj, limits, ws, run))
	}
	return out
}

// unjudged says which windows a windowed budget did not judge: those
// with requests by their span and count, the empty ones by their number.
func unjudged(subj Subject, l Limit, per string, ws []WindowResult) string {
	var with []string
	empty := 0
	for _, w := range ws {
		switch {
		case w.Judged:
		case w.Count > 0:
			with = append(with, fmt.Sprintf("%s (%s requests, %.0f s of the run)", span(w.Start, w.End), count(w.Count), w.Covered))
		default:
			empty++
		}
	}
	if empty > 0 {
		with = append(with, fmt.Sprintf("%d without requests", empty))
	}
	return fmt.Sprintf("%s %s per %s: not judged: %s (a window the run covers less than half of, or with no request)", subj.Name, l.Name, per, strings.Join(with, "; "))
}

// worse tells whether a is a worse measure of l than b.
func worse(l Limit, a, b float64) bool {
	if l.Kind == MinRPS {
		return a < b
	}
	return a > b
}

// abortVerdict judges the abort rule over the windows: the first run of
// AbortAfter consecutive breached windows, as the live monitor would have
// seen it.
func abortVerdict(s *lang.SLA, subj Subject, limits []Limit, ws []WindowResult, run *result.Run) result.Verdict {
	v := result.Verdict{Gate: "sla", Subject: subj.Name,
		Budget: fmt.Sprintf("abort after %d breached %s windows in a row", s.AbortAfter, units.FormatDuration(s.Window))}
	from, to, at, ok := streak(ws, s.AbortAfter)
	if !ok {
		longest, k := 0, 0
		for i, w := range ws {
			if w.Breached() && (k == 0 || ws[i-1].End == w.Start) {
				k++
			} else if w.Breached() {
				k = 1
			} else {
				k = 0
			}
			longest = max(longest, k)
		}
		v.Outcome = result.OutcomePass
		v.Measured = fmt.Sprintf("%d in a row", longest)
		v.Detail = fmt.Sprintf("%s: at most %d breached window(s) in a row", subj.Name, longest)
		return v
	}
	v.Outcome = result.OutcomeFail
	v.Measured = fmt.Sprintf("%d in a row", s.AbortAfter)
	why := AbortReason(s, subj, limits, ws[at], from, to)
	if run.Status == result.Aborted && strings.HasPrefix(run.Reason, fmt.Sprintf("sla %q", s.Label)) {
		v.Detail = "the run was stopped early: " + run.Reason
	} else {
		v.Detail = "an abort rule would have stopped the run at " + clock(to) + ": " + why
	}
	return v
}

// AbortReason is what an abort says: `sla "all": error_rate 12% > 5% in 3
// consecutive 10s windows (20:31:10–20:31:40 UTC)`.
func AbortReason(s *lang.SLA, subj Subject, limits []Limit, last WindowResult, from, to int64) string {
	var parts []string
	for i, l := range limits {
		if m := last.Measures[i]; m.counts() && m.Breached {
			parts = append(parts, fmt.Sprintf("%s %s %s %s", l.Name, l.Format(m.Value), l.op(true), l.Format(l.Value)))
		}
	}
	who := fmt.Sprintf("sla %q", s.Label)
	if subj.Name != s.Label && subj.Name != "all" {
		who += " (" + subj.Name + ")"
	}
	return fmt.Sprintf("%s: %s in %d consecutive %s windows (%s)", who, strings.Join(parts, ", "),
		s.AbortAfter, units.FormatDuration(s.Window), span(from, to))
}

// count prints an integer with thousands separators: "12,345".
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func seconds(s float64) string {
	if s >= 120 {
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.1f s", s)
}

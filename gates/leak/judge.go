package leak

import (
	"fmt"
	"math"
	"strings"
	"time"

	"lab/gates/stats"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/result"
)

// unreadTail is how much of the run's end may pass without a memory
// reading: a reading may take 2 s, and the recording stops as the run ends.
const unreadTail = 10 * time.Second

// Judge is the leak gate's verdict: the leak hunter (docs/STATISTICS.md,
// "Leak hunter") over the run's memory samples with the plan's leak
// budget. No samples is a "no samples" verdict, a run too short or without
// GC cycles an inconclusive one that says how long to run, and so is a run
// whose memory was not read to its end: never a silent pass. How many
// readings failed is always said.
func Judge(l *lang.Leak, run *result.Run) result.Verdict {
	v := result.Verdict{Gate: "leak", Subject: "memory of " + memoryName(l.Memory), Budget: BudgetLabel(l), Measured: "–"}
	if run.Memory == nil || len(run.Memory.Samples) == 0 {
		v.Outcome = result.OutcomeNoSamples
		v.Detail = "no memory samples in this run: the plan has a leak block, but nothing sampled " + memoryName(l.Memory) +
			" (the sampler did not run or could not read it), so a leak cannot be ruled out"
		if run.Memory != nil && run.Memory.Failed > 0 {
			v.Detail += "; " + failedReadings(run.Memory)
		} else if why, _ := run.Extra["memory_error"].(string); why != "" { // runs written before the series said
			v.Detail += "; memory could not be read: " + why
		}
		return v
	}
	note := ""
	if _, err := ParseSource(run.Memory.Kind); err != nil {
		note = fmt.Sprintf("; %q readings judged as resident memory", run.Memory.Kind)
	}
	// The source (a metrics URL, a container) can be long: the table's
	// subject names the kind of memory, and the source gets its own line.
	read := "memory read: " + MemoryKind(run.Memory.Kind) + " of " + memoryName(l.Memory)
	if run.Memory.Kind != "" {
		v.Subject = "memory (" + run.Memory.Kind + ")"
	}
	if run.Memory.Source != "" {
		read = "memory read: " + MemoryKind(run.Memory.Kind) + " of " + run.Memory.Source
	}
	samples := samplesOf(run.Memory)
	rep, err := Fit(l, run)
	if err != nil {
		v.Outcome = result.OutcomeInvalid
		v.Detail = "the memory samples cannot be judged: " + err.Error()
		return v
	}
	v.Measured = measured(rep)
	switch rep.Verdict {
	case Pass:
		v.Outcome = result.OutcomePass
	case Fail:
		v.Outcome = result.OutcomeFail
	default:
		v.Outcome = result.OutcomeInconclusive
	}
	v.Detail = rep.Reason + figures(rep, len(samples)) + perName(rep, run) + note
	v.Note = read
	if rep.Verdict == Pass && rep.Decided != "" {
		v.Note += "; " + rep.Decided
	}
	// Subtleness ahead: the hunter judges the samples it has; a sampler that
	// stopped partway (the target crashed, the engine went away) leaves the
	// end of the run unread, and the end is where a leak is largest.
	last := samples[len(samples)-1].At
	if end := run.End.Sub(run.Start); end-last > unreadTail && v.Outcome == result.OutcomePass {
		v.Outcome = result.OutcomeInconclusive
		v.Detail = fmt.Sprintf("memory was not read after %s of the run: the last %s are unjudged, and a leak there cannot be ruled out — find why the readings failed and run again; what was read: ",
			units.FormatDuration(last.Round(time.Second)), units.FormatDuration((end-last).Round(time.Second))) + v.Detail
	}
	if run.Memory.Failed > 0 {
		v.Detail += "; " + failedReadings(run.Memory)
	}
	if v.Outcome != result.OutcomePass {
		v.Detail = read + ": " + v.Detail
	}
	if v.Outcome == result.OutcomeInconclusive && !strings.Contains(v.Detail, "run again") && !strings.Contains(rep.Reason, "extend the run") &&
		!strings.Contains(rep.Reason, "run for at least") {
		v.Detail += "; extend the run"
	}
	return v
}

// Fit is the leak hunter's analysis of the run's memory samples under
// the plan's leak budget: what Judge judges, and what report.html
// draws (the envelope, the fitted trend, the budget). The run must hold
// samples.
func Fit(l *lang.Leak, run *result.Run) (Report, error) {
	if run.Memory == nil || len(run.Memory.Samples) == 0 {
		return Report{}, fmt.Errorf("no memory samples")
	}
	src, err := ParseSource(run.Memory.Kind)
	if err != nil {
		// A reading of unknown kind is judged as resident memory: the
		// minimum envelope is right for anything with a GC sawtooth.
		src = Resident
	}
	return Analyze(samplesOf(run.Memory), src, Budget{
		Warmup: l.Warmup, Window: l.Window, MaxGrowthRate: l.MaxGrowthRate, MaxGrowth: float64(l.MaxGrowth),
	})
}

func samplesOf(m *result.MemorySeries) []Sample {
	samples := make([]Sample, len(m.Samples))
	for i, s := range m.Samples {
		samples[i] = Sample{At: time.Duration(s.AtS * float64(time.Second)), Bytes: s.Bytes, GCCycles: s.GCCycles, Requests: s.Requests}
	}
	return samples
}

// failedReadings says how many memory readings failed and why the last did.
func failedReadings(m *result.MemorySeries) string {
	s := fmt.Sprintf("%d readings failed", m.Failed)
	if m.Failed == 1 {
		s = "1 reading failed"
	}
	if m.LastError != "" {
		s += " (the last: " + m.LastError + ")"
	}
	return s
}

func memoryName(m lang.MemorySource) string {
	switch m.Kind {
	case lang.MemorySUT:
		return "sut." + m.Name
	case lang.MemoryContainer:
		return fmt.Sprintf("container(%q)", m.Name)
	case lang.MemoryPID:
		return fmt.Sprintf("pid(%d)", m.PID)
	case lang.MemoryCgroup:
		return fmt.Sprintf("cgroup(%q)", m.Path)
	case lang.MemoryMetrics:
		return fmt.Sprintf("metrics(%q, %q)", m.URL, m.Metric)
	}
	return string(m.Kind)
}

// BudgetLabel is the leak block's budget as the verdict and report.html
// name it: "growth ≤ 10MB/min, total ≤ 50MB".
func BudgetLabel(l *lang.Leak) string {
	var parts []string
	if l.MaxGrowthRate > 0 {
		parts = append(parts, "growth ≤ "+units.FormatByteRate(l.MaxGrowthRate))
	}
	if l.MaxGrowth > 0 {
		if len(parts) == 0 {
			parts = append(parts, "total growth ≤ "+units.FormatSize(l.MaxGrowth))
		} else {
			parts = append(parts, "total ≤ "+units.FormatSize(l.MaxGrowth))
		}
	}
	if len(parts) == 0 {
		return "no significant growth"
	}
	return strings.Join(parts, ", ")
}

// measured is the table's cell: both figures the budgets judge, the
// growth rate and the total growth — the fitted growth over the window, or
// for a leak found late (step 7b) the climb's rate and what the envelope
// rose.
func measured(r Report) string {
	if math.IsNaN(r.Slope) {
		return "–"
	}
	rate, total := r.PerMinute, r.Growth
	if r.Late != nil && r.Late.Leak {
		rate, total = 60*r.Late.Rate, r.Rise
	}
	return units.FormatSignedSize(rate, "") + "/min, " + units.FormatSignedSize(total, "")
}

// MemoryKind says what a reading of this kind measures, so that "per
// request" means one thing: the live heap counts what the program keeps;
// resident memory also holds the garbage not yet collected, and under Go's
// default GOGC=100 the heap goal is twice the live heap, so resident memory
// grows about 2× the live growth.
func MemoryKind(kind string) string {
	switch kind {
	case "heap_live":
		return "the Go heap's live bytes (what the program keeps)"
	case "":
		return "memory"
	}
	return kind + " (resident memory: under Go's default GOGC=100 about 2× the live heap's growth)"
}

// figures adds what the hunter's reason leaves out: the samples it
// used, where the warm-up was cut, and the least-squares slope over the
// same blocks for readers who expect one (Theil–Sen's is the one judged).
func figures(r Report, total int) string {
	s := ""
	if !math.IsNaN(r.Rise) && (r.Late == nil || !r.Late.Leak) {
		s = fmt.Sprintf("; memory rose %s from the window's start to its end (the envelope)", units.FormatSignedSize(r.Rise, " "))
	}
	s += fmt.Sprintf("; %d of %d samples used", r.SamplesUsed, total)
	if r.WarmupBy != "" {
		s += fmt.Sprintf(", warm-up cut at %s (%s)", units.FormatDuration(r.WarmupCut.Round(time.Second)), r.WarmupBy)
	}
	if !math.IsNaN(r.LeastSquaresSlope) {
		s += fmt.Sprintf("; least squares over the same blocks: %s/min (shown, not judged: docs/STATISTICS.md)", units.FormatSignedSize(60*r.LeastSquaresSlope, ""))
	}
	return s
}

// perName says what can be said of which request leaks. A leak per
// request of one name can be told from the counts only if the names'
// counts moved differently during the window; under a steady mix they move
// together, a regression on them cannot tell them apart, and dividing the
// growth by each name's rate would give every name "the" leak. So the
// hunter says which request cannot be told, and why, instead of listing
// every name with a figure. (Attributing it for real needs the mix varied
// on purpose: pulses of one request name at a time.)
func perName(r Report, run *result.Run) string {
	if math.IsNaN(r.Slope) || r.Window <= 0 || r.Verdict == Pass {
		return ""
	}
	from := run.Start.Add(r.WarmupCut)
	to := from.Add(r.Window)
	fromS, toS := float64(from.Unix()), float64(to.Unix())
	step := float64(run.WindowS)
	if step <= 0 {
		step = 10
	}
	// counts[name][window]: completions in the windows wholly inside the span.
	var names []string
	var counts [][]float64
	for _, q := range run.Requests {
		var row []float64
		var n float64
		for _, w := range q.Windows {
			if float64(w.T) >= fromS && float64(w.T)+step <= toS {
				row = append(row, float64(w.Count))
				n += float64(w.Count)
			}
		}
		if n > 0 {
			names, counts = append(names, q.Name), append(counts, row)
		}
	}
	switch {
	case len(names) == 0:
		return ""
	case len(names) == 1:
		return "; every request in the window was " + names[0] + ": the leak per request above is per " + names[0]
	}
	p, ok := mixSteady(counts)
	why := "the request names' counts were not recorded per window"
	if ok {
		why = fmt.Sprintf("the mix of the %d request names held steady over the window (χ² test of a varying mix: p = %.2g), so their counts moved together and every name would get the whole growth", len(names), p)
		if p < Alpha {
			why = fmt.Sprintf("the mix of the %d request names varied (χ² p = %.2g), but the hunter does not attribute growth to names from a mix that was not varied on purpose", len(names), p)
		}
	}
	return "; which request leaks cannot be told from this run: " + why + "; to find it, run lab hunt (pulses of one request at a time, docs/STATISTICS.md)"
}

// mixSteady tests whether the names' shares of the completions changed
// from window to window: Pearson's χ² of homogeneity on the names ×
// windows table, its p from the Wilson–Hilferty normal approximation.
// It is false when the table cannot be tested (under two windows).
func mixSteady(counts [][]float64) (p float64, ok bool) {
	k := len(counts[0])
	for _, row := range counts {
		k = min(k, len(row))
	}
	if k < 2 {
		return 0, false
	}
	rowSum, colSum := make([]float64, len(counts)), make([]float64, k)
	var total float64
	for i, row := range counts {
		for j := range k {
			rowSum[i] += row[j]
			colSum[j] += row[j]
			total += row[j]
		}
	}
	var chi2 float64
	for i, row := range counts {
		for j := range k {
			if e := rowSum[i] * colSum[j] / total; e > 0 {
				d := row[j] - e
				chi2 += d * d / e
			}
		}
	}
	df := float64((len(counts) - 1) * (k - 1))
	z := (math.Cbrt(chi2/df) - (1 - 2/(9*df))) / math.Sqrt(2/(9*df))
	return stats.NormalSurvival(z), true
}

package gates

import (
	"fmt"
	"math"
	"strings"
	"time"

	"lab/gates/leak"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/result"
)

// unreadTail is how much of the run's end may pass without a memory
// reading: a reading may take 2 s, and the recording stops as the run ends.
const unreadTail = 10 * time.Second

// LeakVerdict runs the leak hunter (docs/STATISTICS.md, "Leak hunter")
// over the run's memory samples with the plan's leak budget. No samples is a
// "no samples" verdict, a run too short or without GC cycles an
// inconclusive one that says how long to run, and so is a run whose memory
// was not read to its end: never a silent pass. How many readings failed is
// always said.
func LeakVerdict(l *lang.Leak, run *result.Run) result.Verdict {
	v := result.Verdict{Gate: "leak", Subject: "memory of " + memoryName(l.Memory), Budget: leakBudget(l), Measured: "–"}
	if run.Memory == nil || len(run.Memory.Samples) == 0 {
		v.Outcome = NoSamples
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
	if _, err := leak.ParseSource(run.Memory.Kind); err != nil {
		note = fmt.Sprintf("; %q readings judged as resident memory", run.Memory.Kind)
	}
	if run.Memory.Source != "" {
		v.Subject = fmt.Sprintf("memory (%s of %s)", run.Memory.Kind, run.Memory.Source)
	}
	samples := leakSamples(run.Memory)
	rep, err := LeakFit(l, run)
	if err != nil {
		v.Outcome = Invalid
		v.Detail = "the memory samples cannot be judged: " + err.Error()
		return v
	}
	v.Measured = leakMeasured(rep)
	switch rep.Verdict {
	case leak.Pass:
		v.Outcome = Pass
	case leak.Fail:
		v.Outcome = Fail
	default:
		v.Outcome = Inconclusive
	}
	v.Detail = rep.Reason + leakFigures(rep, len(samples)) + perName(rep, run) + note
	// Subtleness ahead: the hunter judges the samples it has; a sampler that
	// stopped partway (the target crashed, the engine went away) leaves the
	// end of the run unread, and the end is where a leak is largest.
	last := samples[len(samples)-1].At
	if end := run.End.Sub(run.Start); end-last > unreadTail && v.Outcome == Pass {
		v.Outcome = Inconclusive
		v.Detail = fmt.Sprintf("memory was not read after %s of the run: the last %s are unjudged, and a leak there cannot be ruled out — find why the readings failed and run again; what was read: ",
			units.FormatDuration(last.Round(time.Second)), units.FormatDuration((end-last).Round(time.Second))) + v.Detail
	}
	if run.Memory.Failed > 0 {
		v.Detail += "; " + failedReadings(run.Memory)
	}
	if v.Outcome == Inconclusive && !strings.Contains(v.Detail, "run again") && !strings.Contains(rep.Reason, "extend the run") &&
		!strings.Contains(rep.Reason, "run for at least") {
		v.Detail += "; extend the run"
	}
	return v
}

// LeakFit is the leak hunter's analysis of the run's memory samples under
// the plan's leak budget: what LeakVerdict judges, and what report.html
// draws (the envelope, the fitted trend, the budget). The run must hold
// samples.
func LeakFit(l *lang.Leak, run *result.Run) (leak.Report, error) {
	if run.Memory == nil || len(run.Memory.Samples) == 0 {
		return leak.Report{}, fmt.Errorf("no memory samples")
	}
	src, err := leak.ParseSource(run.Memory.Kind)
	if err != nil {
		// A reading of unknown kind is judged as resident memory: the
		// minimum envelope is right for anything with a GC sawtooth.
		src = leak.Resident
	}
	return leak.Analyze(leakSamples(run.Memory), src, leak.Budget{
		Warmup: l.Warmup, Window: l.Window, MaxGrowthRate: l.MaxGrowthRate, MaxGrowth: float64(l.MaxGrowth),
	})
}

func leakSamples(m *result.MemorySeries) []leak.Sample {
	samples := make([]leak.Sample, len(m.Samples))
	for i, s := range m.Samples {
		samples[i] = leak.Sample{At: time.Duration(s.AtS * float64(time.Second)), Bytes: s.Bytes, GCCycles: s.GCCycles, Requests: s.Requests}
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

func leakBudget(l *lang.Leak) string {
	var parts []string
	if l.MaxGrowthRate > 0 {
		parts = append(parts, "growth ≤ "+units.FormatByteRate(l.MaxGrowthRate))
	}
	if l.MaxGrowth > 0 {
		parts = append(parts, "≤ "+units.FormatSize(l.MaxGrowth)+" over the window")
	}
	if len(parts) == 0 {
		return "no significant growth"
	}
	return strings.Join(parts, ", ")
}

// leakMeasured is the table's cell: the growth rate, and per request when known.
func leakMeasured(r leak.Report) string {
	if math.IsNaN(r.Slope) {
		return "–"
	}
	s := signedSize(r.PerMinute) + "/min"
	if !math.IsNaN(r.PerRequest) {
		s += ", " + signedSize(r.PerRequest) + "/req"
	}
	return s
}

// leakFigures adds what the hunter's reason leaves out: the samples it
// used, where the warm-up was cut, and the least-squares slope over the
// same blocks for readers who expect one (Theil–Sen's is the one judged).
func leakFigures(r leak.Report, total int) string {
	s := fmt.Sprintf("; %d of %d samples used", r.SamplesUsed, total)
	if r.WarmupBy != "" {
		s += fmt.Sprintf(", warm-up cut at %s (%s)", units.FormatDuration(r.WarmupCut.Round(time.Second)), r.WarmupBy)
	}
	if !math.IsNaN(r.LeastSquaresSlope) {
		s += fmt.Sprintf("; least squares over the same blocks: %s/min (shown, not judged: docs/STATISTICS.md)", signedSize(60*r.LeastSquaresSlope))
	}
	return s
}

// perName lists the leak per request of each request name: the growth
// rate over that name's completion rate in the judged window. The hunter
// cannot know which request leaks; when one does (the shop keeps memory per
// checkout), its line is the leak per such request.
func perName(r leak.Report, run *result.Run) string {
	if math.IsNaN(r.Slope) || r.Window <= 0 {
		return ""
	}
	from := run.Start.Add(r.WarmupCut)
	to := from.Add(r.Window)
	fromS, toS := float64(from.UnixNano())/1e9, float64(to.UnixNano())/1e9
	step := float64(run.WindowS)
	if step <= 0 {
		step = 10
	}
	var parts []string
	for _, q := range run.Requests {
		var n float64
		for _, w := range q.Windows {
			// Windows straddling the span's edges count by their overlap.
			overlap := min(float64(w.T)+step, toS) - max(float64(w.T), fromS)
			if overlap > 0 {
				n += float64(w.Count) * overlap / step
			}
		}
		rate := n / r.Window.Seconds()
		if rate <= 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s … %s) at %.1f/s", q.Name, signedSize(r.Slope/rate),
			signedSize(r.SlopeLower/rate), signedSize(r.SlopeUpper/rate), rate))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; if one request leaks, per such request: " + strings.Join(parts, ", ")
}

// signedSize prints bytes with 1000-based units and a sign: "+50.1KB", "−3.2MB".
func signedSize(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	sign := "+"
	if v < 0 {
		sign = "−"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%s%.2fGB", sign, a/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%s%.1fMB", sign, a/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%s%.1fKB", sign, a/1e3)
	}
	return fmt.Sprintf("%s%.0fB", sign, a)
}

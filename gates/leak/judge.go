package leak

import (
	"fmt"
	"math"
	"strings"
	"time"

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
	if run.Memory.Source != "" {
		v.Subject = fmt.Sprintf("memory (%s of %s)", run.Memory.Kind, run.Memory.Source)
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
// name it: "growth ≤ 10MB/min".
func BudgetLabel(l *lang.Leak) string {
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

// measured is the table's cell: the growth rate, and per request when known.
func measured(r Report) string {
	if math.IsNaN(r.Slope) {
		return "–"
	}
	s := units.FormatSignedSize(r.PerMinute, "") + "/min"
	if !math.IsNaN(r.PerRequest) {
		s += ", " + units.FormatSignedSize(r.PerRequest, "") + "/req"
	}
	return s
}

// figures adds what the hunter's reason leaves out: the samples it
// used, where the warm-up was cut, and the least-squares slope over the
// same blocks for readers who expect one (Theil–Sen's is the one judged).
func figures(r Report, total int) string {
	s := fmt.Sprintf("; %d of %d samples used", r.SamplesUsed, total)
	if r.WarmupBy != "" {
		s += fmt.Sprintf(", warm-up cut at %s (%s)", units.FormatDuration(r.WarmupCut.Round(time.Second)), r.WarmupBy)
	}
	if !math.IsNaN(r.LeastSquaresSlope) {
		s += fmt.Sprintf("; least squares over the same blocks: %s/min (shown, not judged: docs/STATISTICS.md)", units.FormatSignedSize(60*r.LeastSquaresSlope, ""))
	}
	return s
}

// perName lists the leak per request of each request name: the growth
// rate over that name's completion rate in the judged window. The hunter
// cannot know which request leaks; when one does (the shop keeps memory per
// checkout), its line is the leak per such request.
func perName(r Report, run *result.Run) string {
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
		parts = append(parts, fmt.Sprintf("%s %s (%s … %s) at %.1f/s", q.Name, units.FormatSignedSize(r.Slope/rate, ""),
			units.FormatSignedSize(r.SlopeLower/rate, ""), units.FormatSignedSize(r.SlopeUpper/rate, ""), rate))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; if one request leaks, per such request: " + strings.Join(parts, ", ")
}

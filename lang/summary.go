package lang

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"

	"lab/lang/units"
)

// Summary is what `lab plan` prints and writes to generated/<plan>/plan.txt:
// everything the run will do, deterministic and diff-friendly, with no
// timestamps and no map order.
func (p *Plan) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %s (%s)\n", p.Name, p.File)
	p.writeVariables(&b)
	p.writeSUT(&b)
	p.writeWorkload(&b)
	p.writeShapes(&b)
	p.writeBudgets(&b)
	t := p.Topology
	fmt.Fprintf(&b, "\ntopology\n  workers %d, master %s, on worker loss: %s\n", t.Workers, t.Master, t.OnWorkerLoss)
	if len(t.Placement) > 0 {
		fmt.Fprintf(&b, "  workers placed on nodes where %s\n", strings.Join(t.Placement, " and "))
	}
	fmt.Fprintf(&b, "\nseed %d\n", p.Seed)
	if p.Shape != nil {
		fmt.Fprintf(&b, "total duration %s\n", units.FormatDuration(p.Shape.Duration()))
	}
	return trimTrailingSpace(b.String())
}

// trimTrailingSpace drops the padding tabwriter leaves after a last column.
func trimTrailingSpace(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// ValueText prints a variable's value as HCL would write it.
func ValueText(v cty.Value) string {
	if v == cty.NilVal || !v.IsWhollyKnown() {
		return "(unknown)"
	}
	if v.IsNull() {
		return "null"
	}
	if v.Type() == cty.String {
		return fmt.Sprintf("%q", v.AsString())
	}
	return string(appendText(nil, v))
}

func (p *Plan) writeVariables(b *strings.Builder) {
	if len(p.Vars) == 0 {
		return
	}
	b.WriteString("\nvariables\n")
	tw := table(b)
	for _, v := range p.Vars {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", v.Name, v.Text(), typeexpr.TypeString(v.Type), v.Source)
	}
	tw.Flush()
}

func (p *Plan) writeSUT(b *strings.Builder) {
	if p.SUT == nil {
		return
	}
	fmt.Fprintf(b, "\nshop %q (the bundled shop, started before the run and stopped after)\n", p.SUT.Name)
	tw := table(b)
	fmt.Fprintf(tw, "  listen\t%s\n", p.SUT.Listen)
	for _, k := range p.SUT.Knobs {
		if k.Name == "listen" {
			continue
		}
		text := k.Text
		if k.Name == "admin_token" {
			text = "(set)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", k.Name, text)
	}
	tw.Flush()
}

// WaitText describes a wait: "between 1s and 3s".
func WaitText(w Wait) string {
	switch w.Kind {
	case WaitConstant:
		return "constant " + units.FormatDuration(w.Min)
	case WaitBetween:
		return fmt.Sprintf("between %s and %s", units.FormatDuration(w.Min), units.FormatDuration(w.Max))
	case WaitPacing:
		return "a pass every " + units.FormatDuration(w.Min)
	}
	return "none"
}

func pct(part, whole float64) string {
	if whole == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", 100*part/whole)
}

func (p *Plan) writeWorkload(b *strings.Builder) {
	w := p.Workload
	if w == nil {
		return
	}
	fmt.Fprintf(b, "\nworkload %q from %s\n", w.Name, w.Source)
	tw := table(b)
	fmt.Fprintf(tw, "  host\t%s\n", w.Host)
	fmt.Fprintf(tw, "  timeout\t%s\n", units.FormatDuration(w.Timeout))
	if w.MaxConnections > 0 {
		fmt.Fprintf(tw, "  max_connections\t%d\n", w.MaxConnections)
	} else {
		fmt.Fprintf(tw, "  max_connections\tas many as the load needs\n")
	}
	for _, h := range w.Headers {
		fmt.Fprintf(tw, "  header\t%s: %s\n", h.Key, h.Text())
	}
	if w.Cookies != CookiesNone {
		fmt.Fprintf(tw, "  cookies\t%s\n", cookieText(w.Cookies))
	}
	if w.Redirects > 0 {
		fmt.Fprintf(tw, "  redirects\tfollowed, up to %d\n", w.Redirects)
	}
	if w.InsecureSkipVerify {
		fmt.Fprintf(tw, "  tls\tany certificate accepted (insecure_skip_verify)\n")
	}
	tw.Flush()
	writeSteps(b, "  setup, once before the load (outside the statistics)", "    ", w.Setup)
	writeSteps(b, "  teardown, once after the load", "    ", w.Teardown)

	totalWeight := 0
	for _, u := range w.Users {
		totalWeight += u.Weight
	}
	b.WriteString("\n  user mix\n")
	tw = table(b)
	for _, u := range w.Users {
		jar := ""
		if u.Cookies != w.Cookies {
			jar = "\tcookies " + cookieText(u.Cookies)
		}
		if u.Target != nil {
			jar += "\thost " + u.Target.Host
		}
		fmt.Fprintf(tw, "    %s\t%s of users\twait %s%s\n", u.Name, pct(float64(u.Weight), float64(totalWeight)), WaitText(u.Wait), jar)
		tw.Flush()
		startTitle := "      start, once per user (its captures last the user's life"
		if len(u.StartPass) > 0 {
			var names []string
			for _, p := range u.StartPass {
				names = append(names, p.Name)
			}
			startTitle += "; draws " + strings.Join(names, ", ")
		}
		if u.StartGoOn {
			startTitle += "; a failed step does not stop it"
		} else {
			startTitle += "; tried again after a failed step"
		}
		writeSteps(b, startTitle+")", "        ", u.Start)
		tt := table(b)
		tasks := u.TaskWeight()
		for _, t := range u.Tasks {
			if !t.Sequence {
				fmt.Fprintf(tt, "      task %s\t%s of passes\t%s%s%s\n", t.Name, pct(float64(t.Weight), float64(tasks)), t.Steps[0].Name, requestNotes(t.Steps[0]), passText(t))
				continue
			}
			onFail := "a failed step ends the pass"
			if t.GoOn {
				onFail = "a failed step does not end the pass"
			}
			steps := fmt.Sprintf("%d steps", len(t.Steps))
			if len(t.Steps) == 1 {
				steps = "1 step"
			}
			fmt.Fprintf(tt, "      sequence %s\t%s of passes\t%s, in order; %s%s\n", t.Name, pct(float64(t.Weight), float64(tasks)), steps, onFail, passText(t))
			tt.Flush()
			st := table(b)
			for i, r := range t.Steps {
				think := ""
				if r.Think.Kind != WaitNone {
					think = ", think " + WaitText(r.Think)
				}
				if r.Batch > 0 {
					fmt.Fprintf(st, "        batch\t%d steps sent at once, the pass waits for all%s\n", r.Batch, think)
					think = ""
				}
				marker := ""
				if r.InBatch {
					marker = "  "
				}
				fmt.Fprintf(st, "        %s%d. %s\t%s%s%s\n", marker, i+1, r.Step, r.Name, requestNotes(r), think)
			}
			st.Flush()
		}
		tt.Flush()
	}

	shares, basis := p.RequestShares()
	if usesWhenOrRepeat(w) {
		basis += "; before when and repeat"
	}
	fmt.Fprintf(b, "\n  share of requests (%s)\n", basis)
	tw = table(b)
	var total float64
	for _, s := range shares {
		total += s
	}
	for _, name := range w.Requests {
		fmt.Fprintf(tw, "    %s\t%s\n", name, pct(shares[name], total))
	}
	tw.Flush()
}

// requestNotes lists what a request checks and captures, briefly.
func requestNotes(r *Request) string {
	var notes []string
	if r.Body != nil {
		switch r.Body.Kind {
		case BodyJSON:
			notes = append(notes, "json body")
		case BodyForm:
			notes = append(notes, "form body")
		case BodyRaw:
			notes = append(notes, "raw body")
		case BodyMultipart:
			notes = append(notes, "multipart body")
		}
	}
	e := r.Expect
	var checks []string
	if len(e.Status) > 0 {
		s := make([]string, len(e.Status))
		for i, c := range e.Status {
			s[i] = fmt.Sprint(c)
		}
		checks = append(checks, "status "+strings.Join(s, "|"))
	}
	for _, jp := range e.JSONPresent {
		checks = append(checks, "json has "+jp.Text)
	}
	for _, je := range e.JSONEquals {
		checks = append(checks, fmt.Sprintf("json %s = %s", je.Path.Text, je.JSON))
	}
	for _, s := range e.BodyContains {
		checks = append(checks, fmt.Sprintf("body contains %q", s))
	}
	if e.MaxLatency > 0 {
		checks = append(checks, "latency ≤ "+units.FormatDuration(e.MaxLatency))
	}
	if len(checks) > 0 {
		notes = append(notes, "expects "+strings.Join(checks, ", "))
	}
	if len(r.Captures) > 0 {
		var names []string
		for _, c := range r.Captures {
			names = append(names, c.Name)
		}
		what := "captures "
		if r.CaptureFailed {
			what = "captures (from a failed answer too) "
		}
		notes = append(notes, what+strings.Join(names, ", "))
	}
	if r.Timeout != DefaultTimeout {
		notes = append(notes, "timeout "+units.FormatDuration(r.Timeout))
	}
	if r.Repeat != nil {
		notes = append(notes, "repeat "+strings.TrimSpace(r.Repeat.Source()))
	}
	if r.When != nil {
		notes = append(notes, "when "+strings.TrimSpace(r.When.Source()))
	}
	if r.Target != nil {
		notes = append(notes, "to "+r.Target.Host)
	}
	if len(r.DropCookies) > 0 {
		notes = append(notes, "drops cookies "+strings.Join(r.DropCookies, ", "))
	}
	if r.Redirects == 1 {
		notes = append(notes, "follows a redirect")
	} else if r.Redirects > 1 {
		notes = append(notes, fmt.Sprintf("follows up to %d redirects", r.Redirects))
	}
	if len(e.Headers)+len(e.Cookies)+len(e.That) > 0 {
		var more []string
		for _, h := range e.Headers {
			more = append(more, h.Name+": "+h.Value)
		}
		for _, c := range e.Cookies {
			more = append(more, "sets cookie "+c)
		}
		for _, v := range e.That {
			more = append(more, strings.TrimSpace(v.Source()))
		}
		notes = append(notes, "expects that "+strings.Join(more, ", "))
	}
	if len(notes) == 0 {
		return ""
	}
	return "  (" + strings.Join(notes, "; ") + ")"
}

// RequestShares estimates each request name's share of all requests, and
// says on what basis: in a closed model a class's users send at the pace of
// their waits (responses assumed fast next to them); in an open model
// arrivals split by weight alone.
func (p *Plan) RequestShares() (map[string]float64, string) {
	shares := map[string]float64{}
	w := p.Workload
	closed := p.Shape == nil || p.Shape.Model == Closed
	basis := "arrivals split by weight"
	paced := closed
	if closed {
		basis = "per second, with responses fast next to the waits"
		for _, u := range w.Users {
			if passTime(u) == 0 {
				paced = false
				basis = "per pass: a user class has no wait, so its pace depends on latency"
			}
		}
	}
	totalWeight := 0
	for _, u := range w.Users {
		totalWeight += u.Weight
	}
	for _, u := range w.Users {
		share := float64(u.Weight) / float64(totalWeight)
		if paced {
			share /= passTime(u).Seconds()
		}
		tw := float64(u.TaskWeight())
		for _, t := range u.Tasks {
			for _, r := range t.Steps {
				shares[r.Name] += share * float64(t.Weight) / tw
			}
		}
	}
	return shares, basis
}

// passTime is a pass's mean length when responses take no time.
func passTime(u *UserClass) time.Duration {
	d := u.Wait.Mean()
	tw := u.TaskWeight()
	for _, t := range u.Tasks {
		for _, r := range t.Steps {
			d += time.Duration(float64(r.Think.Mean()) * float64(t.Weight) / float64(tw))
		}
	}
	return d
}

// StageText describes a stage's target.
func StageText(st Stage, model Model) string {
	if model == Open {
		s := units.FormatCountRate(st.Rate) + " arrivals"
		if st.Ramp {
			s = "ramp to " + s
		}
		return s
	}
	s := fmt.Sprintf("%d users", st.Users)
	if st.SpawnRate > 0 {
		s += ", spawn " + trimFloat(roundTo(st.SpawnRate, 3)) + "/s"
	} else {
		s += ", at once"
	}
	return s
}

func roundTo(f float64, digits int) float64 {
	var scale float64 = 1
	for i := 0; i < digits; i++ {
		scale *= 10
	}
	return float64(int64(f*scale+0.5)) / scale
}

// writeShapes prints the shape that runs in full, and the others a line
// each: a plan reading a shared shapes file holds several.
func (p *Plan) writeShapes(b *strings.Builder) {
	if s := p.Shape; s != nil {
		scaled := ""
		if s.Scale != 1 {
			scaled = fmt.Sprintf(", stages scaled ×%s from the written times", trimFloat(roundTo(s.Scale, 4)))
		}
		picked := "picked by " + p.ShapeFrom
		if p.ShapeFrom == "only shape" {
			picked = "the plan's only shape"
		}
		fmt.Fprintf(b, "\nshape %q (%s model, %s%s; %s)\n", s.Name, s.Model, units.FormatDuration(s.Duration()), scaled, picked)
		tw := table(b)
		for i, st := range s.Stages {
			fmt.Fprintf(tw, "  stage %d\t%s → %s\t%s\n", i+1, units.FormatDuration(st.Start), units.FormatDuration(st.End), StageText(st, s.Model))
		}
		if s.Model == Open {
			fmt.Fprintf(tw, "  max in flight\t%d\t\n", s.MaxInFlight)
		}
		tw.Flush()
		if s.Iterations > 0 {
			fmt.Fprintf(b, "  iterations: %d passes per user, then it stops; the run ends when every user has\n", s.Iterations)
		}
		if s.SharedIterations > 0 {
			fmt.Fprintf(b, "  shared iterations: %d passes between all users; the run ends when they are done\n", s.SharedIterations)
		}
	}
	if len(p.Shapes) < 2 {
		return
	}
	b.WriteString("\nother shapes (--shape NAME or LAB_SHAPE=NAME runs one instead)\n")
	tw := table(b)
	for _, s := range p.Shapes {
		if s == p.Shape {
			continue
		}
		stages := "1 stage"
		if n := len(s.Stages); n != 1 {
			stages = fmt.Sprintf("%d stages", n)
		}
		fmt.Fprintf(tw, "  %s\t%s model, %s, %s, %s\n", s.Name, s.Model, units.FormatDuration(s.Duration()), stages, peakText(s))
	}
	tw.Flush()
}

// peakText is a shape's highest load: "up to 400 users", "up to 800/s".
func peakText(s *Shape) string {
	if s.Model == Open {
		peak := 0.0
		for _, st := range s.Stages {
			peak = max(peak, st.Rate)
		}
		return "up to " + units.FormatCountRate(peak)
	}
	peak := 0
	for _, st := range s.Stages {
		peak = max(peak, st.Users)
	}
	return fmt.Sprintf("up to %d users", peak)
}

// BudgetLines describes an SLA's limits, one per line: "p95 ≤ 200ms".
func (s *SLA) BudgetLines() []string {
	var out []string
	for _, pb := range s.Percentiles {
		out = append(out, fmt.Sprintf("%s ≤ %s", pb.Name, units.FormatDuration(pb.Max)))
	}
	if s.Avg > 0 {
		out = append(out, "avg ≤ "+units.FormatDuration(s.Avg))
	}
	if s.Max > 0 {
		out = append(out, "max ≤ "+units.FormatDuration(s.Max))
	}
	if s.ErrorRate != nil {
		out = append(out, "error_rate ≤ "+units.FormatRatio(*s.ErrorRate))
	}
	if s.MinRPS != nil {
		out = append(out, "min_rps ≥ "+units.FormatCountRate(*s.MinRPS))
	}
	return out
}

func (p *Plan) writeBudgets(b *strings.Builder) {
	b.WriteString("\nbudgets\n")
	if len(p.SLAs) == 0 && p.Leak == nil && p.Regression == nil && !p.measureBudgets() {
		b.WriteString("  none: the run is judged on nothing but completing\n")
		return
	}
	for _, s := range p.SLAs {
		scope := "each of"
		if s.Aggregate {
			scope = "together:"
		}
		if s.All {
			scope = "all requests together"
		}
		fmt.Fprintf(b, "  sla %q", s.Label)
		if s.Stage > 0 {
			fmt.Fprintf(b, " in %s only (%s → %s)", s.StageText(), units.FormatDuration(s.StageFrom), units.FormatDuration(s.StageTo))
		}
		if s.All {
			fmt.Fprintf(b, " (%s)\n", scope)
		} else if len(s.Matches) == 1 && s.Matches[0] == s.Label {
			b.WriteString("\n")
		} else {
			fmt.Fprintf(b, " (%s %s)\n", scope, strings.Join(s.Matches, ", "))
		}
		for _, line := range s.BudgetLines() {
			fmt.Fprintf(b, "    %s\n", line)
		}
		if s.Breach == BreachSignificant {
			b.WriteString("    over budget fails only beyond chance (binomial p < 0.01); otherwise advisory\n")
		}
		if s.Window > 0 {
			fmt.Fprintf(b, "    also judged per %s window", units.FormatDuration(s.Window))
			if s.AbortAfter > 0 {
				fmt.Fprintf(b, "; the run aborts after %d breached windows in a row", s.AbortAfter)
			}
			b.WriteString("\n")
		}
	}
	for _, m := range p.Measures {
		if !m.Budgeted {
			continue
		}
		fmt.Fprintf(b, "  measure %q (a number from each answer)\n", m.Name)
		for _, l := range m.Percentiles {
			fmt.Fprintf(b, "    %s ≤ %s\n", l.Name, m.Text(l.Max))
		}
		if m.Avg != nil {
			fmt.Fprintf(b, "    avg ≤ %s\n", m.Text(*m.Avg))
		}
		if m.Max != nil {
			fmt.Fprintf(b, "    max ≤ %s\n", m.Text(*m.Max))
		}
		if m.Min != nil {
			fmt.Fprintf(b, "    min ≥ %s\n", m.Text(*m.Min))
		}
	}
	if l := p.Leak; l != nil {
		fmt.Fprintf(b, "  leak (memory of %s)\n", MemoryText(l.Memory))
		if l.Warmup > 0 {
			fmt.Fprintf(b, "    warm-up at least %s\n", units.FormatDuration(l.Warmup))
		}
		if l.Window > 0 {
			fmt.Fprintf(b, "    window at least %s (all of the run after the warm-up is judged)\n", units.FormatDuration(l.Window))
		}
		if l.MaxGrowthRate > 0 {
			fmt.Fprintf(b, "    growth rate ≤ %s\n", units.FormatByteRate(l.MaxGrowthRate))
		}
		if l.MaxGrowth > 0 {
			fmt.Fprintf(b, "    total growth ≤ %s\n", units.FormatSize(l.MaxGrowth))
		}
	}
	if r := p.Regression; r != nil {
		fmt.Fprintf(b, "  regression against %s\n", r.Baseline)
		fmt.Fprintf(b, "    p95 growth ≤ %s\n    rps drop ≤ %s\n    error rate increase ≤ %s\n",
			units.FormatRatio(r.P95Growth), units.FormatRatio(r.RPSDrop), units.FormatRatio(r.ErrorRateInc))
	}
}

// measureBudgets tells whether a measure block sets budgets.
func (p *Plan) measureBudgets() bool {
	for _, m := range p.Measures {
		if m.Budgeted {
			return true
		}
	}
	return false
}

// MemoryText describes a memory source: `sut "shop"`, `pid 1234`.
func MemoryText(m MemorySource) string {
	switch m.Kind {
	case MemorySUT:
		return fmt.Sprintf("shop %q", m.Name)
	case MemoryPID:
		return fmt.Sprintf("pid %d", m.PID)
	case MemoryCgroup:
		return "cgroup " + m.Path
	case MemoryContainer:
		return "container " + m.Name
	case MemoryMetrics:
		return fmt.Sprintf("%s at %s", m.Metric, m.URL)
	}
	return string(m.Kind)
}

// trimFloat prints a float without trailing zeros: 0.5, 10, 0.002.
func trimFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func cookieText(m CookieMode) string {
	switch m {
	case CookiesPass:
		return "a jar per pass"
	case CookiesUser:
		return "a jar per user, for its life"
	}
	return "none kept"
}

// passText names a task's pass values.
func passText(t *Task) string {
	if len(t.Pass) == 0 {
		return ""
	}
	var names []string
	for _, p := range t.Pass {
		names = append(names, p.Name)
	}
	return "; draws " + strings.Join(names, ", ") + " per pass"
}

// writeSteps lists steps sent once (a setup, a teardown, a user's start).
func writeSteps(b *strings.Builder, title, indent string, steps []*Request) {
	if len(steps) == 0 {
		return
	}
	b.WriteString(title + "\n")
	st := table(b)
	for i, r := range steps {
		fmt.Fprintf(st, "%s%d. %s\t%s%s\n", indent, i+1, r.Step, r.Name, requestNotes(r))
	}
	st.Flush()
}

// usesWhenOrRepeat tells whether any request of w is conditional or
// repeated: the estimated shares do not count either.
func usesWhenOrRepeat(w *Workload) bool {
	for _, u := range w.Users {
		for _, t := range u.Tasks {
			for _, r := range t.Steps {
				if r.When != nil || r.Repeat != nil {
					return true
				}
			}
		}
	}
	return false
}

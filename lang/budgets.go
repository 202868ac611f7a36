package lang

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"lab/lang/units"
)

// StatsWindow is the length of the windows the runtime keeps histograms
// for; SLA windows are whole multiples of it.
const StatsWindow = 10 * time.Second

// slaFixedAttrs are the SLA attributes besides percentiles (p50, p99_9, …).
var slaFixedAttrs = []string{"avg", "max", "error_rate", "min_rps", "window", "abort_after", "aggregate", "breach", "stage"}

var percentileName = regexp.MustCompile(`^p([0-9]{1,2})(?:_([0-9]+))?$`)

// SLAAttributeNames lists what an sla block may set, for the reference.
func SLAAttributeNames() []string {
	return append([]string{"p50", "p90", "p95", "p99", "p99_9"}, slaFixedAttrs...)
}

// parsePercentile reads "p95" as 95 and "p99_9" as 99.9.
func parsePercentile(name string) (float64, bool) {
	m := percentileName.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	s := m[1]
	if m[2] != "" {
		s += "." + m[2]
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || p <= 0 || p >= 100 {
		return 0, false
	}
	return p, true
}

func (d *decoder) decodeSLAs(raws []*rawSLA, w *Workload, breach Breach, shape *Shape) []*SLA {
	type key struct {
		label string
		stage int
	}
	seen := map[key]hcl.Range{}
	var out []*SLA
	for _, rs := range raws {
		s := d.decodeSLA(rs, w)
		if s == nil {
			continue
		}
		k := key{rs.Label, s.Stage}
		if prev, dup := seen[k]; dup {
			where := ""
			if s.Stage > 0 {
				where = " in " + s.StageText()
			}
			d.errorf(rs.DefRange, "Duplicate sla", "An sla for %q%s was already defined at %s; put all of its budgets in one block.", rs.Label, where, prev)
			continue
		}
		seen[k] = rs.DefRange
		if s.Stage > 0 && !d.stageSpan(s, shape) {
			continue
		}
		if s.Breach == "" {
			s.Breach = breach
		}
		out = append(out, s)
	}
	return out
}

// stages reads stage = 2 or stage = [3, 4, 5]: one stage, or consecutive
// ones (a k6 scenario written as a ramp, a hold and a ramp down).
func (d *decoder) stages(expr hcl.Expression) (first, last int, ok bool) {
	v, ok := d.value(expr)
	if !ok {
		return 0, 0, false
	}
	bad := func() (int, int, bool) {
		d.errorf(expr.Range(), "Invalid stage", "stage is a stage's number, 1 for the first (stage = 2), or a list of consecutive ones (stage = [3, 4, 5]); got %s.", describe(v))
		return 0, 0, false
	}
	var ns []int
	switch {
	case v.IsNull() || !v.IsWhollyKnown():
		return bad()
	case v.Type() == cty.Number:
		ns = []int{0}
		if n, acc := v.AsBigFloat().Int64(); acc == big.Exact && n >= 1 && n <= 10_000 {
			ns[0] = int(n)
		}
	case v.Type().IsListType() || v.Type().IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.Number {
				return bad()
			}
			n, acc := e.AsBigFloat().Int64()
			if acc != big.Exact || n < 1 || n > 10_000 {
				return bad()
			}
			ns = append(ns, int(n))
		}
	}
	if len(ns) == 0 || ns[0] < 1 {
		return bad()
	}
	for i := 1; i < len(ns); i++ {
		if ns[i] != ns[i-1]+1 {
			d.errorf(expr.Range(), "Invalid stage", "stage %d follows stage %d here: a budget spans consecutive stages (stage = [3, 4, 5]); give stages apart budgets of their own.", ns[i], ns[i-1])
			return 0, 0, false
		}
	}
	return ns[0], ns[len(ns)-1], true
}

// stageSpan sets a stage budget's span from the plan's shape, or says
// that the shape has no such stage.
func (d *decoder) stageSpan(s *SLA, shape *Shape) bool {
	switch {
	case shape == nil:
		return false // the shape's own error is reported
	case s.StageLast > len(shape.Stages):
		d.errorf(s.stageRange, "No such stage", "sla %q judges %s, but shape %q has %d stages.", s.Label, s.StageText(), shape.Name, len(shape.Stages))
		return false
	}
	s.StageFrom, s.StageTo = shape.Stages[s.Stage-1].Start, shape.Stages[s.StageLast-1].End
	return true
}

func (d *decoder) decodeSLA(rs *rawSLA, w *Workload) *SLA {
	s := &SLA{Label: rs.Label, Range: rs.DefRange}
	attrs, diags := rs.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return nil
	}
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	// In source order, so that several mistakes are reported as written.
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	ok := true
	for _, a := range list {
		if !d.decodeSLAAttr(s, a) {
			ok = false
		}
	}
	if !ok || !d.checkSLALimits(s, rs, attrs) {
		return nil
	}
	if s.Stage > 0 && (s.Window > 0 || s.AbortAfter > 0) {
		d.errorf(s.stageRange, "Stage with windows", "sla %q judges %s as a whole; window and abort_after judge the run window by window. Keep one: a stage budget, or a windowed one.", s.Label, s.StageText())
		return nil
	}
	if s.AbortAfter > 0 && s.Window == 0 {
		s.Window = StatsWindow
	}
	if s.Label == "all" {
		s.All, s.Aggregate = true, true
		if a, set := attrs["aggregate"]; set {
			d.warnf(a.Expr.Range(), "aggregate is implied", `sla "all" always judges all requests together.`)
		}
	}
	if w == nil || d.matchSLA(s, rs, w) {
		return s
	}
	return nil
}

// decodeSLAAttr reads one attribute of an sla block into s: a percentile
// (p95, p99_9) or one of the fixed attributes.
func (d *decoder) decodeSLAAttr(s *SLA, a *hcl.Attribute) bool {
	if p, isP := parsePercentile(a.Name); isP {
		t, ok := d.duration(a.Expr, a.Name)
		if ok {
			s.Percentiles = append(s.Percentiles, PercentileBudget{P: p, Name: a.Name, Max: t})
		}
		return ok
	}
	var ok bool
	switch a.Name {
	case "avg":
		s.Avg, ok = d.duration(a.Expr, "avg")
	case "max":
		s.Max, ok = d.duration(a.Expr, "max")
	case "error_rate":
		var r float64
		if r, ok = d.ratio(a.Expr, "error_rate", 1); ok {
			s.ErrorRate = &r
		}
	case "min_rps":
		var r float64
		if r, ok = d.countRate(a.Expr, "min_rps"); ok {
			s.MinRPS = &r
		}
	case "window":
		var t time.Duration
		t, ok = d.duration(a.Expr, "window")
		if ok && (t < StatsWindow || t%StatsWindow != 0) {
			d.errorf(a.Expr.Range(), "Invalid window", "An SLA window is a whole number of %s stats windows, like \"10s\" or \"1m\"; got %s.", units.FormatDuration(StatsWindow), units.FormatDuration(t))
			ok = false
		}
		if ok {
			s.Window = t
		}
	case "abort_after":
		var n int64
		n, ok = d.integer(a.Expr, "abort_after", 1, 1_000_000)
		s.AbortAfter = int(n)
	case "breach":
		var b string
		b, ok = d.oneOf(a.Expr, "breach", string(BreachMeasured), string(BreachSignificant))
		s.Breach = Breach(b)
	case "aggregate":
		s.Aggregate, ok = d.boolean(a.Expr, "aggregate")
	case "stage":
		s.stageRange = a.Expr.Range()
		s.Stage, s.StageLast, ok = d.stages(a.Expr)
	default:
		hint := didYouMean(a.Name, SLAAttributeNames())
		if strings.HasPrefix(a.Name, "p") && hint == "" {
			hint = " A percentile is written p<number>, with _ for a decimal point: p95, p99_9."
		}
		d.errorf(a.NameRange, "Unsupported argument", "An sla has no %q.%s", a.Name, hint)
	}
	return ok
}

// checkSLALimits refuses an sla that sets no limit, or whose limits
// contradict each other so that it could only fail.
func (d *decoder) checkSLALimits(s *SLA, rs *rawSLA, attrs hcl.Attributes) bool {
	if len(s.Percentiles) == 0 && s.Avg == 0 && s.Max == 0 && s.ErrorRate == nil && s.MinRPS == nil {
		d.errorf(rs.DefRange, "Budget without limits", "sla %q sets no limit: add a percentile (p95 = \"200ms\"), avg, max, error_rate or min_rps.", rs.Label)
		return false
	}
	sort.Slice(s.Percentiles, func(i, j int) bool { return s.Percentiles[i].P < s.Percentiles[j].P })
	for i := 1; i < len(s.Percentiles); i++ {
		lo, hi := s.Percentiles[i-1], s.Percentiles[i]
		if hi.Max < lo.Max {
			d.errorf(attrs[hi.Name].Expr.Range(), "Contradictory budgets",
				"%s = %s is below %s = %s: a higher percentile is never lower, so this budget can only fail. Raise %s or lower %s.",
				hi.Name, units.FormatDuration(hi.Max), lo.Name, units.FormatDuration(lo.Max), hi.Name, lo.Name)
			return false
		}
	}
	if n := len(s.Percentiles); n > 0 && s.Max > 0 && s.Max < s.Percentiles[n-1].Max {
		top := s.Percentiles[n-1]
		d.errorf(attrs["max"].Expr.Range(), "Contradictory budgets", "max = %s is below %s = %s: no percentile is above the maximum.",
			units.FormatDuration(s.Max), top.Name, units.FormatDuration(top.Max))
		return false
	}
	return true
}

// matchSLA finds the requests an sla's label names, or says that it names
// none and which it may have meant.
func (d *decoder) matchSLA(s *SLA, rs *rawSLA, w *Workload) bool {
	if s.All {
		s.Matches = append([]string(nil), w.Requests...)
		return true
	}
	for _, name := range w.Requests {
		if globMatch(s.Label, name) {
			s.Matches = append(s.Matches, name)
		}
	}
	if len(s.Matches) > 0 {
		return true
	}
	hint := didYouMean(s.Label, w.Requests)
	if hint == "" && !strings.Contains(s.Label, " ") {
		for _, name := range w.Requests {
			if _, path, _ := strings.Cut(name, " "); globMatch(s.Label, path) {
				hint = fmt.Sprintf(" Did you mean %q? Budgets name requests as \"METHOD name\".", name)
				break
			}
		}
	}
	d.errorf(rs.DefRange, "Budget matches no request",
		"No task sends a request named %q, so this budget would judge nothing.%s Requests in this plan: %s.",
		s.Label, hint, strings.Join(w.Requests, ", "))
	return false
}

// globMatch matches name against a pattern where * stands for any run of
// characters (slashes included) and everything else for itself. It
// backtracks only to the last star, so it takes O(len(pattern)·len(name))
// at worst, whatever the pattern (a plan may hold any label).
func globMatch(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Match reports whether the SLA's label covers the request name.
func (s *SLA) Match(name string) bool {
	return s.All || globMatch(s.Label, name)
}

func (d *decoder) decodeLeak(rl *rawLeak) *Leak {
	l := &Leak{Range: rl.DefRange}
	v, ok := d.value(rl.Memory)
	if !ok {
		return nil
	}
	src, ok := memorySource(v)
	if !ok {
		d.errorf(rl.Memory.Range(), "Invalid memory source",
			`memory takes sut.<name>, pid(1234), cgroup("/sys/fs/cgroup/…"), container("name") or metrics("http://…/metrics", "metric_name"); got %s.`, describe(v))
		return nil
	}
	l.Memory = src
	if present(rl.Warmup) {
		if l.Warmup, ok = d.duration(rl.Warmup, "warmup"); !ok {
			return nil
		}
	}
	if present(rl.Window) {
		if l.Window, ok = d.duration(rl.Window, "window"); !ok {
			return nil
		}
	}
	if present(rl.MaxGrowthRate) {
		if l.MaxGrowthRate, ok = d.byteRate(rl.MaxGrowthRate, "max_growth_rate"); !ok {
			return nil
		}
	}
	if present(rl.MaxGrowth) {
		if l.MaxGrowth, ok = d.size(rl.MaxGrowth, "max_growth"); !ok {
			return nil
		}
	}
	return l
}

func memorySource(v cty.Value) (MemorySource, bool) {
	if v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute("kind") {
		return MemorySource{}, false
	}
	get := func(name string) string {
		if !v.Type().HasAttribute(name) {
			return ""
		}
		a := v.GetAttr(name)
		if a.IsNull() || a.Type() != cty.String {
			return ""
		}
		return a.AsString()
	}
	src := MemorySource{Kind: MemoryKind(get("kind"))}
	switch src.Kind {
	case MemorySUT, MemoryContainer:
		src.Name = get("name")
		return src, src.Name != ""
	case MemoryCgroup:
		src.Path = get("path")
		return src, src.Path != ""
	case MemoryMetrics:
		src.URL, src.Metric = get("url"), get("metric")
		return src, src.URL != "" && src.Metric != ""
	case MemoryPID:
		n, acc := v.GetAttr("pid").AsBigFloat().Int64()
		src.PID = int(n)
		return src, acc == 0 && n > 0
	}
	return MemorySource{}, false
}

// Regression thresholds when the plan sets none (docs/STATISTICS.md,
// "Regression compare").
const (
	DefaultP95Growth    = 0.10
	DefaultRPSDrop      = 0.10
	DefaultErrorRateInc = 0.005
)

func (d *decoder) decodeRegression(rr *rawRegression) *Regression {
	r := &Regression{P95Growth: DefaultP95Growth, RPSDrop: DefaultRPSDrop, ErrorRateInc: DefaultErrorRateInc, Range: rr.DefRange}
	var ok bool
	if r.Baseline, ok = d.str(rr.Baseline, "baseline"); !ok {
		return nil
	}
	if r.Baseline == "" {
		d.errorf(rr.Baseline.Range(), "Invalid baseline", "baseline names a stored run's folder, like \"results/spike/baseline\".")
		return nil
	}
	if present(rr.P95Growth) {
		if r.P95Growth, ok = d.ratio(rr.P95Growth, "p95_growth", 0); !ok {
			return nil
		}
	}
	if present(rr.RPSDrop) {
		if r.RPSDrop, ok = d.ratio(rr.RPSDrop, "rps_drop", 1); !ok {
			return nil
		}
	}
	if present(rr.ErrorRateInc) {
		if r.ErrorRateInc, ok = d.ratio(rr.ErrorRateInc, "error_rate_inc", 1); !ok {
			return nil
		}
	}
	return r
}

package lang

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// A measure is a number taken from each answer (k6's custom Trend):
// `measure = { items = length(response.json.items) }` on a task or step,
// recorded like latency, and judged by a top-level `measure "items" { … }`
// block of budgets when the plan has one.

// Measure is one measure of the plan: its name, and its budgets when a
// measure block sets them.
type Measure struct {
	Name        string
	Unit        string // for people: "items"; "" for none
	Percentiles []MeasureLimit
	Avg         *float64
	Min, Max    *float64
	Budgeted    bool      // a measure block names it
	Range       hcl.Range // the measure block, or the first measure = of it
}

// MeasureLimit is a percentile's budget: the P-th percentile at most Max.
type MeasureLimit struct {
	P    float64
	Name string // as written: "p95"
	Max  float64
}

// MeasureValue is one entry of a request's measure map.
type MeasureValue struct {
	Name  string
	Index int // into Plan.Measures
	Value *Value
	Range hcl.Range
}

// Number evaluates the measure on an answer: a finite number ≥ 0, or an
// error saying why there is none.
func (m *MeasureValue) Number(s *Scope, r Response) (float64, error) {
	s.response = r
	defer func() { s.response = nil }()
	v, err := m.Value.Eval(s)
	if err != nil {
		return 0, fmt.Errorf("measure %s: %v", m.Name, err)
	}
	if v.IsNull() || !v.IsKnown() {
		return 0, fmt.Errorf("measure %s: %s is null", m.Name, m.Value.Source())
	}
	v, err = convert.Convert(v, cty.Number) // a numeric string is its number
	if err != nil {
		return 0, fmt.Errorf("measure %s: %s is not a number", m.Name, m.Value.Source())
	}
	var f float64
	if err := gocty.FromCtyValue(v, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("measure %s: %s is not a finite number", m.Name, m.Value.Source())
	}
	if f < 0 {
		return 0, fmt.Errorf("measure %s: %s is negative (%g); a measure is a count or size, 0 or more", m.Name, m.Value.Source(), f)
	}
	return f, nil
}

type rawMeasure struct {
	Name     string    `hcl:"name,label"`
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

// measureFixedAttrs are a measure block's attributes besides percentiles.
var measureFixedAttrs = []string{"unit", "avg", "min", "max"}

// MeasureAttributeNames lists what a measure block may set, for the reference.
func MeasureAttributeNames() []string {
	return append([]string{"p50", "p90", "p95", "p99", "p99_9"}, measureFixedAttrs...)
}

// decodeMeasureMap reads a request's measure = { NAME = expression }.
func (d *decoder) decodeMeasureMap(expr hcl.Expression, rs refScope, c *compiler) []*MeasureValue {
	var out []*MeasureValue
	for _, nv := range d.responseMap(expr, rs, c, "measure", "{ items = length(response.json.items) }", "items or basket_size") {
		out = append(out, &MeasureValue{Name: nv.name, Value: nv.value, Range: nv.rng})
	}
	return out
}

// decodeMeasures gathers the measures the workload's requests take, in
// name order, gives each request's entries their index, and reads the
// measure blocks' budgets: a block must name a measure some request
// takes, once.
func (d *decoder) decodeMeasures(raws []*rawMeasure, w *Workload) []*Measure {
	if w == nil {
		return nil // the workload has errors: what the blocks name cannot be checked
	}
	byName := map[string]*Measure{}
	var all []*MeasureValue
	for _, r := range workloadRequests(w) {
		for _, m := range r.Measures {
			if byName[m.Name] == nil {
				byName[m.Name] = &Measure{Name: m.Name, Range: m.Range}
			}
			all = append(all, m)
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, rm := range raws {
		m := byName[rm.Name]
		switch {
		case m == nil:
			d.errorf(rm.DefRange, "Unknown measure", "No task or step measures %q, so this block would judge nothing.%s Add measure = { %s = … } to the request whose answer holds it.", rm.Name, didYouMean(rm.Name, names), rm.Name)
			continue
		case m.Budgeted:
			d.errorf(rm.DefRange, "Duplicate measure block", "measure %q has budgets already, at %s:%d.", rm.Name, m.Range.Filename, m.Range.Start.Line)
			continue
		}
		m.Budgeted, m.Range = true, rm.DefRange
		d.decodeMeasureBudgets(m, rm)
	}
	out := make([]*Measure, len(names))
	index := map[string]int{}
	for i, n := range names {
		out[i], index[n] = byName[n], i
	}
	for _, m := range all {
		m.Index = index[m.Name]
	}
	return out
}

// decodeMeasureBudgets reads a measure block's attributes into m.
func (d *decoder) decodeMeasureBudgets(m *Measure, rm *rawMeasure) {
	attrs, diags := rm.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return
	}
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	limits := 0
	for _, a := range list {
		if p, isP := parsePercentile(a.Name); isP {
			if f, ok := d.number(a.Expr, a.Name, 0, math.MaxFloat64); ok {
				m.Percentiles = append(m.Percentiles, MeasureLimit{P: p, Name: a.Name, Max: f})
				limits++
			}
			continue
		}
		switch a.Name {
		case "unit":
			m.Unit, _ = d.str(a.Expr, "unit")
		case "avg", "min", "max":
			f, ok := d.number(a.Expr, a.Name, 0, math.MaxFloat64)
			if !ok {
				continue
			}
			limits++
			switch a.Name {
			case "avg":
				m.Avg = &f
			case "min":
				m.Min = &f
			default:
				m.Max = &f
			}
		default:
			hint := didYouMean(a.Name, MeasureAttributeNames())
			if strings.HasPrefix(a.Name, "p") && hint == "" {
				hint = " A percentile is written p<number>, with _ for a decimal point: p95, p99_9."
			}
			d.errorf(a.NameRange, "Unsupported argument", "A measure has no %q.%s", a.Name, hint)
		}
	}
	if limits == 0 && !d.diags.HasErrors() {
		d.errorf(rm.DefRange, "Budget without limits", "measure %q sets no limit: add a percentile (p95 = 10), avg, min or max.", rm.Name)
	}
	slices.SortFunc(m.Percentiles, func(a, b MeasureLimit) int { return cmp.Compare(a.P, b.P) })
}

// workloadRequests is every request the users send: start steps and tasks'
// steps (not setup or teardown, which are in no statistic).
func workloadRequests(w *Workload) []*Request {
	var out []*Request
	for _, u := range w.Users {
		out = append(out, u.Start...)
		for _, t := range u.Tasks {
			out = append(out, t.Steps...)
		}
	}
	return out
}

// Text is a measure's value as the tables print it: a whole number as it
// is, others to four significant digits, and its unit.
func (m *Measure) Text(v float64) string {
	s := fmt.Sprintf("%.4g", v)
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		s = fmt.Sprintf("%.0f", v) // a whole number as written: 1000000, not 1e+06
	}
	if m.Unit != "" {
		s += " " + m.Unit
	}
	return s
}

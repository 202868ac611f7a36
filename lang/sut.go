package lang

import (
	"fmt"
	"math"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"lab/lang/shopknobs"
	"lab/lang/units"
)

// SUT is the bundled shop a plan starts before the run: its name and the
// knobs set in its block, each in canonical text (the form the `lab sut`
// flag of the same name takes).
type SUT struct {
	Name   string
	Listen string // host:port
	Knobs  []Knob // set knobs, in SUTKnobs order
	Range  hcl.Range
}

// Knob is one set knob of the shop.
type Knob struct {
	Name string // snake_case, as in the plan: "leak_per_request"
	Kind string
	Text string // canonical value: "50KB", "0.1", "20ms", "POST /checkout=50ms"
	// Range is the knob's attribute in the plan, for messages about a value
	// the shop refuses.
	Range hcl.Range
}

// Knob returns the text of a set knob, or "".
func (s *SUT) Knob(name string) string {
	for _, k := range s.Knobs {
		if k.Name == name {
			return k.Text
		}
	}
	return ""
}

// SUTKnob describes a knob of the bundled shop; the table is lang/shopknobs,
// which the shop reads too.
type SUTKnob = shopknobs.Knob

// SUTKnobs lists the shop's knobs.
func SUTKnobs() []SUTKnob { return shopknobs.All() }

// DefaultSUTListen is where the shop listens unless its block says otherwise.
const DefaultSUTListen = shopknobs.DefaultListen

func (d *decoder) decodeSUT(raws []*rawSUT) *SUT {
	if len(raws) == 0 {
		return nil
	}
	for _, extra := range raws[1:] {
		d.errorf(extra.DefRange, "Duplicate sut block", "A plan starts at most one shop; another was defined at %s.", raws[0].DefRange)
	}
	rs := raws[0]
	s := &SUT{Name: rs.Name, Listen: DefaultSUTListen, Range: rs.DefRange}
	attrs, diags := rs.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return nil
	}
	set := map[string]Knob{}
	ok := true
	for name, a := range attrs {
		spec, known := shopknobs.Lookup(name)
		if !known {
			d.errorf(a.NameRange, "Unknown shop knob", "The shop has no knob %q.%s Knobs: %s.", name, didYouMean(name, shopknobs.Names()), strings.Join(shopknobs.Names(), ", "))
			ok = false
			continue
		}
		text, tok := d.knobText(a.Expr, spec)
		if !tok {
			ok = false
			continue
		}
		set[name] = Knob{Name: name, Kind: spec.Kind, Text: text, Range: a.Range}
	}
	if !ok {
		return nil
	}
	for _, name := range shopknobs.Names() {
		if k, isSet := set[name]; isSet {
			s.Knobs = append(s.Knobs, k)
			if name == "listen" {
				s.Listen = k.Text
			}
		}
	}
	return s
}

// knobText checks a knob's value against its kind and the shop's own range
// (the table in lang/shopknobs) and returns it in canonical text.
func (d *decoder) knobText(expr hcl.Expression, spec shopknobs.Knob) (string, bool) {
	name := spec.Name
	switch spec.Kind {
	case shopknobs.KindAddress:
		s, ok := d.str(expr, name)
		if !ok {
			return "", false
		}
		if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
			d.errorf(expr.Range(), "Invalid address", "%s is a host:port, like \"127.0.0.1:8080\"; got %q.", name, s)
			return "", false
		}
		return s, true
	case shopknobs.KindInt:
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if spec.Bounded() {
			lo, hi = int64(spec.Min), int64(spec.Max)
		}
		n, ok := d.integer(expr, name, lo, hi)
		return fmt.Sprint(n), ok
	case shopknobs.KindDuration:
		t, ok := d.duration(expr, name)
		ok = ok && d.knobAtMost(expr, name, spec, float64(t), durationText)
		return units.FormatDuration(t), ok
	case shopknobs.KindRatio:
		r, ok := d.ratio(expr, name, spec.Max)
		return trimFloat(r), ok
	case shopknobs.KindNumber:
		f, ok := d.number(expr, name, spec.Min, spec.Max)
		return trimFloat(f), ok
	case shopknobs.KindSize:
		n, ok := d.size(expr, name)
		ok = ok && d.knobAtMost(expr, name, spec, float64(n), sizeText)
		return units.FormatSize(n), ok
	case shopknobs.KindString:
		return d.str(expr, name)
	case shopknobs.KindRoutes:
		return d.routeLatencyText(expr, spec)
	case shopknobs.KindRoute:
		route, ok := d.str(expr, name)
		if ok && route != "" && !shopknobs.IsRoute(route) {
			routes := shopknobs.Routes()
			d.errorf(expr.Range(), "Unknown route", "The shop has no route %q.%s Routes: %s.", route, didYouMean(route, routes), strings.Join(routes, ", "))
			return "", false
		}
		return route, ok
	}
	return "", false
}

// routeLatencyText checks a map of route templates to durations and returns
// it as the shop reads it: "GET /=1s,POST /checkout=50ms".
func (d *decoder) routeLatencyText(expr hcl.Expression, spec shopknobs.Knob) (string, bool) {
	name := spec.Name
	v, ok := d.value(expr)
	if !ok {
		return "", false
	}
	if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		d.errorf(expr.Range(), "Invalid value for "+name, `%s takes a map of routes to latencies, like { "POST /checkout" = "50ms" }; got %s.`, name, describe(v))
		return "", false
	}
	var parts []string
	for route, lv := range v.AsValueMap() {
		if !shopknobs.IsRoute(route) {
			routes := shopknobs.Routes()
			d.errorf(expr.Range(), "Unknown route", "The shop has no route %q.%s Routes: %s.", route, didYouMean(route, routes), strings.Join(routes, ", "))
			return "", false
		}
		if lv.IsNull() || lv.Type() != cty.String {
			d.errorf(expr.Range(), "Invalid duration", "%s[%q] takes a duration like \"50ms\".", name, route)
			return "", false
		}
		t, err := units.ParseDuration(lv.AsString())
		if err != nil {
			d.errorf(expr.Range(), "Invalid duration", "%s[%q]: %s.", name, route, err)
			return "", false
		}
		if !d.knobAtMost(expr, fmt.Sprintf("%s[%q]", name, route), spec, float64(t), durationText) {
			return "", false
		}
		parts = append(parts, route+"="+units.FormatDuration(t))
	}
	sort.Strings(parts)
	return strings.Join(parts, ","), true
}

// knobAtMost refuses a duration or size above the shop's limit for the
// knob, which would otherwise pass here and stop the shop from starting.
// (Their parsers already refuse negative values, the bottom of the range.)
func (d *decoder) knobAtMost(expr hcl.Expression, what string, spec shopknobs.Knob, v float64, text func(float64) string) bool {
	if spec.In(v) {
		return true
	}
	d.errorf(expr.Range(), "Invalid value for "+spec.Name, "%s is %s; the shop takes at most %s.", what, text(v), text(spec.Max))
	return false
}

func durationText(ns float64) string { return units.FormatDuration(time.Duration(ns)) }
func sizeText(n float64) string      { return units.FormatSize(int64(n)) }

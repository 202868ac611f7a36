package lang

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"lab/lang/units"
)

// env is what every expression of a plan may read at load: the variables,
// the declared shops and the load-time functions. Per-request expressions
// read it too, through their user's Scope.
type env struct {
	vars   cty.Value
	suts   cty.Value
	locals cty.Value
	setup  cty.Value // what the setup steps captured, once they ran
	funcs  map[string]function.Function
}

// didYouMean returns ` Did you mean "x"?` for the closest name, or "".
func didYouMean(given string, names []string) string {
	best, bestD := "", 3
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, n := range sorted {
		if d := levenshtein.Distance(given, n, nil); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" && len(given) > 3 {
		for _, n := range sorted {
			if strings.HasPrefix(n, given) || strings.HasPrefix(given, n) {
				best = n
				break
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func (d *decoder) errorf(rng hcl.Range, summary, format string, args ...any) {
	r := rng
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  &r,
	})
}

func (d *decoder) warnf(rng hcl.Range, summary, format string, args ...any) {
	r := rng
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  &r,
	})
}

// refScope says which variables an expression may read, and what it may
// read of them.
type refScope struct {
	user     bool
	response bool
	captured map[string]bool // nil: captures are not available here
	pass     map[string]bool // nil: no pass block here
	repeat   bool            // the request repeats: repeat.index is there
	// anyCapture accepts every captured name: an earlier step had an
	// error, and its captures are unknown, not missing.
	anyCapture bool
	// batch holds what the other steps of this step's batch capture: not
	// there yet when the batch is sent.
	batch map[string]bool
	where string // "a sequence step", for messages
}

// checkRefs reports every variable reference that this place cannot read,
// with a suggestion; it returns false when it reported one.
func (d *decoder) checkRefs(expr hcl.Expression, rs refScope) bool {
	ok := d.checkCalls(expr)
	for _, t := range expr.Variables() {
		root := t.RootName()
		rng := t.SourceRange()
		attr := ""
		if len(t) > 1 {
			if a, isAttr := t[1].(hcl.TraverseAttr); isAttr {
				attr = a.Name
			}
		}
		roots := []string{"var", "sut", "local"}
		if len(d.setupNames) > 0 {
			roots = append(roots, "setup")
		}
		if rs.pass != nil {
			roots = append(roots, "pass")
		}
		if rs.repeat {
			roots = append(roots, "repeat")
		}
		if rs.user {
			roots = append(roots, "user")
		}
		if rs.captured != nil {
			roots = append(roots, "captured")
		}
		if rs.response {
			roots = append(roots, "response")
		}
		switch {
		case root == "var":
			if attr != "" && !d.hasVar(attr) {
				plan := "The plan"
				if rng.Filename != d.path {
					// A workload or shapes file uses the variables of the plan that reads it.
					plan = fmt.Sprintf("%s, which reads this file,", d.path)
				}
				d.errorf(rng, "Undeclared variable", "%s declares no variable %q.%s", plan, attr, didYouMean(attr, d.varNames))
				ok = false
			}
		case root == "sut":
			if attr != "" && !contains(d.sutNames, attr) {
				if len(d.sutNames) == 0 {
					d.errorf(rng, "Unknown shop", "The plan declares no sut block; sut.%s names nothing.", attr)
				} else {
					d.errorf(rng, "Unknown shop", "The plan declares no sut %q.%s", attr, didYouMean(attr, d.sutNames))
				}
				ok = false
			}
		case root == "each" && d.each != cty.NilVal:
			if attr != "" && attr != "key" && attr != "value" {
				d.errorf(rng, "Unsupported attribute", "each has key and value; not %q.", attr)
				ok = false
			}
		case root == "each":
			d.errorf(rng, "each not available here", "each.key and each.value are only available in a task or step that sets for_each.")
			ok = false
		case root == "setup":
			if attr != "" && !d.setupNames[attr] {
				d.errorf(rng, "Unknown setup value", "setup.%s is read here, but no step of the workload's setup block captures %q.%s", attr, attr, didYouMean(attr, slices.Collect(maps.Keys(d.setupNames))))
				ok = false
			}
		case root == "local":
			if attr != "" && !contains(d.localNames, attr) {
				if len(d.localNames) == 0 {
					d.errorf(rng, "Unknown local", "The plan has no locals block; local.%s names nothing.", attr)
				} else {
					d.errorf(rng, "Unknown local", "The plan's locals define no %q.%s", attr, didYouMean(attr, d.localNames))
				}
				ok = false
			}
		case root == "pass" && rs.pass != nil:
			if attr != "" && !rs.pass[attr] {
				d.errorf(rng, "Unknown pass value", "pass.%s is read here, but this task's or sequence's pass block defines no %q before it.%s", attr, attr, didYouMean(attr, slices.Collect(maps.Keys(rs.pass))))
				ok = false
			}
		case root == "repeat" && rs.repeat:
			if attr != "" && attr != "index" {
				d.errorf(rng, "Unsupported attribute", "repeat has index (0 for the first sending); not %q.", attr)
				ok = false
			}
		case root == "repeat":
			d.errorf(rng, "Repeat not available here", "repeat.index is only available in a task or step that sets repeat.")
			ok = false
		case root == "pass":
			d.errorf(rng, "Pass values not available here", "pass.* is only available in the requests of a task or sequence whose pass block defines the value.")
			ok = false
		case root == "user" && rs.user:
			if attr != "" && attr != "id" && attr != "class" && attr != "iteration" {
				d.errorf(rng, "Unsupported attribute", "user has id, class and iteration; not %q.%s", attr, didYouMean(attr, []string{"id", "class", "iteration"}))
				ok = false
			}
		case root == "captured" && rs.captured != nil:
			if attr != "" && rs.batch[attr] && !rs.captured[attr] {
				d.errorf(rng, "Capture of the same batch", "captured.%s is captured by another step of this batch: a batch's requests are sent at once, so its answer is not there when this one is built. Read it in a step after the batch.", attr)
				ok = false
			} else if attr != "" && !rs.captured[attr] && !rs.anyCapture {
				names := slices.Collect(maps.Keys(rs.captured))
				d.errorf(rng, "Capture used before it is set", "captured.%s is read here, but neither an earlier step of this sequence nor the user's start block captures %q.%s", attr, attr, didYouMean(attr, names))
				ok = false
			}
		case root == "response" && rs.response:
		case root == "captured":
			d.errorf(rng, "Captures not available here", "captured.* is only available in the steps of a sequence, after the step that captures the value, or in any request of a user whose start block captures it.")
			ok = false
		case root == "response":
			d.errorf(rng, "Response not available here", "response.* is only available in a step's capture, which reads the response of that step.")
			ok = false
		case root == "user":
			d.errorf(rng, "User not available here", "user.* is only available in requests, which are sent by a user.")
			ok = false
		default:
			d.errorf(rng, "Unknown variable", "There is no variable named %q; this place can read %s.%s", root, strings.Join(roots, ", "), didYouMean(root, roots))
			ok = false
		}
	}
	return ok
}

// checkCalls reports calls of functions that do not exist, suggesting the
// closest of all the plan language's functions (HCL alone would only
// suggest among those available in the current context).
func (d *decoder) checkCalls(expr hcl.Expression) bool {
	se, isSyntax := expr.(hclsyntax.Expression)
	if !isSyntax {
		return true
	}
	ok := true
	known := FunctionNames()
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		call, isCall := n.(*hclsyntax.FunctionCallExpr)
		if isCall && !contains(known, call.Name) {
			d.errorf(call.NameRange, "Call to unknown function", "There is no function named %q.%s", call.Name, didYouMean(call.Name, known))
			ok = false
		}
		return nil
	})
	return ok
}

func contains(names []string, s string) bool {
	for _, n := range names {
		if n == s {
			return true
		}
	}
	return false
}

// evalStatic evaluates an expression that must be known at load.
func (d *decoder) evalStatic(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	saved := d.diags
	d.diags = nil
	ok := d.checkRefs(expr, refScope{})
	refDiags := d.diags
	d.diags = saved
	if !ok {
		return cty.DynamicVal, refDiags
	}
	return expr.Value(d.static)
}

// isNull tells an attribute written as null (often a variable left unset)
// from one with a value; a mistake in it is left for the reader to report.
func (d *decoder) isNull(expr hcl.Expression) bool {
	if isDynamic(expr) {
		return false
	}
	v, diags := d.evalStatic(expr)
	return !diags.HasErrors() && v.IsKnown() && v.IsNull()
}

// value evaluates a load-time attribute, recording any diagnostic.
func (d *decoder) value(expr hcl.Expression) (cty.Value, bool) {
	if isDynamic(expr) {
		d.errorf(expr.Range(), "Value must be known at load", "This attribute is read once when the plan loads; it cannot use random functions or user, captured or response values.")
		return cty.NilVal, false
	}
	v, diags := d.evalStatic(expr)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		d.errorf(expr.Range(), "Value must be known at load", "This value cannot be computed when the plan loads.")
		return cty.NilVal, false
	}
	return v, true
}

// describe names a value for messages: `string "abc"`, `number 3`.
func describe(v cty.Value) string {
	switch {
	case v.IsNull():
		return "null"
	case v.Type() == cty.String:
		s := v.AsString()
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return fmt.Sprintf("string %q", s)
	case v.Type() == cty.Number:
		return "number " + v.AsBigFloat().Text('g', -1)
	case v.Type() == cty.Bool:
		return fmt.Sprintf("bool %v", v.True())
	}
	return v.Type().FriendlyName()
}

func (d *decoder) str(expr hcl.Expression, what string) (string, bool) {
	v, ok := d.value(expr)
	if !ok {
		return "", false
	}
	if v.IsNull() || (v.Type() != cty.String && !v.Type().IsPrimitiveType()) {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a string; got %s.", what, describe(v))
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a string; got %s.", what, describe(v))
		return "", false
	}
	return s.AsString(), true
}

// strList reads a list of strings.
func (d *decoder) strList(expr hcl.Expression, what string) ([]string, bool) {
	v, ok := d.value(expr)
	if !ok {
		return nil, false
	}
	if v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a list of strings, like [\"node.labels.lab == worker\"]; got %s.", what, describe(v))
		return nil, false
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s, err := convert.Convert(e, cty.String)
		if err != nil || e.IsNull() || !e.IsKnown() {
			d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a list of strings; an element is %s.", what, describe(e))
			return nil, false
		}
		out = append(out, s.AsString())
	}
	return out, true
}

// unitString reads an attribute written as a string with a unit; a bare
// number gets a hint with the unit the attribute expects.
func (d *decoder) unitString(expr hcl.Expression, what, example string) (string, cty.Value, bool) {
	v, ok := d.value(expr)
	if !ok {
		return "", v, false
	}
	if v.IsNull() {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be set, like %s.", what, example)
		return "", v, false
	}
	if v.Type() == cty.String {
		return v.AsString(), v, true
	}
	return "", v, true
}

func (d *decoder) duration(expr hcl.Expression, what string) (time.Duration, bool) {
	s, v, ok := d.unitString(expr, what, `"30s"`)
	if !ok {
		return 0, false
	}
	if v.Type() != cty.String {
		if v.Type() == cty.Number && v.AsBigFloat().Sign() == 0 {
			return 0, true
		}
		d.errorf(expr.Range(), "Invalid duration", "%s takes a duration as a string, like \"30s\", \"250ms\" or \"1h30m\"; got %s.", what, describe(v))
		return 0, false
	}
	dur, err := units.ParseDuration(s)
	if err != nil {
		d.errorf(expr.Range(), "Invalid duration", "%s: %s.", what, err)
		return 0, false
	}
	return dur, true
}

func (d *decoder) size(expr hcl.Expression, what string) (int64, bool) {
	s, v, ok := d.unitString(expr, what, `"50MB"`)
	if !ok {
		return 0, false
	}
	if v.Type() != cty.String {
		if v.Type() == cty.Number && v.AsBigFloat().Sign() == 0 {
			return 0, true
		}
		d.errorf(expr.Range(), "Invalid size", "%s takes a size as a string, like \"50KB\" or \"5MiB\"; got %s.", what, describe(v))
		return 0, false
	}
	n, err := units.ParseSize(s)
	if err != nil {
		d.errorf(expr.Range(), "Invalid size", "%s: %s.", what, err)
		return 0, false
	}
	return n, true
}

// ratio reads 0.01 or "1%"; max bounds it (0 = unbounded).
func (d *decoder) ratio(expr hcl.Expression, what string, max float64) (float64, bool) {
	v, ok := d.value(expr)
	if !ok {
		return 0, false
	}
	var r float64
	switch {
	case v.IsNull():
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be set, like \"1%%\" or 0.01.", what)
		return 0, false
	case v.Type() == cty.Number:
		r, _ = v.AsBigFloat().Float64()
		if r < 0 {
			d.errorf(expr.Range(), "Invalid ratio", "%s must not be negative; got %v.", what, r)
			return 0, false
		}
	case v.Type() == cty.String:
		var err error
		if r, err = units.ParseRatio(v.AsString()); err != nil {
			d.errorf(expr.Range(), "Invalid ratio", "%s: %s.", what, err)
			return 0, false
		}
	default:
		d.errorf(expr.Range(), "Invalid ratio", "%s takes a ratio like \"1%%\" or 0.01; got %s.", what, describe(v))
		return 0, false
	}
	if max > 0 && r > max {
		d.errorf(expr.Range(), "Invalid ratio", "%s is %s; it cannot exceed %s.", what, units.FormatRatio(r), units.FormatRatio(max))
		return 0, false
	}
	return r, true
}

// countRate reads 200, "200/s" or "30/min" and returns events per second.
func (d *decoder) countRate(expr hcl.Expression, what string) (float64, bool) {
	v, ok := d.value(expr)
	if !ok {
		return 0, false
	}
	switch {
	case !v.IsNull() && v.Type() == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if f < 0 {
			d.errorf(expr.Range(), "Invalid rate", "%s must not be negative.", what)
			return 0, false
		}
		return f, true
	case !v.IsNull() && v.Type() == cty.String:
		r, err := units.ParseCountRate(v.AsString())
		if err != nil {
			d.errorf(expr.Range(), "Invalid rate", "%s: %s.", what, err)
			return 0, false
		}
		return r, true
	}
	d.errorf(expr.Range(), "Invalid rate", "%s takes a rate like \"200/s\" or a number per second; got %s.", what, describe(v))
	return 0, false
}

func (d *decoder) byteRate(expr hcl.Expression, what string) (float64, bool) {
	v, ok := d.value(expr)
	if !ok {
		return 0, false
	}
	if v.IsNull() || v.Type() != cty.String {
		d.errorf(expr.Range(), "Invalid rate", "%s takes a size per time as a string, like \"10MB/min\"; got %s.", what, describe(v))
		return 0, false
	}
	r, err := units.ParseByteRate(v.AsString())
	if err != nil {
		d.errorf(expr.Range(), "Invalid rate", "%s: %s.", what, err)
		return 0, false
	}
	return r, true
}

// number reads a number within [lo, hi].
func (d *decoder) number(expr hcl.Expression, what string, lo, hi float64) (float64, bool) {
	v, ok := d.value(expr)
	if !ok {
		return 0, false
	}
	if !v.IsNull() && v.Type() == cty.String {
		if nv, err := convert.Convert(v, cty.Number); err == nil {
			v = nv
		}
	}
	if v.IsNull() || v.Type() != cty.Number {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a number; got %s.", what, describe(v))
		return 0, false
	}
	f, _ := v.AsBigFloat().Float64()
	if f < lo || f > hi || math.IsNaN(f) {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be between %v and %v; got %v.", what, lo, hi, f)
		return 0, false
	}
	return f, true
}

// integer reads a whole number within [lo, hi].
func (d *decoder) integer(expr hcl.Expression, what string, lo, hi int64) (int64, bool) {
	v, ok := d.value(expr)
	if !ok {
		return 0, false
	}
	if !v.IsNull() && v.Type() == cty.String {
		if nv, err := convert.Convert(v, cty.Number); err == nil {
			v = nv
		}
	}
	if v.IsNull() || v.Type() != cty.Number {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a whole number; got %s.", what, describe(v))
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a whole number; got %s.", what, bf.Text('g', -1))
		return 0, false
	}
	if bf.Cmp(new(big.Float).SetInt64(lo)) < 0 || bf.Cmp(new(big.Float).SetInt64(hi)) > 0 {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be between %d and %d; got %s.", what, lo, hi, bf.Text('g', -1))
		return 0, false
	}
	n, _ := bf.Int64()
	return n, true
}

func (d *decoder) boolean(expr hcl.Expression, what string) (bool, bool) {
	v, ok := d.value(expr)
	if !ok {
		return false, false
	}
	if !v.IsNull() && v.Type() == cty.String {
		if nv, err := convert.Convert(v, cty.Bool); err == nil {
			v = nv
		}
	}
	if v.IsNull() || v.Type() != cty.Bool {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be true or false; got %s.", what, describe(v))
		return false, false
	}
	return v.True(), true
}

// oneOf reads a string that must be one of choices.
func (d *decoder) oneOf(expr hcl.Expression, what string, choices ...string) (string, bool) {
	s, ok := d.str(expr, what)
	if !ok {
		return "", false
	}
	if !contains(choices, s) {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be one of %s; got %q.%s", what, quoteList(choices), s, didYouMean(s, choices))
		return "", false
	}
	return s, true
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

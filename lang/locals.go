package lang

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// decodeLocals evaluates the plan's locals blocks: named values computed
// once at load (test data read with csvdecode(file(…)), a base URL), read
// as local.NAME anywhere. A local may read another, in any order.
func (d *decoder) decodeLocals(blocks []*rawLocals) cty.Value {
	type item struct {
		name string
		attr *hcl.Attribute
	}
	var items []item
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		attrs, diags := b.Body.JustAttributes()
		d.diags = append(d.diags, diags...)
		for name, a := range attrs {
			if prev, dup := seen[name]; dup {
				d.errorf(a.NameRange, "Duplicate local", "A local named %q was already defined at %s.", name, prev)
				continue
			}
			seen[name] = a.NameRange
			items = append(items, item{name, a})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].attr.Range.Start.Byte < items[j].attr.Range.Start.Byte })
	for _, it := range items {
		d.localNames = append(d.localNames, it.name)
	}
	values := map[string]cty.Value{}
	object := func() cty.Value {
		if len(values) == 0 {
			return cty.EmptyObjectVal
		}
		return cty.ObjectVal(values)
	}
	// Evaluate in rounds: a local whose references are all known goes in
	// each round; what is left when a round makes no progress is a cycle.
	pending := items
	for len(pending) > 0 {
		var next []item
		for _, it := range pending {
			if !d.localsReady(it.attr.Expr, values) {
				next = append(next, it)
				continue
			}
			if isDynamic(it.attr.Expr) {
				d.errorf(it.attr.Expr.Range(), "Value must be known at load", "A local is computed once, when the plan loads. For a value drawn anew in every pass (a random product both steps use), write it in the sequence's pass block and read it as pass.%s.", it.name)
				values[it.name] = cty.DynamicVal
				continue
			}
			d.static.Variables["local"] = object()
			if d.readsSensitive(it.attr.Expr) {
				if d.sensitiveLocals == nil {
					d.sensitiveLocals = map[string]bool{}
				}
				d.sensitiveLocals[it.name] = true
			}
			v, ok := d.value(it.attr.Expr)
			if !ok {
				v = cty.DynamicVal
			}
			values[it.name] = v
		}
		if len(next) == len(pending) {
			for _, it := range next {
				d.errorf(it.attr.Expr.Range(), "Locals refer to each other", "local.%s cannot be computed: it depends, through other locals, on itself.", it.name)
			}
			break
		}
		pending = next
	}
	return object()
}

// localsReady tells whether every local expr reads is computed.
func (d *decoder) localsReady(expr hcl.Expression, values map[string]cty.Value) bool {
	for _, t := range expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if a, ok := t[1].(hcl.TraverseAttr); ok && contains(d.localNames, a.Name) {
			if _, done := values[a.Name]; !done {
				return false
			}
		}
	}
	return true
}

// PassValue is a value drawn once at the start of every pass of a task or
// sequence (a pass block), read by its requests as pass.NAME.
type PassValue struct {
	Name  string
	Value *Value
}

// decodePass reads a task's or sequence's pass block; names gains the
// names it defines, which later values of the block may read too.
func (d *decoder) decodePass(rp *rawPass, rs refScope, names map[string]bool) []*PassValue {
	if rp == nil {
		return nil
	}
	attrs, diags := rp.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	c := &compiler{d: d}
	var out []*PassValue
	for _, a := range list {
		rs.pass = copySet(names)
		if !d.checkRefs(a.Expr, rs) {
			continue
		}
		v, vd := c.compile(a.Expr)
		d.diags = append(d.diags, vd...)
		if v == nil {
			continue
		}
		names[a.Name] = true
		out = append(out, &PassValue{Name: a.Name, Value: v})
	}
	return out
}

// DrawPass evaluates a task's pass values for a new pass of the user with
// scope s. An error is kept and fails the pass's first request, unsent.
func (t *Task) DrawPass(s *Scope) {
	for k := range s.pass {
		delete(s.pass, k)
	}
	s.pending = nil
	drawValues(s, t.Pass, "pass.", nil)
}

// drawValues evaluates a pass block's values in order into s.pass (later
// ones read earlier ones), handing each to keep too; the first that cannot
// be drawn is kept as the pending error, named with prefix.
func drawValues(s *Scope, values []*PassValue, prefix string, keep func(string, cty.Value)) {
	for _, p := range values {
		v, err := p.Value.Eval(s)
		if err == nil && v.IsNull() {
			err = fmt.Errorf("%s is null", p.Value.Source())
		}
		if err != nil {
			s.pending = fmt.Errorf("%s%s: %v", prefix, p.Name, err)
			return
		}
		v = cty.UnknownAsNull(v)
		if s.pass == nil {
			s.pass = make(map[string]cty.Value, len(values))
		}
		s.pass[p.Name] = v
		if keep != nil {
			keep(p.Name, v)
		}
	}
}

// SetPending keeps why the next request cannot be built (its pass's
// values or its repeat could not be drawn): that request then fails,
// unsent, with the reason.
func (s *Scope) SetPending(err error) { s.pending = err }

// TakePending returns the reason SetPending kept, once, or nil.
func (s *Scope) TakePending() error {
	err := s.pending
	s.pending = nil
	return err
}

// MaxRepeat bounds a request's repeat: every load loop is bounded.
const MaxRepeat = 100_000

// decodeRepeat reads a task's or step's repeat = N (a whole number, or an
// expression drawn per pass such as random_int(1, 5)).
func (d *decoder) decodeRepeat(expr hcl.Expression, rs refScope, r *Request) {
	if !present(expr) {
		return
	}
	if !d.checkRefs(expr, rs) {
		return
	}
	if !isDynamic(expr) {
		n, ok := d.integer(expr, "repeat", 0, MaxRepeat)
		if !ok {
			return
		}
		r.repeatN = int(n)
	} else {
		r.repeatN = -1
	}
	c := &compiler{d: d}
	v, diags := c.compile(expr)
	d.diags = append(d.diags, diags...)
	r.Repeat = v
}

// Times is how many times the request is sent in this pass of the user
// with scope s: once without repeat.
func (r *Request) Times(s *Scope) (int, error) {
	switch {
	case r.Repeat == nil:
		return 1, nil
	case r.repeatN >= 0:
		return r.repeatN, nil
	}
	v, err := r.Repeat.Eval(s)
	if err != nil {
		return 0, fmt.Errorf("repeat: %v", err)
	}
	n, err := ctyConvert(v, cty.Number)
	if err != nil || n.IsNull() || !n.IsKnown() {
		return 0, fmt.Errorf("repeat: %s is not a number", describe(v))
	}
	i, acc := n.AsBigFloat().Int64()
	if acc != 0 || i < 0 || i > MaxRepeat {
		return 0, fmt.Errorf("repeat: %s is not a whole number from 0 to %d", n.AsBigFloat().String(), MaxRepeat)
	}
	return int(i), nil
}

// decodeWhen reads a task's or step's when = condition.
func (d *decoder) decodeWhen(expr hcl.Expression, rs refScope, r *Request) {
	if !present(expr) || !d.checkRefs(expr, rs) {
		return
	}
	c := &compiler{d: d}
	v, diags := c.compile(expr)
	d.diags = append(d.diags, diags...)
	if v == nil {
		return
	}
	if v.Static() {
		b, err := ctyConvert(v.StaticValue(), cty.Bool)
		if err != nil || b.IsNull() {
			d.errorf(expr.Range(), "Invalid when", "when takes a condition, true or false; got %s.", describe(v.StaticValue()))
			return
		}
		if b.True() {
			return // always sent
		}
	}
	r.When = v
}

// Sends tells whether the request goes in this pass: its when holds.
func (r *Request) Sends(s *Scope) (bool, error) {
	if r.When == nil {
		return true, nil
	}
	v, err := r.When.Eval(s)
	if err != nil {
		return false, fmt.Errorf("when: %v", err)
	}
	b, err := ctyConvert(v, cty.Bool)
	if err != nil || b.IsNull() || !b.IsKnown() {
		return false, fmt.Errorf("when: %s is not true or false", describe(v))
	}
	return b.True(), nil
}

// checkOpenFirstRequests refuses, in the open model, a repeat on the first
// request of a pass: that request is the arrival, counted against the
// arrivals offered, and must go exactly once.
func (d *decoder) checkOpenFirstRequests(p *Plan) {
	if p.Shape == nil || p.Shape.Model != Open || p.Workload == nil {
		return
	}
	for _, u := range p.Workload.Users {
		for _, t := range u.Tasks {
			first := t.Steps[0]
			if len(u.Start) > 0 {
				first = u.Start[0]
			}
			if first.Repeat != nil {
				d.errorf(first.Repeat.Range(), "Repeat on an arrival", "In the open model (shape %q) the first request of a pass is the arrival itself and goes once; repeat a later step, or put a step before this one.", p.Shape.Name)
				return
			}
			if first.When != nil {
				d.errorf(first.When.Range(), "Condition on an arrival", "In the open model (shape %q) the first request of a pass is the arrival itself and always goes; put the condition on a later step.", p.Shape.Name)
				return
			}
		}
	}
}

// decodeExpectMore reads an expect block's headers, cookies and that.
func (d *decoder) decodeExpectMore(re *rawExpect, rs refScope, e *Expect) {
	if present(re.Headers) {
		if v, ok := d.value(re.Headers); ok {
			if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
				d.errorf(re.Headers.Range(), "Invalid headers expectation", "headers takes a map of header names to the values the response must carry, like { \"content-type\" = \"application/json\" }; got %s.", describe(v))
			} else {
				for k, hv := range v.AsValueMap() {
					sv, err := ctyConvert(hv, cty.String)
					if err != nil || sv.IsNull() {
						d.errorf(re.Headers.Range(), "Invalid headers expectation", "The value of header %q must be a string; got %s.", k, describe(hv))
						continue
					}
					e.Headers = append(e.Headers, HeaderEquals{Name: lowerASCII(k), Value: sv.AsString()})
				}
				sort.Slice(e.Headers, func(i, j int) bool { return e.Headers[i].Name < e.Headers[j].Name })
			}
		}
	}
	if present(re.Cookies) {
		if v, ok := d.value(re.Cookies); ok {
			if v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType()) {
				d.errorf(re.Cookies.Range(), "Invalid cookies expectation", "cookies takes a list of cookie names the response must set, like [\"sessionid\"]; got %s.", describe(v))
			} else {
				for _, c := range v.AsValueSlice() {
					if c.IsNull() || c.Type() != cty.String || c.AsString() == "" {
						d.errorf(re.Cookies.Range(), "Invalid cookies expectation", "A cookie name is a non-empty string; got %s.", describe(c))
						break
					}
					e.Cookies = append(e.Cookies, c.AsString())
				}
			}
		}
	}
	if present(re.That) {
		exprs := []hcl.Expression{re.That}
		if tup, ok := re.That.(*hclsyntax.TupleConsExpr); ok {
			exprs = exprs[:0]
			for _, x := range tup.Exprs {
				exprs = append(exprs, x)
			}
		}
		crs := rs
		crs.response = true
		c := &compiler{d: d}
		for _, x := range exprs {
			if !d.checkRefs(x, crs) {
				continue
			}
			v, diags := c.compile(x)
			d.diags = append(d.diags, diags...)
			if v != nil {
				e.That = append(e.That, v)
			}
		}
	}
}

// CheckThat evaluates the request's that conditions against its response;
// "" when all hold, else why (bounded: the condition as written).
func (r *Request) CheckThat(s *Scope, resp Response) string {
	s.response = resp
	defer func() { s.response = nil }()
	for _, v := range r.Expect.That {
		val, err := v.Eval(s)
		if err != nil {
			return "expect that " + v.Source() + ": could not be evaluated"
		}
		b, err := ctyConvert(val, cty.Bool)
		if err != nil || b.IsNull() || !b.IsKnown() {
			return "expect that " + v.Source() + ": not true or false"
		}
		if b.False() {
			return "expect that " + v.Source() + " is false"
		}
	}
	return ""
}

// noBatches reports the batch blocks of a setup or teardown: those send
// their steps one after another, outside the load.
func (d *decoder) noBatches(b *rawStart, what string) {
	for _, bt := range b.Batches {
		d.errorf(bt.DefRange, "Batch in "+what, "The %s sends its steps one after another, before any statistic; a batch sends a pass's steps at once, in a sequence or a user's start block. Write its steps as steps.", what)
	}
}

// decodeSetup reads the workload's setup and teardown blocks: steps sent
// once, before the load and after it. What setup captures, every request
// (and the teardown) reads as setup.NAME.
func (d *decoder) decodeSetup(w *Workload, setup, teardown *rawStart) {
	if setup != nil {
		if len(setup.Steps)+len(setup.Batches) == 0 {
			d.errorf(setup.DefRange, "Empty setup", "The setup block has no step blocks.")
		}
		captured := map[string]bool{}
		d.noBatches(setup, "setup")
		w.Setup, _ = d.decodeSteps(setup.Steps, nil, w, captured, nil)
		d.setupNames = captured
	}
	if teardown != nil {
		if len(teardown.Steps)+len(teardown.Batches) == 0 {
			d.errorf(teardown.DefRange, "Empty teardown", "The teardown block has no step blocks.")
		}
		d.noBatches(teardown, "teardown")
		w.Teardown, _ = d.decodeSteps(teardown.Steps, nil, w, map[string]bool{}, nil)
	}
	for _, r := range append(append([]*Request(nil), w.Setup...), w.Teardown...) {
		for _, m := range r.Measures {
			d.errorf(m.Range, "Measure outside the load", "Setup and teardown steps are in no statistic, so measure %q would record nothing; measure it in a task or step.", m.Name)
		}
	}
}

// SetSetup gives every request the values the setup captured (setup.NAME).
// Call it before the load starts: the users read them without a lock.
func (p *Plan) SetSetup(vals map[string]cty.Value) {
	if len(vals) == 0 {
		p.env.setup = cty.EmptyObjectVal
		return
	}
	p.env.setup = cty.ObjectVal(vals)
}

// SetupJSON encodes what the setup captured, with its type, for workers.
func (p *Plan) SetupJSON() ([]byte, error) {
	v := p.env.setup
	if v == cty.NilVal {
		return nil, nil
	}
	val, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return nil, err
	}
	return json.Marshal(setupWire{Type: ty, Value: val})
}

// SetSetupJSON takes what SetupJSON encoded (a worker, from its master).
func (p *Plan) SetSetupJSON(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var w setupWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	ty, err := ctyjson.UnmarshalType(w.Type)
	if err != nil {
		return err
	}
	v, err := ctyjson.Unmarshal(w.Value, ty)
	if err != nil {
		return err
	}
	p.env.setup = v
	return nil
}

type setupWire struct {
	Type  json.RawMessage `json:"type"`
	Value json.RawMessage `json:"value"`
}

// NewSetupScope is the scope the setup and teardown steps run in: user 0,
// its captures kept for SetSetup.
func (p *Plan) NewSetupScope() *Scope { return p.NewScope(0, "setup") }

// CapturedValues is everything the scope's steps captured.
func (s *Scope) CapturedValues() map[string]cty.Value {
	out := map[string]cty.Value{}
	for k, v := range s.kept {
		out[k] = v
	}
	for k, v := range s.captured {
		out[k] = v
	}
	return out
}

// MaxForEach bounds the copies one for_each makes: each is a request name
// with statistics of its own.
const MaxForEach = 1000

// forEach reads a task's or step's for_each: a list, set or map known at
// load. Each element becomes a copy of the block, named NAME[key], whose
// expressions read each.key (the index or the map key) and each.value.
func (d *decoder) forEach(expr hcl.Expression) (keys []string, elems []cty.Value, ok bool) {
	v, ok := d.value(expr)
	if !ok {
		return nil, nil, false
	}
	if !v.IsNull() && (v.Type().IsCollectionType() || v.Type().IsTupleType() || v.Type().IsObjectType()) && v.LengthInt() > MaxForEach {
		d.errorf(expr.Range(), "Invalid for_each", "for_each makes a copy per element: at most %d; got %d.", MaxForEach, v.LengthInt())
		return nil, nil, false
	}
	switch {
	case v.IsNull():
	case v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType():
		for i, e := range v.AsValueSlice() {
			key := fmt.Sprint(i)
			if v.Type().IsSetType() {
				key = string(appendText(nil, e))
			}
			keys = append(keys, key)
			elems = append(elems, cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": e}))
		}
		return keys, elems, true
	case v.Type().IsMapType() || v.Type().IsObjectType():
		m := v.AsValueMap()
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			elems = append(elems, cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(k), "value": m[k]}))
		}
		return keys, elems, true
	}
	d.errorf(expr.Range(), "Invalid for_each", "for_each takes a list, a set or a map known at load, like [\"books\", \"music\"]; got %s.", describe(v))
	return nil, nil, false
}

// withEach decodes with each set to elem (cty.NilVal: none).
func (d *decoder) withEach(elem cty.Value, f func()) {
	d.each = elem
	if elem == cty.NilVal {
		delete(d.static.Variables, "each")
	} else {
		d.static.Variables["each"] = elem
	}
	if d.trial != nil {
		if elem == cty.NilVal {
			delete(d.trial.Variables, "each")
		} else {
			d.trial.Variables["each"] = elem
		}
	}
	defer func() {
		d.each = cty.NilVal
		delete(d.static.Variables, "each")
		if d.trial != nil {
			delete(d.trial.Variables, "each")
		}
	}()
	f()
}

// DrawStart draws the class's start pass values for the user with scope s
// as it starts: captures for its life (Starting must be on). An error
// fails its first start request, unsent.
func (u *UserClass) DrawStart(s *Scope) {
	drawValues(s, u.StartPass, "start pass.", s.SetCaptured)
}

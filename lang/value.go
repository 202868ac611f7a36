package lang

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Value is an expression of a request compiled once at load. A static value
// (no random function, no user or captured reference) was evaluated at load
// and is kept in its text and JSON forms. A dynamic one is evaluated per
// request: common forms (templates, random_int, random_choice, uuid,
// captured.x, user.id, objects and lists of those) through a fast path that
// appends straight to the request buffer, anything else through HCL.
type Value struct {
	expr   hcl.Expression
	static bool
	val    cty.Value // static value
	text   []byte    // static value as text
	json   []byte    // static value as JSON
	node   node      // dynamic fast path, nil when generic
	src    string    // the expression's source text
	each   cty.Value // the for_each element it was written for, or cty.NilVal
}

// Static tells whether the value is the same for every request.
func (v *Value) Static() bool { return v.static }

// StaticText is a static value as text (a path, a header value).
func (v *Value) StaticText() string { return string(v.text) }

// StaticJSON is a static value as JSON.
func (v *Value) StaticJSON() []byte { return v.json }

// StaticValue is a static value as it was evaluated.
func (v *Value) StaticValue() cty.Value { return v.val }

// Source is the expression as written.
func (v *Value) Source() string { return v.src }

// Range is where the expression is written.
func (v *Value) Range() hcl.Range { return v.expr.Range() }

// AppendText appends the value as text: strings as they are, numbers in
// decimal, other values as JSON.
func (v *Value) AppendText(dst []byte, s *Scope) ([]byte, error) {
	if v.static {
		return append(dst, v.text...), nil
	}
	if v.node != nil {
		return v.node.appendText(dst, s)
	}
	val, err := v.Eval(s)
	if err != nil {
		return dst, err
	}
	return appendText(dst, val), nil
}

// AppendJSON appends the value encoded as JSON.
func (v *Value) AppendJSON(dst []byte, s *Scope) ([]byte, error) {
	if v.static {
		return append(dst, v.json...), nil
	}
	if v.node != nil {
		return v.node.appendJSON(dst, s)
	}
	val, err := v.Eval(s)
	if err != nil {
		return dst, err
	}
	return appendJSONValue(dst, val), nil
}

// Eval evaluates the value in a user's scope.
func (v *Value) Eval(s *Scope) (cty.Value, error) {
	if v.static {
		return v.val, nil
	}
	return genericNode{v.expr, v.each}.eval(s)
}

// diagsError turns evaluation diagnostics at run time into one error; at run
// time there is no source line to show, only what went wrong.
func diagsError(diags hcl.Diagnostics) error {
	var msgs []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		m := d.Summary
		if d.Detail != "" {
			m += ": " + strings.TrimSuffix(d.Detail, ".")
		}
		msgs = append(msgs, m)
	}
	return errors.New(strings.Join(msgs, "; "))
}

type node interface {
	appendText(dst []byte, s *Scope) ([]byte, error)
	appendJSON(dst []byte, s *Scope) ([]byte, error)
}

// litNode is a part of a dynamic expression that is itself static.
type litNode struct{ text, json []byte }

func (n litNode) appendText(dst []byte, _ *Scope) ([]byte, error) { return append(dst, n.text...), nil }
func (n litNode) appendJSON(dst []byte, _ *Scope) ([]byte, error) { return append(dst, n.json...), nil }

// concatNode is a string template: "/products/${random_int(1, 500)}".
type concatNode struct{ parts []node }

func (n concatNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	var err error
	for _, p := range n.parts {
		if dst, err = p.appendText(dst, s); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func (n concatNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	start := len(dst)
	dst, err := n.appendText(dst, s)
	if err != nil {
		return dst, err
	}
	// Quote in place: render the text, then re-append it escaped.
	text := string(dst[start:])
	return appendJSONString(dst[:start], text), nil
}

type randIntNode struct{ lo, hi int64 }

func (n randIntNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	return strconv.AppendInt(dst, s.randInt(n.lo, n.hi), 10), nil
}
func (n randIntNode) appendJSON(dst []byte, s *Scope) ([]byte, error) { return n.appendText(dst, s) }

type randChoiceNode struct{ text, json [][]byte }

func (n randChoiceNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	return append(dst, n.text[s.r.IntN(len(n.text))]...), nil
}
func (n randChoiceNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	return append(dst, n.json[s.r.IntN(len(n.json))]...), nil
}

type uuidNode struct{}

func (uuidNode) appendText(dst []byte, s *Scope) ([]byte, error) { return s.appendUUID(dst), nil }
func (uuidNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	dst = append(dst, '"')
	dst = s.appendUUID(dst)
	return append(dst, '"'), nil
}

type randStringNode struct{ n int }

func (n randStringNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	return s.appendRandomString(dst, n.n), nil
}
func (n randStringNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	dst = append(dst, '"')
	dst = s.appendRandomString(dst, n.n)
	return append(dst, '"'), nil
}

// capturedNode reads captured.<name>.
type capturedNode struct{ name string }

func (n capturedNode) value(s *Scope) (cty.Value, error) {
	v, ok := s.Captured(n.name)
	if !ok {
		return cty.NilVal, fmt.Errorf("captured.%s was not captured in this pass", n.name)
	}
	return v, nil
}

func (n capturedNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.value(s)
	if err != nil {
		return dst, err
	}
	return appendText(dst, v), nil
}

func (n capturedNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.value(s)
	if err != nil {
		return dst, err
	}
	return appendJSONValue(dst, v), nil
}

// passNode reads pass.<name>.
type passNode struct{ name string }

func (n passNode) value(s *Scope) (cty.Value, error) {
	v, ok := s.pass[n.name]
	if !ok {
		return cty.NilVal, fmt.Errorf("pass.%s was not drawn in this pass", n.name)
	}
	return v, nil
}

func (n passNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.value(s)
	if err != nil {
		return dst, err
	}
	return appendText(dst, v), nil
}

func (n passNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.value(s)
	if err != nil {
		return dst, err
	}
	return appendJSONValue(dst, v), nil
}

// setupNode reads setup.<name>: constant during a run, known once the
// setup steps ran.
type setupNode struct{ name string }

func (n setupNode) value(s *Scope) (cty.Value, error) {
	v := s.env.setup
	if v == cty.NilVal || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute(n.name) {
		return cty.NilVal, fmt.Errorf("setup.%s: the setup did not run, or captured no %s", n.name, n.name)
	}
	return v.GetAttr(n.name), nil
}

func (n setupNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.value(s)
	if err != nil {
		return dst, err
	}
	return appendText(dst, v), nil
}

func (n setupNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.value(s)
	if err != nil {
		return dst, err
	}
	return appendJSONValue(dst, v), nil
}

// repeatNode reads repeat.index.
type repeatNode struct{}

func (repeatNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	return strconv.AppendInt(dst, s.RepeatIndex, 10), nil
}

func (n repeatNode) appendJSON(dst []byte, s *Scope) ([]byte, error) { return n.appendText(dst, s) }

// userNode reads user.id, user.class or user.iteration.
type userNode struct{ field string }

func (n userNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	switch n.field {
	case "id":
		return strconv.AppendInt(dst, s.UserID, 10), nil
	case "iteration":
		return strconv.AppendInt(dst, s.Iteration, 10), nil
	}
	return append(dst, s.Class...), nil
}

func (n userNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	if n.field == "class" {
		return appendJSONString(dst, s.Class), nil
	}
	return n.appendText(dst, s)
}

// objectNode is a JSON object whose keys are static.
type objectNode struct {
	keys [][]byte // `"key":` already encoded
	vals []node
}

func (n objectNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	dst = append(dst, '{')
	var err error
	for i, k := range n.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, k...)
		if dst, err = n.vals[i].appendJSON(dst, s); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func (n objectNode) appendText(dst []byte, s *Scope) ([]byte, error) { return n.appendJSON(dst, s) }

type tupleNode struct{ vals []node }

func (n tupleNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	dst = append(dst, '[')
	var err error
	for i, v := range n.vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = v.appendJSON(dst, s); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func (n tupleNode) appendText(dst []byte, s *Scope) ([]byte, error) { return n.appendJSON(dst, s) }

// genericNode evaluates a sub-expression through HCL.
// genericNode evaluates through HCL; each is the for_each element the
// expression was written for (cty.NilVal outside a for_each).
type genericNode struct {
	expr hcl.Expression
	each cty.Value
}

func (n genericNode) eval(s *Scope) (cty.Value, error) {
	ctx := s.evalContext()
	if n.each != cty.NilVal {
		ctx.Variables["each"] = n.each
		defer delete(ctx.Variables, "each")
	}
	v, diags := n.expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, diagsError(diags)
	}
	return v, nil
}

func (n genericNode) appendText(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.eval(s)
	if err != nil {
		return dst, err
	}
	return appendText(dst, v), nil
}

func (n genericNode) appendJSON(dst []byte, s *Scope) ([]byte, error) {
	v, err := n.eval(s)
	if err != nil {
		return dst, err
	}
	return appendJSONValue(dst, v), nil
}

// appendJSONValue appends v as JSON; unknown values (never at run time) as null.
func appendJSONValue(dst []byte, v cty.Value) []byte {
	if !v.IsWhollyKnown() {
		return append(dst, "null"...)
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				switch c {
				case '\n':
					dst = append(dst, '\\', 'n')
				case '\r':
					dst = append(dst, '\\', 'r')
				case '\t':
					dst = append(dst, '\\', 't')
				default:
					dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				}
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// jsonValue decodes a response body to a cty value; a body that is not JSON
// gives null, so `response.json.x` fails with a clear message.
func jsonValue(body []byte) cty.Value {
	ty, err := ctyjson.ImpliedType(body)
	if err != nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	v, err := ctyjson.Unmarshal(body, ty)
	if err != nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return v
}

func ctyConvert(v cty.Value, to cty.Type) (cty.Value, error) { return convert.Convert(v, to) }

// compiler turns request expressions into Values.
type compiler struct {
	d *decoder
}

// dynamicRoots are the variables that change per request.
var dynamicRoots = map[string]bool{"user": true, "captured": true, "response": true, "pass": true, "repeat": true, "setup": true}

// isDynamic tells whether expr reads a per-request variable or calls a
// function that gives a new value each time.
func isDynamic(expr hcl.Expression) bool {
	for _, t := range expr.Variables() {
		if dynamicRoots[t.RootName()] {
			return true
		}
	}
	dyn := false
	if se, ok := expr.(hclsyntax.Expression); ok {
		_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && dynamicFuncNames[call.Name] {
				dyn = true
			}
			return nil
		})
	}
	return dyn
}

// compile makes a Value of expr, evaluating static parts now. It reports
// type errors of dynamic parts by a trial evaluation with unknown inputs.
func (c *compiler) compile(expr hcl.Expression) (*Value, hcl.Diagnostics) {
	v := &Value{expr: expr, src: sourceText(c.d.loader.srcs, expr.Range()), each: c.d.each}
	if !isDynamic(expr) {
		val, diags := c.d.evalStatic(expr)
		if diags.HasErrors() {
			return nil, diags
		}
		if !val.IsWhollyKnown() {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Value not known at load",
				Detail: "This value cannot be computed when the plan loads.", Subject: expr.Range().Ptr()}}
		}
		v.static, v.val = true, val
		v.text = appendText(nil, val)
		v.json = appendJSONValue(nil, val)
		return v, nil
	}
	if diags := c.d.trialEval(expr); diags.HasErrors() {
		return nil, diags
	}
	if se, ok := expr.(hclsyntax.Expression); ok {
		v.node = c.node(se)
	}
	return v, nil
}

// node compiles a dynamic expression to its fast path; forms it does not
// know fall back to a genericNode.
func (c *compiler) node(expr hclsyntax.Expression) node {
	if !isDynamic(expr) {
		val, diags := c.d.evalStatic(expr)
		if diags.HasErrors() || !val.IsWhollyKnown() {
			return genericNode{expr, c.d.each}
		}
		return litNode{text: appendText(nil, val), json: appendJSONValue(nil, val)}
	}
	switch e := expr.(type) {
	case *hclsyntax.TemplateWrapExpr:
		return c.node(e.Wrapped)
	case *hclsyntax.TemplateExpr:
		parts := make([]node, len(e.Parts))
		for i, p := range e.Parts {
			parts[i] = c.node(p)
		}
		return concatNode{parts}
	case *hclsyntax.ParenthesesExpr:
		return c.node(e.Expression)
	case *hclsyntax.FunctionCallExpr:
		if n := c.callNode(e); n != nil {
			return n
		}
	case *hclsyntax.ScopeTraversalExpr:
		if len(e.Traversal) == 2 {
			attr, ok := e.Traversal[1].(hcl.TraverseAttr)
			if ok {
				switch e.Traversal.RootName() {
				case "captured":
					return capturedNode{attr.Name}
				case "pass":
					return passNode{attr.Name}
				case "repeat":
					return repeatNode{}
				case "setup":
					return setupNode{attr.Name}
				case "user":
					return userNode{attr.Name}
				}
			}
		}
	case *hclsyntax.ObjectConsExpr:
		n := objectNode{}
		for _, item := range e.Items {
			kv, diags := c.d.evalStatic(item.KeyExpr)
			if diags.HasErrors() || isDynamic(item.KeyExpr) || !kv.IsKnown() || kv.IsNull() {
				return genericNode{expr, c.d.each}
			}
			ks, err := convert.Convert(kv, cty.String)
			if err != nil {
				return genericNode{expr, c.d.each}
			}
			n.keys = append(n.keys, append(appendJSONString(nil, ks.AsString()), ':'))
			n.vals = append(n.vals, c.node(item.ValueExpr))
		}
		return n
	case *hclsyntax.TupleConsExpr:
		n := tupleNode{}
		for _, item := range e.Exprs {
			n.vals = append(n.vals, c.node(item))
		}
		return n
	}
	return genericNode{expr, c.d.each}
}

// callNode compiles calls of the random functions with static arguments.
func (c *compiler) callNode(e *hclsyntax.FunctionCallExpr) node {
	args := make([]cty.Value, len(e.Args))
	for i, a := range e.Args {
		if isDynamic(a) {
			return nil
		}
		v, diags := c.d.evalStatic(a)
		if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
			return nil
		}
		args[i] = v
	}
	if e.ExpandFinal {
		return nil
	}
	switch e.Name {
	case "random_int":
		if len(args) != 2 {
			return nil
		}
		a, err1 := convert.Convert(args[0], cty.Number)
		b, err2 := convert.Convert(args[1], cty.Number)
		if err1 != nil || err2 != nil {
			return nil
		}
		lo, hi, err := intRange([]cty.Value{a, b})
		if err != nil {
			return nil
		}
		return randIntNode{lo, hi}
	case "random_choice":
		if len(args) != 1 {
			return nil
		}
		ty := args[0].Type()
		if !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) || args[0].LengthInt() == 0 {
			return nil
		}
		n := randChoiceNode{}
		for _, el := range args[0].AsValueSlice() {
			n.text = append(n.text, appendText(nil, el))
			n.json = append(n.json, appendJSONValue(nil, el))
		}
		return n
	case "uuid":
		if len(args) != 0 {
			return nil
		}
		return uuidNode{}
	case "random_string":
		if len(args) != 1 {
			return nil
		}
		nv, err := convert.Convert(args[0], cty.Number)
		if err != nil {
			return nil
		}
		n, acc := nv.AsBigFloat().Int64()
		if acc != 0 || n < 0 || n > 1<<20 {
			return nil
		}
		return randStringNode{int(n)}
	}
	return nil
}

// sourceText is the text of rng in its file, for request names and messages.
func sourceText(srcs map[string][]byte, rng hcl.Range) string {
	src, ok := srcs[rng.Filename]
	if !ok || rng.End.Byte > len(src) || rng.Start.Byte < 0 || rng.Start.Byte > rng.End.Byte {
		return ""
	}
	return string(src[rng.Start.Byte:rng.End.Byte])
}

// funcsWithDynamic returns the static functions plus the dynamic ones bound
// to s: what a trial evaluation needs to type-check dynamic expressions.
func funcsWithDynamic(static map[string]function.Function, s *Scope) map[string]function.Function {
	out := make(map[string]function.Function, len(static)+len(dynamicFuncNames))
	for k, f := range static {
		out[k] = f
	}
	for k, f := range dynamicFuncs(s) {
		out[k] = f
	}
	return out
}

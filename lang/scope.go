package lang

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Scope is what one virtual user's dynamic expressions read: its random
// sequence, its identity and the values its current pass captured. A Scope
// belongs to one goroutine; it is small because a run may hold 100,000.
type Scope struct {
	pcg       rand.PCG
	r         *rand.Rand
	env       *env
	UserID    int64  // 1-based, unique across the run's workers
	Class     string // the user class's name
	Iteration int64  // passes this user completed
	// RepeatIndex is which repetition of a repeated request is sent (repeat.index).
	RepeatIndex int64

	captured map[string]cty.Value
	// kept holds what the user's start block captured: it lasts for the
	// user's life, where captured is forgotten at every pass.
	kept     map[string]cty.Value
	starting bool                 // the start block runs: captures go to kept
	trial    bool                 // the load-time type check's: what a jar would hold is unknown
	jar      []cookie             // the cookies the target set, under cookies = "pass" or "user"
	jarStart []cookie             // the jar as the start block left it
	pass     map[string]cty.Value // the pass block's values for this pass
	pending  error                // why the next request cannot be built (SetPending)
	response Response             // set while captures are evaluated
	ctx      *hcl.EvalContext     // built on first use of a generic expression
}

// NewScope returns the scope of user id of class in a run of plan; the user's
// random sequence follows from the plan's seed and the id.
func (p *Plan) NewScope(userID int64, class string) *Scope {
	s := &Scope{env: p.env, UserID: userID, Class: class}
	s.pcg.Seed(p.Seed, uint64(userID)*0x9e3779b97f4a7c15+1)
	s.r = rand.New(&s.pcg)
	return s
}

// Rand is the user's random source, for the runtime's own choices (task
// weights, wait times) so that a whole run is reproducible from the seed.
func (s *Scope) Rand() *rand.Rand { return s.r }

// ResetCaptures forgets the values captured in the previous pass.
func (s *Scope) ResetCaptures() {
	for k := range s.captured {
		delete(s.captured, k)
	}
}

// Captured returns a value captured earlier in this pass, or by the user's
// start block.
func (s *Scope) Captured(name string) (cty.Value, bool) {
	if v, ok := s.captured[name]; ok {
		return v, true
	}
	v, ok := s.kept[name]
	return v, ok
}

// Starting says that the user's start block runs (true) or has ended:
// meanwhile captures last for the user's life.
func (s *Scope) Starting(on bool) { s.starting = on }

// ResetUser forgets everything a user kept: an open-model executor runs
// each arrival as a new user.
func (s *Scope) ResetUser() {
	s.ResetCaptures()
	for k := range s.kept {
		delete(s.kept, k)
	}
	s.ClearCookies()
}

// SetCaptured keeps v under name for the later steps of this pass (for the
// user's life while its start block runs).
func (s *Scope) SetCaptured(name string, v cty.Value) {
	if s.starting {
		if s.kept == nil {
			s.kept = make(map[string]cty.Value, 4)
		}
		s.kept[name] = v
		return
	}
	if s.captured == nil {
		s.captured = make(map[string]cty.Value, 4)
	}
	s.captured[name] = v
}

func (s *Scope) randInt(lo, hi int64) int64 {
	if lo == hi {
		return lo
	}
	return lo + s.r.Int64N(hi-lo+1)
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (s *Scope) appendRandomString(dst []byte, n int) []byte {
	for i := 0; i < n; i++ {
		dst = append(dst, alnum[s.r.IntN(len(alnum))])
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendUUID appends a version 4 UUID drawn from the user's random sequence,
// so a seeded run sends the same ids again.
func (s *Scope) appendUUID(dst []byte) []byte {
	var b [16]byte
	hi, lo := s.r.Uint64(), s.r.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return dst
}

// evalContext is the context generic (not fast-path) expressions evaluate
// in. Functions are bound once per scope; variables are refreshed per call.
func (s *Scope) evalContext() *hcl.EvalContext {
	if s.ctx == nil {
		funcs := map[string]function.Function{}
		for k, f := range s.env.funcs {
			funcs[k] = f
		}
		for k, f := range dynamicFuncs(s) {
			funcs[k] = f
		}
		s.ctx = &hcl.EvalContext{Functions: funcs, Variables: map[string]cty.Value{}}
	}
	vars := s.ctx.Variables
	vars["var"] = s.env.vars
	vars["sut"] = s.env.suts
	vars["local"] = s.env.locals
	if s.env.setup != cty.NilVal {
		vars["setup"] = s.env.setup
	} else {
		vars["setup"] = cty.EmptyObjectVal
	}
	vars["repeat"] = cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(s.RepeatIndex)})
	if len(s.pass) > 0 {
		vars["pass"] = cty.ObjectVal(s.pass)
	} else {
		vars["pass"] = cty.EmptyObjectVal
	}
	vars["user"] = cty.ObjectVal(map[string]cty.Value{
		"id":        cty.NumberIntVal(s.UserID),
		"class":     cty.StringVal(s.Class),
		"iteration": cty.NumberIntVal(s.Iteration),
	})
	switch {
	case len(s.kept) > 0:
		all := make(map[string]cty.Value, len(s.kept)+len(s.captured))
		for k, v := range s.kept {
			all[k] = v
		}
		for k, v := range s.captured {
			all[k] = v
		}
		vars["captured"] = cty.ObjectVal(all)
	case len(s.captured) > 0:
		vars["captured"] = cty.ObjectVal(s.captured)
	default:
		vars["captured"] = cty.EmptyObjectVal
	}
	if s.response != nil {
		vars["response"] = responseValue(s.response)
	} else {
		delete(vars, "response")
	}
	return s.ctx
}

// Response is what a capture may read of a response.
type Response interface {
	StatusCode() int
	Body() []byte
	// Header returns the first value of the named header, "" when absent.
	Header(name string) string
	// HeaderValues returns every value of the named header, in order
	// (each Set-Cookie line apart).
	HeaderValues(name string) []string
	// HeaderNames lists the headers present, for `response.headers`.
	HeaderNames() []string
}

func responseValue(r Response) cty.Value {
	headers := map[string]cty.Value{}
	all := map[string]cty.Value{}
	for _, n := range r.HeaderNames() {
		k := lowerASCII(n)
		if _, done := all[k]; done {
			continue
		}
		vals := r.HeaderValues(n)
		list := make([]cty.Value, len(vals))
		for i, v := range vals {
			list[i] = cty.StringVal(v)
		}
		headers[k] = cty.StringVal(r.Header(n))
		all[k] = cty.ListVal(list)
		if len(list) == 0 {
			all[k] = cty.ListValEmpty(cty.String)
		}
	}
	object := func(m map[string]cty.Value) cty.Value {
		if len(m) == 0 {
			return cty.EmptyObjectVal
		}
		return cty.ObjectVal(m)
	}
	body := r.Body()
	return cty.ObjectVal(map[string]cty.Value{
		"status":        cty.NumberIntVal(int64(r.StatusCode())),
		"body":          cty.StringVal(string(body)),
		"headers":       object(headers),
		"header_values": object(all),
		"cookies":       object(setCookieValues(r.HeaderValues("Set-Cookie"))),
		"json":          jsonValue(body),
	})
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// appendText renders a value the way a path, a header or a form field shows it.
func appendText(dst []byte, v cty.Value) []byte {
	switch {
	case v.IsNull() || !v.IsKnown():
		return dst
	case v.Type() == cty.String:
		return append(dst, v.AsString()...)
	case v.Type() == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == 0 {
			return strconv.AppendInt(dst, i, 10)
		}
		f, _ := bf.Float64()
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	case v.Type() == cty.Bool:
		return strconv.AppendBool(dst, v.True())
	}
	return appendJSONValue(dst, v)
}

// Extract evaluates a capture against the response of its step.
func (c *Capture) Extract(s *Scope, r Response) (cty.Value, error) {
	s.response = r
	defer func() { s.response = nil }()
	v, err := c.Value.Eval(s)
	if err != nil {
		return cty.NilVal, fmt.Errorf("capture %s: %v", c.Name, err)
	}
	if v.IsNull() {
		return cty.NilVal, fmt.Errorf("capture %s: %s is null", c.Name, c.Value.Source())
	}
	return v, nil
}

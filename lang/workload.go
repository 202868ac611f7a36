package lang

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// MaxRedirects bounds a redirect chain, as browsers do (about 20).
const MaxRedirects = 20

// DefaultTimeout is a request's deadline when the plan sets none.
const DefaultTimeout = 30 * time.Second

var methodAttrs = []struct{ attr, method string }{
	{"get", "GET"}, {"post", "POST"}, {"put", "PUT"}, {"patch", "PATCH"},
	{"delete", "DELETE"}, {"head", "HEAD"}, {"options", "OPTIONS"},
}

func (d *decoder) decodeWorkload(raws []*rawWorkload, body hcl.Body) *Workload {
	if len(raws) == 0 {
		d.errorf(body.MissingItemRange(), "Missing workload block",
			`A plan needs a workload block: workload "shop" { source = "shop.workload.hcl"  host = "http://127.0.0.1:8080" }.`)
		return nil
	}
	for _, extra := range raws[1:] {
		d.errorf(extra.DefRange, "Duplicate workload block", "A plan has one workload; another was defined at %s.", raws[0].DefRange)
	}
	rw := raws[0]
	w := &Workload{Name: rw.Name, Timeout: DefaultTimeout}
	if t, ok := d.target(rw.Host); ok {
		w.Host, w.Scheme, w.Addr, w.Prefix = t.Host, t.Scheme, t.Addr, t.Prefix
	}
	if present(rw.Timeout) {
		if t, ok := d.duration(rw.Timeout, "timeout"); ok {
			if t <= 0 {
				d.errorf(rw.Timeout.Range(), "Invalid duration", "timeout must be above zero.")
			}
			w.Timeout = t
		}
	}
	if present(rw.MaxConnections) {
		if n, ok := d.integer(rw.MaxConnections, "max_connections", 1, 1_000_000); ok {
			w.MaxConnections = int(n)
		}
	}
	if present(rw.Headers) {
		w.Headers = d.pairs(rw.Headers, "headers", refScope{})
	}
	if present(rw.Cookies) {
		w.Cookies, _ = d.cookieMode(rw.Cookies)
	}
	if present(rw.Redirects) {
		if n, ok := d.integer(rw.Redirects, "redirects", 0, MaxRedirects); ok {
			w.Redirects = int(n)
		}
	}
	if present(rw.Insecure) {
		if v, ok := d.value(rw.Insecure); ok {
			b, err := ctyConvert(v, cty.Bool)
			if err != nil || b.IsNull() {
				d.errorf(rw.Insecure.Range(), "Invalid insecure_skip_verify", "insecure_skip_verify is true or false; got %s.", describe(v))
			} else {
				w.InsecureSkipVerify = b.True()
			}
		}
	}

	var users []*rawUser
	setup, teardown := rw.Setup, rw.Teardown
	switch {
	case present(rw.Source) && len(rw.Users) > 0:
		d.errorf(rw.Users[0].DefRange, "Workload defined twice", "This workload reads its users from source; define users there or here, not both.")
	case present(rw.Source):
		src, ok := d.str(rw.Source, "source")
		if !ok {
			return nil
		}
		path, err := d.confine(src)
		if err != nil {
			d.errorf(rw.Source.Range(), "Source outside the plan's folder", "%s.", err)
			return nil
		}
		w.Source = path
		f, diags := d.loader.parse(path, rw.Source.Range().Ptr())
		d.diags = append(d.diags, diags...)
		if f == nil || diags.HasErrors() {
			return nil
		}
		var wf rawWorkloadFile
		wdiags := gohcl.DecodeBody(f.Body, nil, &wf)
		d.diags = append(d.diags, wdiags...)
		users = wf.Users
		if wf.Setup != nil && rw.Setup != nil {
			d.errorf(rw.Setup.DefRange, "Setup written twice", "The workload's source has a setup block too (%s); keep one.", wf.Setup.DefRange)
		}
		if wf.Teardown != nil && rw.Teardown != nil {
			d.errorf(rw.Teardown.DefRange, "Teardown written twice", "The workload's source has a teardown block too (%s); keep one.", wf.Teardown.DefRange)
		}
		if wf.Setup != nil {
			setup = wf.Setup
		}
		if wf.Teardown != nil {
			teardown = wf.Teardown
		}
		if len(users) == 0 && !wdiags.HasErrors() {
			d.errorf(f.Body.MissingItemRange(), "Empty workload", "%s defines no user block.", path)
			return nil
		}
	default:
		w.Source = d.path
		users = rw.Users
		if len(users) == 0 {
			d.errorf(rw.DefRange, "Empty workload", `A workload needs users: set source = "shop.workload.hcl" or add user blocks.`)
			return nil
		}
	}

	d.decodeSetup(w, setup, teardown)
	total := 0
	seen := map[string]hcl.Range{}
	for _, ru := range users {
		if prev, dup := seen[ru.Name]; dup {
			d.errorf(ru.DefRange, "Duplicate user", "A user class named %q was already defined at %s.", ru.Name, prev)
			continue
		}
		seen[ru.Name] = ru.DefRange
		if u := d.decodeUser(ru, w); u != nil {
			w.Users = append(w.Users, u)
			total += u.Weight
		}
	}
	// No users at all was reported above (or the workload file did not load).
	if total == 0 && len(users) > 0 && len(w.Users) == len(users) {
		d.errorf(users[0].DefRange, "Zero total weight", "Every user class has weight 0, so no user would ever start; give at least one a positive weight.")
	}
	names := map[string]bool{}
	hostOf := map[string]string{} // request name → the host that sends it
	for _, u := range w.Users {
		add := func(r *Request) {
			host := w.RequestTarget(u, r).Host
			if prev, ok := hostOf[r.Name]; ok && prev != host {
				d.errorf(r.Range, "One name, two hosts", "%s is sent to %s and to %s: give one of them a name of its own (name = \"…\") so that their statistics and budgets stay apart.", r.Name, prev, host)
			}
			hostOf[r.Name] = host
			names[r.Name] = true
		}
		for _, r := range u.Start {
			add(r)
		}
		for _, t := range u.Tasks {
			for _, r := range t.Steps {
				add(r)
			}
		}
	}
	for n := range names {
		w.Requests = append(w.Requests, n)
	}
	sort.Strings(w.Requests)
	return w
}

// cookieNames reads drop_cookies: a list of cookie names, known at load.
func (d *decoder) cookieNames(expr hcl.Expression) []string {
	v, ok := d.value(expr)
	if !ok {
		return nil
	}
	if v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
		d.errorf(expr.Range(), "Invalid drop_cookies", `drop_cookies is a list of cookie names known when the plan loads: ["sessionid"]; got %s.`, describe(v))
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String || e.AsString() == "" || strings.ContainsAny(e.AsString(), "=; \t") {
			d.errorf(expr.Range(), "Invalid drop_cookies", `drop_cookies is a list of cookie names known when the plan loads: ["sessionid"]; got %s.`, describe(e))
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

// cookieMode reads cookies = "none", "pass" or "user".
func (d *decoder) cookieMode(expr hcl.Expression) (CookieMode, bool) {
	s, ok := d.str(expr, "cookies")
	if !ok {
		return CookiesNone, false
	}
	m, known := cookieModes[s]
	if !known {
		d.errorf(expr.Range(), "Invalid cookies", `cookies is "none" (send no cookie the target set), "pass" (a jar per pass) or "user" (a jar for the user's life); got %q.%s`, s, didYouMean(s, []string{"none", "pass", "user"}))
		return CookiesNone, false
	}
	return m, true
}

// decodeSteps decodes the steps and batches of a sequence or a start
// block, in the order they are written; captured holds the names captured
// before the first step, and gains the steps'.
func (d *decoder) decodeSteps(steps []*rawStep, batches []*rawBatch, w *Workload, captured, pass map[string]bool) ([]*Request, bool) {
	var out []*Request
	stepNames := map[string]hcl.Range{}
	ok := true
	broken := false // an earlier step had an error
	expand := func(steps []*rawStep) []*rawStep {
		out, eok := forEachCopies(d, steps, func(st *rawStep) hcl.Expression { return st.ForEach }, func(st *rawStep, key string, each cty.Value) *rawStep {
			cp := *st
			cp.Name, cp.ForEach, cp.each = fmt.Sprintf("%s[%s]", st.Name, key), nil, each
			return &cp
		})
		ok = ok && eok
		return out
	}
	// A step is one item; a batch is one item of its steps.
	type item struct {
		steps []*rawStep
		batch *rawBatch
	}
	var items []item
	for _, st := range steps {
		items = append(items, item{steps: []*rawStep{st}})
	}
	for _, b := range batches {
		items = append(items, item{batch: b})
	}
	at := func(it item) int {
		if it.batch != nil {
			return it.batch.DefRange.Start.Byte
		}
		return it.steps[0].DefRange.Start.Byte
	}
	sort.SliceStable(items, func(i, j int) bool { return at(items[i]) < at(items[j]) })
	for _, it := range items {
		var siblings map[string]bool
		members := expand(it.steps)
		if b := it.batch; b != nil {
			members = expand(b.Steps)
			if len(b.Steps) == 0 {
				d.errorf(b.DefRange, "Empty batch", "This batch has no step blocks; a batch sends its steps at once.")
				ok = false
				continue
			}
			siblings = map[string]bool{}
			for _, st := range members {
				for _, n := range captureNames(st.Request) {
					siblings[n] = true
				}
				if present(st.Repeat) {
					d.errorf(st.Repeat.Range(), "Repeat in a batch", "Step %q is in a batch, whose steps are each sent once, at the same time. Repeat the batch's requests with steps after it, or move the step out of the batch.", st.Name)
					ok = false
				}
				if present(st.Think) {
					d.errorf(st.Think.Range(), "Think in a batch", "Step %q is in a batch, whose steps are sent at the same time: a think time goes on the batch block, before all of them.", st.Name)
					ok = false
				}
			}
		}
		// What this item's steps may read: the captures before it (a
		// batch's steps do not see each other's).
		before := copySet(captured)
		first := len(out)
		for _, st := range members {
			if prev, dupStep := stepNames[st.Name]; dupStep {
				d.errorf(st.DefRange, "Duplicate step", "A step named %q was already defined here at %s.", st.Name, prev)
				ok = false
				continue
			}
			stepNames[st.Name] = st.DefRange
			errsBefore := len(d.diags.Errs())
			rs := refScope{user: true, captured: copySet(before), anyCapture: broken, pass: pass, batch: siblings}
			reqRefs := rs
			reqRefs.repeat = present(st.Repeat)
			var r *Request
			d.withEach(st.each, func() {
				r = d.decodeRequest(st.Request, st.DefRange, st.Name, w, reqRefs)
				if r != nil {
					d.decodeRepeat(st.Repeat, rs, r)
					d.decodeWhen(st.When, rs, r)
				}
			})
			if r == nil || len(d.diags.Errs()) > errsBefore {
				ok, broken = false, true
			}
			if r == nil {
				continue
			}
			if present(st.Think) && it.batch == nil {
				if th, tok := d.wait(st.Think, "think"); tok {
					r.Think = th
				}
			}
			for _, c := range r.Captures {
				captured[c.Name] = true
			}
			r.InBatch = it.batch != nil
			out = append(out, r)
		}
		if b := it.batch; b != nil && len(out) > first {
			out[first].Batch = len(out) - first
			if present(b.Think) {
				if th, tok := d.wait(b.Think, "think"); tok {
					out[first].Think = th
				}
			}
		}
	}
	return out, ok
}

// forEachCopies copies each block with a for_each once per element of it
// (copyFor names the copy NAME[key] and gives it each), keeping the
// others as they are; ok is false when a for_each could not be read.
func forEachCopies[T any](d *decoder, blocks []*T, forEach func(*T) hcl.Expression, copyFor func(b *T, key string, each cty.Value) *T) (out []*T, ok bool) {
	ok = true
	for _, b := range blocks {
		if !present(forEach(b)) {
			out = append(out, b)
			continue
		}
		keys, elems, fok := d.forEach(forEach(b))
		if !fok {
			ok = false
			continue
		}
		for i := range keys {
			out = append(out, copyFor(b, keys[i], elems[i]))
		}
	}
	return out, ok
}

// captureNames are the names a request body's capture attribute sets,
// read before the request is decoded (a batch's steps must not read each
// other's); names that are not static are left out.
func captureNames(body hcl.Body) []string {
	content, _, _ := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "capture"}}})
	if content == nil || content.Attributes["capture"] == nil {
		return nil
	}
	pairs, diags := hcl.ExprMap(content.Attributes["capture"].Expr)
	if diags.HasErrors() {
		return nil
	}
	var out []string
	for _, kv := range pairs {
		if name := hcl.ExprAsKeyword(kv.Key); name != "" {
			out = append(out, name)
		} else if v, diags := kv.Key.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			out = append(out, v.AsString())
		}
	}
	return out
}

// Target is where a user class's requests go: the workload's host, or
// the class's own.
type Target struct {
	Host   string // as written, without a trailing slash: "http://127.0.0.1:8080/api"
	Scheme string // "http" or "https"
	Addr   string // host:port to dial
	Prefix string // a path every request's path follows ("/api"), or ""
}

// target reads a host = "http://host:port[/prefix]".
func (d *decoder) target(expr hcl.Expression) (Target, bool) {
	host, ok := d.str(expr, "host")
	if !ok {
		return Target{}, false
	}
	u, err := url.Parse(host)
	switch {
	case err != nil || u.Host == "":
		d.errorf(expr.Range(), "Invalid host", "host must be a URL like \"http://127.0.0.1:8080\"; got %q.", host)
		return Target{}, false
	case u.Scheme != "http" && u.Scheme != "https":
		d.errorf(expr.Range(), "Invalid host", "host must start with http:// or https://; got %q.", host)
		return Target{}, false
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		d.errorf(expr.Range(), "Invalid host", "host is a scheme, an address and a path prefix at most; put queries in the tasks. Got %q.", host)
		return Target{}, false
	}
	t := Target{Host: strings.TrimSuffix(host, "/"), Scheme: u.Scheme, Addr: u.Host, Prefix: strings.TrimSuffix(u.EscapedPath(), "/")}
	if u.Port() == "" {
		if u.Scheme == "https" {
			t.Addr += ":443"
		} else {
			t.Addr += ":80"
		}
	}
	return t, true
}

// TargetOf is where class u sends its requests.
func (w *Workload) TargetOf(u *UserClass) Target {
	if u != nil && u.Target != nil {
		return *u.Target
	}
	return Target{Host: w.Host, Scheme: w.Scheme, Addr: w.Addr, Prefix: w.Prefix}
}

// RequestTarget is where r, sent by class u (nil: a setup or teardown
// step), goes: its own host, else the class's, else the workload's.
func (w *Workload) RequestTarget(u *UserClass, r *Request) Target {
	if r.Target != nil {
		return *r.Target
	}
	return w.TargetOf(u)
}

// Targets are the distinct hosts the workload sends to, its own first.
func (w *Workload) Targets() []Target {
	out := []Target{w.TargetOf(nil)}
	add := func(t Target) {
		if !slices.ContainsFunc(out, func(o Target) bool { return o.Host == t.Host }) {
			out = append(out, t)
		}
	}
	for _, r := range append(slices.Clone(w.Setup), w.Teardown...) {
		add(w.RequestTarget(nil, r))
	}
	for _, u := range w.Users {
		add(w.TargetOf(u))
		for _, r := range u.Start {
			add(w.RequestTarget(u, r))
		}
		for _, t := range u.Tasks {
			for _, r := range t.Steps {
				add(w.RequestTarget(u, r))
			}
		}
	}
	return out
}

// Origin is the target's scheme and address as written, without the prefix.
func (t Target) Origin() string { return strings.TrimSuffix(t.Host, t.Prefix) }

func (d *decoder) decodeUser(ru *rawUser, w *Workload) *UserClass {
	u := &UserClass{Name: ru.Name, Weight: 1, Range: ru.DefRange, Cookies: w.Cookies}
	if present(ru.Weight) {
		n, ok := d.integer(ru.Weight, "weight", 0, 1_000_000)
		if !ok {
			return nil
		}
		u.Weight = int(n)
	}
	if present(ru.Wait) {
		wt, ok := d.wait(ru.Wait, "wait")
		if !ok {
			return nil
		}
		u.Wait = wt
	}
	if present(ru.Cookies) {
		if m, ok := d.cookieMode(ru.Cookies); ok {
			u.Cookies = m
		}
	}
	if present(ru.Host) {
		if t, ok := d.target(ru.Host); ok && t.Host != w.Host {
			u.Target = &t
		}
	}
	// What the start block captures every task and sequence may read.
	kept := map[string]bool{}
	if rs := ru.Start; rs != nil {
		if len(rs.Steps)+len(rs.Batches) == 0 {
			d.errorf(rs.DefRange, "Empty start", "The start block of user %q has no step blocks.", u.Name)
		}
		if present(rs.OnFailure) {
			if v, ok := d.oneOf(rs.OnFailure, "on_failure", "stop", "continue"); ok {
				u.StartGoOn = v == "continue"
			}
		}
		drawn := map[string]bool{}
		u.StartPass = d.decodePass(rs.Pass, refScope{user: true}, drawn)
		for n := range drawn {
			kept[n] = true // read as captured.NAME, for the user's life
		}
		steps, ok := d.decodeSteps(rs.Steps, rs.Batches, w, kept, nil)
		if !ok {
			return nil
		}
		u.Start = steps
	}
	taskRefs := refScope{user: true}
	if len(kept) > 0 {
		taskRefs.captured = kept
	}
	seen := map[string]hcl.Range{}
	dup := func(name string, rng hcl.Range) bool {
		if prev, ok := seen[name]; ok {
			d.errorf(rng, "Duplicate task", "A task or sequence named %q was already defined in user %q at %s.", name, u.Name, prev)
			return true
		}
		seen[name] = rng
		return false
	}
	type item struct {
		rng  hcl.Range
		task *Task
	}
	var items []item
	tasks, _ := forEachCopies(d, ru.Tasks, func(rt *rawTask) hcl.Expression { return rt.ForEach }, func(rt *rawTask, key string, each cty.Value) *rawTask {
		cp := *rt
		cp.Name, cp.ForEach, cp.each = fmt.Sprintf("%s[%s]", rt.Name, key), nil, each
		return &cp
	})
	for _, rt := range tasks {
		if dup(rt.Name, rt.DefRange) {
			continue
		}
		t := &Task{Name: rt.Name, Weight: 1, Range: rt.DefRange}
		if present(rt.Weight) {
			n, ok := d.integer(rt.Weight, "weight", 0, 1_000_000)
			if !ok {
				continue
			}
			t.Weight = int(n)
		}
		refs := taskRefs
		var r *Request
		d.withEach(rt.each, func() {
			if rt.Pass != nil {
				refs.pass = map[string]bool{}
				t.Pass = d.decodePass(rt.Pass, taskRefs, refs.pass)
			}
			reqRefs := refs
			reqRefs.repeat = present(rt.Repeat)
			r = d.decodeRequest(rt.Request, rt.DefRange, rt.Name, w, reqRefs)
			if r != nil {
				d.decodeRepeat(rt.Repeat, refs, r)
				d.decodeWhen(rt.When, refs, r)
			}
		})
		if r == nil {
			continue
		}
		t.Steps = []*Request{r}
		items = append(items, item{rt.DefRange, t})
	}
	for _, rs := range ru.Sequences {
		if dup(rs.Name, rs.DefRange) {
			continue
		}
		t := &Task{Name: rs.Name, Weight: 1, Sequence: true, Range: rs.DefRange}
		if present(rs.Weight) {
			n, ok := d.integer(rs.Weight, "weight", 0, 1_000_000)
			if !ok {
				continue
			}
			t.Weight = int(n)
		}
		if len(rs.Steps)+len(rs.Batches) == 0 {
			d.errorf(rs.DefRange, "Empty sequence", "Sequence %q has no step blocks.", rs.Name)
			continue
		}
		if present(rs.OnFailure) {
			if v, ok := d.oneOf(rs.OnFailure, "on_failure", "stop", "continue"); ok {
				t.GoOn = v == "continue"
			}
		}
		passNames := map[string]bool{}
		t.Pass = d.decodePass(rs.Pass, refScope{user: true, captured: copySet(kept)}, passNames)
		if rs.Pass == nil {
			passNames = nil
		}
		steps, ok := d.decodeSteps(rs.Steps, rs.Batches, w, copySet(kept), passNames)
		t.Steps = steps
		if ok {
			items = append(items, item{rs.DefRange, t})
		}
	}
	// Tasks and sequences keep the order they were written in.
	sort.SliceStable(items, func(i, j int) bool { return items[i].rng.Start.Byte < items[j].rng.Start.Byte })
	for _, it := range items {
		u.Tasks = append(u.Tasks, it.task)
	}
	if len(ru.Tasks)+len(ru.Sequences) == 0 {
		d.errorf(ru.DefRange, "User without tasks", "User %q has no task or sequence block, so it would never send a request.", u.Name)
		return nil
	}
	if len(u.Tasks) == len(ru.Tasks)+len(ru.Sequences) && u.TaskWeight() == 0 {
		d.errorf(ru.DefRange, "Zero total weight", "Every task of user %q has weight 0, so it would never pick one.", u.Name)
		return nil
	}
	if u.Cookies == CookiesNone {
		for _, t := range append([]*Task{{Steps: u.Start}}, u.Tasks...) {
			for _, r := range t.Steps {
				if len(r.DropCookies) > 0 {
					d.errorf(r.Range, "No cookies to drop", "Step %q drops cookies, but user %q keeps none (cookies = \"none\"): set cookies = \"user\" or \"pass\" on the workload or the user.", r.Step, u.Name)
				}
			}
		}
	}
	return u
}

func copySet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// wait reads constant("1s"), between("1s", "3s") or pacing("2s").
func (d *decoder) wait(expr hcl.Expression, what string) (Wait, bool) {
	v, ok := d.value(expr)
	if !ok {
		return Wait{}, false
	}
	if v.IsNull() || !v.Type().Equals(waitType) {
		d.errorf(expr.Range(), "Invalid wait", `%s takes constant("1s"), between("1s", "3s") or pacing("2s"); got %s.`, what, describe(v))
		return Wait{}, false
	}
	kinds := map[string]WaitKind{"constant": WaitConstant, "between": WaitBetween, "pacing": WaitPacing}
	w := Wait{Kind: kinds[v.GetAttr("kind").AsString()]}
	w.Min, _ = parseDurationOK(v.GetAttr("min").AsString())
	w.Max, _ = parseDurationOK(v.GetAttr("max").AsString())
	return w, true
}

func (d *decoder) decodeRequest(body hcl.Body, defRange hcl.Range, step string, w *Workload, rs refScope) *Request {
	var rr rawRequest
	diags := gohcl.DecodeBody(body, nil, &rr)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return nil
	}
	r := &Request{Step: step, Range: defRange, Timeout: w.Timeout, Redirects: w.Redirects}
	if present(rr.Host) {
		if t, ok := d.target(rr.Host); ok {
			r.Target = &t
		}
	}
	if present(rr.Drop) {
		r.DropCookies = d.cookieNames(rr.Drop)
	}
	if present(rr.Redirects) {
		if n, ok := d.integer(rr.Redirects, "redirects", 0, MaxRedirects); ok {
			r.Redirects = int(n)
		}
	}
	c := &compiler{d: d}

	method, pathExpr, ok := d.requestMethod(&rr, defRange, step)
	if !ok {
		return nil
	}
	r.Method = method
	if r.Path, ok = d.requestPath(pathExpr, rs, c); !ok {
		return nil
	}
	if r.Name, ok = d.requestName(rr.Name, method, pathExpr, r.Path); !ok {
		return nil
	}
	if present(rr.Query) {
		r.Query = d.pairs(rr.Query, "query", rs)
	}
	if present(rr.Headers) {
		r.Headers = d.pairs(rr.Headers, "headers", rs)
	}
	if r.Body, ok = d.requestBody(&rr, rs, c); !ok {
		return nil
	}
	if r.Body != nil && (r.Method == "GET" || r.Method == "HEAD") {
		d.warnf(defRange, "Body on a "+r.Method+" request", "Many servers ignore or refuse a body on %s.", r.Method)
	}
	if present(rr.Timeout) {
		if t, ok := d.duration(rr.Timeout, "timeout"); ok {
			if t <= 0 {
				d.errorf(rr.Timeout.Range(), "Invalid duration", "timeout must be above zero.")
			}
			r.Timeout = t
		}
	}
	if rr.Expect != nil {
		r.Expect = d.decodeExpect(rr.Expect)
		d.decodeExpectMore(rr.Expect, rs, &r.Expect)
	}
	if present(rr.Capture) {
		r.Captures = d.decodeCaptures(rr.Capture, rs, c)
	}
	if present(rr.CaptureFailed) {
		if b, ok := d.boolean(rr.CaptureFailed, "capture_failed"); ok {
			r.CaptureFailed = b
			if b && !present(rr.Capture) {
				d.errorf(rr.CaptureFailed.Range(), "Nothing to capture", "capture_failed reads a failed answer's captures, but step %q captures nothing: add a capture, or remove capture_failed.", step)
			}
		}
	}
	if present(rr.Measure) {
		r.Measures = d.decodeMeasureMap(rr.Measure, rs, c)
	}
	return r
}

// requestMethod finds the one request a task or step sends: get = "/path"
// (or post, put, …), or method and path together. It returns the method
// and the path's expression.
func (d *decoder) requestMethod(rr *rawRequest, defRange hcl.Range, step string) (string, hcl.Expression, bool) {
	methodExprs := map[string]hcl.Expression{"get": rr.Get, "post": rr.Post, "put": rr.Put, "patch": rr.Patch,
		"delete": rr.Delete, "head": rr.Head, "options": rr.Options}
	var method string
	var pathExpr hcl.Expression
	for _, m := range methodAttrs {
		e := methodExprs[m.attr]
		if !present(e) {
			continue
		}
		if pathExpr != nil {
			d.errorf(e.Range(), "Two requests in one task", "%q already sets this task's request; a task or step sends one request. Use a sequence for several.", strings.ToLower(method))
			return "", nil, false
		}
		method, pathExpr = m.method, e
	}
	if present(rr.Method) || present(rr.Path) {
		if pathExpr != nil {
			d.errorf(rr.Method.Range(), "Two requests in one task", "Write either %s = \"/path\" or method and path, not both.", strings.ToLower(method))
			return "", nil, false
		}
		if !present(rr.Method) || !present(rr.Path) {
			d.errorf(defRange, "Incomplete request", "method and path go together: method = \"PUT\" and path = \"/items/1\".")
			return "", nil, false
		}
		m, ok := d.str(rr.Method, "method")
		if !ok {
			return "", nil, false
		}
		if !validMethod(m) {
			d.errorf(rr.Method.Range(), "Invalid method", "%q is not an HTTP method; methods are upper-case tokens like \"GET\" or \"PROPFIND\".", m)
			return "", nil, false
		}
		method, pathExpr = m, rr.Path
	}
	if pathExpr == nil {
		d.errorf(defRange, "Missing request", `%q sends no request: write get = "/path" (or post, put, patch, delete, head, options).`, step)
		return "", nil, false
	}
	return method, pathExpr, true
}

// requestPath compiles a request's path, which starts with "/".
func (d *decoder) requestPath(pathExpr hcl.Expression, rs refScope, c *compiler) (*Value, bool) {
	if !d.checkRefs(pathExpr, rs) {
		return nil, false
	}
	path, diags := c.compile(pathExpr)
	d.diags = append(d.diags, diags...)
	if path == nil {
		return nil, false
	}
	if !pathStartsWithSlash(pathExpr, path) {
		d.errorf(pathExpr.Range(), "Invalid path", "A request path starts with \"/\" and is relative to the workload's host; got %s.", strings.TrimSpace(path.src))
		return nil, false
	}
	return path, true
}

// requestName is the request's stats key, "METHOD name": its name
// attribute, else its path with each computed part as a placeholder.
func (d *decoder) requestName(nameExpr hcl.Expression, method string, pathExpr hcl.Expression, path *Value) (string, bool) {
	if present(nameExpr) {
		name, ok := d.str(nameExpr, "name")
		if !ok {
			return "", false
		}
		if strings.TrimSpace(name) == "" {
			d.errorf(nameExpr.Range(), "Invalid name", "name must not be empty.")
			return "", false
		}
		return method + " " + name, true
	}
	name, ok := d.templateName(pathExpr, path)
	if !ok {
		d.errorf(pathExpr.Range(), "Request needs a name", "This path is computed as a whole, so it cannot name its request: add name = \"/items/:id\" to group its statistics.")
		return "", false
	}
	return method + " " + name, true
}

// requestBody reads a request's one body, json, form or body, if any.
func (d *decoder) requestBody(rr *rawRequest, rs refScope, c *compiler) (*Body, bool) {
	bodies := 0
	for _, e := range []hcl.Expression{rr.JSON, rr.Form, rr.Body, rr.Multipart} {
		if present(e) {
			bodies++
			if bodies > 1 {
				d.errorf(e.Range(), "Two bodies", "A request has one body: json, form, multipart or body.")
				return nil, false
			}
		}
	}
	compiled := func(e hcl.Expression) (*Value, bool) {
		if !d.checkRefs(e, rs) {
			return nil, false
		}
		v, diags := c.compile(e)
		d.diags = append(d.diags, diags...)
		return v, v != nil
	}
	switch {
	case present(rr.JSON):
		v, ok := compiled(rr.JSON)
		if !ok {
			return nil, false
		}
		return &Body{Kind: BodyJSON, ContentType: "application/json", Value: v}, true
	case present(rr.Form):
		return &Body{Kind: BodyForm, ContentType: "application/x-www-form-urlencoded", Form: d.pairs(rr.Form, "form", rs)}, true
	case present(rr.Multipart):
		parts := d.pairs(rr.Multipart, "multipart", rs)
		return &Body{Kind: BodyMultipart, ContentType: "multipart/form-data; boundary=" + MultipartBoundary, Form: parts}, true
	case present(rr.Body):
		v, ok := compiled(rr.Body)
		if !ok {
			return nil, false
		}
		return &Body{Kind: BodyRaw, ContentType: "text/plain; charset=utf-8", Value: v}, true
	}
	return nil, true
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// pathStartsWithSlash checks a static path, or the first literal part of a
// template.
func pathStartsWithSlash(expr hcl.Expression, v *Value) bool {
	if v.static {
		return strings.HasPrefix(v.StaticText(), "/")
	}
	t, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || len(t.Parts) == 0 {
		return false
	}
	lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
	return ok && lit.Val.Type() == cty.String && strings.HasPrefix(lit.Val.AsString(), "/")
}

// templateName names a request after its path: literal parts as written,
// static interpolations by their value, dynamic ones as ${…}; the query
// string is left out so /products?page=${n} counts as "/products".
func (d *decoder) templateName(expr hcl.Expression, v *Value) (string, bool) {
	var name string
	if v.static {
		name = v.StaticText()
	} else {
		t, ok := expr.(*hclsyntax.TemplateExpr)
		if !ok {
			return "", false
		}
		var b strings.Builder
		for _, p := range t.Parts {
			if lit, ok := p.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
				b.WriteString(lit.Val.AsString())
				continue
			}
			if !isDynamic(p) {
				if val, diags := d.evalStatic(p); !diags.HasErrors() {
					b.Write(appendText(nil, val))
					continue
				}
			}
			b.WriteString("${" + sourceText(d.loader.srcs, p.Range()) + "}")
		}
		name = b.String()
	}
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	return name, true
}

// pairs reads a map of names to values: headers, query or form parameters.
// sensitive tells whether the variable name is declared sensitive.
func (d *decoder) sensitive(name string) bool {
	return d.sensitiveVars[name]
}

// readsSensitive tells whether expr reads a sensitive variable, directly
// or through a local made from one: its value is a secret too.
func (d *decoder) readsSensitive(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		if len(tr) < 2 {
			continue
		}
		a, ok := tr[1].(hcl.TraverseAttr)
		switch {
		case !ok:
		case tr.RootName() == "var" && d.sensitive(a.Name):
			return true
		case tr.RootName() == "local" && d.sensitiveLocals[a.Name]:
			return true
		}
	}
	return false
}

func (d *decoder) pairs(expr hcl.Expression, what string, rs refScope) []Pair {
	items, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		d.errorf(expr.Range(), "Invalid value for "+what, `%s takes a map, like { "X-Trace" = "on" }.`, what)
		return nil
	}
	c := &compiler{d: d}
	var out []Pair
	for _, it := range items {
		key, ok := d.str(it.Key, what+" name")
		if !ok {
			continue
		}
		if !d.checkRefs(it.Value, rs) {
			continue
		}
		if !rs.user && isDynamic(it.Value) {
			d.errorf(it.Value.Range(), "Value must be known at load", "Workload headers are the same for every request; put per-request headers on a task.")
			continue
		}
		v, vd := c.compile(it.Value)
		d.diags = append(d.diags, vd...)
		if v == nil {
			continue
		}
		secret := what == "headers" && secretHeaders[strings.ToLower(key)] || d.readsSensitive(it.Value)
		out = append(out, Pair{Key: key, Value: v, Secret: secret, Range: it.Value.Range()})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (d *decoder) decodeExpect(re *rawExpect) Expect {
	var e Expect
	if present(re.Status) {
		v, ok := d.value(re.Status)
		if ok {
			vals := []cty.Value{v}
			if !v.IsNull() && (v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
				vals = v.AsValueSlice()
			}
			for _, s := range vals {
				n, err := convert.Convert(s, cty.Number)
				code := int64(0)
				if err == nil && !n.IsNull() {
					if i, acc := n.AsBigFloat().Int64(); acc == 0 {
						code = i
					}
				}
				if code < 100 || code > 599 {
					d.errorf(re.Status.Range(), "Invalid status", "status takes HTTP status codes from 100 to 599, like 200 or [200, 201]; got %s.", describe(s))
					break
				}
				e.Status = append(e.Status, int(code))
			}
		}
	}
	if present(re.JSON) {
		v, ok := d.value(re.JSON)
		if ok {
			switch {
			case !v.IsNull() && (v.Type().IsListType() || v.Type().IsTupleType()):
				for _, p := range v.AsValueSlice() {
					if p.IsNull() || p.Type() != cty.String || p.AsString() == "" {
						d.errorf(re.JSON.Range(), "Invalid json expectation", "json lists field paths that must be present, like [\"order_id\", \"items.0.id\"]; got %s.", describe(p))
						break
					}
					e.JSONPresent = append(e.JSONPresent, parseJSONPath(p.AsString()))
				}
			case !v.IsNull() && (v.Type().IsObjectType() || v.Type().IsMapType()):
				m := v.AsValueMap()
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					e.JSONEquals = append(e.JSONEquals, JSONEquals{Path: parseJSONPath(k), Value: m[k], JSON: appendJSONValue(nil, m[k])})
				}
			default:
				d.errorf(re.JSON.Range(), "Invalid json expectation", "json takes a list of field paths that must be present ([\"order_id\"]) or a map of paths to the values they must equal ({ status = \"ok\" }); got %s.", describe(v))
			}
		}
	}
	if present(re.BodyContains) {
		v, ok := d.value(re.BodyContains)
		if ok {
			vals := []cty.Value{v}
			if !v.IsNull() && (v.Type().IsListType() || v.Type().IsTupleType()) {
				vals = v.AsValueSlice()
			}
			for _, s := range vals {
				if s.IsNull() || s.Type() != cty.String || s.AsString() == "" {
					d.errorf(re.BodyContains.Range(), "Invalid body_contains", "body_contains takes a non-empty string or a list of them; got %s.", describe(s))
					break
				}
				e.BodyContains = append(e.BodyContains, s.AsString())
			}
		}
	}
	if present(re.MaxLatency) {
		if t, ok := d.duration(re.MaxLatency, "max_latency"); ok {
			e.MaxLatency = t
		}
	}
	return e
}

func parseJSONPath(s string) JSONPath {
	return JSONPath{Text: s, Segments: strings.Split(s, ".")}
}

// decodeCaptures reads capture = { name = response.json.x, … }.
func (d *decoder) decodeCaptures(expr hcl.Expression, rs refScope, c *compiler) []*Capture {
	var out []*Capture
	for _, nv := range d.responseMap(expr, rs, c, "capture", "{ cart_id = response.json.cart_id }", "cart_id") {
		out = append(out, &Capture{Name: nv.name, Value: nv.value})
	}
	return out
}

// namedValue is one entry of a map of names to expressions of the answer.
type namedValue struct {
	name  string
	value *Value
	rng   hcl.Range
}

// responseMap reads what = { NAME = expression, … }, the expressions
// reading the step's response (capture, measure): each name a plain
// identifier, each expression compiled.
func (d *decoder) responseMap(expr hcl.Expression, rs refScope, c *compiler, what, example, name string) []namedValue {
	items, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		d.errorf(expr.Range(), "Invalid "+what, "%s takes a map of names to values of the response, like %s.", what, example)
		return nil
	}
	rs.response = true
	var out []namedValue
	for _, it := range items {
		key := hcl.ExprAsKeyword(it.Key)
		if key == "" || !hclsyntax.ValidIdentifier(key) {
			d.errorf(it.Key.Range(), "Invalid "+what+" name", "A %s's name is a plain identifier, like %s.", what, name)
			continue
		}
		if !d.checkRefs(it.Value, rs) {
			continue
		}
		v, vd := c.compile(it.Value)
		d.diags = append(d.diags, vd...)
		if v == nil {
			continue
		}
		out = append(out, namedValue{key, v, it.Value.Range()})
	}
	return out
}

package engine

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
	"github.com/zclconf/go-cty/cty"

	"lab/lang"
	"lab/lang/units"
	"lab/runtime/tally"
)

// step is a request of the plan prepared for sending: its static parts
// encoded once, its dynamic parts left to the plan's compiled values.
type step struct {
	req       *lang.Request
	name      int // index of the request name in the recorder
	method    []byte
	path      []byte  // when static and without extra query
	body      []byte  // when static
	cl        *client // the client of the host the request goes to
	ctype     []byte  // the body's own type; nil when the plan wrote a Content-Type
	jar       bool    // the user keeps cookies: send its jar, keep what the target sets
	pending   bool    // may have a reason not to be built (lang.Scope.SetPending)
	timeout   time.Duration
	checkJSON bool
	// failure reasons, built once so the hot path does not format them
	reasonTimeout string
}

// client sends requests to one host: the workload's, or a user class's own.
type client struct {
	hc      *fasthttp.HostClient
	host    []byte
	origin  []byte      // scheme://host[:port] as the plan writes it: a redirect there is followed
	prefix  []byte      // the host's path prefix ("/api"), before every path
	headers [][2][]byte // workload headers, static
	json    fastjson.ParserPool
}

func newClient(w *lang.Workload, t lang.Target, maxConns int) *client {
	hc := &fasthttp.HostClient{
		Addr:     t.Addr,
		Name:     "lab",
		MaxConns: maxConns,
		// A load generator must not retry on its own: every attempt is a
		// request the statistics must see.
		MaxIdemponentCallAttempts: 1,
		ReadTimeout:               w.Timeout,
		WriteTimeout:              w.Timeout,
		MaxConnWaitTimeout:        w.Timeout,
		NoDefaultUserAgentHeader:  true,
		DisablePathNormalizing:    true,
		DialTimeout:               dialYield,
	}
	if t.Scheme == "https" {
		hc.IsTLS = true
		hc.TLSConfig = &tls.Config{ServerName: strings.Split(t.Addr, ":")[0], InsecureSkipVerify: w.InsecureSkipVerify}
	}
	origin := t.Origin()
	c := &client{hc: hc, host: []byte(strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")), origin: []byte(origin)}
	if t.Prefix != "" {
		c.prefix = []byte(t.Prefix)
	}
	for _, h := range w.Headers {
		c.headers = append(c.headers, [2][]byte{[]byte(h.Key), []byte(h.Value.StaticText())})
	}
	return c
}

func newStep(r *lang.Request, name int, cookies lang.CookieMode, w *lang.Workload, cl *client) *step {
	s := &step{req: r, name: name, cl: cl, method: []byte(r.Method), timeout: r.Timeout, jar: cookies != lang.CookiesNone,
		pending: r.Repeat != nil}
	if r.Path.Static() && len(r.Query) == 0 {
		s.path = append(append([]byte(nil), cl.prefix...), r.Path.StaticText()...)
	}
	if b := r.Body; b != nil {
		// A Content-Type the plan wrote (on the request or the workload)
		// wins over the body kind's: XML or SOAP sent as body = "...".
		if !writesHeader(r.Headers, "Content-Type") && !writesHeader(w.Headers, "Content-Type") {
			s.ctype = []byte(b.ContentType)
		}
		switch {
		case b.Kind == lang.BodyJSON && b.Value.Static():
			s.body = b.Value.StaticJSON()
		case b.Kind == lang.BodyRaw && b.Value.Static():
			s.body = []byte(b.Value.StaticText())
		case b.Kind == lang.BodyForm && allStatic(b.Form):
			s.body, _ = appendForm(nil, b.Form, nil)
		case b.Kind == lang.BodyMultipart && allStatic(b.Form):
			s.body, _ = appendMultipart(nil, b.Form, nil)
		}
	}
	e := r.Expect
	s.checkJSON = len(e.JSONPresent) > 0 || len(e.JSONEquals) > 0
	s.reasonTimeout = "timeout after " + units.FormatDuration(r.Timeout)
	return s
}

func writesHeader(ps []lang.Pair, name string) bool {
	for _, p := range ps {
		if strings.EqualFold(p.Key, name) {
			return true
		}
	}
	return false
}

func allStatic(ps []lang.Pair) bool {
	for _, p := range ps {
		if !p.Value.Static() {
			return false
		}
	}
	return true
}

// appendForm URL-encodes pairs.
func appendForm(dst []byte, ps []lang.Pair, s *lang.Scope) ([]byte, error) {
	var args fasthttp.Args
	var buf []byte
	for _, p := range ps {
		var err error
		if buf, err = p.Value.AppendText(buf[:0], s); err != nil {
			return dst, err
		}
		args.AddBytesV(p.Key, buf)
	}
	return args.AppendBytes(dst), nil
}

// build fills req for one send of st by the user with scope s.
func (c *client) build(req *fasthttp.Request, st *step, s *lang.Scope, scratch []byte) ([]byte, error) {
	if st.pending {
		if err := s.TakePending(); err != nil {
			return scratch, err
		}
	}
	req.Header.SetMethodBytes(st.method)
	r := st.req
	if st.path != nil {
		req.SetRequestURIBytes(st.path)
	} else {
		var err error
		if scratch, err = r.Path.AppendText(append(scratch[:0], c.prefix...), s); err != nil {
			return scratch, fmt.Errorf("path: %v", err)
		}
		if len(r.Query) > 0 {
			if bytes.IndexByte(scratch, '?') < 0 {
				scratch = append(scratch, '?')
			} else {
				scratch = append(scratch, '&')
			}
			if scratch, err = appendForm(scratch, r.Query, s); err != nil {
				return scratch, fmt.Errorf("query: %v", err)
			}
		}
		req.SetRequestURIBytes(scratch)
	}
	req.Header.SetHostBytes(c.host)
	if c.hc.IsTLS {
		// fasthttp refuses a request whose URI says http to a TLS host.
		req.URI().SetSchemeBytes(schemeHTTPS)
	}
	for _, h := range c.headers {
		req.Header.SetBytesKV(h[0], h[1])
	}
	for _, h := range r.Headers {
		var err error
		if scratch, err = h.Value.AppendText(scratch[:0], s); err != nil {
			return scratch, fmt.Errorf("header %s: %v", h.Key, err)
		}
		req.Header.SetBytesV(h.Key, scratch)
	}
	if st.jar {
		for _, name := range r.DropCookies {
			s.DropCookie(name)
		}
		if s.HasCookies() {
			s.EachCookie(req.Header.RequestURI(), func(name, value string) { req.Header.SetCookie(name, value) })
		}
	}
	if b := r.Body; b != nil {
		if st.ctype != nil {
			req.Header.SetContentTypeBytes(st.ctype)
		}
		if st.body != nil {
			req.SetBodyRaw(st.body)
		} else {
			var err error
			switch b.Kind {
			case lang.BodyJSON:
				scratch, err = b.Value.AppendJSON(scratch[:0], s)
			case lang.BodyRaw:
				scratch, err = b.Value.AppendText(scratch[:0], s)
			case lang.BodyForm:
				scratch, err = appendForm(scratch[:0], b.Form, s)
			case lang.BodyMultipart:
				scratch, err = appendMultipart(scratch[:0], b.Form, s)
			}
			if err != nil {
				return scratch, fmt.Errorf("body: %v", err)
			}
			req.SetBody(scratch)
		}
	}
	return scratch, nil
}

var schemeHTTPS = []byte("https")

var errTooManyRedirects = errors.New("too many redirects")

// errorReason names a transport error with a bounded set of reasons.
func errorReason(err error, st *step) (reason string, timeout bool) {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, os.ErrDeadlineExceeded):
		return st.reasonTimeout, true
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return "no free connection (max_connections reached)", false
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", false
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset", false
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server", false
	case errors.Is(err, fasthttp.ErrDialTimeout):
		return "connect timeout", true
	case errors.Is(err, errTooManyRedirects):
		return fmt.Sprintf("more than %d redirects", st.req.Redirects), false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return st.reasonTimeout, true
	}
	// fasthttp's parse errors quote what the target sent: named by kind
	// instead, so that a target answering garbage cannot make a reason per
	// request (failures.csv stays short) or put its bytes in the report.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "error when reading response headers"):
		return "malformed response: not HTTP/1.x headers", false
	case strings.Contains(msg, "error when reading response body"):
		return "malformed response: body", false
	}
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return "error: " + msg, false
}

// check applies a request's expectations to its response; "" means it passed.
func (c *client) check(st *step, resp *fasthttp.Response, latency time.Duration, s *lang.Scope) string {
	e := &st.req.Expect
	code := resp.StatusCode()
	if len(e.Status) == 0 {
		if code >= 400 {
			return statusReason(code)
		}
	} else {
		ok := false
		for _, want := range e.Status {
			if code == want {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Sprintf("status %d, expected %s", code, statusList(e.Status))
		}
	}
	if st.checkJSON {
		if reason := c.checkJSON(e, resp.Body()); reason != "" {
			return reason
		}
	}
	for _, want := range e.BodyContains {
		if !bytes.Contains(resp.Body(), []byte(want)) {
			return fmt.Sprintf("body lacks %q", want)
		}
	}
	if e.MaxLatency > 0 && latency > e.MaxLatency {
		return "slower than " + units.FormatDuration(e.MaxLatency)
	}
	for _, h := range e.Headers {
		if string(resp.Header.Peek(h.Name)) != h.Value {
			return "header " + h.Name + " is not " + h.Value
		}
	}
	for _, name := range e.Cookies {
		set := false
		resp.Header.VisitAllCookie(func(k, _ []byte) { set = set || string(k) == name })
		if !set {
			return "no cookie " + name + " set"
		}
	}
	if len(e.That) > 0 {
		return st.req.CheckThat(s, response{resp})
	}
	return ""
}

func statusReason(code int) string {
	if code >= 100 && code < 600 {
		return statusReasons[code]
	}
	return fmt.Sprintf("HTTP %d", code)
}

var statusReasons = func() [600]string {
	var r [600]string
	for i := range r {
		r[i] = fmt.Sprintf("HTTP %d", i)
	}
	return r
}()

func statusList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}

func (c *client) checkJSON(e *lang.Expect, body []byte) string {
	p := c.json.Get()
	defer c.json.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		return "response is not JSON"
	}
	for _, jp := range e.JSONPresent {
		// Present means there and holding something: `"order_id": null`
		// or "" is the wrong answer delivered fast that expect exists for.
		switch f := v.Get(jp.Segments...); {
		case f == nil:
			return "json field " + jp.Text + " missing"
		case f.Type() == fastjson.TypeNull:
			return "json field " + jp.Text + " is null"
		case f.Type() == fastjson.TypeString && len(f.GetStringBytes()) == 0:
			return "json field " + jp.Text + " is empty"
		}
	}
	for _, je := range e.JSONEquals {
		got := v.Get(je.Path.Segments...)
		if got == nil {
			return "json field " + je.Path.Text + " missing"
		}
		if !jsonEqual(got, je.JSON) {
			return fmt.Sprintf("json %s is not %s", je.Path.Text, je.JSON)
		}
	}
	return ""
}

// jsonEqual compares a parsed value with an expected JSON text by their
// canonical encodings (numbers compared as numbers).
func jsonEqual(got *fastjson.Value, want []byte) bool {
	var p fastjson.Parser
	w, err := p.ParseBytes(want)
	if err != nil {
		return false
	}
	if got.Type() == fastjson.TypeNumber && w.Type() == fastjson.TypeNumber {
		return got.GetFloat64() == w.GetFloat64()
	}
	return bytes.Equal(got.MarshalTo(nil), w.MarshalTo(nil))
}

// response adapts a fasthttp response to what captures read.
type response struct{ r *fasthttp.Response }

func (r response) StatusCode() int { return r.r.StatusCode() }
func (r response) Body() []byte    { return r.r.Body() }
func (r response) Header(name string) string {
	return string(r.r.Header.Peek(name))
}
func (r response) HeaderValues(name string) []string {
	var out []string
	if strings.EqualFold(name, fasthttp.HeaderSetCookie) {
		// fasthttp keeps Set-Cookie lines apart from the other headers.
		r.r.Header.VisitAllCookie(func(_, v []byte) { out = append(out, string(v)) })
		return out
	}
	for _, v := range r.r.Header.PeekAll(name) {
		out = append(out, string(v))
	}
	return out
}
func (r response) HeaderNames() []string {
	var out []string
	for k := range r.r.Header.All() {
		out = append(out, string(k))
	}
	return out
}

// follow follows the redirects of resp to the workload's own host, up to
// the request's redirects, within its deadline: resp ends as the last
// answer, which the expectations judge. 301, 302 and 303 turn a request
// with a body into a GET without it, as browsers do; 307 and 308 send it
// again. A redirect elsewhere ends the chain with its 3xx. Each hop is a
// request the target sees: counted in the flight as redirected.
func (c *client) follow(req *fasthttp.Request, resp *fasthttp.Response, st *step, s *lang.Scope, f *flight, deadline time.Time, jar *sync.Mutex) error {
	for hop := 0; ; hop++ {
		code := resp.StatusCode()
		if code != 301 && code != 302 && code != 303 && code != 307 && code != 308 {
			return nil
		}
		path, ok := c.sameHost(resp.Header.Peek(fasthttp.HeaderLocation))
		if !ok {
			return nil
		}
		if hop == st.req.Redirects {
			return errTooManyRedirects
		}
		if st.jar {
			lock(jar)
			keepCookies(s, resp)
			unlock(jar)
		}
		if code <= 303 && !bytes.Equal(req.Header.Method(), []byte("HEAD")) {
			req.Header.SetMethod(fasthttp.MethodGet)
			req.ResetBody()
			req.Header.Del(fasthttp.HeaderContentType)
			// The header keeps the body's length otherwise: the target
			// would wait for a body that never comes.
			req.Header.SetContentLength(0)
		}
		req.SetRequestURIBytes(path)
		if c.hc.IsTLS {
			req.URI().SetSchemeBytes(schemeHTTPS)
		}
		if st.jar {
			req.Header.DelAllCookies()
			lock(jar)
			s.EachCookie(path, func(name, value string) { req.Header.SetCookie(name, value) })
			unlock(jar)
		}
		if f != nil {
			f.redirected(st.name)
		}
		if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
			return err
		}
	}
}

func lock(mu *sync.Mutex) {
	if mu != nil {
		mu.Lock()
	}
}

func unlock(mu *sync.Mutex) {
	if mu != nil {
		mu.Unlock()
	}
}

// sameHost is the path of a Location on the workload's own host: a path
// ("/next"), or an absolute URL of the same scheme and host.
func (c *client) sameHost(loc []byte) ([]byte, bool) {
	switch {
	case len(loc) > 0 && loc[0] == '/' && (len(loc) == 1 || loc[1] != '/'):
		return loc, true
	case bytes.HasPrefix(loc, c.origin):
		rest := loc[len(c.origin):]
		if len(rest) == 0 {
			return []byte("/"), true
		}
		if rest[0] == '/' || rest[0] == '?' {
			return rest, true
		}
	}
	return nil, false
}

// keepCookies puts the cookies a response sets in the user's jar, or takes
// out those it expires (a logout).
func keepCookies(s *lang.Scope, resp *fasthttp.Response) {
	resp.Header.VisitAllCookie(func(_, line []byte) {
		c := fasthttp.AcquireCookie()
		defer fasthttp.ReleaseCookie(c)
		if c.ParseBytes(line) != nil || len(c.Key()) == 0 {
			return
		}
		exp := c.Expire()
		expired := c.MaxAge() < 0 || exp != fasthttp.CookieExpireUnlimited && exp.Before(time.Now())
		s.SetCookie(c.Key(), c.Value(), c.Path(), expired)
	})
}

// capture runs a step's captures on its response.
func capture(st *step, s *lang.Scope, resp *fasthttp.Response) string {
	for _, c := range st.req.Captures {
		v, err := c.Extract(s, response{resp})
		if err != nil {
			return err.Error()
		}
		s.SetCaptured(c.Name, cty.UnknownAsNull(v))
	}
	return ""
}

var _ lang.Response = response{}

// fromSend marks a request with no schedule of its own (a closed-model
// request, or a later step of an open-model pass): it is timed from its send.
const fromSend time.Duration = -1

// send sends one request of step st for the user with scope s, records its
// outcome through shard, and tells whether it succeeded. intended is when
// the request was due (an open-model arrival's first request), or fromSend.
// The request goes through the sender's flight, so that the end of the run
// finds it if it is still on the wire; it is not sent at all once the run
// is over.
func (e *Engine) send(st *step, s *lang.Scope, shard int, intended time.Duration, scratch *[]byte, f *flight) bool {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)

	var err error
	*scratch, err = st.cl.build(req, st, s, *scratch)
	sent := e.since()
	if intended == fromSend || intended > sent {
		intended = sent
	}
	// Building sends nothing: the request is on the wire from here.
	if e.lapsed(sent) || !f.begin(st.name, intended) {
		return false
	}
	if err != nil {
		return e.notBuilt(st, f, shard, sent, err)
	}
	err = e.wire(st, s, req, resp, f, sent, nil)
	return e.judge(st, s, shard, f, resp, err, intended, sent, e.since())
}

// notBuilt records a request that could not be built (a capture missing,
// a bad value): a failure of this request, never sent.
func (e *Engine) notBuilt(st *step, f *flight, shard int, sent time.Duration, err error) bool {
	out := tally.Outcome{Name: st.name, At: sent, Failed: true, Reason: "request not built: " + err.Error()}
	e.record(f, shard, &out)
	return false
}

// wire sends req, sent at sent, and follows its redirects; jar guards the
// user's cookie jar when the steps of a batch follow theirs at once (nil
// otherwise).
func (e *Engine) wire(st *step, s *lang.Scope, req *fasthttp.Request, resp *fasthttp.Response, f *flight, sent time.Duration, jar *sync.Mutex) error {
	deadline := e.start.Add(sent + st.timeout)
	err := st.cl.hc.DoDeadline(req, resp, deadline)
	if err == nil && st.req.Redirects > 0 {
		err = st.cl.follow(req, resp, st, s, f, deadline, jar)
	}
	return err
}

// judge records the outcome of a request sent at sent and answered (or
// failed with err) at done: its checks, captures and measures run on the
// answer. It tells whether the request succeeded.
func (e *Engine) judge(st *step, s *lang.Scope, shard int, f *flight, resp *fasthttp.Response, err error, intended, sent, done time.Duration) bool {
	out := tally.Outcome{Name: st.name}
	out.At, out.Response, out.Service = done, done-intended, done-sent
	if err != nil {
		out.Failed = true
		out.Reason, out.Timeout = errorReason(err, st)
		if out.Timeout {
			// Recorded at the timeout, not at whenever the error surfaced.
			out.Service = st.timeout
			out.Response = sent - intended + st.timeout
		}
		e.record(f, shard, &out)
		return false
	}
	out.Bytes = int64(len(resp.Body()))
	if st.jar {
		keepCookies(s, resp)
	}
	if reason := st.cl.check(st, resp, out.Response, s); reason != "" {
		out.Failed, out.Reason = true, reason
		if st.req.CaptureFailed {
			capture(st, s, resp) // the check's reason is the failure's
		}
	} else if len(st.req.Captures) > 0 {
		if reason := capture(st, s, resp); reason != "" {
			out.Failed, out.Reason = true, reason
		}
	}
	recorded := e.record(f, shard, &out)
	if recorded && !out.Failed && len(st.req.Measures) > 0 {
		e.measure(st, s, resp, e.start.Add(done))
	}
	return recorded && !out.Failed
}

// measure takes the step's measures from an answer that passed its
// checks; a measure that gives no number is counted as missing, and the
// request stays a success (its answer was right; the number is not there).
func (e *Engine) measure(st *step, s *lang.Scope, resp *fasthttp.Response, at time.Time) {
	for _, m := range st.req.Measures {
		v, err := m.Number(s, response{resp})
		if err != nil {
			e.meas.Missing(m.Index, err.Error())
			continue
		}
		e.meas.Record(m.Index, v, at)
	}
}

// record records a request's outcome, unless the request was cut off at the
// end of the run meanwhile (then it is recorded already, as cut off, and
// false says the pass must not go on).
func (e *Engine) record(f *flight, shard int, out *tally.Outcome) bool {
	if !f.finish() {
		return false
	}
	e.rec.Record(shard, out)
	f.done()
	return true
}

package sut

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Route ids, in the order of Routes and then the shop's own endpoints.
const (
	routeHome = iota
	routeProducts
	routeProduct
	routeCartPost
	routeCartGet
	routeCheckout
	routeHealthz
	routeMetrics
	routeAdminGet
	routeAdminPut
	routeAdminPost
	routeLoginGet
	routeLoginPost
	routeAccount
	routeLogout
	routeSessionCart
	routeUpload
	routeEcho
	routeAdminSessions
	routeOther
	numRoutes
)

// routeLabels are the values of the route label on /metrics: templates,
// never raw URLs, so the label set stays bounded whatever clients send.
var routeLabels = [numRoutes]string{
	"GET /", "GET /products", "GET /products/{id}", "POST /cart", "GET /cart/{id}", "POST /checkout",
	"GET /healthz", "GET /metrics", "GET /admin/knobs", "PUT /admin/knobs", "POST /admin/knobs",
	"GET /login", "POST /login", "GET /account", "POST /logout", "GET /cart", "POST /upload", "POST /echo",
	"GET /admin/sessions", "other",
}

// Shop is the misbehaving shop: an http.Handler whose faults follow its
// knobs, which may change while it runs.
type Shop struct {
	fixed   Knobs                 // listen, seed, products, admin token: set once by New
	knobs   atomic.Pointer[Knobs] // the whole knob set, replaced at once by SetKnobs
	catalog *catalog
	carts   cartStore
	orders  atomic.Int64
	draws   atomic.Uint64 // numbers requests for the seeded random decisions
	// inFlight counts the requests being answered, peak the most at once.
	inFlight, peak atomic.Int64

	// sessions are the logins (session.go); a request's own is looked up
	// once, in ServeHTTP.
	sessions sessionStore

	// checkoutLock is the shared resource every checkout holds for the
	// contention knob's duration: with c clients queued, each waits ~c turns.
	checkoutLock sync.Mutex

	timer   calibratedTimer
	metrics *shopMetrics
	admin   http.Handler // nil unless an admin token is set

	// sleep waits d unless ctx ends first; tests replace it to see delays
	// without waiting for them.
	sleep func(ctx context.Context, d time.Duration)
	log   io.Writer
}

// New builds a shop from validated knobs. The catalogue is generated from
// k.Seed, so two shops with the same seed sell the same products.
func New(k Knobs) (*Shop, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	k = k.clone()
	s := &Shop{fixed: k, catalog: newCatalog(k.Seed, k.Products), log: io.Discard}
	s.sleep = s.timer.sleep
	s.knobs.Store(&k)
	s.carts.init()
	s.sessions.init()
	s.metrics = newShopMetrics(s)
	if k.AdminToken != "" {
		s.admin = s.adminHandler()
	}
	return s, nil
}

// Knobs returns the knobs in force.
func (s *Shop) Knobs() Knobs { return s.knobs.Load().clone() }

// SetKnobs changes the knobs of a running shop. Listen, Seed, Products and
// AdminToken are fixed at start; asking to change them is an error.
func (s *Shop) SetKnobs(k Knobs) error {
	f := s.fixed
	var errs []error
	if k.Listen != f.Listen {
		errs = append(errs, errors.New("listen cannot change on a running shop; restart it"))
	}
	if k.Seed != f.Seed {
		errs = append(errs, errors.New("seed cannot change on a running shop; restart it"))
	}
	if k.Products != f.Products {
		errs = append(errs, errors.New("products cannot change on a running shop; restart it"))
	}
	if k.AdminToken != f.AdminToken {
		errs = append(errs, errors.New("admin_token cannot change on a running shop; restart it"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := k.Validate(); err != nil {
		return err
	}
	k = k.clone()
	s.knobs.Store(&k)
	return nil
}

// ServeHTTP routes a request, applies the faults that its knobs call for and
// records it on /metrics under its route template.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sess := s.sessions.fromRequest(r)
	route := s.route(r, sess)
	if route != routeMetrics {
		// How many requests are answered at once: one closed user sends
		// more than one only from a batch.
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
	}
	code := s.serve(w, r, route, sess)
	s.metrics.observe(route, code, time.Since(start))
}

func (s *Shop) serve(w http.ResponseWriter, r *http.Request, route int, sess *session) int {
	switch route {
	// The login and upload routes are not subject to the fault knobs, so
	// that a plan's login step cannot fail for a fault meant for the shop.
	case routeLoginGet:
		return s.loginGet(w, r)
	case routeLoginPost:
		return s.loginPost(w, r, sess)
	case routeAccount:
		return s.account(w, sess)
	case routeLogout:
		return s.logout(w, r, sess)
	case routeSessionCart:
		return s.getSessionCart(w, sess)
	case routeUpload:
		return s.upload(w, r)
	case routeEcho:
		return s.echo(w, r)
	case routeAdminSessions:
		return s.adminSessions(w, r)
	case routeHealthz:
		return writeBody(w, http.StatusOK, ctJSON, healthOK)
	case routeMetrics:
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		s.metrics.handler.ServeHTTP(rec, r)
		return rec.code
	case routeAdminGet, routeAdminPut, routeAdminPost:
		return s.serveAdmin(w, r)
	case routeOther:
		return s.notRouted(w, r)
	}

	k := s.knobs.Load()
	n := s.draws.Add(1)
	churn(k.GCChurn)
	if k.ErrorRate > 0 && s.uniform(n, drawError) < k.ErrorRate {
		// A fast failure, before any work: the errors knob is independent
		// of the latency knobs.
		return writeBody(w, http.StatusInternalServerError, ctJSON, injectedError)
	}
	if k.LeakRoute != "" && k.LeakRoute == routeLabels[route] {
		leak(k.LeakPerRequest) // lab hunt must find the leak wherever it is
	}
	if route == routeCheckout {
		// Checkout decides on its own when to wait: a wrong answer is a fast one.
		return s.checkout(w, r, k, n, sess)
	}
	s.sleep(r.Context(), s.delay(route, k, n))
	switch route {
	case routeHome:
		return writeBody(w, http.StatusOK, ctHTML, s.catalog.home)
	case routeProducts:
		return s.products(w, r)
	case routeProduct:
		return s.product(w, r)
	case routeCartPost:
		return s.addToCart(w, r, sess)
	case routeCartGet:
		return s.getCart(w, r)
	}
	return writeError(w, http.StatusInternalServerError, "unrouted request") // unreachable
}

// route maps a request to its route id; HEAD is served as GET. GET /cart
// exists only for a request with a session; without one it is as before.
func (s *Shop) route(r *http.Request, sess *session) int {
	p, m := r.URL.Path, r.Method
	get := m == http.MethodGet || m == http.MethodHead
	switch {
	case p == "/":
		return pick(get, routeHome)
	case p == "/products":
		return pick(get, routeProducts)
	case len(p) > len("/products/") && p[:len("/products/")] == "/products/":
		return pick(get, routeProduct)
	case p == "/cart":
		if get && sess != nil {
			return routeSessionCart
		}
		return pick(m == http.MethodPost, routeCartPost)
	case len(p) > len("/cart/") && p[:len("/cart/")] == "/cart/":
		return pick(get, routeCartGet)
	case p == "/checkout":
		return pick(m == http.MethodPost, routeCheckout)
	case p == "/healthz":
		return pick(get, routeHealthz)
	case p == "/metrics":
		return pick(get, routeMetrics)
	case p == "/login":
		if get {
			return routeLoginGet
		}
		return pick(m == http.MethodPost, routeLoginPost)
	case p == "/account":
		return pick(get, routeAccount)
	case p == "/logout":
		return pick(m == http.MethodPost, routeLogout)
	case p == "/upload":
		return pick(m == http.MethodPost, routeUpload)
	case p == "/echo":
		return pick(m == http.MethodPost, routeEcho)
	case p == "/admin/sessions" && s.admin != nil:
		return pick(get, routeAdminSessions)
	case p == "/admin/knobs" && s.admin != nil:
		switch m {
		case http.MethodGet, http.MethodHead:
			return routeAdminGet
		case http.MethodPut:
			return routeAdminPut
		case http.MethodPost:
			return routeAdminPost
		}
	}
	return routeOther
}

func pick(ok bool, route int) int {
	if ok {
		return route
	}
	return routeOther
}

// notRouted answers 405 for a known path with the wrong method, else 404.
func (s *Shop) notRouted(w http.ResponseWriter, r *http.Request) int {
	p := r.URL.Path
	allow := ""
	switch {
	case p == "/" || p == "/products" || p == "/healthz" || p == "/metrics" || p == "/account" ||
		p == "/admin/sessions" && s.admin != nil ||
		len(p) > len("/products/") && p[:len("/products/")] == "/products/" ||
		len(p) > len("/cart/") && p[:len("/cart/")] == "/cart/":
		allow = "GET, HEAD"
	case p == "/cart" || p == "/checkout" || p == "/logout" || p == "/upload" || p == "/echo":
		allow = "POST"
	case p == "/login":
		allow = "GET, HEAD, POST"
	case p == "/admin/knobs" && s.admin != nil:
		allow = "GET, HEAD, PUT, POST"
	}
	if allow == "" {
		return writeError(w, http.StatusNotFound, "no route for "+r.Method+" "+truncate(p, 200))
	}
	w.Header().Set("Allow", allow)
	return writeError(w, http.StatusMethodNotAllowed, "method "+truncate(r.Method, 20)+" not allowed; use "+allow)
}

func (s *Shop) products(w http.ResponseWriter, r *http.Request) int {
	page := 1
	if q := r.URL.Query(); q.Has("page") {
		v := q.Get("page")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return writeError(w, http.StatusBadRequest, "page must be a positive integer, got "+strconv.Quote(truncate(v, 40)))
		}
		page = n
	}
	if page > len(s.catalog.pages) {
		return writeBody(w, http.StatusOK, ctJSON, s.catalog.empty(page))
	}
	return writeBody(w, http.StatusOK, ctJSON, s.catalog.pages[page-1])
}

func (s *Shop) product(w http.ResponseWriter, r *http.Request) int {
	raw := r.URL.Path[len("/products/"):]
	id, ok := parseID(raw)
	if !ok {
		return writeError(w, http.StatusBadRequest, "product id must be a positive integer, got "+strconv.Quote(truncate(raw, 40)))
	}
	if id < 1 || id > int64(len(s.catalog.item)) {
		return writeError(w, http.StatusNotFound, "no product "+strconv.FormatInt(id, 10))
	}
	return writeBody(w, http.StatusOK, ctJSON, s.catalog.item[id-1])
}

// parseID reads a decimal id of at most 18 digits (so it fits int64); 0
// parses, and is an id nothing has.
func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// delay is the latency to inject into one request of route: the route's base,
// ± uniform jitter, times tail_factor for the tail_ratio share of requests.
func (s *Shop) delay(route int, k *Knobs, n uint64) time.Duration {
	d := k.Latency
	if rl, ok := k.RouteLatency[routeLabels[route]]; ok {
		d = rl
	}
	if k.LatencyJitter > 0 {
		d += time.Duration((2*s.uniform(n, drawJitter) - 1) * float64(k.LatencyJitter))
		d = max(d, 0)
	}
	if k.TailRatio > 0 && s.uniform(n, drawTail) < k.TailRatio {
		d = time.Duration(float64(d) * k.TailFactor)
	}
	return d
}

// What each seeded random number decides.
const (
	drawError = iota + 1
	drawWrong
	drawJitter
	drawTail
)

// uniform is the seeded random number in [0, 1) for request n and purpose.
// It hashes instead of drawing from one shared generator, so concurrent
// requests need no lock and request n decides the same on every run.
func (s *Shop) uniform(n, purpose uint64) float64 {
	x := splitmix64(splitmix64(uint64(s.fixed.Seed)+purpose*0x9e3779b97f4a7c15) + n)
	return float64(x>>11) * 0x1p-53
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// calibratedTimer waits a requested time with the runtime timer's bias taken
// out.
//
// Subtleness ahead: Go's timers wake through epoll, whose timeout is whole
// milliseconds, so an idle process oversleeps by up to 1 ms (about 0.5 ms on
// average), and a busy machine adds its wake-up delay. The shop learns the
// median oversleep as it goes (a sign-step estimate: one step towards each
// observation) and asks for that much less, so that latency = 20ms gives a
// median of 20 ms, not 20.5. It never takes off more than half the wait or
// maxTimerBias, so a starved machine still shows as slow.
type calibratedTimer struct {
	bias atomic.Int64 // nanoseconds
}

const (
	timerBiasStep = int64(20 * time.Microsecond)
	maxTimerBias  = int64(2 * time.Millisecond)
)

func (c *calibratedTimer) sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	target := d - min(time.Duration(c.bias.Load()), d/2)
	start := time.Now()
	t := time.NewTimer(target)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return
	}
	over := int64(time.Since(start) - target)
	if b := c.bias.Load(); over > b && b < maxTimerBias {
		c.bias.Add(timerBiasStep)
	} else if over < b && b > 0 {
		c.bias.Add(-timerBiasStep)
	}
}

var (
	ctJSON        = []string{"application/json"}
	ctHTML        = []string{"text/html; charset=utf-8"}
	healthOK      = []byte(`{"status":"ok"}`)
	injectedError = []byte(`{"error":"internal error (injected by error_rate)"}`)
)

// writeBody writes a whole response at once with its length, so net/http
// never chunks it, and returns code for the metrics.
func writeBody(w http.ResponseWriter, code int, contentType []string, body []byte) int {
	h := w.Header()
	// Sharing the slices is safe: net/http only reads header values.
	h["Content-Type"] = contentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	_, _ = w.Write(body) // a client that hung up is no error of the shop's
	return code
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) int {
	return writeBody(w, code, ctJSON, mustJSON(errorBody{msg}))
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	return writeBody(w, code, ctJSON, mustJSON(v))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (s *Shop) logf(format string, a ...any) {
	fmt.Fprintf(s.log, format+"\n", a...)
}

package sut

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"lab/lang/shopknobs"
	"lab/lang/units"
)

// Routes are the shop's route templates, in the order the shop lists them.
// They are the only keys route_latency accepts and the values of the route
// label on /metrics (plus "other" for anything unmatched).
var Routes = shopknobs.Routes()

// Knobs is everything that makes the shop misbehave, as typed values; Set
// reads one from text in the units people write (a flag, a variable, a plan).
type Knobs struct {
	Listen   string // host:port; 127.0.0.1 unless told otherwise
	Seed     int64  // seeds the catalogue and every random decision
	Products int    // catalogue size; product ids are 1..Products

	Latency       time.Duration            // base latency added to every shop route
	LatencyJitter time.Duration            // uniform ± jitter around the base
	RouteLatency  map[string]time.Duration // per-route base latency, by route template
	TailRatio     float64                  // share of requests that are slow
	TailFactor    float64                  // how many times slower the slow ones are (≥ 1)

	ErrorRate float64 // share of shop requests answered 500
	WrongRate float64 // share of checkouts answered 200 OK without order_id

	LeakPerRequest int64         // bytes retained forever per checkout, or per request of LeakRoute
	LeakRoute      string        // a route template ("POST /cart"); "" for checkouts that place an order
	Contention     time.Duration // time each checkout holds the one shared lock
	GCChurn        int64         // bytes of short-lived garbage per request

	AdminToken string // the admin endpoint exists only when set
}

// DefaultKnobs is a well-behaved shop on 127.0.0.1:8080.
func DefaultKnobs() Knobs {
	return Knobs{
		Listen:     shopknobs.DefaultListen,
		Seed:       1,
		Products:   500,
		TailFactor: 10,
	}
}

// KnobSpec names one knob in each of its spellings, with its kind, range
// and help line; the table is lang/shopknobs, shared with the plan language.
type KnobSpec = shopknobs.Knob

// KnobSpecs lists every knob, in the order `lab sut` prints and Args writes them.
func KnobSpecs() []KnobSpec { return shopknobs.All() }

// minTokenLen keeps an admin token from being guessed.
const minTokenLen = 8

// Validate returns every problem with k, or nil: each knob against its
// kind and its range in the table, one line per problem, each starting with
// the knob's name.
func (k Knobs) Validate() error {
	var errs []error
	for _, spec := range KnobSpecs() {
		errs = append(errs, k.check(spec)...)
	}
	return errors.Join(errs...)
}

// check returns the problems with one knob's value.
func (k *Knobs) check(spec KnobSpec) []error {
	bad := func(format string, a ...any) []error {
		return []error{fmt.Errorf("%s: %s", spec.Name, fmt.Sprintf(format, a...))}
	}
	switch p := k.field(spec.Name).(type) {
	case *string:
		if spec.Kind == shopknobs.KindAddress {
			if err := checkListen(*p); err != nil {
				return bad("%v", err)
			}
			return nil
		}
		if spec.Kind == shopknobs.KindRoute {
			if *p != "" && !shopknobs.IsRoute(*p) {
				return bad("unknown route %q; routes are %s", *p, quoteAll(Routes))
			}
			return nil
		}
		return checkToken(spec.Name, *p) // the other string knob is the admin token
	case *int:
		if !spec.In(float64(*p)) {
			return bad("%d is out of range; use %d to %d", *p, int64(spec.Min), int64(spec.Max))
		}
	case *int64:
		switch {
		case spec.Kind == shopknobs.KindSize && !spec.In(float64(*p)):
			return bad("%d bytes is out of range; use %d to %d bytes (%s)", *p, int64(spec.Min), int64(spec.Max), units.FormatSize(int64(spec.Max)))
		case !spec.In(float64(*p)):
			return bad("%d is out of range; use %d to %d", *p, int64(spec.Min), int64(spec.Max))
		}
	case *time.Duration:
		if !spec.In(float64(*p)) {
			return bad("%v is out of range; use %s to %v", *p, durationBound(spec.Min), durationBound(spec.Max))
		}
	case *float64:
		what := "a number"
		if spec.Kind == shopknobs.KindRatio {
			what = "a ratio"
		}
		if !spec.In(*p) {
			return bad("%v is out of range; use %s from %v to %v", *p, what, spec.Min, spec.Max)
		}
	case *map[string]time.Duration:
		var errs []error
		for _, route := range slices.Sorted(maps.Keys(*p)) {
			if !shopknobs.IsRoute(route) {
				errs = append(errs, bad("unknown route %q; routes are %s", route, quoteAll(Routes))...)
			} else if d := (*p)[route]; !spec.In(float64(d)) {
				errs = append(errs, bad("%q: %v is out of range; use %s to %v", route, d, durationBound(spec.Min), durationBound(spec.Max))...)
			}
		}
		return errs
	}
	return nil
}

// durationBound prints a range's end as Validate always has: 0 as "0".
func durationBound(ns float64) string {
	if ns == 0 {
		return "0"
	}
	return time.Duration(ns).String()
}

func checkToken(name, token string) []error {
	if token == "" {
		return nil
	}
	var errs []error
	if len(token) < minTokenLen {
		errs = append(errs, fmt.Errorf("%s: too short; use at least %d characters", name, minTokenLen))
	}
	if strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		errs = append(errs, fmt.Errorf("%s: must not contain spaces or control characters", name))
	}
	return errs
}

// field is the Knobs field that holds the knob called name, as a pointer,
// or nil for a name the table does not have. It is the one place that ties
// the table's names to the struct.
func (k *Knobs) field(name string) any {
	switch name {
	case "listen":
		return &k.Listen
	case "seed":
		return &k.Seed
	case "products":
		return &k.Products
	case "latency":
		return &k.Latency
	case "latency_jitter":
		return &k.LatencyJitter
	case "route_latency":
		return &k.RouteLatency
	case "tail_ratio":
		return &k.TailRatio
	case "tail_factor":
		return &k.TailFactor
	case "error_rate":
		return &k.ErrorRate
	case "wrong_rate":
		return &k.WrongRate
	case "leak_per_request":
		return &k.LeakPerRequest
	case "leak_route":
		return &k.LeakRoute
	case "contention":
		return &k.Contention
	case "gc_churn":
		return &k.GCChurn
	case "admin_token":
		return &k.AdminToken
	}
	return nil
}

// Set parses text as the value of the knob called name (snake_case), in the
// units people write: "20ms", "50KB", "10%" or 0.1, and for route_latency
// "ROUTE=DURATION" entries separated by commas, which replace the whole map.
// Surrounding space is ignored. The range is not checked here but by
// Validate, once every knob is set, so each mistake is reported once. The
// error does not name the knob, so that the caller can say where the text
// came from (a flag, a variable, a plan's line); on error k is unchanged.
func (k *Knobs) Set(name, text string) error {
	spec, ok := shopknobs.Lookup(name)
	if !ok {
		return fmt.Errorf("the shop has no knob %q", name)
	}
	v := strings.TrimSpace(text)
	var err error
	switch p := k.field(name).(type) {
	case *string:
		*p = v
	case *int:
		err = assign(p, v, strconv.Atoi, "an integer")
	case *int64:
		if spec.Kind == shopknobs.KindSize {
			err = assign(p, v, units.ParseSize, "")
		} else {
			err = assign(p, v, func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }, "an integer")
		}
	case *time.Duration:
		err = assign(p, v, units.ParseDuration, "")
	case *float64:
		if spec.Kind == shopknobs.KindRatio {
			err = assign(p, v, units.ParseRatio, "")
		} else {
			err = assign(p, v, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }, "a number")
		}
	case *map[string]time.Duration:
		err = assign(p, v, parseRouteLatency, "")
	default:
		err = fmt.Errorf("knob %q has no field in Knobs", name) // a programmer's slip: the table grew
	}
	return err
}

// assign parses v into *dst, leaving it as it was on error. A parser whose
// errors do not speak to people (strconv's) is named by what: v "is not an
// integer".
func assign[T any](dst *T, v string, parse func(string) (T, error), what string) error {
	x, err := parse(v)
	switch {
	case err != nil && what != "":
		return fmt.Errorf("%q is not %s", v, what)
	case err != nil:
		return err
	}
	*dst = x
	return nil
}

// parseRouteLatency reads 'ROUTE=DURATION' entries separated by commas.
func parseRouteLatency(text string) (map[string]time.Duration, error) {
	m := map[string]time.Duration{}
	for _, entry := range strings.Split(text, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		i := strings.LastIndexByte(entry, '=')
		if i < 0 {
			return nil, fmt.Errorf("%q is not ROUTE=DURATION, like 'POST /checkout=50ms'", entry)
		}
		route := strings.Join(strings.Fields(entry[:i]), " ")
		if !shopknobs.IsRoute(route) {
			hint := ""
			if near := shopknobs.NearestRoute(route); near != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", near)
			}
			return nil, fmt.Errorf("unknown route %q%s; routes are %s", route, hint, strings.Join(Routes, ", "))
		}
		if _, dup := m[route]; dup {
			return nil, fmt.Errorf("route %q is given twice", route)
		}
		d, err := units.ParseDuration(entry[i+1:])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", route, err)
		}
		m[route] = d
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// Text is a knob's value as people write it, in the plan language's units:
// "20ms", "50KB", "10%", "GET /=1s, POST /checkout=50ms". The admin token is
// never shown: its text is "set", or "" when there is none.
func (k Knobs) Text(name string) string {
	spec, _ := shopknobs.Lookup(name)
	switch p := k.field(name).(type) {
	case *string:
		if spec.Kind == shopknobs.KindString && *p != "" { // the admin token
			return "set"
		}
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		if spec.Kind == shopknobs.KindSize {
			return units.FormatSize(*p)
		}
		return strconv.FormatInt(*p, 10)
	case *time.Duration:
		return units.FormatDuration(*p)
	case *float64:
		if spec.Kind == shopknobs.KindRatio {
			return units.FormatRatio(*p)
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	case *map[string]time.Duration:
		var parts []string
		for _, r := range Routes {
			if d, ok := (*p)[r]; ok {
				parts = append(parts, r+"="+units.FormatDuration(d))
			}
		}
		return strings.Join(parts, ", ")
	}
	return "?"
}

// gauge is a numeric knob's value as /metrics shows it: durations in
// seconds, sizes in bytes, ratios as 0..1; false for the other knobs.
func (k *Knobs) gauge(name string) (float64, bool) {
	switch p := k.field(name).(type) {
	case *int:
		return float64(*p), true
	case *int64:
		return float64(*p), true
	case *time.Duration:
		return p.Seconds(), true
	case *float64:
		return *p, true
	}
	return 0, false
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:8080)", addr)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q has an invalid host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port; use 0 to 65535", addr)
	}
	return nil
}

// RouteLatencyFor is the base latency of route: its route_latency entry if
// any, else Latency.
func (k Knobs) RouteLatencyFor(route string) time.Duration {
	if d, ok := k.RouteLatency[route]; ok {
		return d
	}
	return k.Latency
}

// Args are the arguments of `lab sut` (after "sut") that run a shop with k.
// Only knobs that differ from DefaultKnobs are written, in KnobSpecs order,
// each as one "--flag=value" argument: durations in Go's notation ("20ms"),
// sizes as bytes ("51200B"), ratios and numbers as plain decimals. `lab sut`
// reads them back to exactly k. The admin token is included when set; Start
// passes it through the environment instead, so it stays out of ps.
func (k Knobs) Args() []string {
	d := DefaultKnobs()
	var args []string
	add := func(flag, value string) { args = append(args, "--"+flag+"="+value) }
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if k.Listen != d.Listen {
		add("listen", k.Listen)
	}
	if k.Seed != d.Seed {
		add("seed", strconv.FormatInt(k.Seed, 10))
	}
	if k.Products != d.Products {
		add("products", strconv.Itoa(k.Products))
	}
	if k.Latency != d.Latency {
		add("latency", k.Latency.String())
	}
	if k.LatencyJitter != d.LatencyJitter {
		add("latency-jitter", k.LatencyJitter.String())
	}
	for _, route := range slices.Sorted(maps.Keys(k.RouteLatency)) {
		add("route-latency", route+"="+k.RouteLatency[route].String())
	}
	if k.TailRatio != d.TailRatio {
		add("tail-ratio", num(k.TailRatio))
	}
	if k.TailFactor != d.TailFactor {
		add("tail-factor", num(k.TailFactor))
	}
	if k.ErrorRate != d.ErrorRate {
		add("error-rate", num(k.ErrorRate))
	}
	if k.WrongRate != d.WrongRate {
		add("wrong-rate", num(k.WrongRate))
	}
	if k.LeakPerRequest != d.LeakPerRequest {
		add("leak-per-request", strconv.FormatInt(k.LeakPerRequest, 10)+"B")
	}
	if k.LeakRoute != d.LeakRoute {
		add("leak-route", k.LeakRoute)
	}
	if k.Contention != d.Contention {
		add("contention", k.Contention.String())
	}
	if k.GCChurn != d.GCChurn {
		add("gc-churn", strconv.FormatInt(k.GCChurn, 10)+"B")
	}
	if k.AdminToken != d.AdminToken {
		add("admin-token", k.AdminToken)
	}
	return args
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// clone returns k with its own copy of the route map, so a caller's later
// edits cannot reach a running shop.
func (k Knobs) clone() Knobs {
	if k.RouteLatency != nil {
		m := make(map[string]time.Duration, len(k.RouteLatency))
		for r, d := range k.RouteLatency {
			m[r] = d
		}
		k.RouteLatency = m
	}
	return k
}

package sut

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Routes are the shop's route templates, in the order the shop lists them.
// They are the only keys route_latency accepts and the values of the route
// label on /metrics (plus "other" for anything unmatched).
var Routes = []string{
	"GET /",
	"GET /products",
	"GET /products/{id}",
	"POST /cart",
	"GET /cart/{id}",
	"POST /checkout",
}

// Knobs is everything that makes the shop misbehave, as typed values: the
// command line and the plan language parse units, this package never does.
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

	LeakPerRequest int64         // bytes retained forever per checkout
	Contention     time.Duration // time each checkout holds the one shared lock
	GCChurn        int64         // bytes of short-lived garbage per request

	AdminToken string // the admin endpoint exists only when set
}

// DefaultKnobs is a well-behaved shop on 127.0.0.1:8080.
func DefaultKnobs() Knobs {
	return Knobs{
		Listen:     "127.0.0.1:8080",
		Seed:       1,
		Products:   500,
		TailFactor: 10,
	}
}

// KnobSpec names one knob in each of its spellings.
type KnobSpec struct {
	Name string // snake_case, as in a plan's sut block
	Flag string // long flag of `lab sut`, without the leading dashes
	Env  string // environment variable read by `lab sut`
	// Kind is the value's type: "address", "int", "duration", "routes"
	// (route template → duration), "ratio" (0..1), "number", "size" (bytes)
	// or "string".
	Kind string
}

// KnobSpecs lists every knob, in the order `lab sut` prints and Args writes them.
func KnobSpecs() []KnobSpec {
	specs := []struct{ name, kind string }{
		{"listen", "address"},
		{"seed", "int"},
		{"products", "int"},
		{"latency", "duration"},
		{"latency_jitter", "duration"},
		{"route_latency", "routes"},
		{"tail_ratio", "ratio"},
		{"tail_factor", "number"},
		{"error_rate", "ratio"},
		{"wrong_rate", "ratio"},
		{"leak_per_request", "size"},
		{"contention", "duration"},
		{"gc_churn", "size"},
		{"admin_token", "string"},
	}
	out := make([]KnobSpec, len(specs))
	for i, s := range specs {
		out[i] = KnobSpec{
			Name: s.name,
			Flag: strings.ReplaceAll(s.name, "_", "-"),
			Env:  "LAB_SUT_" + strings.ToUpper(s.name),
			Kind: s.kind,
		}
	}
	return out
}

// Limits that keep a typo from taking the machine down.
const (
	maxProducts   = 100_000
	maxDuration   = 10 * time.Minute
	maxSize       = 1 << 30 // per request
	maxTailFactor = 1000
	minTokenLen   = 8
)

// Validate returns every problem with k, or nil.
func (k Knobs) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if err := checkListen(k.Listen); err != nil {
		bad("listen: %v", err)
	}
	if k.Products < 1 || k.Products > maxProducts {
		bad("products: %d is out of range; use 1 to %d", k.Products, maxProducts)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"latency", k.Latency}, {"latency_jitter", k.LatencyJitter}, {"contention", k.Contention}} {
		if d.v < 0 || d.v > maxDuration {
			bad("%s: %v is out of range; use 0 to %v", d.name, d.v, maxDuration)
		}
	}
	for _, route := range slices.Sorted(maps.Keys(k.RouteLatency)) {
		if !knownRoute(route) {
			bad("route_latency: unknown route %q; routes are %s", route, quoteAll(Routes))
			continue
		}
		if d := k.RouteLatency[route]; d < 0 || d > maxDuration {
			bad("route_latency: %q: %v is out of range; use 0 to %v", route, d, maxDuration)
		}
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"tail_ratio", k.TailRatio}, {"error_rate", k.ErrorRate}, {"wrong_rate", k.WrongRate}} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			bad("%s: %v is out of range; use a ratio from 0 to 1", r.name, r.v)
		}
	}
	if math.IsNaN(k.TailFactor) || k.TailFactor < 1 || k.TailFactor > maxTailFactor {
		bad("tail_factor: %v is out of range; use a number from 1 to %d", k.TailFactor, maxTailFactor)
	}
	for _, s := range []struct {
		name string
		v    int64
	}{{"leak_per_request", k.LeakPerRequest}, {"gc_churn", k.GCChurn}} {
		if s.v < 0 || s.v > maxSize {
			bad("%s: %d bytes is out of range; use 0 to %d bytes (1GiB)", s.name, s.v, maxSize)
		}
	}
	if k.AdminToken != "" {
		if len(k.AdminToken) < minTokenLen {
			bad("admin_token: too short; use at least %d characters", minTokenLen)
		}
		if strings.IndexFunc(k.AdminToken, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			bad("admin_token: must not contain spaces or control characters")
		}
	}
	return errors.Join(errs...)
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

func knownRoute(route string) bool {
	for _, r := range Routes {
		if r == route {
			return true
		}
	}
	return false
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

// Package shopknobs is the one table of the bundled shop's knobs: each
// knob's name, the kind of value it takes, the range that value must lie in
// and its help line, and the shop's routes. The plan language (lang) checks a
// sut block against it; the shop (sut) parses, checks and prints its knobs
// from it; `lab sut` makes its flags and LAB_SUT_* variables from it.
//
// It is a leaf under lang, importing only the standard library, so that lang
// keeps to its rule (hcl, cty and its own sub-packages) and sut imports it as
// it imports lang/units.
package shopknobs

import (
	"math"
	"slices"
	"strings"
	"time"
)

// The kinds of value a knob takes.
const (
	KindAddress  = "address"  // host:port
	KindInt      = "int"      // whole number
	KindDuration = "duration" // "20ms", "1.5s"
	KindRoutes   = "routes"   // route template → duration
	KindRoute    = "route"    // one route template
	KindRatio    = "ratio"    // "0.1" or "10%"
	KindNumber   = "number"   // decimal
	KindSize     = "size"     // "50KB", "5MiB"
	KindString   = "string"
)

// Knob is one knob of the shop, in each of its spellings.
type Knob struct {
	Name string // snake_case, as in a plan's sut block
	Flag string // long flag of `lab sut`, without the leading dashes
	Env  string // environment variable read by `lab sut`
	Kind string // one of the kinds above
	// Min and Max bound the value, both included, in the kind's unit:
	// nanoseconds for a duration (and for each route of a routes knob),
	// bytes for a size. Both are 0 where any value of the kind will do
	// (an address, a string, the seed).
	Min, Max float64
	Doc      string // one line, as `lab sut -h` shows it
}

// Bounded reports whether the knob's value has a range to check.
func (k Knob) Bounded() bool { return k.Min != 0 || k.Max != 0 }

// Limits that keep a typo from taking the machine down.
const (
	MaxProducts   = 100_000
	MaxDuration   = 10 * time.Minute
	MaxSize       = 1 << 30 // per request
	MaxTailFactor = 1000
)

// DefaultListen is where the shop listens unless told otherwise.
const DefaultListen = "127.0.0.1:8080"

var table = []Knob{
	{Name: "listen", Kind: KindAddress, Doc: "host:port to listen on"},
	{Name: "seed", Kind: KindInt, Doc: "seed of the catalogue and of every random decision"},
	{Name: "products", Kind: KindInt, Min: 1, Max: MaxProducts, Doc: "catalogue size (product ids 1..N)"},
	{Name: "latency", Kind: KindDuration, Max: float64(MaxDuration), Doc: "base latency added to every shop route"},
	{Name: "latency_jitter", Kind: KindDuration, Max: float64(MaxDuration), Doc: "uniform ± jitter around the base latency"},
	{Name: "route_latency", Kind: KindRoutes, Max: float64(MaxDuration), Doc: `per-route base latency, 'ROUTE=DURATION' (repeat or comma-separate), e.g. 'POST /checkout=50ms'`},
	{Name: "tail_ratio", Kind: KindRatio, Max: 1, Doc: "share of requests that are slow"},
	{Name: "tail_factor", Kind: KindNumber, Min: 1, Max: MaxTailFactor, Doc: "how many times slower the slow requests are (≥ 1)"},
	{Name: "error_rate", Kind: KindRatio, Max: 1, Doc: "share of requests answered 500"},
	{Name: "wrong_rate", Kind: KindRatio, Max: 1, Doc: "share of checkouts answered 200 OK without order_id"},
	{Name: "leak_per_request", Kind: KindSize, Max: MaxSize, Doc: "bytes retained forever per checkout (per request of leak_route when set)"},
	{Name: "leak_route", Kind: KindRoute, Doc: "the route whose every request keeps leak_per_request, e.g. 'POST /cart' (default: each checkout that places an order)"},
	{Name: "contention", Kind: KindDuration, Max: float64(MaxDuration), Doc: "time each checkout holds the one shared lock"},
	{Name: "gc_churn", Kind: KindSize, Max: MaxSize, Doc: "short-lived garbage allocated per request"},
	{Name: "admin_token", Kind: KindString, Doc: "token of the admin endpoint (prefer LAB_SUT_ADMIN_TOKEN)"},
}

// All returns every knob, in the order `lab sut` prints them and a plan's
// summary lists them. The slice is the caller's own.
func All() []Knob {
	out := make([]Knob, len(table))
	for i, k := range table {
		k.Flag = strings.ReplaceAll(k.Name, "_", "-")
		k.Env = "LAB_SUT_" + strings.ToUpper(k.Name)
		out[i] = k
	}
	return out
}

// Lookup returns the knob called name (snake_case).
func Lookup(name string) (Knob, bool) {
	for _, k := range All() {
		if k.Name == name {
			return k, true
		}
	}
	return Knob{}, false
}

// Names returns the knobs' names, in table order.
func Names() []string {
	names := make([]string, len(table))
	for i, k := range table {
		names[i] = k.Name
	}
	return names
}

var routes = []string{
	"GET /",
	"GET /products",
	"GET /products/{id}",
	"POST /cart",
	"GET /cart/{id}",
	"POST /checkout",
}

// Routes returns the shop's route templates, in the order the shop lists
// them: the only keys route_latency accepts. The slice is the caller's own.
func Routes() []string { return append([]string(nil), routes...) }

// IsRoute reports whether r is one of the shop's route templates.
func IsRoute(r string) bool {
	for _, x := range routes {
		if x == r {
			return true
		}
	}
	return false
}

// In reports whether v lies in the knob's range (always, for an unbounded
// knob). NaN lies in no range.
func (k Knob) In(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	return !k.Bounded() || (v >= k.Min && v <= k.Max)
}

// NearestRoute is the route r most likely meant: the first, in sorted
// order, of those fewer than 3 edits away; "" if none is.
func NearestRoute(r string) string {
	best, bestD := "", 3
	sorted := Routes()
	slices.Sort(sorted)
	for _, x := range sorted {
		if d := editDistance(r, x); d < bestD {
			best, bestD = x, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			sub := prev[j-1]
			if ra[i-1] != rb[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

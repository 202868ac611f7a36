package sut

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exposition is a scraped /metrics page in the Prometheus text format.
type exposition map[string]float64

// parseExposition reads "series value" lines; series keep their labels as
// printed (sorted by label name).
func parseExposition(r io.Reader) exposition {
	e := exposition{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		e[line[:i]] = v
	}
	return e
}

func (e exposition) value(series string) float64 {
	v, ok := e[series]
	if !ok {
		return math.NaN()
	}
	return v
}

func (e exposition) has(series string) bool { _, ok := e[series]; return ok }

func scrape(t testing.TB, h http.Handler) exposition {
	t.Helper()
	w := do(h, "GET", "/metrics", "")
	if w.Code != 200 {
		t.Fatalf("GET /metrics: %d", w.Code)
	}
	return parseExposition(w.Body)
}

func TestMetrics(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) {
		k.ErrorRate = 0.25
		k.Latency = 0
		k.LeakPerRequest = 0
		k.GCChurn = 4096
		k.RouteLatency = map[string]time.Duration{"POST /checkout": 0}
	})
	do(s, "GET", "/products/123", "")
	do(s, "GET", "/products/123?x=1", "")
	do(s, "GET", "/products/456", "")
	do(s, "GET", "/no/such/path/"+strings.Repeat("z", 50), "")
	m := scrape(t, s)

	for _, name := range []string{
		MetricHeapLive, MetricGCCycles, MetricHeapAllocs, MetricHeapObjects, MetricResidentBytes,
		MetricLeaked, MetricOpenCarts, MetricOrders, "go_memstats_heap_alloc_bytes",
	} {
		if !m.has(name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	// Route templates as labels, never the raw URLs.
	var products float64
	for series, v := range m {
		if strings.HasPrefix(series, MetricRequests+"{") {
			if strings.Contains(series, "123") || strings.Contains(series, "zzz") {
				t.Errorf("a raw URL became a label: %s", series)
			}
			if strings.Contains(series, `route="GET /products/{id}"`) {
				products += v
			}
		}
	}
	if products != 3 {
		t.Errorf("%s counts %v requests of GET /products/{id}, want 3", MetricRequests, products)
	}
	if v := m.value(`shop_http_requests_total{code="404",route="other"}`); v != 1 {
		t.Errorf("unrouted requests counted %v under route=\"other\", want 1", v)
	}
	for series, want := range map[string]float64{
		`shop_knob{knob="error_rate"}`:                       0.25,
		`shop_knob{knob="gc_churn"}`:                         4096,
		`shop_knob{knob="tail_factor"}`:                      10,
		`shop_knob{knob="products"}`:                         500,
		`shop_route_latency_seconds{route="POST /checkout"}`: 0,
		`shop_info{admin="off",listen="127.0.0.1:0"}`:        1,
	} {
		if got := m.value(series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	// Every numeric knob is exported.
	for _, spec := range KnobSpecs() {
		switch spec.Kind {
		case "address", "string", "routes", "route":
			continue
		}
		if !m.has(`shop_knob{knob="` + spec.Name + `"}`) {
			t.Errorf("knob %s is not on /metrics", spec.Name)
		}
	}

	// The cgroup gauges are there exactly when the shop can read its cgroup.
	c := newCgroupCollector()
	if (c.current != "") != m.has(MetricCgroupMemory) {
		t.Errorf("cgroup file %q, but %s present: %v", c.current, MetricCgroupMemory, m.has(MetricCgroupMemory))
	}
}

package sut

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names that other parts of lab read; keep them stable (see doc.go).
const (
	MetricRequests      = "shop_http_requests_total"
	MetricDuration      = "shop_http_request_duration_seconds"
	MetricKnob          = "shop_knob"
	MetricRouteLatency  = "shop_route_latency_seconds"
	MetricInfo          = "shop_info"
	MetricLeaked        = "shop_leaked_bytes"
	MetricOpenCarts     = "shop_open_carts"
	MetricOrders        = "shop_orders_total"
	MetricLogins        = "shop_logins_total"
	MetricSessions      = "shop_sessions_active"
	MetricSessionReqs   = "shop_session_requests_total"
	MetricInFlightPeak  = "shop_http_in_flight_peak"
	MetricCgroupMemory  = "shop_cgroup_memory_bytes"
	MetricCgroupAnon    = "shop_cgroup_memory_anon_bytes"
	MetricHeapLive      = "go_gc_heap_live_bytes"
	MetricGCCycles      = "go_gc_cycles_total_gc_cycles_total"
	MetricHeapAllocs    = "go_gc_heap_allocs_bytes_total"
	MetricHeapObjects   = "go_memory_classes_heap_objects_bytes"
	MetricResidentBytes = "process_resident_memory_bytes"
)

// maxCode bounds the status codes kept apart in the observer cache; the shop
// only ever answers codes below it.
const maxCode = 600

type routeObservers struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// What a POST /login came to, as the result label of shop_logins_total.
const (
	loginOK = iota
	loginBadCredentials
	loginCSRF
	numLoginResults
)

var loginResults = [numLoginResults]string{"ok", "bad_credentials", "csrf"}

type shopMetrics struct {
	reg      *prometheus.Registry
	handler  http.Handler
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	logins   [numLoginResults]prometheus.Counter // by loginOK, …
	// cache resolves (route, code) to its series once, so a request costs
	// two atomic adds rather than a label lookup.
	cache [numRoutes][maxCode]atomic.Pointer[routeObservers]
}

func newShopMetrics(s *Shop) *shopMetrics {
	m := &shopMetrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricRequests,
		Help: "Requests answered, by route template and status code.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:                            MetricDuration,
		Help:                            "Time from request to response as the shop sees it, by route template and status code.",
		Buckets:                         []float64{.0005, .001, .0025, .005, .01, .02, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, []string{"route", "code"})
	logins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricLogins,
		Help: "POST /login answered, by result: ok, bad_credentials or csrf (refused by the CSRF check).",
	}, []string{"result"})
	for i, result := range loginResults {
		m.logins[i] = logins.WithLabelValues(result) // every result shows, 0 until it happens
	}
	m.reg.MustRegister(
		m.requests,
		m.duration,
		logins,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: MetricSessions,
			Help: "Sessions logged in and not logged out (at most 100000; the oldest is forgotten).",
		}, func() float64 { return float64(s.sessions.active.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: MetricInFlightPeak,
			Help: "The most requests the shop answered at once since it started (scrapes of /metrics left out).",
		}, func() float64 { return float64(s.peak.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: MetricSessionReqs,
			Help: "Requests that carried a valid session cookie, on any route.",
		}, func() float64 { return float64(s.sessions.requests.Load()) }),
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.MetricsGC, // includes /gc/heap/live:bytes and /gc/cycles/total:gc-cycles
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/memory/classes/heap/objects:bytes$`)},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		knobCollector{s},
		newCgroupCollector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: MetricLeaked,
			Help: "Bytes retained forever by leak_per_request in this process.",
		}, func() float64 { return float64(retainedBytes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: MetricOpenCarts,
			Help: "Carts opened and not yet checked out (at most 100000; the oldest is forgotten).",
		}, func() float64 { return float64(s.carts.open.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: MetricOrders,
			Help: "Orders placed.",
		}, func() float64 { return float64(s.orders.Load()) }),
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	return m
}

func (m *shopMetrics) observe(route, code int, d time.Duration) {
	if code < 0 || code >= maxCode {
		code = 0
	}
	slot := &m.cache[route][code]
	o := slot.Load()
	if o == nil {
		label := strconv.Itoa(code)
		o = &routeObservers{
			count:    m.requests.WithLabelValues(routeLabels[route], label),
			duration: m.duration.WithLabelValues(routeLabels[route], label),
		}
		slot.Store(o)
	}
	o.count.Inc()
	o.duration.Observe(d.Seconds())
}

// knobCollector exports the knobs in force at scrape time, so a change
// through the admin endpoint shows at the next scrape.
type knobCollector struct{ s *Shop }

var (
	knobDesc = prometheus.NewDesc(MetricKnob,
		"Current knob values: durations in seconds, sizes in bytes, ratios as 0..1.",
		[]string{"knob"}, nil)
	routeLatencyDesc = prometheus.NewDesc(MetricRouteLatency,
		"Base latency in force per route template (latency or its route_latency override).",
		[]string{"route"}, nil)
	infoDesc = prometheus.NewDesc(MetricInfo,
		"The shop's address and whether its admin endpoint is on.",
		[]string{"listen", "admin"}, nil)
)

func (c knobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- knobDesc
	ch <- routeLatencyDesc
	ch <- infoDesc
}

func (c knobCollector) Collect(ch chan<- prometheus.Metric) {
	k := c.s.knobs.Load()
	for _, spec := range KnobSpecs() {
		if v, ok := k.gauge(spec.Name); ok {
			ch <- prometheus.MustNewConstMetric(knobDesc, prometheus.GaugeValue, v, spec.Name)
		}
	}
	for _, r := range Routes {
		ch <- prometheus.MustNewConstMetric(routeLatencyDesc, prometheus.GaugeValue, k.RouteLatencyFor(r).Seconds(), r)
	}
	admin := "off"
	if k.AdminToken != "" {
		admin = "on"
	}
	ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, k.Listen, admin)
}

// cgroupCollector exports the memory of the cgroup the shop runs in — what a
// container's limit is judged against. Its series are absent where no cgroup
// memory file is readable.
type cgroupCollector struct {
	current string // memory.current (v2) or memory.usage_in_bytes (v1)
	stat    string // memory.stat
	anonKey string // "anon" (v2) or "total_rss" (v1)
}

var (
	cgroupMemDesc = prometheus.NewDesc(MetricCgroupMemory,
		"Memory charged to the shop's cgroup (v2 memory.current, v1 memory.usage_in_bytes).", nil, nil)
	cgroupAnonDesc = prometheus.NewDesc(MetricCgroupAnon,
		"Anonymous memory of the shop's cgroup (v2 memory.stat anon, v1 total_rss).", nil, nil)
)

func newCgroupCollector() *cgroupCollector {
	v2, v1 := ownCgroups()
	c := &cgroupCollector{}
	// Inside a container the cgroup namespace makes the own cgroup the mount
	// root, so the root files are the fallback for the listed path.
	for _, dir := range []string{"/sys/fs/cgroup" + v2, "/sys/fs/cgroup"} {
		if v2 != "" && readable(dir+"/memory.current") {
			*c = cgroupCollector{dir + "/memory.current", dir + "/memory.stat", "anon"}
			return c
		}
	}
	for _, dir := range []string{"/sys/fs/cgroup/memory" + v1, "/sys/fs/cgroup/memory"} {
		if v1 != "" && readable(dir+"/memory.usage_in_bytes") {
			*c = cgroupCollector{dir + "/memory.usage_in_bytes", dir + "/memory.stat", "total_rss"}
			return c
		}
	}
	return c
}

// ownCgroups reads /proc/self/cgroup for the unified (v2) path and the v1
// memory controller's path; either is "" when absent.
func ownCgroups() (v2, v1 string) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = strings.TrimSuffix(parts[2], "/")
			if v2 == "" {
				v2 = "/"
			}
		case contains(strings.Split(parts[1], ","), "memory"):
			v1 = strings.TrimSuffix(parts[2], "/")
			if v1 == "" {
				v1 = "/"
			}
		}
	}
	return v2, v1
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func readable(path string) bool {
	_, err := readUint(path)
	return err == nil
}

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
}

func (c *cgroupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cgroupMemDesc
	ch <- cgroupAnonDesc
}

func (c *cgroupCollector) Collect(ch chan<- prometheus.Metric) {
	if c.current == "" {
		return
	}
	if v, err := readUint(c.current); err == nil {
		ch <- prometheus.MustNewConstMetric(cgroupMemDesc, prometheus.GaugeValue, float64(v))
	}
	f, err := os.Open(c.stat)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), " ")
		if ok && key == c.anonKey {
			if v, err := strconv.ParseUint(val, 10, 64); err == nil {
				ch <- prometheus.MustNewConstMetric(cgroupAnonDesc, prometheus.GaugeValue, float64(v))
			}
			return
		}
	}
}

package memory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agext/levenshtein"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric names read from Prometheus endpoints. The shop exports the first
// three (sut/metrics.go); the Go collector names runtime/metrics
// /gc/heap/live:bytes and /gc/cycles/total:gc-cycles this way.
const (
	MetricHeapLive = "go_gc_heap_live_bytes"
	MetricGCCycles = "go_gc_cycles_total_gc_cycles_total"
	MetricResident = "process_resident_memory_bytes"
	// MetricGCDuration is the classic Go collector's GC pause summary; its
	// _count is the number of completed GC cycles, the fallback for targets
	// whose client library does not export the runtime/metrics counter.
	MetricGCDuration = "go_gc_duration_seconds"
)

// maxMetricsBody bounds what one scrape may read. A /metrics page is tens
// of KB; more than this is not a metrics endpoint.
const maxMetricsBody = 32 << 20

// promReader scrapes one Prometheus text endpoint.
type promReader struct {
	url    string
	client *http.Client
}

func newPromReader(url string) *promReader {
	return &promReader{url: url, client: &http.Client{Transport: &http.Transport{
		// Proxy stays nil: a scrape goes only where the plan points.
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     30 * time.Second,
	}}}
}

// read fetches and parses the endpoint. The request asks for the classic text
// format; OpenMetrics answers mostly parse too (the text parser skips
// "# EOF" and "# UNIT" lines), protobuf ones do not.
func (p *promReader) read(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(expfmt.FmtText)+";q=1,*/*;q=0.1")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err // *url.Error names the method and URL
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetricsBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the body: %w", p.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", p.url, resp.Status)
	}
	if len(body) > maxMetricsBody {
		return nil, fmt.Errorf("GET %s: body larger than %d MiB; not a metrics page", p.url, maxMetricsBody>>20)
	}
	fams, err := parseProm(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s (%s): %w", p.url, resp.Header.Get("Content-Type"), err)
	}
	return fams, nil
}

// parseProm parses the Prometheus text exposition format.
func parseProm(body []byte) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("not the Prometheus text format: %w", err)
	}
	return fams, nil
}

// metricValue is the named metric's value, summed over its series (label
// sets): a plan that names container_memory_rss on an endpoint with one series
// per process asks for the total. A histogram or summary is read through its
// _sum or _count name.
func metricValue(fams map[string]*dto.MetricFamily, name string) (float64, error) {
	v, n, err := sumMetric(fams, name)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, notFound(fams, name)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("metric %s is %v; memory must be a finite size ≥ 0", name, v)
	}
	return v, nil
}

// sumMetric sums a metric's series and says how many there were.
func sumMetric(fams map[string]*dto.MetricFamily, name string) (float64, int, error) {
	if f, ok := fams[name]; ok {
		var sum float64
		for _, m := range f.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				sum += m.GetUntyped().GetValue()
			default:
				kind := strings.ToLower(f.GetType().String())
				return 0, 0, fmt.Errorf("metric %s is a %s; name %s_sum or %s_count", name, kind, name, name)
			}
		}
		return sum, len(f.GetMetric()), nil
	}
	for _, suffix := range []string{"_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		f := fams[base]
		if !ok || f == nil {
			continue
		}
		var sum float64
		for _, m := range f.GetMetric() {
			switch {
			case m.GetHistogram() != nil && suffix == "_sum":
				sum += m.GetHistogram().GetSampleSum()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			case m.GetSummary() != nil && suffix == "_sum":
				sum += m.GetSummary().GetSampleSum()
			case m.GetSummary() != nil:
				sum += float64(m.GetSummary().GetSampleCount())
			default:
				return 0, 0, nil // a gauge called x with another called x_sum absent: not found
			}
		}
		return sum, len(f.GetMetric()), nil
	}
	return 0, 0, nil
}

// notFound names the missing metric and the closest one the endpoint has.
func notFound(fams map[string]*dto.MetricFamily, name string) error {
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", len(name)/3+1
	for _, n := range names {
		if d := levenshtein.Distance(name, n, nil); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return fmt.Errorf("no metric %s (did you mean %s?)", name, best)
	}
	return fmt.Errorf("no metric %s among the %d the endpoint exports", name, len(names))
}

// gcCycles is the target's completed GC cycles, or -1 when it exports no
// counter of them.
func gcCycles(fams map[string]*dto.MetricFamily) int64 {
	for _, name := range []string{MetricGCCycles, MetricGCDuration + "_count"} {
		if v, n, err := sumMetric(fams, name); err == nil && n > 0 && v >= 0 && v < math.MaxInt64 {
			return int64(v)
		}
	}
	return -1
}

// metricsSampler reads one metric of a Prometheus text endpoint.
type metricsSampler struct {
	prom   *promReader
	metric string

	mu     sync.Mutex
	series int // how many series the last reading summed
}

func newMetricsSampler(rawURL, metric string) (*metricsSampler, error) {
	u, err := checkHTTPURL("memory source metrics", rawURL)
	if err != nil {
		return nil, err
	}
	if metric == "" {
		return nil, fmt.Errorf("memory source metrics: no metric name given for %s", rawURL)
	}
	if !model.LegacyValidation.IsValidMetricName(metric) {
		return nil, fmt.Errorf("memory source metrics: %q is not a metric name (letters, digits, _ and :, no labels: every series of the metric is summed)", metric)
	}
	return &metricsSampler{prom: newPromReader(u.String()), metric: metric}, nil
}

func (s *metricsSampler) Sample(ctx context.Context) (Reading, error) {
	fams, err := s.prom.read(ctx)
	if err != nil {
		return Reading{}, err
	}
	v, err := metricValue(fams, s.metric)
	if err != nil {
		if _, n, serr := sumMetric(fams, s.metric); n == 0 || serr != nil {
			// The page was read, and the metric the plan names is not on
			// it (or not as a number): the plan must change, not the target.
			err = &PlanError{err}
		}
		return Reading{}, fmt.Errorf("%s: %w", s.prom.url, err)
	}
	_, n, _ := sumMetric(fams, s.metric)
	s.mu.Lock()
	s.series = n
	s.mu.Unlock()
	r := Reading{Bytes: v, GCCycles: -1}
	// Only the live heap is known to come from the runtime whose GC counter
	// the page exports; an exporter's own go_gc_* describe the exporter, not
	// the container or process it reports on.
	if s.metric == MetricHeapLive {
		r.GCCycles = gcCycles(fams)
	}
	return r, nil
}

func (s *metricsSampler) Source() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.metric + " at " + s.prom.url
	if s.series > 1 {
		src += fmt.Sprintf(" (sum of %d series)", s.series)
	}
	return src
}

func (s *metricsSampler) Kind() string {
	if s.metric == MetricHeapLive {
		return KindHeapLive
	}
	return KindMetric
}

package metrics

import (
	"math"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"lab/lang/metricnames"
	"lab/runtime/result"
)

// classicBounds are lab_response_seconds' classic buckets, for Prometheus
// servers that do not take native histograms: 1 ms to 30 s.
var classicBounds = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// nativeSchema 3 makes buckets 2^(1/8) ≈ 9% wide, Prometheus' default.
const nativeSchema = 3

// responses is lab_response_seconds: each request name's response times
// since the start, kept as a merged HDR histogram. The exposed metrics are
// rebuilt when a window comes in (every 10 s), so a scrape only copies
// them.
type responses struct {
	desc    *prometheus.Desc
	created time.Time
	hists   []*hdrhistogram.Histogram
	names   []string

	mu      sync.Mutex
	metrics []prometheus.Metric
}

func newResponses(names []string) *responses {
	r := &responses{
		desc:    prometheus.NewDesc(metricnames.Response, "Response time per request name (native histogram, classic buckets as a fallback).", []string{"request"}, nil),
		created: time.Now(),
		names:   names,
		hists:   make([]*hdrhistogram.Histogram, len(names)),
	}
	for i := range names {
		r.hists[i] = result.NewHist()
	}
	r.rebuild()
	return r
}

// add merges a window's histograms (indexed like names; nil where a name
// had no request). A histogram that does not decode is left out.
func (r *responses) add(wins []*result.Window) {
	for i, w := range wins {
		if w == nil || w.Count == 0 || i >= len(r.hists) {
			continue
		}
		if h, err := result.Decode(w.Hist); err == nil {
			r.hists[i].Merge(h)
		}
	}
	r.rebuild()
}

// set replaces a name's histogram with the run's whole-run one.
func (r *responses) set(i int, encoded string) {
	if h, err := result.Decode(encoded); err == nil {
		r.hists[i] = h
		r.rebuild()
	}
}

func (r *responses) rebuild() {
	ms := make([]prometheus.Metric, 0, len(r.names))
	for i, n := range r.names {
		ms = append(ms, r.metric(r.hists[i], n))
	}
	r.mu.Lock()
	r.metrics = ms
	r.mu.Unlock()
}

// metric turns an HDR histogram (µs) into a histogram in seconds with
// both native and classic buckets.
func (r *responses) metric(h *hdrhistogram.Histogram, name string) prometheus.Metric {
	count := h.TotalCount()
	sum := h.Mean() * float64(count) / 1e6
	classic := make([]uint64, len(classicBounds))
	native := map[int]int64{}
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := float64(b.To) / 1e6 // the bar's highest value: a bucket's le is inclusive
		for j, le := range classicBounds {
			if v <= le {
				classic[j] += uint64(b.Count)
			}
		}
		native[nativeIndex(v)] += b.Count
	}
	nh, err := prometheus.NewConstNativeHistogram(r.desc, uint64(count), sum, native, nil, 0, nativeSchema, 0, r.created, name)
	if err != nil {
		return prometheus.NewInvalidMetric(r.desc, err)
	}
	return withClassic{nh, classic}
}

// nativeIndex is the schema-3 bucket holding v > 0: bucket i holds
// (2^((i-1)/8), 2^(i/8)].
func nativeIndex(v float64) int {
	return int(math.Ceil(math.Log2(v) * (1 << nativeSchema)))
}

// withClassic adds classic buckets to a native histogram, as a histogram
// observed with both kinds does.
type withClassic struct {
	prometheus.Metric
	cumulative []uint64
}

func (m withClassic) Write(out *dto.Metric) error {
	if err := m.Metric.Write(out); err != nil {
		return err
	}
	for j, le := range classicBounds {
		out.Histogram.Bucket = append(out.Histogram.Bucket, &dto.Bucket{
			UpperBound: new(le), CumulativeCount: new(m.cumulative[j]),
		})
	}
	return nil
}

func (r *responses) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r *responses) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	ms := r.metrics
	r.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
}

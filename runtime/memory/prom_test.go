package memory_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lab/gates/leak"
	"lab/lang"
	"lab/runtime/memory"
	"lab/sut"
)

const page = `# HELP container_memory_rss RSS of each process.
# TYPE container_memory_rss gauge
container_memory_rss{proc="a"} 100
container_memory_rss{proc="b"} 250
# TYPE app_heap untyped
app_heap 4096
# TYPE req_seconds histogram
req_seconds_bucket{le="1"} 2
req_seconds_bucket{le="+Inf"} 3
req_seconds_sum 4.5
req_seconds_count 3
# TYPE broken gauge
broken NaN
# TYPE below gauge
below -1
# TYPE go_gc_heap_live_bytes gauge
go_gc_heap_live_bytes 1.2345e+07
# TYPE go_gc_cycles_total_gc_cycles_total counter
go_gc_cycles_total_gc_cycles_total 42
`

// serve answers every request with the given status, content type and body.
func serve(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

func TestMetricsSampler(t *testing.T) {
	text := "text/plain; version=0.0.4; charset=utf-8"
	url := serve(t, 200, text, page)
	for _, c := range []struct {
		name, url, metric string
		bytes             float64
		gc                int64
		kind, source, err string
	}{
		// several label sets are summed
		{"sum of series", url, "container_memory_rss", 350, -1, memory.KindMetric, "(sum of 2 series)", ""},
		{"untyped", url, "app_heap", 4096, -1, memory.KindMetric, "app_heap at " + url, ""},
		// a histogram is read through its _sum or _count
		{"histogram sum", url, "req_seconds_sum", 4.5, -1, memory.KindMetric, "", ""},
		{"histogram count", url, "req_seconds_count", 3, -1, memory.KindMetric, "", ""},
		// the live heap is the Go runtime's, so the page's GC counter is its too
		{"live heap", url, "go_gc_heap_live_bytes", 12345000, 42, memory.KindHeapLive, "", ""},
		{"histogram by name", url, "req_seconds", 0, 0, "", "", "is a histogram; name req_seconds_sum"},
		{"misspelt", url, "container_memory_rs", 0, 0, "", "", "no metric container_memory_rs (did you mean container_memory_rss?)"},
		{"absent", url, "nothing_like_it", 0, 0, "", "", "no metric nothing_like_it among the"},
		{"NaN", url, "broken", 0, 0, "", "", "metric broken is NaN"},
		{"negative", url, "below", 0, 0, "", "", "metric below is -1"},
		{"not found status", serve(t, 404, text, "nope"), "x", 0, 0, "", "", "404 Not Found"},
		{"not metrics", serve(t, 200, "text/html", "<html>\n<body>hi</body>\n"), "x", 0, 0, "", "", "not the Prometheus text format"},
		{"nobody listening", "http://127.0.0.1:1/metrics", "x", 0, 0, "", "", "127.0.0.1:1"},
		// OpenMetrics answers parse too: # EOF and # UNIT are comments to the text parser
		{"openmetrics", serve(t, 200, "application/openmetrics-text; version=1.0.0; charset=utf-8",
			"# TYPE m gauge\n# UNIT m bytes\nm 7\n# EOF\n"), "m", 7, -1, memory.KindMetric, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryMetrics, URL: c.url, Metric: c.metric}, memory.SUTInfo{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Sample(context.Background())
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Bytes != c.bytes || r.GCCycles != c.gc || s.Kind() != c.kind || !strings.Contains(s.Source(), c.source) {
				t.Errorf("got %+v kind %q source %q; want %v bytes, %d GC cycles, kind %q, source with %q",
					r, s.Kind(), s.Source(), c.bytes, c.gc, c.kind, c.source)
			}
		})
	}
}

// Read from the shop's real /metrics, its leaked-bytes gauge rises by
// exactly what the checkouts leaked.
func TestMetricsSamplerOnTheShop(t *testing.T) {
	const leakEach, n = 10_000, 20
	k := sut.DefaultKnobs()
	k.LeakPerRequest = leakEach
	base := startShop(t, k)
	s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryMetrics, URL: base + "/metrics", Metric: sut.MetricLeaked}, memory.SUTInfo{})
	if err != nil {
		t.Fatal(err)
	}
	before := sample(t, s)
	checkouts(t, base, n, nil)
	after := sample(t, s)
	if got := after.Bytes - before.Bytes; got != n*leakEach {
		t.Errorf("%s rose by %v, want %d", sut.MetricLeaked, got, n*leakEach)
	}
}

// The shop's fallbacks when its live heap cannot be read at the first sample:
// RssAnon of its process, else process_resident_memory_bytes from /metrics.
// The choice holds for the whole run.
func TestSUTSamplerFallbacks(t *testing.T) {
	t.Run("RssAnon of the process", func(t *testing.T) {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				http.Error(w, "not yet", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte(page)) // a good page later does not switch the series back
		}))
		defer srv.Close()
		s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{PID: os.Getpid(), BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			r := sample(t, s)
			if s.Kind() != memory.KindRSSAnon || r.GCCycles != -1 || r.Bytes < 1<<20 || r.Bytes == 12345000 {
				t.Errorf("sample %d: %+v kind %q; want this process's RssAnon", i, r, s.Kind())
			}
		}
		t.Log(s.Source())
		if src := s.Source(); !strings.Contains(src, "RssAnon of shop") || !strings.Contains(src, "503 Service Unavailable") {
			t.Errorf("source %q should say RssAnon and why the live heap was not used", src)
		}
	})
	t.Run("a slow first scrape decides nothing", func(t *testing.T) {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				<-r.Context().Done() // a shop too loaded to answer in time
				return
			}
			w.Write([]byte(page))
		}))
		defer srv.Close()
		s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{PID: os.Getpid(), BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := s.Sample(ctx); err == nil {
			t.Fatal("a scrape past its deadline succeeded")
		}
		if r := sample(t, s); r.Bytes != 12345000 || r.GCCycles != 42 || s.Kind() != memory.KindHeapLive {
			t.Errorf("%+v kind %q; want the live heap from the second scrape", r, s.Kind())
		}
	})
	t.Run("resident memory from /metrics", func(t *testing.T) {
		url := serve(t, 200, "text/plain", "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 9e+06\n")
		base := strings.TrimSuffix(url, "/metrics")
		s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		r := sample(t, s)
		if r.Bytes != 9e6 || s.Kind() != memory.KindRSS || !strings.Contains(s.Source(), "no metric go_gc_heap_live_bytes") {
			t.Errorf("%+v kind %q source %q; want process_resident_memory_bytes", r, s.Kind(), s.Source())
		}
	})
	t.Run("nothing readable", func(t *testing.T) {
		s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{BaseURL: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1/metrics") {
			t.Errorf("error %v, want one naming the metrics URL", err)
		}
	})
}

// Every kind of series this package writes is one the leak hunter reads,
// except the generic "metric", whose shape (sawtooth or not) is unknown.
func TestKindsAreLeakSources(t *testing.T) {
	for _, k := range []string{memory.KindHeapLive, memory.KindRSSAnon, memory.KindRSS, memory.KindCgroup, memory.KindDocker} {
		if _, err := leak.ParseSource(k); err != nil {
			t.Errorf("kind %q: %v", k, err)
		}
	}
}

func TestNewSamplerRejectsBadSources(t *testing.T) {
	for _, c := range []struct {
		name string
		src  lang.MemorySource
		sut  memory.SUTInfo
		err  string
	}{
		{"no kind", lang.MemorySource{}, memory.SUTInfo{}, "no kind set"},
		{"unknown kind", lang.MemorySource{Kind: "swap"}, memory.SUTInfo{}, `unknown kind "swap"`},
		{"pid 0", lang.MemorySource{Kind: lang.MemoryPID}, memory.SUTInfo{}, "process id > 0"},
		{"negative pid", lang.MemorySource{Kind: lang.MemoryPID, PID: -4}, memory.SUTInfo{}, "got -4"},
		{"cgroup without path", lang.MemorySource{Kind: lang.MemoryCgroup, Path: " "}, memory.SUTInfo{}, "no directory"},
		{"container without name", lang.MemorySource{Kind: lang.MemoryContainer}, memory.SUTInfo{}, "no container name"},
		{"container path", lang.MemorySource{Kind: lang.MemoryContainer, Name: "../../info"}, memory.SUTInfo{}, "not a container name"},
		{"metrics not a URL", lang.MemorySource{Kind: lang.MemoryMetrics, URL: "localhost:9100", Metric: "m"}, memory.SUTInfo{}, "must start with http://"},
		{"metrics no host", lang.MemorySource{Kind: lang.MemoryMetrics, URL: "http:///metrics", Metric: "m"}, memory.SUTInfo{}, "has no host"},
		{"metrics bad URL", lang.MemorySource{Kind: lang.MemoryMetrics, URL: "http://[::1", Metric: "m"}, memory.SUTInfo{}, "is not a URL"},
		{"metrics no name", lang.MemorySource{Kind: lang.MemoryMetrics, URL: "http://127.0.0.1/metrics"}, memory.SUTInfo{}, "no metric name"},
		{"metrics with labels", lang.MemorySource{Kind: lang.MemoryMetrics, URL: "http://127.0.0.1/metrics", Metric: `m{a="b"}`}, memory.SUTInfo{}, "no labels"},
		{"sut unknown", lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{}, "neither its base URL nor its process id"},
		{"sut bad URL", lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{BaseURL: "127.0.0.1:8080"}, "must start with http://"},
		{"sut negative pid", lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{PID: -1}, "must not be negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := memory.NewSampler(c.src, c.sut)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("NewSampler = %v, %v; want an error containing %q", s, err, c.err)
			}
		})
	}
}

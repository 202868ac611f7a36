package metrics

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"lab/lang"
	"lab/lang/metricnames"
	"lab/runtime/engine"
	"lab/runtime/result"
	"lab/runtime/tally"
)

func TestClass(t *testing.T) {
	for reason, want := range map[string]string{
		"timeout after 5s":                             "timeout",
		"connect timeout":                              "connect",
		"connection refused":                           "connect",
		"connection closed by the server":              "connect",
		"no free connection (max_connections reached)": "connect",
		"HTTP 500":                                     "status",
		"status 404, expected 200":                     "status",
		"body lacks \"ok\"":                            "check",
		"json field order_id missing":                  "check",
		"slower than 100ms":                            "check",
		"cut off: still in flight when the 10s grace period ended": "cut_off",
		"error: something odd": "other",
		"other":                "other",
	} {
		if got := Class(reason); got != want {
			t.Errorf("Class(%q) = %q, want %q", reason, got, want)
		}
	}
}

// TestServesEveryName: the exporter serves exactly the names of
// lang/metricnames, which grafana's queries are held to (its
// TestQueriesParse), and docs/METRICS.md lists the same.
func TestServesEveryName(t *testing.T) {
	x := New(Info{Plan: "p", Shape: "s", Model: lang.Closed, Requests: []string{"a"}})
	// Vectors show once a series of them is set.
	x.SetBudgets([]Budget{{Subject: "all", Budget: "p95", OK: true, Judged: true}})
	x.SetBudgetSeconds("all", "p95", 0.5)
	fams, err := x.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, f := range fams {
		served = append(served, f.GetName())
	}
	want := metricnames.All()
	slices.Sort(served)
	slices.Sort(want)
	if !slices.Equal(served, want) {
		t.Errorf("served %v, lang/metricnames has %v", served, want)
	}
	doc, err := os.ReadFile("../../docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(string(doc), "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 && strings.HasPrefix(strings.TrimSpace(cells[1]), "lab_") {
			listed = append(listed, strings.TrimSpace(cells[1]))
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("docs/METRICS.md lists %v, lang/metricnames has %v", listed, want)
	}
}

func encoded(t *testing.T, us ...int64) string {
	h := result.NewHist()
	for _, v := range us {
		h.RecordValue(v)
	}
	s, err := result.Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func family(t *testing.T, x *Exporter, name string) []*dto.Metric {
	fams, err := x.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

// Windows merge into each name's histogram; its classic buckets count the
// responses at or under each bound and its native buckets hold them all.
func TestResponseHistogram(t *testing.T) {
	x := New(Info{Plan: "p", Shape: "s", Model: lang.Closed, Requests: []string{"a", "b"}})
	x.Window(tally.WindowStats{Names: []*result.Window{{Count: 3, Hist: encoded(t, 800, 4000, 40_000)}, nil}})
	x.Window(tally.WindowStats{Names: []*result.Window{{Count: 1, Hist: encoded(t, 2_000_000)}, nil}})
	ms := family(t, x, "lab_response_seconds")
	if len(ms) != 2 {
		t.Fatalf("%d series, want one per request name", len(ms))
	}
	h := ms[0].GetHistogram()
	if h.GetSampleCount() != 4 || h.GetSchema() != nativeSchema {
		t.Fatalf("count %d, schema %d", h.GetSampleCount(), h.GetSchema())
	}
	want := map[float64]uint64{.001: 1, .005: 2, .025: 2, .05: 3, 1: 3, 2.5: 4, 30: 4}
	for _, b := range h.GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("le %v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	var native, c int64
	for _, d := range h.GetPositiveDelta() {
		c += d // each bucket's count is the previous one's plus its delta
		native += c
	}
	if native != 4 {
		t.Errorf("native buckets hold %d responses, want 4", native)
	}
	if s := h.GetSampleSum(); s < 2.04 || s > 2.05 {
		t.Errorf("sum %v s, want ≈ 2.0448", s)
	}
}

// Ticks count requests per name; Finish adds what the last seconds (which
// reach no tick) held, and failures by class from the Run.
func TestFinishReachesTheRunsTotals(t *testing.T) {
	x := New(Info{Plan: "p", Shape: "s", Model: lang.Closed, Requests: []string{"a", "b"}})
	x.Tick(engine.Tick{Users: 5, Target: 6, Second: tally.SecondStats{Counts: [][2]int64{{10, 1}, {4, 0}}}})
	x.Window(tally.WindowStats{Names: []*result.Window{nil, nil}, Failures: []result.Failure{{Name: "a", Reason: "HTTP 500", Count: 1}}})
	run := &result.Run{Model: "closed",
		Requests: []*result.Request{{Name: "a", Count: 12, Failures: 3, Hist: encoded(t, 1000, 1000)}, {Name: "b", Count: 4}},
		Failures: []result.Failure{{Name: "a", Reason: "HTTP 500", Count: 2}, {Name: "a", Reason: "timeout after 1s", Count: 1}}}
	x.Finish(run)
	got := map[string]float64{}
	for _, m := range family(t, x, "lab_requests_total") {
		got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	if got["a"] != 12 || got["b"] != 4 {
		t.Errorf("requests %v", got)
	}
	fails := map[string]float64{}
	for _, m := range family(t, x, "lab_failures_total") {
		fails[labelOf(m, "request")+"/"+labelOf(m, "class")] = m.GetCounter().GetValue()
	}
	if fails["a/status"] != 2 || fails["a/timeout"] != 1 || fails["a/check"] != 0 || len(fails) != 2*len(Classes) {
		t.Errorf("failures %v", fails)
	}
	if h := family(t, x, "lab_response_seconds")[0].GetHistogram(); h.GetSampleCount() != 2 {
		t.Errorf("histogram count %d after Finish, want the Run's 2", h.GetSampleCount())
	}
}

func TestCheckAddr(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:9646", "localhost:1", "[::1]:9646"} {
		if err := CheckAddr(ok, ""); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if err := CheckAddr("0.0.0.0:9646", ""); err == nil || !strings.Contains(err.Error(), "LAB_TOKEN") {
		t.Errorf("0.0.0.0 without a token: %v", err)
	}
	if err := CheckAddr("0.0.0.0:9646", "tok"); err != nil {
		t.Errorf("0.0.0.0 with a token: %v", err)
	}
}

// With a token, a scrape without it is refused.
func TestBearerToken(t *testing.T) {
	x := New(Info{Requests: []string{"a"}})
	s, err := Serve("127.0.0.1:0", "sekrit", x)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url := "http://" + s.Addr() + "/metrics"
	for tok, want := range map[string]int{"": 401, "wrong": 401, "sekrit": 200} {
		req, _ := http.NewRequest("GET", url, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: %d, want %d", tok, resp.StatusCode, want)
		}
	}
}

// Linger returns once a scrape started after it was called has been served.
func TestLingerEndsAfterAScrape(t *testing.T) {
	s, err := Serve("127.0.0.1:0", "", New(Info{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan struct{})
	go func() { s.Linger(context.Background(), 1<<40); close(done) }()
	for {
		select {
		case <-done:
			return
		default:
		}
		resp, err := http.Get("http://" + s.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A scraper that asks for protobuf (as Prometheus does to get native
// histograms) gets lab_response_seconds with its native buckets.
func TestNativeHistogramServed(t *testing.T) {
	x := New(Info{Requests: []string{"a"}})
	x.Window(tally.WindowStats{Names: []*result.Window{{Count: 2, Hist: encoded(t, 1500, 30_000)}}})
	s, err := Serve("127.0.0.1:0", "", x)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/metrics", nil)
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	for {
		var f dto.MetricFamily
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("no lab_response_seconds: %v", err)
		}
		if f.GetName() != "lab_response_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		if h.GetSchema() != nativeSchema || len(h.GetPositiveSpan()) == 0 || len(h.GetBucket()) != len(classicBounds) || h.GetSampleCount() != 2 {
			t.Errorf("histogram served: %v", h)
		}
		return
	}
}

package report_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"lab/gates"
	"lab/gates/report"
	"lab/gates/synth"
	"lab/lang"
	"lab/runtime/result"
)

// sampleRun is a judged synthetic run of two minutes: two requests, one
// failing now and then, with verdicts of every gate.
func sampleRun(t *testing.T, names ...string) *result.Run {
	t.Helper()
	return sampleRunFor(t, 2*time.Minute, names...)
}

func sampleRunFor(t *testing.T, d time.Duration, names ...string) *result.Run {
	t.Helper()
	if len(names) == 0 {
		names = []string{"GET /products", "POST /checkout"}
	}
	var reqs []synth.Request
	for i, n := range names {
		reqs = append(reqs, synth.Request{Name: n, Rate: 50 + 20*float64(i), MedianUS: 20_000, Sigma: 0.4, ErrorRate: 0.01 * float64(i)})
	}
	run := synth.Run(synth.Spec{Plan: "smoke", Duration: d, Model: "closed", Seed: 7, Pool: 4, Requests: reqs})
	run.Plan.Shape, run.Plan.File = "steady", "plans/smoke.hcl"
	if err := synth.FillSeconds(run, 20); err != nil {
		t.Fatal(err)
	}
	run.Verdicts = []result.Verdict{
		{Gate: "sla", Subject: names[0], Budget: "p95 ≤ 50ms", Measured: "41.3ms", Outcome: result.OutcomePass},
		{Gate: "sla", Subject: "all", Budget: "errors ≤ 0.5%", Measured: "0.9%", Outcome: result.OutcomeFail, Detail: "error rate over budget in 3 windows"},
		{Gate: "regression", Subject: names[len(names)-1], Budget: "p95 +10%", Measured: "+2.0%", Outcome: result.OutcomeAdvisory, Detail: "no baseline yet"},
	}
	return run
}

func plan() *lang.Plan {
	return &lang.Plan{SLAs: []*lang.SLA{{Label: "all", Percentiles: []lang.PercentileBudget{{P: 95, Name: "p95", Max: 50 * time.Millisecond}}}}}
}

var renders int

func render(t *testing.T, p *lang.Plan, run, base *result.Run) []byte {
	t.Helper()
	out, err := gates.Report(p, run, base)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("LAB_REPORT_OUT"); dir != "" { // to look at it in a browser
		renders++
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.html", t.Name(), renders)), out, 0o644)
	}
	return out
}

func parse(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return strings.Contains(" "+v+" ", " "+class+" ")
}

func find(doc *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && pred(n) {
			out = append(out, n)
		}
	})
	return out
}

func byID(doc *html.Node, id string) *html.Node {
	ns := find(doc, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == id })
	if len(ns) != 1 {
		return nil
	}
	return ns[0]
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	})
	return b.String()
}

// The page loads nothing: no script, no stylesheet or image link, no
// attribute naming a network address, no url() or @import in its CSS. The
// only http:// is the SVG namespace, which names and loads nothing.
func TestSelfContained(t *testing.T) {
	run := sampleRun(t)
	run.Memory = synth.MemorySeries(synth.Memory{Duration: 2 * time.Minute, Base: 30e6, Rate: 100, LeakPerRequest: 500, Sawtooth: 5e6, GCEvery: 3 * time.Second})
	p := plan()
	p.Leak = &lang.Leak{Memory: lang.MemorySource{Kind: lang.MemoryPID, PID: 1}}
	page := render(t, p, run, sampleRun(t))
	doc := parse(t, page)
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "link", "img", "iframe", "object", "embed", "image", "use", "video", "audio", "source":
			t.Errorf("element <%s> in a self-contained report", n.Data)
		}
		for _, a := range n.Attr {
			if a.Key == "xmlns" && a.Val == "http://www.w3.org/2000/svg" {
				continue
			}
			v := strings.ToLower(a.Val)
			if strings.Contains(v, "http:") || strings.Contains(v, "https:") || strings.HasPrefix(v, "//") ||
				(a.Key == "src" || a.Key == "href" || strings.HasSuffix(a.Key, ":href")) {
				t.Errorf("<%s %s=%q> may load from the network", n.Data, a.Key, a.Val)
			}
		}
		if n.Data == "style" {
			css := strings.ToLower(text(n))
			for _, bad := range []string{"url(", "@import", "@font-face", "http"} {
				if strings.Contains(css, bad) {
					t.Errorf("the stylesheet holds %q", bad)
				}
			}
		}
	})
	if got := strings.Count(string(page), "http"); got != strings.Count(string(page), `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("%d mentions of http, only the SVG namespaces allowed", got)
	}
}

// chartSeries returns the series of the chart with id: name → the number
// of points drawn (polyline pairs or circles), checked against data-points.
func chartSeries(t *testing.T, doc *html.Node, id string) map[string]int {
	t.Helper()
	c := byID(doc, id)
	if c == nil {
		t.Fatalf("no chart %s", id)
	}
	out := map[string]int{}
	for _, g := range find(c, func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "series") }) {
		name, _ := attr(g, "data-name")
		n := 0
		for _, pl := range find(g, func(n *html.Node) bool { return n.Data == "polyline" }) {
			pts, _ := attr(pl, "points")
			n += len(strings.Fields(pts))
		}
		n += len(find(g, func(n *html.Node) bool { return n.Data == "circle" }))
		if dp, _ := attr(g, "data-points"); dp != strconv.Itoa(n) {
			t.Errorf("%s %s: %d points drawn, data-points %s", id, name, n, dp)
		}
		out[name] = n
	}
	return out
}

// Every chart over the run draws one point per second of the run, for
// every series; the latency chart draws the SLA budget as a line.
func TestChartsHoldEverySecond(t *testing.T) {
	run := sampleRun(t)
	doc := parse(t, render(t, plan(), run, nil))
	n := len(run.Seconds)
	if n < 100 {
		t.Fatalf("the sample run has %d seconds", n)
	}
	want := map[string][]string{
		"chart-throughput": {"requests/s", "users"},
		"chart-latency":    {"p50", "p95"},
		"chart-failures":   {"failures/s"},
	}
	for id, names := range want {
		got := chartSeries(t, doc, id)
		if len(got) != len(names) {
			t.Errorf("%s: series %v, want %v", id, got, names)
		}
		for _, name := range names {
			if got[name] != n {
				t.Errorf("%s %s: %d points, the run has %d seconds", id, name, got[name], n)
			}
		}
	}
	budgets := find(byID(doc, "chart-latency"), func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "budget") })
	if len(budgets) != 1 || !strings.Contains(text(budgets[0]), "all p95 ≤ 50ms") {
		t.Errorf("latency budget lines: %d", len(budgets))
	}
	// A budget far above the data is marked at the top, not drawn to scale.
	far := plan()
	far.SLAs[0].Percentiles[0].Max = time.Second
	top := find(byID(parse(t, render(t, far, run, nil)), "chart-latency"), func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "budget") })
	if len(top) != 1 || !hasClass(top[0], "above") || !strings.Contains(text(top[0]), "↑ above the chart: all p95 ≤ 1s") {
		t.Errorf("a budget far above the data: %d marks", len(top))
	}
	// Rates and latency are drawn from zero, however far above it they sit.
	slow := sampleRun(t)
	for i := range slow.Seconds {
		slow.Seconds[i].P50, slow.Seconds[i].P95 = 100_000, 120_000
	}
	axes := find(byID(parse(t, render(t, nil, slow, nil)), "chart-latency"), func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "axes") })
	if ticks := find(axes[0], func(n *html.Node) bool { return n.Data == "text" }); len(ticks) == 0 || text(ticks[0]) != "0" {
		t.Errorf("the latency axis does not start at 0")
	}
	// Open model: the target arrival rate is what is overlaid.
	run.Model = "open"
	for i := range run.Seconds {
		run.Seconds[i].Rate = 120
	}
	got := chartSeries(t, parse(t, render(t, nil, run, nil)), "chart-throughput")
	if got["target arrivals/s"] != n {
		t.Errorf("open model throughput chart: %v", got)
	}
}

// Every SVG is well-formed XML on its own (it can be cut out and opened).
func TestSVGIsXML(t *testing.T) {
	page := string(render(t, plan(), sampleRun(t), nil))
	count := 0
	for rest := page; ; {
		i := strings.Index(rest, "<svg")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "</svg>")
		frag := rest[i : i+j+len("</svg>")]
		d := xml.NewDecoder(strings.NewReader(frag))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("svg %d: %v", count, err)
				}
				break
			}
		}
		count++
		rest = rest[i+j:]
	}
	if count != 3 {
		t.Errorf("%d charts, want 3", count)
	}
}

// The verdict tables hold every verdict, with the terminal's marks, and
// the details of those that are not a plain pass; the request table every
// request name with its figures.
func TestVerdictsAndRequests(t *testing.T) {
	run := sampleRun(t)
	doc := parse(t, render(t, plan(), run, nil))
	vt := text(byID(doc, "verdicts"))
	for _, want := range []string{"SLA", "Regression", "GET /products", "p95 ≤ 50ms", "41.3ms", "✓ pass", "0.9%", "✗ FAIL",
		"· advisory", "error rate over budget in 3 windows", "no baseline yet"} {
		if !strings.Contains(vt, want) {
			t.Errorf("the verdicts section lacks %q", want)
		}
	}
	bad := find(byID(doc, "verdicts"), func(n *html.Node) bool { return n.Data == "tr" && hasClass(n, "bad") })
	if len(bad) != 1 || !strings.Contains(text(bad[0]), "errors ≤ 0.5%") {
		t.Errorf("failing rows: %d", len(bad))
	}
	rows := find(byID(doc, "requests"), func(n *html.Node) bool { return n.Data == "tr" })
	if len(rows) != 1+len(run.Requests)+1 {
		t.Fatalf("request table rows %d", len(rows))
	}
	for _, q := range run.Requests {
		found := false
		for _, r := range rows {
			if strings.HasPrefix(text(r), q.Name) && strings.Contains(text(r), strconv.FormatInt(q.Count, 10)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row for %s (%d)", q.Name, q.Count)
		}
	}
	fails := text(byID(doc, "failures"))
	if len(run.Failures) == 0 || !strings.Contains(fails, run.Failures[0].Reason) || !strings.Contains(fails, strconv.FormatInt(run.Failures[0].Count, 10)) {
		t.Errorf("failures by reason: %q for %+v", fails, run.Failures)
	}
	if !strings.Contains(text(byID(doc, "run")), "complete") {
		t.Error("the header lacks the status")
	}
	// A distributed run's header lists its workers, a lost one with why.
	run.Status, run.Reason, run.Workers = result.Interrupted, "SIGINT", 2
	run.WorkerLog = []result.Worker{{ID: 1, Name: "w-a", Host: "10.0.0.1", Share: 0.5, Requests: 900, Joined: run.Start},
		{ID: 2, Name: "w-b", Host: "10.0.0.2", Requests: 40, Joined: run.Start, Left: run.Start.Add(time.Minute), Lost: "not heard from for 3s"}}
	head := text(byID(parse(t, render(t, plan(), run, nil)), "run"))
	for _, want := range []string{"interrupted — SIGINT", "w-a", "10.0.0.2", "not heard from for 3s", "0.50"} {
		if !strings.Contains(head, want) {
			t.Errorf("the header lacks %q", want)
		}
	}
	if byID(doc, "compare") != nil || byID(doc, "leak") != nil {
		t.Error("a comparison or a leak section without a baseline or memory")
	}
}

// A request name is text, whatever it holds: no element comes of it.
func TestNamesEscaped(t *testing.T) {
	evil := `GET /<script>alert("x")</script><img src=x>`
	run := sampleRun(t, evil, "POST /a&b")
	run.Verdicts[0].Detail = "<b>bold</b>"
	run.Verdicts[0].Outcome = result.OutcomeFail
	p := plan()
	p.SLAs[0].Label = evil
	page := render(t, p, run, sampleRun(t, evil))
	doc := parse(t, page)
	if n := find(doc, func(n *html.Node) bool { return n.Data == "script" || n.Data == "img" || n.Data == "b" }); len(n) > 0 {
		t.Fatalf("a name became an element: <%s>", n[0].Data)
	}
	for _, id := range []string{"requests", "verdicts", "compare", "chart-latency"} {
		if !strings.Contains(text(byID(doc, id)), evil) {
			t.Errorf("%s does not show the name as text", id)
		}
	}
}

// A leak run has the memory chart: every sample a point, the block
// envelope, the fitted trend over the judged window, and the budget.
func TestLeakChart(t *testing.T) {
	run := sampleRunFor(t, 4*time.Minute)
	run.Memory = synth.MemorySeries(synth.Memory{Duration: 4 * time.Minute, Kind: "heap_live", Base: 30e6, Rate: 100,
		LeakPerRequest: 5e3, GCEvery: time.Second, Noise: 2e5, Seed: 3})
	run.Memory.Source = "shop"
	p := plan()
	p.Leak = &lang.Leak{Memory: lang.MemorySource{Kind: lang.MemoryPID, PID: 1}, Window: 2 * time.Minute, MaxGrowth: 10e6}
	doc := parse(t, render(t, p, run, nil))
	got := chartSeries(t, doc, "chart-leak")
	if got["samples"] != len(run.Memory.Samples) || got["block envelope"] != 10 || got["fitted trend"] != 2 || got["budget: total growth ≤ 10MB"] != 2 {
		t.Errorf("leak chart series %v (%d samples)", got, len(run.Memory.Samples))
	}
	leak := text(byID(doc, "leak"))
	if !strings.Contains(leak, "FAIL") || !strings.Contains(leak, "MB/min") {
		t.Errorf("leak section: %s", leak)
	}
	// Without a leak block there is no memory chart, samples or not.
	if byID(parse(t, render(t, plan(), run, nil)), "chart-leak") != nil {
		t.Error("a memory chart without a leak block")
	}
}

// With a baseline: every request's p95 and throughput, baseline against
// now, the worse ones marked.
func TestBaselineComparison(t *testing.T) {
	base, cur := sampleRun(t), sampleRun(t)
	q := cur.RequestByName("POST /checkout")
	q.Response.P95 = base.RequestByName("POST /checkout").Response.P95 * 2
	doc := parse(t, render(t, plan(), cur, base))
	c := byID(doc, "compare")
	if c == nil {
		t.Fatal("no comparison")
	}
	worse := find(c, func(n *html.Node) bool { return n.Data == "tr" && hasClass(n, "worse") })
	if len(worse) != 1 || !strings.Contains(text(worse[0]), "POST /checkout") || !strings.Contains(text(worse[0]), "+100.0%") {
		t.Errorf("rows marked worse: %d", len(worse))
	}
	if !strings.Contains(text(c), "+0.0%") {
		t.Error("the unchanged request does not show +0.0%")
	}
}

// The same input gives the same bytes: a report rebuilt from result.json
// is the file lab apply wrote.
func TestDeterministic(t *testing.T) {
	run := sampleRun(t)
	a, b := render(t, plan(), run, nil), render(t, plan(), run, nil)
	if !bytes.Equal(a, b) {
		t.Error("two renderings differ")
	}
	if _, err := report.Render(report.Input{}); err == nil {
		t.Error("rendering no run")
	}
}

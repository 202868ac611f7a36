package verdict

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"lab/runtime/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// everyOutcome holds one verdict of each outcome, from every gate (and one
// the tables have no title for), with text that Markdown and XML must
// escape. The run gate is listed last to show the tables put it first.
var everyOutcome = []result.Verdict{
	{Gate: "sla", Subject: "all", Budget: "p95 ≤ 250ms", Measured: "41.2ms", Outcome: result.OutcomePass, Detail: "all p95 41.2ms ≤ 250ms"},
	{Gate: "sla", Subject: "POST /checkout", Budget: "p99 ≤ 500ms", Measured: "612ms", Outcome: result.OutcomeFail,
		Detail: "POST /checkout p99 612ms > budget 500ms (31 of 1,234 requests over 500ms, where 1% may)"},
	{Gate: "sla", Subject: "GET /products*", Budget: "error_rate ≤ 1%", Measured: "–", Outcome: result.OutcomeNoSamples,
		Detail: "GET /products* matched no request that completed"},
	{Gate: "sla", Subject: "GET /", Budget: "p95 ≤ 50ms per 10s window", Measured: "3 of 18 windows", Outcome: result.OutcomeInconclusive,
		Detail: "windows of 20 requests cannot tell a p95 < 50ms; run for 3m or more"},
	{Gate: "sla", Subject: "all", Budget: "error_rate ≤ 1% per 10s window", Measured: "0.5%", Outcome: result.OutcomePass,
		Detail: "all: all 17 10s windows within budget; worst 12:00:20–12:00:30 UTC: error_rate 0.5% ≤ 1% (1 partial or empty window(s) not judged)",
		Note:   "all error_rate per 10s window: not judged: 12:00:00–12:00:10 UTC (12 requests, 2 s of the run) (a window the run covers less than half of, or with no request)"},
	{Gate: "leak", Subject: "memory of sut.shop", Budget: "growth ≤ 10MB/min", Measured: "+2.1MB/min", Outcome: result.OutcomePass,
		Detail: "growth +2.1MB/min ≤ 10MB/min over 150 samples"},
	{Gate: "regression", Subject: "baseline", Budget: "compare with results/smoke", Measured: "no baseline yet", Outcome: result.OutcomeAdvisory,
		Detail: "no baseline run at results/smoke: nothing to compare with; store a run there to start comparing (cp -r results/<plan>/latest/. results/smoke)"},
	{Gate: "regression", Subject: "POST /cart", Budget: "p95 growth < 10%", Measured: "44.1ms → 85.3ms (+93.4%)", Outcome: result.OutcomeFail,
		Detail: "POST /cart: slower: p95 +93.4% > 10% (Mann–Whitney p = 1e-06, Holm α 0.01)"},
	{Gate: "regression", Subject: "GET /search", Budget: "completed in both runs", Measured: "512 → 0 requests", Outcome: result.OutcomeMissing,
		Detail: "GET /search: the baseline completed 512, this run none"},
	{Gate: "custom", Subject: "a_b*c", Budget: "x < 1 & y > 2", Measured: "`3` | \"4\"", Outcome: result.OutcomeFail, Detail: "<a_b*c> failed | see `log`"},
	{Gate: "run", Subject: "status", Budget: "run completes", Measured: "invalid", Outcome: result.OutcomeInvalid,
		Detail: "the generator could not keep up, so the figures cannot be trusted: lag p99 26 ms (over 10 ms)"},
}

var goldenCases = []struct {
	name string
	vs   []result.Verdict
	exit int
}{
	{"every-outcome", everyOutcome, 3},
	{"all-pass", []result.Verdict{everyOutcome[0], everyOutcome[4]}, 0},
	{"no-budgets", nil, 0},
}

// The verdict table (colour off and on), summary.md and junit.xml of fixed
// verdicts are byte for byte the golden files in testdata: a column, a
// mark, a colour or a JUnit attribute that changes fails here. After a
// change on purpose, go test ./gates/verdict -update rewrites them.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			var plain, colour, md bytes.Buffer
			if err := Table(&plain, c.vs, c.exit, false); err != nil {
				t.Fatal(err)
			}
			if err := Table(&colour, c.vs, c.exit, true); err != nil {
				t.Fatal(err)
			}
			if err := Markdown(&md, "lab apply plans/smoke.hcl — run complete", c.vs, c.exit); err != nil {
				t.Fatal(err)
			}
			junit, err := JUnit("lab", c.vs)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".table", plain.Bytes())
			golden(t, c.name+".colour", colour.Bytes())
			golden(t, c.name+".md", md.Bytes())
			golden(t, c.name+".junit.xml", junit)
		})
	}
}

// golden compares got with testdata/NAME.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./gates/verdict -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (if the change is meant, run go test ./gates/verdict -update):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

package verdict

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"lab/runtime/result"
)

var sample = []result.Verdict{
	{Gate: "sla", Subject: "POST /checkout", Budget: "p95 ≤ 500ms", Measured: "612ms", Outcome: result.OutcomeFail, Detail: "POST /checkout p95 612ms > budget 500ms (1,234 requests)"},
	{Gate: "sla", Subject: "all", Budget: "error_rate ≤ 5%", Measured: "0.4%", Outcome: result.OutcomePass, Detail: "all error_rate 0.4% ≤ 5%"},
	{Gate: "leak", Subject: "memory of sut.shop", Budget: "growth ≤ 10MB/min", Measured: "–", Outcome: result.OutcomeInconclusive, Detail: "run too short; extend the run"},
	{Gate: "regression", Subject: "baseline", Budget: "compare with x", Measured: "no baseline yet", Outcome: result.OutcomeAdvisory, Detail: "no baseline"},
	{Gate: "run", Subject: "status", Budget: "run completes", Measured: "invalid", Outcome: result.OutcomeInvalid, Detail: "generator | saturated"},
}

func TestTable(t *testing.T) {
	var plain, colour bytes.Buffer
	if err := Table(&plain, sample, 3, false); err != nil {
		t.Fatal(err)
	}
	Table(&colour, sample, 3, true)
	out := plain.String()
	if strings.Contains(out, "\x1b[") {
		t.Error("escape codes without colour (NO_COLOR)")
	}
	if !strings.Contains(colour.String(), "\x1b[31m") {
		t.Error("no red with colour")
	}
	// Gates in a fixed order, one table each.
	iRun, iSLA, iLeak, iReg := strings.Index(out, "\nRun\n"), strings.Index(out, "\nSLA\n"), strings.Index(out, "\nLeak\n"), strings.Index(out, "\nRegression\n")
	if !(0 <= iRun && iRun < iSLA && iSLA < iLeak && iLeak < iReg) {
		t.Errorf("gate order: %d %d %d %d\n%s", iRun, iSLA, iLeak, iReg, out)
	}
	lines := strings.Split(out, "\n")
	var failRow, passRow string
	for _, l := range lines {
		if strings.Contains(l, "p95 ≤ 500ms") {
			failRow = l
		}
		if strings.Contains(l, "error_rate ≤ 5%") {
			passRow = l
		}
	}
	if !strings.Contains(failRow, "✗ 612ms") || !strings.Contains(failRow, "✗ FAIL") {
		t.Errorf("failing row not marked: %q", failRow)
	}
	if strings.Contains(passRow, "✗") || !strings.Contains(passRow, "✓ pass") {
		t.Errorf("passing row: %q", passRow)
	}
	// Columns line up: the verdict column starts at the same rune offset in a table.
	if a, b := strings.Index(failRow, "✗ FAIL"), strings.Index(passRow, "✓ pass"); len([]rune(failRow[:a])) != len([]rune(passRow[:b])) {
		t.Errorf("columns do not line up:\n%s\n%s", failRow, passRow)
	}
	for _, want := range []string{"✗ POST /checkout p95 612ms > budget 500ms", "extend the run", "3 of 5 budgets not met (exit 3)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "✗ no baseline") || !strings.Contains(out, "· no baseline") {
		t.Error("an advisory verdict is not listed as a note")
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	Markdown(&b, "lab apply plans/smoke.hcl", sample, 3)
	md := b.String()
	for _, want := range []string{"### ❌ lab apply plans/smoke.hcl", "| subject | budget | measured | verdict |",
		"| POST /checkout | p95 ≤ 500ms | **612ms** | ❌ **fail** |", "generator \\| saturated", "- POST /checkout p95 612ms"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	b.Reset()
	Markdown(&b, "ok", sample[1:2], 0)
	if !strings.HasPrefix(b.String(), "### ✅ ok") || !strings.Contains(b.String(), "all 1 budgets met (exit 0)") {
		t.Errorf("passing summary:\n%s", b.String())
	}
}

func TestJUnit(t *testing.T) {
	data, err := JUnit("lab", sample)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	if doc.Tests != 5 || doc.Failures != 2 || doc.Errors != 1 || len(doc.Suites) != 4 {
		t.Errorf("tests %d, failures %d, errors %d, suites %d", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites))
	}
	var found bool
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Name == "POST /checkout: p95 ≤ 500ms" {
				found = c.Failure != nil && strings.Contains(c.Failure.Text, "612ms > budget 500ms") && c.Classname == "lab.sla"
			}
			if c.Name == "baseline: compare with x" && c.Skipped == nil {
				t.Error("advisory verdict not skipped")
			}
		}
	}
	if !found {
		t.Errorf("no failing test case for the checkout budget:\n%s", data)
	}
}

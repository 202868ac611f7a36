package lang

import (
	"testing"
	"time"
)

// A stage budget names one stage or consecutive ones, and spans them:
// the corpus's k6 script with four scenarios, each its own thresholds.
func TestStageBudgets(t *testing.T) {
	p, diags := Load("../e2e/testdata/corpus/vilnacrm-graphql-get-user/plan.hcl", Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := []struct {
		first, last int
		from, to    time.Duration
		text        string
	}{
		{1, 1, 0, 10 * time.Second, "stage 1"},
		{3, 5, 40 * time.Second, 70 * time.Second, "stages 3–5"},
		{7, 9, 100 * time.Second, 130 * time.Second, "stages 7–9"},
		{11, 12, 160 * time.Second, 180 * time.Second, "stages 11–12"},
	}
	if len(p.SLAs) != len(want) {
		t.Fatalf("%d sla blocks", len(p.SLAs))
	}
	for i, w := range want {
		s := p.SLAs[i]
		if s.Stage != w.first || s.StageLast != w.last || s.StageFrom != w.from || s.StageTo != w.to || s.StageText() != w.text {
			t.Errorf("sla %d: stages %d–%d, %v → %v, %q; want %+v", i, s.Stage, s.StageLast, s.StageFrom, s.StageTo, s.StageText(), w)
		}
	}
}

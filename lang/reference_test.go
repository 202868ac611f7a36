package lang

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/gohcl"
)

// schemaAttrs is every block type of the language and the attributes it
// takes, read from the decoder's own schema so the reference cannot drift.
func schemaAttrs() map[string][]string {
	attrs := func(v any) []string {
		s, _ := gohcl.ImpliedBodySchema(v)
		var out []string
		for _, a := range s.Attributes {
			out = append(out, a.Name)
		}
		return out
	}
	var knobs []string
	for _, k := range SUTKnobs() {
		knobs = append(knobs, k.Name)
	}
	return map[string][]string{
		"variable":   attrs(&rawVariable{}),
		"run":        attrs(&rawRun{}),
		"sut":        knobs,
		"workload":   attrs(&rawWorkload{}),
		"shape":      attrs(&rawShape{}),
		"shapes":     attrs(&rawShapes{}),
		"stage":      attrs(&rawStage{}),
		"sla":        SLAAttributeNames(),
		"measure":    MeasureAttributeNames(),
		"leak":       attrs(&rawLeak{}),
		"regression": attrs(&rawRegression{}),
		"topology":   attrs(&rawTopology{}),
		"user":       attrs(&rawUser{}),
		"task":       append(attrs(&rawTask{}), attrs(&rawRequest{})...),
		"sequence":   attrs(&rawSequence{}),
		"step":       attrs(&rawStep{}),
		"expect":     attrs(&rawExpect{}),
	}
}

// sections splits the reference into its "### `block`" sections.
func sections(doc string) map[string]string {
	out := map[string]string{}
	re := regexp.MustCompile("(?m)^### `([a-z_]+)`\\s*$")
	locs := re.FindAllStringSubmatchIndex(doc, -1)
	for i, loc := range locs {
		end := len(doc)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		if next := strings.Index(doc[loc[1]:end], "\n## "); next >= 0 {
			end = loc[1] + next
		}
		out[doc[loc[2]:loc[3]]] = doc[loc[1]:end]
	}
	return out
}

func TestReferenceCoversTheSchema(t *testing.T) {
	raw, err := os.ReadFile("../docs/LANGUAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	secs := sections(doc)
	rowRe := regexp.MustCompile("(?m)^\\| `([a-z_0-9]+)` \\|")
	for block, names := range schemaAttrs() {
		sec, ok := secs[block]
		if !ok {
			t.Errorf("docs/LANGUAGE.md has no section \"### `%s`\"", block)
			continue
		}
		documented := map[string]bool{}
		for _, m := range rowRe.FindAllStringSubmatch(sec, -1) {
			documented[m[1]] = true
		}
		known := map[string]bool{}
		for _, n := range names {
			known[n] = true
			if !documented[n] {
				t.Errorf("section %s does not document attribute %q", block, n)
			}
		}
		for n := range documented {
			if !known[n] {
				t.Errorf("section %s documents %q, which the language does not accept", block, n)
			}
		}
	}
	for _, fn := range FunctionNames() {
		if !strings.Contains(doc, "`"+fn+"(") {
			t.Errorf("function %s is not documented", fn)
		}
	}
	unitsSec := doc[strings.Index(doc, "## Units"):strings.Index(doc, "## Scenario blocks")]
	for _, u := range []string{"`ms`", "`s`", "`m`", "`h`", "`d`", "`B`", "`KB`", "`MB`", "`GB`", "`KiB`", "`MiB`", "`GiB`", "`/s`", "`/min`", "`%`"} {
		if !strings.Contains(unitsSec, u) {
			t.Errorf("units section does not mention %s", u)
		}
	}
}

// TestReferenceExamplesLoad loads every ```hcl plan block of the reference
// and of the README.
func TestReferenceExamplesLoad(t *testing.T) {
	var blocks [][]string
	for _, doc := range []string{"../docs/LANGUAGE.md", "../README.md"} {
		raw, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile("(?s)```hcl plan\n(.*?)```")
		found := re.FindAllStringSubmatch(string(raw), -1)
		if len(found) == 0 {
			t.Fatalf("no ```hcl plan example in %s", doc)
		}
		blocks = append(blocks, found...)
	}
	wl, _ := os.ReadFile("../plans/shop.workload.hcl")
	for i, b := range blocks {
		path := writePlan(t, map[string]string{"plan.hcl": b[1], "shop.workload.hcl": string(wl)})
		if _, diags := Load(path, Options{}); diags.HasErrors() {
			t.Errorf("example %d does not load: %s", i+1, diags.Error())
		}
	}
}

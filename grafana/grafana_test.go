package grafana

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v4"

	"lab/lang"
	"lab/lang/metricnames"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// shipped are the shipped plans: the golden files are of the first two (a
// closed model with two SLAs, an open model with a leak block).
var shipped = []string{"smoke", "leak-test", "baseline", "soak", "spike", "stress", "shop"}

func load(t *testing.T, name string, vars ...string) *lang.Plan {
	t.Helper()
	plan, diags := lang.NewLoader(lang.Options{Vars: vars}).Load("../plans/" + name + ".hcl")
	if diags.HasErrors() {
		t.Fatalf("%s: %v", name, diags)
	}
	return plan
}

func build(t *testing.T, plan *lang.Plan) map[string][]byte {
	t.Helper()
	files, err := Build(plan)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Name] = f.Data
	}
	for _, name := range []string{DashboardFile, DatasourceFile, ProviderFile, PrometheusFile} {
		if len(out[name]) == 0 {
			t.Fatalf("%s: Build wrote no %s", plan.Name, name)
		}
	}
	return out
}

// TestGolden: the dashboards of smoke and leak-test as committed in
// testdata; go test ./grafana -update rewrites them (and make generate
// the ones in generated/).
func TestGolden(t *testing.T) {
	for _, name := range shipped[:2] {
		got := build(t, load(t, name))[DashboardFile]
		path := filepath.Join("testdata", name+".dashboard.json.golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./grafana -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (if the change is meant, run go test ./grafana -update): %s", path, firstDiff(got, want))
		}
	}
}

// firstDiff is the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, gl, wl)
		}
	}
	return "same lines"
}

// TestDashboardModel checks every shipped plan's dashboard as Grafana
// would load it: it decodes strictly into the SDK's dashboard model (no
// unknown or ill-typed field), has a schema version, unique panel ids,
// panels inside the 24 columns that do not overlap, and every datasource
// reference names the provisioned datasource.
func TestDashboardModel(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, name := range shipped {
		files := build(t, load(t, name))
		if err := strictCheck(files[DashboardFile]); err != "" {
			t.Errorf("%s: Grafana's dashboard model refuses it: %s", name, err)
			continue
		}
		var d dashboard.Dashboard
		if err := json.Unmarshal(files[DashboardFile], &d); err != nil {
			t.Fatal(err)
		}
		if d.SchemaVersion == 0 {
			t.Errorf("%s: no schemaVersion", name)
		}
		if d.Uid == nil || *d.Uid != "lab-"+name {
			t.Errorf("%s: uid %v", name, d.Uid)
		}
		checkGrid(t, name, d)
		checkDatasources(t, name, files)
	}
}

// strictCheck decodes data strictly into the SDK's dashboard model and
// returns what it refuses. (The SDK's strict decoder checks the panels but
// leaves them out of the result, and returns its error list typed even when
// empty: hence the text, and json.Unmarshal for the model itself.)
func strictCheck(data []byte) string {
	var d dashboard.Dashboard
	if err := d.UnmarshalJSONStrict(data); err != nil {
		return err.Error()
	}
	return ""
}

// TestStrictCheckHasTeeth: the strict decoder refuses a panel field
// Grafana's model has not, and an ill-typed one.
func TestStrictCheckHasTeeth(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	good := build(t, load(t, "smoke"))[DashboardFile]
	for _, bad := range [][]byte{
		bytes.Replace(good, []byte(`"gridPos": {`), []byte(`"gridPos": {"depth": 2, `), 1),
		bytes.Replace(good, []byte(`"title": "Requests/s"`), []byte(`"title": 7`), 1),
	} {
		if bytes.Equal(bad, good) {
			t.Fatal("the dashboard JSON changed shape: update this test")
		}
		if strictCheck(bad) == "" {
			t.Errorf("the strict check takes a broken dashboard")
		}
	}
}

func checkGrid(t *testing.T, name string, d dashboard.Dashboard) {
	t.Helper()
	ids := map[uint32]bool{}
	var boxes []dashboard.GridPos
	for _, p := range d.Panels {
		if p.Panel == nil {
			t.Errorf("%s: a row panel, which the dashboard does not use", name)
			continue
		}
		if p.Panel.Id == nil || ids[*p.Panel.Id] {
			t.Errorf("%s: panel %q has no id or a repeated one", name, *p.Panel.Title)
			continue
		}
		ids[*p.Panel.Id] = true
		g := p.Panel.GridPos
		if g == nil || g.W == 0 || g.H == 0 || g.X+g.W > gridWidth {
			t.Errorf("%s: panel %q gridPos %+v is not inside the 24 columns", name, *p.Panel.Title, g)
			continue
		}
		for _, o := range boxes {
			if g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H {
				t.Errorf("%s: panel %q at %+v overlaps one at %+v", name, *p.Panel.Title, *g, o)
			}
		}
		boxes = append(boxes, *g)
	}
	if len(ids) < 4 {
		t.Errorf("%s: %d panels, want at least 4", name, len(ids))
	}
}

// checkDatasources: every "datasource" object anywhere in the dashboard
// names the uid and type of the datasource datasource.yaml provisions.
func checkDatasources(t *testing.T, name string, files map[string][]byte) {
	t.Helper()
	var prov struct {
		Datasources []struct{ UID, Type, URL string }
	}
	if err := yaml.Unmarshal(files[DatasourceFile], &prov); err != nil || len(prov.Datasources) != 1 {
		t.Fatalf("%s: datasource.yaml: %v, %d datasources", name, err, len(prov.Datasources))
	}
	ds := prov.Datasources[0]
	var doc any
	if err := json.Unmarshal(files[DashboardFile], &doc); err != nil {
		t.Fatal(err)
	}
	refs := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if k == "datasource" {
					refs++
					ref, _ := c.(map[string]any)
					if ref["uid"] != ds.UID || ref["type"] != ds.Type {
						t.Errorf("%s: datasource reference %v does not resolve to the provisioned %s (%s)", name, c, ds.UID, ds.Type)
					}
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	if refs == 0 {
		t.Errorf("%s: no datasource reference", name)
	}
}

// TestQueriesParse: every panel query of every shipped plan (and of the
// stress plan's open-model shape) parses with Prometheus's parser once
// Grafana's variables are expanded, and names only metrics of the
// exporter's contract: lang/metricnames, every name of which
// runtime/metrics serves (its TestServesEveryName).
func TestQueriesParse(t *testing.T) {
	known := map[string]bool{metricnames.Response + "_bucket": true}
	for _, m := range metricnames.All() {
		known[m] = true
	}
	open, diags := lang.NewLoader(lang.Options{Shape: "arrivals"}).Load("../plans/stress.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	plans := []*lang.Plan{open}
	for _, name := range shipped {
		plans = append(plans, load(t, name))
	}
	for _, plan := range plans {
		d, err := Dashboard(plan)
		if err != nil {
			t.Fatal(err)
		}
		queries := Queries(d)
		if len(queries) < 6 {
			t.Errorf("%s: %d queries", plan.Name, len(queries))
		}
		for _, q := range queries {
			if err := Check(q); err != nil {
				t.Error(err)
			}
			for _, m := range metricNames(t, q) {
				if !known[m] {
					t.Errorf("%s: query %q reads %s, not in the metric contract", plan.Name, q, m)
				}
			}
		}
	}
}

func metricNames(t *testing.T, q string) []string {
	t.Helper()
	expr, err := promParser.ParseExpr(Expand(q, GrafanaVars))
	if err != nil {
		return nil
	}
	var names []string
	for _, matchers := range parser.ExtractSelectors(expr) {
		for _, m := range matchers {
			if m.Name == "__name__" {
				names = append(names, m.Value)
			}
		}
	}
	return names
}

// TestCheckRefuses: what Check lets through is what Prometheus parses.
func TestCheckRefuses(t *testing.T) {
	for _, q := range []string{
		"sum(rate(lab_requests_total[$__rate_interval])", // unbalanced
		"histogram_quantile(0.95, lab_response_seconds[", // cut
		"rate(lab_requests_total[$__unknown_var])",       // a variable Grafana has not
		"sum by (request) rate(lab_failures_total[1m])",  // no parentheses
	} {
		if err := Check(q); err == nil {
			t.Errorf("Check(%q) passed", q)
		}
	}
	if err := Check("sum(rate(lab_requests_total[$__rate_interval]))"); err != nil {
		t.Error(err)
	}
}

// TestBadQueryFailsBuild: a panel whose query Prometheus's parser refuses
// fails the check Build runs, naming the panel (lab plan then exits 3).
func TestBadQueryFailsBuild(t *testing.T) {
	p := failuresByRequest()
	p.series[0].expr = "sum by (request) (rate(lab_failures_total[$__rate_interval])" // one ) short
	d, err := dashboard.NewDashboardBuilder("bad").WithPanel(timeSeries(p, 1, dashboard.GridPos{W: halfWidth, H: panelHeight})).Build()
	if err != nil {
		t.Fatal(err)
	}
	err = CheckQueries(d)
	if err == nil || !strings.Contains(err.Error(), `panel "Failures/s by request"`) || !strings.Contains(err.Error(), "does not parse as PromQL") {
		t.Errorf("CheckQueries: %v", err)
	}
	good, err := Dashboard(load(t, "smoke"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckQueries(good); err != nil {
		t.Error(err)
	}
}

// TestBudgetsDrawn: each latency budget of the plan is a threshold line of
// the latency panel, and the percentile it judges a series of it.
func TestBudgetsDrawn(t *testing.T) {
	plan := load(t, "spike") // GET / p95 200ms; POST /checkout p95 500ms, p99 1s; all p99 1s
	d, err := Dashboard(plan)
	if err != nil {
		t.Fatal(err)
	}
	lat := panelTitled(t, d, "Response time")
	var lines []float64
	for _, s := range lat.FieldConfig.Defaults.Thresholds.Steps {
		if s.Value != nil {
			lines = append(lines, *s.Value)
		}
	}
	if want := []float64{0.2, 0.5, 1}; !equalFloats(lines, want) {
		t.Errorf("threshold lines %v, want %v", lines, want)
	}
	legends := map[string]string{}
	for _, s := range latency(plan).series {
		legends[s.legend] = s.expr
	}
	for legend, sel := range map[string]string{
		"GET / p95":          `request="GET /"`,
		"POST /checkout p95": `request="POST /checkout"`,
		"POST /checkout p99": `request="POST /checkout"`,
		"p99":                "lab_response_seconds_bucket[",
		"users":              "lab_users",
		"target users":       "lab_target_users",
	} {
		if !strings.Contains(legends[legend], sel) {
			t.Errorf("latency series %q is %q, want it to hold %s", legend, legends[legend], sel)
		}
	}
	if strings.Contains(strings.Join(Queries(d), "\n"), "lab_target_rate") {
		t.Error("a closed-model plan's dashboard draws the target arrival rate")
	}
	if hasPanel(d, "Memory of the system under test") {
		t.Error("a plan without a leak block has a memory panel")
	}
	if hasPanel(d, "Budgets") {
		t.Error("a plan without a windowed sla block has a live Budgets panel")
	}
	soak, err := Dashboard(load(t, "soak")) // sla "all" with a 5m window
	if err != nil {
		t.Fatal(err)
	}
	if b := panelTitled(t, soak, "Budgets"); b.Type != "state-timeline" || !strings.Contains(strings.Join(Queries(soak), "\n"), metricnames.BudgetOK) {
		t.Errorf("soak's Budgets panel is a %s without %s", b.Type, metricnames.BudgetOK)
	}
}

func panelTitled(t *testing.T, d dashboard.Dashboard, title string) *dashboard.Panel {
	t.Helper()
	for _, p := range d.Panels {
		if p.Panel != nil && p.Panel.Title != nil && *p.Panel.Title == title {
			return p.Panel
		}
	}
	t.Fatalf("no panel %q", title)
	return nil
}

func hasPanel(d dashboard.Dashboard, title string) bool {
	for _, p := range d.Panels {
		if p.Panel != nil && p.Panel.Title != nil && *p.Panel.Title == title {
			return true
		}
	}
	return false
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLeakPanels: a plan with a leak block gets the memory panel (samples,
// trend, budget) and the growth-rate panel with max_growth_rate as its
// line; an open-model plan's ramp is arrivals, not users.
func TestLeakPanels(t *testing.T) {
	plan := load(t, "leak-test")
	d, err := Dashboard(plan)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(Queries(d), "\n")
	for _, m := range []string{metricnames.Memory, metricnames.MemoryTrend, metricnames.LeakBudget, metricnames.TargetRate, metricnames.ArrivalsDue} {
		if !strings.Contains(all, m) {
			t.Errorf("leak-test's dashboard reads no %s", m)
		}
	}
	if strings.Contains(all, metricnames.Users) {
		t.Error("an open-model plan's dashboard draws users")
	}
	growth := panelTitled(t, d, "Memory growth rate")
	steps := growth.FieldConfig.Defaults.Thresholds.Steps
	if v := steps[len(steps)-1].Value; v == nil || *v != plan.Leak.MaxGrowthRate {
		t.Errorf("growth-rate line at %v, want max_growth_rate %v B/s", v, plan.Leak.MaxGrowthRate)
	}
}

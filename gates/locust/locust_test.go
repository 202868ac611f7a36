package locust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/gates/sla"
	"lab/gates/synth"
	"lab/lang"
	"lab/runtime/result"
)

// testdata/shop_*.csv were written by Locust 2.12 (Debian's python3-locust)
// running testdata/locustfile.py with --csv-full-history for 14 s against
// `lab sut --latency 2ms --wrong-rate 0.05`.
func TestLoadRealLocustFiles(t *testing.T) {
	run, table, err := Load("testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{ // from shop_stats.csv
		"GET /": {0, 0}, "POST /cart": {0, 0}, "POST /checkout": {0, 11}, "GET /products": {0, 0}, "GET /products/:id": {0, 0},
	}
	if len(run.Requests) != len(want) {
		t.Fatalf("%d requests: %+v", len(run.Requests), run.Requests)
	}
	var total int64
	for _, q := range run.Requests {
		w, ok := want[q.Name]
		if !ok {
			t.Errorf("unexpected request %q", q.Name)
			continue
		}
		if q.Failures != w[1] || q.Count == 0 || q.Hist != "" {
			t.Errorf("%s: %d requests, %d failures", q.Name, q.Count, q.Failures)
		}
		total += q.Count
		// Windows from the cumulative per-request history rows.
		var inWindows int64
		for _, win := range q.Windows {
			inWindows += win.Count
			if win.T%10 != 0 || win.Failures > win.Count {
				t.Errorf("%s: window %+v", q.Name, win)
			}
		}
		if inWindows == 0 || inWindows > q.Count {
			t.Errorf("%s: %d requests in windows of %d", q.Name, inWindows, q.Count)
		}
	}
	if total != 1850 {
		t.Errorf("%d requests, want the 1850 of the Aggregated row", total)
	}
	// Requests/s as Locust computed it: 1850 / 142.02 ≈ 13.03 s.
	if d := run.Duration(); d < 12.9 || d > 13.2 {
		t.Errorf("duration %.2f s", d)
	}
	if agg := table.Rows["all"]; len(agg) != 11 || agg[5].P != 95 || agg[5].US != 10000 || agg[10].P != 100 {
		t.Errorf("Aggregated row: %+v", agg)
	}
	if co := table.Rows["POST /checkout"]; len(co) == 0 {
		t.Error("no row for POST /checkout")
	}
	if len(run.Failures) != 1 || run.Failures[0].Name != "POST /checkout" || run.Failures[0].Count != 11 ||
		!strings.Contains(run.Failures[0].Reason, "no order_id") {
		t.Errorf("failures %+v", run.Failures)
	}
	if run.Model != "closed" || run.Extra["source"] != "locust" {
		t.Errorf("model %q, extra %v", run.Model, run.Extra)
	}
}

func budgets() []*lang.SLA {
	five := 0.05
	one := 0.001
	return []*lang.SLA{
		{Label: "all", All: true, Aggregate: true, Matches: []string{"GET /", "GET /products", "GET /products/:id", "POST /cart", "POST /checkout"},
			Percentiles: []lang.PercentileBudget{{P: 95, Name: "p95", Max: 250 * time.Millisecond}}, ErrorRate: &five},
		{Label: "POST /checkout", Matches: []string{"POST /checkout"},
			Percentiles: []lang.PercentileBudget{{P: 99, Name: "p99", Max: 500 * time.Millisecond}}, ErrorRate: &one},
		{Label: "GET /products*", Matches: []string{"GET /products", "GET /products/:id"},
			Percentiles: []lang.PercentileBudget{{P: 90, Name: "p90", Max: time.Millisecond}}},
		{Label: "GET /", Matches: []string{"GET /"}, ErrorRate: &five, Window: 10 * time.Second},
	}
}

func TestJudgeRealLocustFiles(t *testing.T) {
	run, table, err := Load("testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := sla.Judge(budgets(), run, sla.Options{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"all p95":                   result.OutcomePass, // 10 ms
		"all error_rate":            result.OutcomePass, // 11 of 1850
		"POST /checkout p99":        result.OutcomePass, // 14 ms
		"POST /checkout error_rate": result.OutcomeFail, // 11 of 370: wrong answers count
		"GET /products p90":         result.OutcomeFail, // 8 ms > 1 ms
		"GET /products/:id p90":     result.OutcomeFail,
		"GET / error_rate":          result.OutcomePass, // per 10 s window, from the full history
	}
	for _, v := range vs {
		key := v.Subject + " " + strings.Fields(v.Budget)[0]
		if w, ok := want[key]; !ok || v.Outcome != w {
			t.Errorf("%s: %s (%s), want %q", key, v.Outcome, v.Detail, w)
		}
		if strings.HasSuffix(key, "p95") && !strings.Contains(v.Detail, "Locust's stats.csv's p95 column") {
			t.Errorf("%s: the detail does not say where the figure comes from: %s", key, v.Detail)
		}
	}
}

// Without --csv-full-history there are no per-request windows: windowed
// budgets say so instead of passing.
func TestWithoutFullHistory(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"stats", "failures"} {
		b, _ := os.ReadFile("testdata/shop_" + f + ".csv")
		os.WriteFile(filepath.Join(dir, "x_"+f+".csv"), b, 0o644)
	}
	b, _ := os.ReadFile("testdata/shop_stats_history.csv")
	var keep []string
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 || strings.Contains(line, ",,Aggregated,") {
			keep = append(keep, line)
		}
	}
	os.WriteFile(filepath.Join(dir, "x_stats_history.csv"), []byte(strings.Join(keep, "\n")+"\n"), 0o644)
	run, table, err := Load(filepath.Join(dir, "x"))
	if err != nil {
		t.Fatal(err)
	}
	vs, _ := sla.Judge(budgets()[3:], run, sla.Options{Table: table})
	if len(vs) != 1 || vs[0].Outcome != result.OutcomeInconclusive || !strings.Contains(vs[0].Detail, "--csv-full-history") {
		t.Errorf("%+v", vs)
	}
}

// A lab run and the Locust-compatible CSV files lab writes for it give the
// same SLA verdicts (lab's CSVs carry two decimals of a millisecond).
func TestSameVerdictsAsTheRun(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		run := synth.Run(synth.Spec{Duration: 90 * time.Second, Seed: seed, Requests: []synth.Request{
			{Name: "GET /", Rate: 30, MedianUS: 4000, Sigma: 0.4},
			{Name: "GET /products", Rate: 20, MedianUS: 6000, Sigma: 0.5},
			{Name: "GET /products/:id", Rate: 40, MedianUS: 5000, Sigma: 0.4},
			{Name: "POST /cart", Rate: 10, MedianUS: 9000, Sigma: 0.3},
			{Name: "POST /checkout", Rate: 10, MedianUS: 20000, Sigma: 0.6, ErrorRate: 0.02},
		}})
		dir := t.TempDir()
		if err := result.Write(dir, run); err != nil {
			t.Fatal(err)
		}
		fromCSV, table, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		direct, err := sla.Judge(budgets()[:3], run, sla.Options{})
		if err != nil {
			t.Fatal(err)
		}
		viaCSV, err := sla.Judge(budgets()[:3], fromCSV, sla.Options{Table: table})
		if err != nil {
			t.Fatal(err)
		}
		if len(direct) != len(viaCSV) {
			t.Fatalf("%d verdicts direct, %d via CSV", len(direct), len(viaCSV))
		}
		for i := range direct {
			d, c := direct[i], viaCSV[i]
			if d.Subject != c.Subject || d.Budget != c.Budget || d.Outcome != c.Outcome {
				t.Errorf("seed %d: %s %s: %s (%s) from the run, %s (%s) from its CSV", seed, d.Subject, d.Budget, d.Outcome, d.Measured, c.Outcome, c.Measured)
			}
		}
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p+"_stats.csv", []byte(body), 0o644)
		return p
	}
	cases := map[string]string{
		"empty":      "",
		"not locust": "a,b,c\n1,2,3\n",
		"bad number": "Type,Name,Request Count,Failure Count,Max Response Time,Requests/s\nGET,/,many,0,1,1\n",
		"fails>reqs": "Type,Name,Request Count,Failure Count,Max Response Time,Requests/s\nGET,/,1,5,1,1\n",
		"no rows":    "Type,Name,Request Count,Failure Count,Max Response Time,Requests/s\n",
		"bad quote":  "Type,Name\n\"GET,/\n",
	}
	for name, body := range cases {
		if _, _, err := Load(write(strings.ReplaceAll(name, " ", ""), body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := Load(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "none_stats.csv not found") {
		t.Errorf("missing files: %v", err)
	}
}

func FuzzLoad(f *testing.F) {
	stats, _ := os.ReadFile("testdata/shop_stats.csv")
	hist, _ := os.ReadFile("testdata/shop_stats_history.csv")
	f.Add(stats, hist)
	f.Fuzz(func(t *testing.T, stats, hist []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "f_stats.csv"), stats, 0o644)
		os.WriteFile(filepath.Join(dir, "f_stats_history.csv"), hist, 0o644)
		run, table, err := Load(filepath.Join(dir, "f"))
		if err != nil {
			return
		}
		if _, err := sla.Judge(budgets(), run, sla.Options{Table: table}); err != nil {
			t.Fatal(err)
		}
	})
}

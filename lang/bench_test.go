package lang

import (
	"os"
	"testing"
)

// BenchmarkLoadLargestPlan loads the largest shipped scenario (with the
// workload file it reads), as `lab plan` and `lab apply` do at start.
func BenchmarkLoadLargestPlan(b *testing.B) {
	largest, size := "", 0
	for _, path := range shippedPlans(b) {
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		if int(st.Size()) > size {
			largest, size = path, int(st.Size())
		}
	}
	b.Logf("largest plan: %s (%d bytes)", largest, size)
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := Load(largest, Options{}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// BenchmarkDynamicPath measures a per-request template: the fast path for
// "/products/${random_int(1, 500)}".
func BenchmarkDynamicPath(b *testing.B) {
	p, diags := Load("../plans/smoke.hcl", Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	path := p.Workload.Users[0].Tasks[1].Steps[0].Path
	s := p.NewScope(1, "browser")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = path.AppendText(buf[:0], s)
	}
}

// BenchmarkDynamicJSONBody measures { product_id = random_int(1, 500), qty = 1 }.
func BenchmarkDynamicJSONBody(b *testing.B) {
	p, diags := Load("../plans/smoke.hcl", Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	body := p.Workload.Users[1].Tasks[0].Steps[1].Body.Value
	s := p.NewScope(1, "buyer")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = body.AppendJSON(buf[:0], s)
	}
}

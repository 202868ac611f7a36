package lang

import "testing"

// A pulse that ends inside a batch sends the steps it keeps at once: the
// batch is cut short in the pulse, and the plan keeps its own.
func TestPulsedCutsABatch(t *testing.T) {
	p, diags := Load("../e2e/testdata/plans/shop-batch.hcl", Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	steps := p.Workload.Users[0].Tasks[0].Steps
	if len(steps) != 5 || steps[1].Batch != 3 || !steps[2].InBatch || steps[4].InBatch || p.Workload.MaxBatch() != 3 {
		t.Fatalf("the plan's batch: %d steps, batch %d", len(steps), steps[1].Batch)
	}
	q := p.Pulsed(&Pulse{Class: 0, Task: 0, Steps: 3}, 20, 5e9)
	cut := q.Workload.Users[0].Tasks[0].Steps
	if len(cut) != 3 || cut[1].Batch != 2 || cut[1].Name != "GET /products" {
		t.Errorf("the pulse's steps: %d, batch %d", len(cut), cut[1].Batch)
	}
	if steps[1].Batch != 3 {
		t.Error("Pulsed changed the plan's batch")
	}
}

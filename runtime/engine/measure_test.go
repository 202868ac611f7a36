package engine_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"

	"lab/gates/sla"
	"lab/lang"
	"lab/runtime/result"
)

// TestMeasureRecordsWhatTheTargetSent: a measure taken from each answer
// holds exactly the numbers the target sent — count, sum, min and max
// from the target's own log, percentiles within the histogram's three
// digits — an answer without the number counts as missing and stays a
// success, and the measure block's budgets are judged on them.
func TestMeasureRecordsWhatTheTargetSent(t *testing.T) {
	var mu sync.Mutex
	var sent []float64
	missing := 0
	rng := rand.New(rand.NewPCG(3, 4))
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if (len(sent)+missing)%7 == 6 {
			missing++
			w.Write([]byte(`{"other": 1}`))
			return
		}
		v := math.Round(rng.ExpFloat64()*5000) / 1000 // thousandths, as a measure keeps them
		sent = append(sent, v)
		json.NewEncoder(w).Encode(map[string]float64{"n": v})
	}))
	plan := load(t, writePlan(t, map[string]string{"plan.hcl": `
variable "host" {}
workload "w" {
  host = var.host
  user "u" {
    task "t" {
      get     = "/pizza"
      measure = { toppings = response.json.n }
    }
  }
}
shape "s" {
  stage {
    until = "2s"
    users = 4
  }
}
measure "toppings" {
  unit = "toppings"
  p50  = 1000
  max  = 1
}
`}), "host="+host)
	r := run(t, plan)
	mu.Lock()
	defer mu.Unlock()
	m := r.MeasureByName("toppings")
	q := r.Requests[0]
	if m == nil || len(sent) < 100 {
		t.Fatalf("measures %+v after %d answers", r.Measures, len(sent))
	}
	var sum float64
	lo, hi := math.Inf(1), 0.0
	for _, v := range sent {
		sum += v
		lo, hi = min(lo, v), max(hi, v)
	}
	if m.Count != int64(len(sent)) || m.Missing != int64(missing) || q.Failures != 0 || q.Count != m.Count+m.Missing {
		t.Errorf("recorded %d values and %d missing of %d requests (%d failed); the target sent %d numbers and %d answers without", m.Count, m.Missing, q.Count, q.Failures, len(sent), missing)
	}
	if math.Abs(m.Sum-sum) > 1e-6*sum || m.Min != lo || m.Max != hi {
		t.Errorf("sum %v, min %v, max %v; the target sent sum %v, min %v, max %v", m.Sum, m.Min, m.Max, sum, lo, hi)
	}
	sort.Float64s(sent)
	for _, p := range []float64{50, 95, 99} {
		want := sent[int(math.Ceil(p/100*float64(len(sent))))-1]
		got, err := m.Percentile(p)
		if err != nil || math.Abs(got-want) > 0.002*want+0.001 {
			t.Errorf("p%v %v (err %v), the target's %v", p, got, err, want)
		}
	}
	// By window, as the requests: each of the measure's windows is one of
	// the request's, holding at most its answers (run validated the sums).
	var wsum float64
	for _, w := range m.Windows {
		k := slices.IndexFunc(q.Windows, func(qw result.Window) bool { return qw.T == w.T })
		if k < 0 || w.Count > q.Windows[k].Count || w.T%10 != 0 {
			t.Errorf("measure window %+v; the request's windows %v", w, q.Windows)
		}
		wsum += w.Sum
	}
	if len(m.Windows) == 0 || math.Abs(wsum-m.Sum) > 1e-6*m.Sum {
		t.Errorf("%d windows summing %v of %v", len(m.Windows), wsum, m.Sum)
	}
	// The budgets: p50 ≤ 1000 passes, max ≤ 1 fails.
	vs := sla.JudgeMeasures(plan.Measures, r)
	got := ""
	for _, v := range vs {
		got += fmt.Sprintf("%s %s %s; ", v.Budget, v.Outcome, v.Measured)
	}
	want := fmt.Sprintf("p50 ≤ 1000 toppings pass %s; max ≤ 1 toppings fail %s; ", (&lang.Measure{Unit: "toppings"}).Text(mustP(m, 50)), (&lang.Measure{Unit: "toppings"}).Text(hi))
	if got != want {
		t.Errorf("verdicts %q, want %q", got, want)
	}
}

func mustP(m *result.Measure, p float64) float64 {
	v, _ := m.Percentile(p)
	return v
}

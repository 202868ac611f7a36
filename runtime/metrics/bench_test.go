package metrics

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/common/expfmt"

	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// BenchmarkSecondOfARun is what metrics cost the run per second, at a
// scrape every second (Prometheus' default is 15 s): one tick, a tenth of
// a window (five request names, 100,000 responses each, spread 1–200 ms,
// merged and rebuilt every 10 s) and one scrape encoded as text. One op is
// one second of the run; set against the generator's CPU per second
// (docs/BENCHMARKS.md, "Metrics").
func BenchmarkSecondOfARun(b *testing.B) {
	names := []string{"GET /", "GET /products", "GET /products/:id", "POST /cart", "POST /checkout"}
	x := New(Info{Plan: "p", Shape: "s", Model: lang.Closed, Requests: names})
	rng := rand.New(rand.NewPCG(1, 1))
	wins := make([]*result.Window, len(names))
	for i := range wins {
		h := result.NewHist()
		for range 100_000 {
			h.RecordValue(1000 + rng.Int64N(200_000))
		}
		enc, _ := result.Encode(h)
		wins[i] = &result.Window{Count: 100_000, Hist: enc}
	}
	counts := make([][2]int64, len(names))
	for i := range counts {
		counts[i] = [2]int64{10_000, 10}
	}
	ws := tally.WindowStats{Names: wins, Failures: []result.Failure{{Name: "GET /", Reason: "HTTP 500", Count: 3}}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		x.Tick(engine.Tick{Users: 64, Target: 64, Second: tally.SecondStats{Counts: counts}})
		if i%10 == 0 {
			x.Window(ws)
		}
		fams, err := x.Registry().Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

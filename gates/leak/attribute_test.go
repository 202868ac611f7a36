package leak

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lab/lang"
	"lab/runtime/result"
)

// huntPlan has a plain task and a three-step funnel whose steps are not
// independent (checkout needs a cart), and one name sent twice in it.
const huntPlan = `
workload "w" {
  host = "http://127.0.0.1:1"
  user "browser" {
    task "home" {
      get = "/"
    }
  }
  user "buyer" {
    sequence "checkout" {
      step "list" {
        get = "/products"
      }
      step "cart" {
        post = "/cart"
      }
      step "again" {
        get = "/products"
      }
      step "checkout" {
        post = "/checkout"
      }
    }
  }
}
shape "s" {
  stage {
    until = "10s"
    rate  = "10/s"
  }
}
`

func loadHuntPlan(t *testing.T) *lang.Plan {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(path, []byte(huntPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := lang.Load(path, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// TestUnitsArePrefixesOfSequences: a plain task is one pulse; a sequence
// gives a prefix for each step that first sends a name, and a name sent
// again is no unit of its own.
func TestUnitsArePrefixesOfSequences(t *testing.T) {
	units := Units(loadHuntPlan(t))
	var got []string
	for _, u := range units {
		got = append(got, u.Name+"@"+strings.Repeat("|", u.Pulse.Steps)+" known="+strings.Join(u.Known, ","))
	}
	want := []string{
		"GET /@| known=",
		"GET /products@| known=",
		"POST /cart@|| known=GET /products",
		"POST /checkout@|||| known=GET /products,POST /cart",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("units:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The pulse sends just its prefix, the plan itself unchanged.
	p := loadHuntPlan(t)
	q := p.Pulsed(&units[3].Pulse, 20, 5e9)
	if len(q.Workload.Users) != 1 || len(q.Workload.Users[0].Tasks[0].Steps) != 4 || q.Shape.Model != lang.Open {
		t.Errorf("pulse of checkout: %d classes, steps %d", len(q.Workload.Users), len(q.Workload.Users[0].Tasks[0].Steps))
	}
	if strings.Join(q.Workload.Requests, ",") != "GET /products,POST /cart,POST /checkout" {
		t.Errorf("the pulse's names: %q", q.Workload.Requests)
	}
	if len(p.Workload.Users) != 2 || len(p.Workload.Users[1].Tasks[0].Steps) != 4 {
		t.Error("Pulsed changed the plan")
	}
}

// simPulse is a pulse of unit u at rate passes/s for secs seconds against
// a target keeping leak[name] bytes per request, read as a live heap that
// collects every gcEvery seconds (or a resident figure with a sawtooth of
// height saw), with noise of σ bytes.
func simPulse(rng *rand.Rand, p *lang.Plan, u Unit, leak map[string]float64, live bool, saw, sigma float64) PulseRun {
	const rate, secs, gcEvery = 40.0, 10, 1.5
	steps := p.Workload.Users[u.Pulse.Class].Tasks[u.Pulse.Task].Steps[:u.Pulse.Steps]
	perPass := map[string]int64{}
	for _, s := range steps {
		perPass[s.Name]++
	}
	pr := PulseRun{Counts: map[string]int64{}, Failed: map[string]int64{}}
	base := 50e6 + rng.Float64()*10e6
	kept, gc := 0.0, int64(100)
	lastGC, heap := 0.0, base
	var done int64
	for tenth := 1; tenth <= secs*10; tenth++ {
		at := float64(tenth) / 10
		passes := int(rate/10) + rng.IntN(3) - 1 // about rate/10, unsteady
		for range passes {
			for name, n := range perPass {
				pr.Counts[name] += n
				done += n
				kept += leak[name] * float64(n)
			}
		}
		if at-lastGC >= gcEvery {
			lastGC, gc = at, gc+1
			heap = base + kept + rng.NormFloat64()*sigma
		}
		if tenth%5 != 0 {
			continue // two readings a second
		}
		s := result.MemorySample{AtS: at, Requests: done, GCCycles: gc, Bytes: heap}
		if !live {
			s.GCCycles = -1
			s.Bytes = base + kept + saw*math.Mod(at, 3)/3 + rng.NormFloat64()*sigma
		}
		pr.Samples = append(pr.Samples, s)
	}
	return pr
}

func simRounds(seed uint64, p *lang.Plan, units []Unit, leak map[string]float64, live bool, saw, sigma float64, rounds int) [][]PulseRun {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out [][]PulseRun
	for range rounds {
		var round []PulseRun
		for _, u := range units {
			round = append(round, simPulse(rng, p, u, leak, live, saw, sigma))
		}
		out = append(out, round)
	}
	return out
}

// TestAttributeFindsTheLeakingStep: the leak put on each name in turn —
// the funnel's first, middle and last step, and the plain task — is the
// one row that leaks, its interval holding the true figure, and the others
// say no leak; a live heap and a resident sawtooth alike.
func TestAttributeFindsTheLeakingStep(t *testing.T) {
	p := loadHuntPlan(t)
	units := Units(p)
	for _, culprit := range []string{"GET /", "GET /products", "POST /cart", "POST /checkout"} {
		for _, live := range []bool{true, false} {
			leak := map[string]float64{culprit: 50e3}
			saw := 0.0
			if !live {
				saw = 20e6
			}
			a := Attribute(units, simRounds(uint64(len(culprit)), p, units, leak, live, saw, 0.5e6, 5), live, map[string]float64{culprit: 0.5})
			if !a.Told {
				t.Errorf("%s (live %v): not told: %s", culprit, live, a.Why)
			}
			for _, r := range a.Rows {
				want := WordNoLeak
				if r.Name == culprit {
					want = WordLeaks
					if r.Lo > 50e3 || r.Hi < 50e3 {
						t.Errorf("%s (live %v): interval %.0f…%.0f misses the 50 KB it keeps", culprit, live, r.Lo, r.Hi)
					}
					if math.Abs(r.Share-1) > 1e-9 {
						t.Errorf("%s: share %v, want all of it", culprit, r.Share)
					}
				}
				if r.Word != want {
					t.Errorf("leak on %s (live %v): %s says %q (%.0f, %.0f…%.0f; %s), want %q", culprit, live, r.Name, r.Word, r.PerRequest, r.Lo, r.Hi, r.Why, want)
				}
			}
		}
	}
}

// TestAttributeWithoutALeakTellsNothing: a target that keeps nothing
// gives no leaking row, and the attribution is not told (exit 1), never a
// name picked by chance.
func TestAttributeWithoutALeakTellsNothing(t *testing.T) {
	p := loadHuntPlan(t)
	units := Units(p)
	falsely := 0
	for seed := range uint64(200) {
		a := Attribute(units, simRounds(seed, p, units, nil, seed%2 == 0, 20e6*float64(seed%2), 1e6, 3), seed%2 == 0, nil)
		if a.Told {
			t.Fatalf("seed %d: told with no leak", seed)
		}
		for _, r := range a.Rows {
			if r.Word == WordLeaks {
				falsely++
			}
		}
	}
	// 800 rows at 99%: about 8 by chance; 20 would be a broken interval.
	t.Logf("%d of 800 healthy rows called leaking", falsely)
	if falsely > 20 {
		t.Errorf("%d of 800 healthy rows called leaking", falsely)
	}
}

// TestAttributeSaysWhatItCouldNotMeasure: too few rounds, a name whose
// requests failed, a pulse with too few fresh readings: cannot tell, with
// why.
func TestAttributeSaysWhatItCouldNotMeasure(t *testing.T) {
	p := loadHuntPlan(t)
	units := Units(p)
	leak := map[string]float64{"POST /checkout": 50e3}
	a := Attribute(units, simRounds(1, p, units, leak, true, 0, 0.5e6, 2), true, nil)
	if a.Told || a.Rows[3].Word != WordCannotSay || !strings.Contains(a.Rows[3].Why, "measured in 2 of 2 rounds") {
		t.Errorf("two rounds: told %v, %q: %s", a.Told, a.Rows[3].Word, a.Rows[3].Why)
	}
	rounds := simRounds(2, p, units, leak, true, 0, 0.5e6, 4)
	for _, round := range rounds {
		round[2].Failed = map[string]int64{"POST /cart": round[2].Counts["POST /cart"]}
		round[0].Samples = round[0].Samples[:2]
	}
	a = Attribute(units, rounds, true, nil)
	if a.Rows[2].Word != WordCannotSay || !strings.Contains(a.Rows[2].Why, "requests failed") {
		t.Errorf("failed cart: %q: %s", a.Rows[2].Word, a.Rows[2].Why)
	}
	// Checkout's figure needs the cart's: it cannot be told either.
	if a.Rows[3].Word != WordCannotSay || !strings.Contains(a.Rows[3].Why, "POST /cart, before it in the sequence, was not measured") {
		t.Errorf("checkout after a failed cart: %q: %s", a.Rows[3].Word, a.Rows[3].Why)
	}
	if a.Rows[0].Word != WordCannotSay || !strings.Contains(a.Rows[0].Why, "fresh memory readings") {
		t.Errorf("short pulse: %q: %s", a.Rows[0].Word, a.Rows[0].Why)
	}
}

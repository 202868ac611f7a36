package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMannWhitneyAgainstScipy(t *testing.T) {
	a := []float64{1.9, 2.4, 3.3, 3.3, 4.0, 5.6, 6.1, 7.2}
	b := []float64{0.8, 1.9, 2.2, 2.7, 3.3, 3.5, 4.1}
	// scipy.stats.mannwhitneyu(a, b, alternative='greater',
	//   method='asymptotic', use_continuity=True) → U = 40.5, p = 0.0815121921532852
	r, err := MannWhitney(a, b)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "U", r.U, 40.5, 0)
	near(t, "P", r.P, 0.0815121921532852, 1e-12)
}

// TestMannWhitneyUByPairs checks U against its definition by counting pairs.
func TestMannWhitneyUByPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 100; trial++ {
		x := make([]float64, 1+rng.IntN(30))
		y := make([]float64, 1+rng.IntN(30))
		for i := range x {
			x[i] = float64(rng.IntN(12)) // many ties
		}
		for i := range y {
			y[i] = float64(rng.IntN(10))
		}
		var want float64
		for _, a := range x {
			for _, b := range y {
				if a > b {
					want++
				} else if a == b {
					want += 0.5
				}
			}
		}
		r, err := MannWhitney(x, y)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "U", r.U, want, 0)
		if r.P < 0 || r.P > 1 {
			t.Fatalf("P = %v outside [0,1]", r.P)
		}
	}
	all, _ := MannWhitney([]float64{2, 2}, []float64{2, 2, 2})
	if all.P != 1 {
		t.Errorf("all tied: P = %v, want 1", all.P)
	}
}

func TestHodgesLehmannByBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 300; trial++ {
		x := make([]float64, 1+rng.IntN(40))
		y := make([]float64, 1+rng.IntN(40))
		for i := range x {
			x[i] = math.Round(rng.NormFloat64()*4)/2 + 0.7 // ties and negatives
		}
		for i := range y {
			y[i] = rng.ExpFloat64() * 3
		}
		var d []float64
		for _, a := range x {
			for _, b := range y {
				d = append(d, a-b)
			}
		}
		slices.Sort(d)
		want := medianSorted(d)
		got, err := HodgesLehmann(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("n=%d,%d: HL = %v, brute force %v", len(x), len(y), got, want)
		}
	}
	// Shift equivariance on logs: a 30% larger sample gives ratio 1.3.
	base := []float64{10, 12, 11, 15, 9, 13}
	cur := make([]float64, len(base))
	lb := make([]float64, len(base))
	for i, v := range base {
		cur[i] = math.Log(v * 1.3)
		lb[i] = math.Log(v)
	}
	d, _ := HodgesLehmann(cur, lb)
	near(t, "ratio", math.Exp(d), 1.3, 1e-12)
	if _, err := HodgesLehmann(nil, lb); err == nil {
		t.Error("empty sample: no error")
	}
	if _, err := MannWhitney(lb, []float64{math.NaN()}); err == nil {
		t.Error("NaN: no error")
	}
}

func TestHolm(t *testing.T) {
	// By hand: sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 = 0.02, 0.03,
	// 0.06, 0.04 → running max 0.02, 0.03, 0.06, 0.06.
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		near(t, "holm", got[i], want[i], 1e-12)
	}
	// NaN is kept and not counted: m = 2 here.
	got = Holm([]float64{0.02, math.NaN(), 0.4})
	near(t, "holm[0]", got[0], 0.04, 1e-12)
	near(t, "holm[2]", got[2], 0.4, 1e-12)
	if !math.IsNaN(got[1]) {
		t.Errorf("NaN p adjusted to %v", got[1])
	}
	if c := Holm([]float64{0.9, 0.8}); c[0] != 1 || c[1] != 1 {
		t.Errorf("capped at 1: got %v", c)
	}
	if len(Holm(nil)) != 0 {
		t.Error("Holm(nil) not empty")
	}
}

func TestFisherExactAgainstScipy(t *testing.T) {
	// scipy.stats.fisher_exact([[x2, n2-x2], [x1, n1-x1]], alternative='greater')[1]
	for _, c := range []struct {
		x1, n1, x2, n2 int64
		want           float64
	}{
		{0, 1000, 7, 1000, 0.007730633099803728},
		{2, 50, 9, 60, 0.052121872546154385},
		{3, 10, 3, 10, 0.6857585139318885},
		{1, 200, 0, 200, 1.0},
		{5, 5000, 19, 5000, 0.003274164332108718},
	} {
		p, err := FisherExact(Proportion{c.x1, c.n1}, Proportion{c.x2, c.n2})
		if err != nil {
			t.Fatal(err)
		}
		near(t, "fisher", p, c.want, 1e-9)
	}
	if _, err := FisherExact(Proportion{5, 3}, Proportion{1, 2}); err == nil {
		t.Error("events > trials: no error")
	}
}

func TestTwoProportionZAndDispersion(t *testing.T) {
	// By formula (numpy): p̄ = 110/20000, z = (0.007 − 0.004)/√(1.7·p̄(1−p̄)·2/10000)
	// = 2.199875270608134, scipy.stats.norm.sf(z) = 0.013907872845017561.
	z, err := TwoProportionZ(Proportion{40, 10000}, Proportion{70, 10000}, 1.7)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "z", z.Z, 2.199875270608134, 1e-12)
	near(t, "p", z.P, 0.013907872845017561, 1e-12)

	// Pearson χ² per group around its own rate, pooled over df (numpy) = 4.631775574171215.
	phi, df, err := Dispersion(
		[]Proportion{{3, 100}, {0, 100}, {9, 100}, {1, 100}},
		[]Proportion{{5, 200}, {15, 200}, {2, 100}},
	)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "phi", phi, 4.631775574171215, 1e-12)
	if df != 5 {
		t.Errorf("df = %d, want 3 + 2", df)
	}
	even, _, _ := Dispersion([]Proportion{{10, 1000}, {10, 1000}, {10, 1000}})
	near(t, "phi of even counts", even, 1, 0)
	none, _, _ := Dispersion([]Proportion{{0, 1000}, {0, 1000}})
	near(t, "phi with no events", none, 1, 0)
	if _, err := TwoProportionZ(Proportion{1, 10}, Proportion{1, 10}, 0.5); err == nil {
		t.Error("phi < 1: no error")
	}
	if _, err := TwoProportionZ(Proportion{0, 0}, Proportion{1, 10}, 1); err == nil {
		t.Error("no trials: no error")
	}
}

func TestCompareProportionsChoosesTheTest(t *testing.T) {
	// Few events: Fisher on the totals (no dispersion: evenly spread).
	small, err := CompareProportions(
		[]Proportion{{0, 500}, {0, 500}},
		[]Proportion{{3, 500}, {4, 500}},
	)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := FisherExact(Proportion{0, 1000}, Proportion{7, 1000})
	if small.Method != "fisher" || small.P != want {
		t.Errorf("small counts: %+v, want fisher p=%v", small, want)
	}
	// Many events spread evenly: the z-test with φ = 1.
	big, _ := CompareProportions(
		[]Proportion{{20, 1000}, {20, 1000}, {20, 1000}},
		[]Proportion{{30, 1000}, {30, 1000}, {30, 1000}},
	)
	zt, _ := TwoProportionZ(Proportion{60, 3000}, Proportion{90, 3000}, 1)
	if big.Method != "z" || big.Phi != 1 || big.P != zt.P {
		t.Errorf("large counts: %+v, want z p=%v", big, zt.P)
	}
	// The same totals in bursts: φ > 1 makes the same difference less significant.
	bursty, _ := CompareProportions(
		[]Proportion{{15, 1000}, {25, 1000}, {20, 1000}},
		[]Proportion{{40, 1000}, {20, 1000}, {30, 1000}},
	)
	if bursty.Phi <= 1 || bursty.P <= big.P || bursty.Method != "t" || bursty.DF != 4 {
		t.Errorf("bursty errors: %+v, want φ>1, t on 4 df and p > %v", bursty, big.P)
	}
	zb, _ := TwoProportionZ(bursty.Base, bursty.Cur, bursty.Phi)
	near(t, "bursty p", bursty.P, StudentSurvival(zb.Z, 4), 1e-15)

	// The same test on totals, φ given: the windows' own φ gives the same
	// answer; a larger φ (measured over other groupings) a larger p; a φ
	// not estimated (0 degrees of freedom) refers z to the normal.
	same, _ := CompareTotals(bursty.Base, bursty.Cur, bursty.Phi, bursty.DF)
	if same != bursty {
		t.Errorf("CompareTotals %+v, CompareProportions %+v", same, bursty)
	}
	if wider, _ := CompareTotals(bursty.Base, bursty.Cur, 2*bursty.Phi, 2); wider.P <= bursty.P {
		t.Errorf("φ doubled: p %v ≤ %v", wider.P, bursty.P)
	}
	if known, _ := CompareTotals(bursty.Base, bursty.Cur, bursty.Phi, 0); known.Method != "z" || known.P != NormalSurvival(zb.Z) {
		t.Errorf("φ on 0 df: %+v", known)
	}
	for _, bad := range []struct {
		phi float64
		df  int
	}{{0.5, 3}, {math.NaN(), 3}, {math.Inf(1), 3}, {2, -1}} {
		if _, err := CompareTotals(bursty.Base, bursty.Cur, bad.phi, bad.df); !errors.Is(err, ErrInvalid) {
			t.Errorf("φ %v on %d df: %v", bad.phi, bad.df, err)
		}
	}
	if _, err := CompareTotals(Proportion{0, 0}, bursty.Cur, 1, 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("no trials: %v", err)
	}
}

func TestStudentSurvival(t *testing.T) {
	// scipy 1.10.1: scipy.stats.t.sf(t, df)
	for _, c := range []struct{ t, df, want float64 }{
		{2.71, 58, 0.00441661318866086},
		{0.5, 3, 0.3257239824240755},
		{3.2, 10, 0.004745847897651922},
		{-1.2, 7, 0.8654140315863967},
		{5.0, 2, 0.018874775675311862},
		{2.0, 1000, 0.022885173246625833},
		{10, 30, 2.2876257041148048e-11},
		{1.5, 0.7, 0.22018254850962007},
	} {
		near(t, "t.sf", StudentSurvival(c.t, c.df), c.want, 1e-10)
		if got := StudentSurvival(c.t, c.df); math.Abs(got-c.want) > 1e-10*c.want {
			t.Errorf("StudentSurvival(%v, %v) = %.17g, want %.17g", c.t, c.df, got, c.want)
		}
	}
	if !math.IsNaN(StudentSurvival(1, 0)) || StudentSurvival(math.Inf(1), 5) != 0 {
		t.Error("edge cases")
	}
}

// MajorityAbove: a share of 600 in 1,000 is 6.45 standard errors above one
// half (se = √(0.6·0.4/1000)); φ = 4 halves z; an estimated φ reads z on
// Student's t; all or none are the extremes; a share below one half never
// rejects.
func TestMajorityAbove(t *testing.T) {
	z, err := MajorityAbove(Proportion{600, 1000}, 1, 0)
	if err != nil || math.Abs(z.Z-6.455) > 0.01 || z.P > 1e-9 {
		t.Fatalf("600/1000: %+v %v", z, err)
	}
	w, _ := MajorityAbove(Proportion{600, 1000}, 4, 0)
	if math.Abs(w.Z-z.Z/2) > 1e-9 || w.P != NormalSurvival(w.Z) {
		t.Errorf("φ = 4: %+v", w)
	}
	s, _ := MajorityAbove(Proportion{600, 1000}, 4, 3)
	if s.P != StudentSurvival(w.Z, 3) || s.P <= w.P {
		t.Errorf("φ = 4 on 3 df: %+v (normal %v)", s, w.P)
	}
	if all, _ := MajorityAbove(Proportion{50, 50}, 3, 2); all.P != 0 {
		t.Errorf("every trial: %+v", all)
	}
	if none, _ := MajorityAbove(Proportion{0, 50}, 3, 2); none.P != 1 {
		t.Errorf("no trial: %+v", none)
	}
	if low, _ := MajorityAbove(Proportion{300, 1000}, 1, 0); low.P < 0.99 {
		t.Errorf("30%%: %+v", low)
	}
	for _, bad := range []struct {
		p   Proportion
		phi float64
	}{{Proportion{5, 3}, 1}, {Proportion{0, 0}, 1}, {Proportion{1, 2}, 0.5}, {Proportion{1, 2}, math.NaN()}} {
		if _, err := MajorityAbove(bad.p, bad.phi, 0); err == nil {
			t.Errorf("%+v φ %v: no error", bad.p, bad.phi)
		}
	}
}

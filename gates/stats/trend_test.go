package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTheilSenAgainstScipy(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	y := []float64{1.0, 2.5, 2.0, 4.1, 3.9, 6.2, 5.8, 7.5, 9.1, 8.7}
	// scipy.stats.theilslopes(y, x, 0.98, method='joint') → slope 0.95, intercept 0.925
	l, err := TheilSen(x, y)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "slope", l.Slope, 0.95, 1e-12)
	near(t, "intercept", l.Intercept, 0.925, 1e-12)
}

func TestTheilSenRobustToOutliers(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	y := make([]float64, len(x))
	for i := range x {
		y[i] = 3 + 2*x[i]
	}
	y[4] = 1e6 // one wild sample must not move the fit
	l, _ := TheilSen(x, y)
	near(t, "slope", l.Slope, 2, 1e-12)
	near(t, "intercept", l.Intercept, 3, 1e-12)
}

// TestSenBoundsTenPoints pins the leak hunter's rule (docs/STATISTICS.md,
// "Leak hunter"): with n = 10 blocks the 99% one-sided lower bound is the
// 9th of the 45 sorted slopes.
func TestSenBoundsTenPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 10)
	y := make([]float64, 10)
	for i := range x {
		x[i] = float64(i) * 30
		y[i] = 1e6*float64(i) + rng.NormFloat64()*3e5
	}
	b, err := SenBounds(x, y, 0.99)
	if err != nil {
		t.Fatal(err)
	}
	slopes, _ := pairwiseSlopes(x, y)
	if b.Pairs != 45 || b.Rank != 9 || b.Lower != slopes[8] || b.Upper != slopes[36] {
		t.Errorf("bounds %+v; want rank 9 of 45: lower %v upper %v", b, slopes[8], slopes[36])
	}
	if v := kendallVariance(10, tieSizes(x)); v != 125 {
		t.Errorf("Var S for n=10 = %v, want 125", v)
	}
}

// TestSenBoundsInvertMannKendall checks the derivation by brute force: the
// lower bound is where the continuity-corrected one-sided Mann–Kendall test
// on the residuals y − βx, computed directly from their signs, stops
// rejecting "slope ≤ β".
func TestSenBoundsInvertMannKendall(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		n := 5 + rng.IntN(20)
		conf := []float64{0.9, 0.95, 0.99}[trial%3]
		x := make([]float64, n)
		y := make([]float64, n)
		for i := range x {
			x[i] = float64(i) + rng.Float64()*0.5
			y[i] = 0.3*x[i] + rng.NormFloat64()
		}
		b, err := SenBounds(x, y, conf)
		if err != nil {
			t.Fatal(err)
		}
		slopes, _ := pairwiseSlopes(x, y)
		crit := NormalQuantile(conf) * math.Sqrt(float64(n*(n-1)*(2*n+5))/18)
		rejected := func(beta float64) bool {
			s := 0
			for i := 0; i < n; i++ {
				for j := i + 1; j < n; j++ {
					ri, rj := y[i]-beta*x[i], y[j]-beta*x[j]
					if rj > ri {
						s++
					} else if rj < ri {
						s--
					}
				}
			}
			return float64(s-1) > crit
		}
		want := math.Inf(-1)
		if rejected(slopes[0] - 1) {
			for j := 0; j+1 < len(slopes); j++ {
				if !rejected((slopes[j] + slopes[j+1]) / 2) {
					want = slopes[j]
					break
				}
			}
		}
		if b.Lower != want {
			t.Fatalf("n=%d conf=%v: lower %v (rank %d), brute force %v", n, conf, b.Lower, b.Rank, want)
		}
		if b.Lower > b.Upper {
			t.Fatalf("lower %v above upper %v", b.Lower, b.Upper)
		}
	}
}

func TestSenBoundsTooFewPoints(t *testing.T) {
	b, err := SenBounds([]float64{0, 1, 2}, []float64{1, 2, 3}, 0.99)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(b.Lower, -1) || !math.IsInf(b.Upper, 1) {
		t.Errorf("3 points cannot bound a slope at 99%%, got %+v", b)
	}
}

func TestTrendBadInput(t *testing.T) {
	if _, err := TheilSen([]float64{1, 2}, []float64{1}); err == nil {
		t.Error("mismatched lengths: no error")
	}
	if _, err := TheilSen([]float64{1, 1}, []float64{1, 2}); err == nil {
		t.Error("all x equal: no error")
	}
	if _, err := TheilSen([]float64{1, 2}, []float64{1, math.NaN()}); err == nil {
		t.Error("NaN: no error")
	}
	if _, err := SenBounds([]float64{1, 2}, []float64{1, 2}, 1.2); err == nil {
		t.Error("confidence 1.2: no error")
	}
	if _, err := MannKendall([]float64{1}); err == nil {
		t.Error("one value: no error")
	}
	if _, err := MannKendall([]float64{1, math.Inf(1)}); err == nil {
		t.Error("Inf: no error")
	}
}

// kendallS is the statistic by its definition.
func kendallS(y []float64) int {
	s := 0
	for i := range y {
		for j := i + 1; j < len(y); j++ {
			if y[j] > y[i] {
				s++
			} else if y[j] < y[i] {
				s--
			}
		}
	}
	return s
}

// permutations calls f with every ordering of the indices 0…n−1 (Heap's algorithm).
func permutations(n int, f func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	c := make([]int, n)
	f(p)
	for i := 0; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				p[0], p[i] = p[i], p[0]
			} else {
				p[c[i]], p[i] = p[i], p[c[i]]
			}
			f(p)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}

// TestMannKendallExactByEnumeration compares the exact p-value and the
// tie-corrected variance with a brute-force enumeration of all n! orderings.
func TestMannKendallExactByEnumeration(t *testing.T) {
	for _, y := range [][]float64{
		{3, 1, 4, 1, 5, 9, 2, 6},    // one tie
		{2, 2, 2, 5, 5, 1, 7, 7},    // heavy ties
		{1, 2, 3, 4, 5, 6, 7, 8},    // perfect trend
		{8, 7, 6, 5, 4, 3, 2, 1},    // perfect downtrend
		{4, 4, 4, 4, 4, 4},          // all tied
		{0.3, 0.1, 0.2, 0.5, 0.4},   // no ties, n = 5
		{5, 3, 8, 8, 1, 9, 9, 9, 2}, // n = 9, ties
	} {
		r, err := MannKendall(y)
		if err != nil {
			t.Fatal(err)
		}
		n := len(y)
		var count, atLeast int
		var sum, sumSq float64
		buf := make([]float64, n)
		permutations(n, func(p []int) {
			for i, k := range p {
				buf[i] = y[k]
			}
			s := kendallS(buf)
			count++
			sum += float64(s)
			sumSq += float64(s) * float64(s)
			if s >= r.S {
				atLeast++
			}
		})
		if r.S != kendallS(y) {
			t.Errorf("%v: S = %d, want %d", y, r.S, kendallS(y))
		}
		if !r.Exact {
			t.Errorf("%v: n=%d should be exact", y, n)
		}
		near(t, "exact P", r.P, float64(atLeast)/float64(count), 1e-12)
		variance := sumSq/float64(count) - (sum/float64(count))*(sum/float64(count))
		near(t, "tie-corrected Var S", r.Var, variance, 1e-9)
	}
}

// mahonianByProduct is P(S ≥ s) for n distinct values, from the inversion-count
// generating function ∏_{j=1..n} (1 + q + … + q^{j−1}); S = N′ − 2·inversions.
func mahonianByProduct(n, s int) float64 {
	counts := []float64{1}
	for j := 1; j <= n; j++ {
		next := make([]float64, len(counts)+j-1)
		for i, c := range counts {
			for k := 0; k < j; k++ {
				next[i+k] += c
			}
		}
		counts = next
	}
	pairs := n * (n - 1) / 2
	var tail, all float64
	for inv, c := range counts {
		all += c
		if pairs-2*inv >= s {
			tail += c
		}
	}
	return tail / all
}

func TestMannKendallExactVsMahonian(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 50; trial++ {
		n := 3 + rng.IntN(10) // 3…12, all exact
		y := make([]float64, n)
		for i := range y {
			y[i] = float64(i)*0.2 + rng.NormFloat64()
		}
		r, _ := MannKendall(y)
		near(t, "exact P", r.P, mahonianByProduct(n, r.S), 1e-12)
	}
	// A near-monotone series of 10 (S = 39).
	y := []float64{1, 2, 3, 5, 4, 7, 6, 10, 8, 9}
	r, _ := MannKendall(y)
	if r.Var != 125 {
		t.Errorf("Var S = %v, want 125", r.Var)
	}
	near(t, "P(S≥S_obs)", r.P, mahonianByProduct(10, r.S), 1e-12)
}

// TestMannKendallNormalApproximation checks that beyond the exact range the
// continuity-corrected normal p is close to the exact one (n = 16, where
// the Mahonian numbers still give the exact answer independently).
func TestMannKendallNormalApproximation(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 30; trial++ {
		n := 16
		y := make([]float64, n)
		for i := range y {
			y[i] = float64(i)*0.1 + rng.NormFloat64()
		}
		r, _ := MannKendall(y)
		if r.Exact {
			t.Fatal("n=16 should use the normal approximation")
		}
		exact := mahonianByProduct(n, r.S)
		if math.Abs(r.P-exact) > 0.006 {
			t.Errorf("S=%d: normal P %v vs exact %v", r.S, r.P, exact)
		}
		near(t, "Z", r.Z, float64(r.S-sign(r.S))/math.Sqrt(r.Var), 1e-12)
	}
}

func sign(s int) int {
	switch {
	case s > 0:
		return 1
	case s < 0:
		return -1
	}
	return 0
}

func TestMannKendallDoesNotModifyInput(t *testing.T) {
	y := []float64{3, 1, 2}
	c := slices.Clone(y)
	MannKendall(y)
	SenBounds([]float64{0, 1, 2}, y, 0.9)
	if !slices.Equal(y, c) {
		t.Error("input modified")
	}
}

func TestKendallUpperMatchesMannKendall(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{3, 6, 10, 12, 20} {
		y := make([]float64, n)
		for i := range y {
			y[i] = float64(i) + 3*rng.NormFloat64()
		}
		r, _ := MannKendall(y)
		p, err := KendallUpper(n, r.S)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "KendallUpper", p, r.P, 1e-12)
	}
	if _, err := KendallUpper(1, 0); err == nil {
		t.Error("KendallUpper(1, 0): no error")
	}
}

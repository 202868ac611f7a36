package stats

import (
	"errors"
	"math"
	"testing"
)

func TestLeastSquares(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	y := []float64{1.0, 2.5, 2.0, 4.1, 3.9, 6.2, 5.8, 7.5, 9.1, 8.7}
	// Exact in rationals: slope 30.08/33, intercept 0.97818…, standard
	// error 0.072718 (t = 12.53 on 8 df), as scipy.stats.linregress says.
	f, err := LeastSquares(x, y)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "slope", f.Slope, 0.9115151515151515, 1e-12)
	near(t, "intercept", f.Intercept, 0.9781818181818182, 1e-12)
	near(t, "slope SE", f.SlopeSE, 0.0727184338063145, 1e-9)
	near(t, "p", f.P, StudentSurvival(12.534856759194945, 8), 1e-9)
	if f.P > 1e-5 {
		t.Errorf("p = %v for t = 12.5 on 8 df", f.P)
	}
	// Unlike Theil–Sen, one wild point moves it.
	y[4] = 1e6
	if f, _ := LeastSquares(x, y); math.Abs(f.Slope) < 1e3 {
		t.Errorf("slope %v: a wild point should move least squares", f.Slope)
	}
	for _, c := range [][2][]float64{{{1, 1, 1}, {1, 2, 3}}, {{1}, {1}}, {{1, 2}, {1}}, {{1, 2, math.NaN()}, {1, 2, 3}}} {
		if _, err := LeastSquares(c[0], c[1]); err == nil {
			t.Errorf("LeastSquares(%v, %v): no error", c[0], c[1])
		}
	}
	if f, _ := LeastSquares([]float64{0, 1, 2}, []float64{1, 3, 5}); f.P != 0 || f.Slope != 2 {
		t.Errorf("perfect rising fit: %+v", f)
	}
	if _, err := LeastSquares(nil, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("no points: %v", err)
	}
}

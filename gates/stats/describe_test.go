package stats

import (
	"errors"
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.17g, want %.17g (tol %g)", what, got, want, tol)
	}
}

func TestNormalCDF(t *testing.T) {
	// Reference values: scipy 1.10.1, scipy.stats.norm.cdf(z).
	for _, c := range []struct{ z, want float64 }{
		{-8, 6.22096057427174e-16},
		{-3, 0.0013498980316300933},
		{-1.5, 0.06680720126885807},
		{0, 0.5},
		{0.5, 0.6914624612740131},
		{1.959963984540054, 0.975},
		{6, 0.9999999990134123},
	} {
		if got := NormalCDF(c.z); math.Abs(got-c.want) > 1e-13*c.want {
			t.Errorf("NormalCDF(%v) = %.17g, want %.17g", c.z, got, c.want)
		}
	}
	near(t, "NormalSurvival(8)", NormalSurvival(8), 6.22096057427174e-16, 1e-13)
}

func TestNormalQuantile(t *testing.T) {
	// Reference values: scipy 1.10.1, scipy.stats.norm.ppf(p).
	for _, c := range []struct{ p, want float64 }{
		{1e-12, -7.034483825301131},
		{0.001, -3.090232306167813},
		{0.02, -2.053748910631823},
		{0.3, -0.5244005127080409},
		{0.5, 0},
		{0.9, 1.2815515655446004},
		{0.975, 1.959963984540054},
		{0.99, 2.3263478740408408},
		{0.999999, 4.753424308817087},
	} {
		got := NormalQuantile(c.p)
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("NormalQuantile(%v) = %.17g, want %.17g", c.p, got, c.want)
		}
	}
	if !math.IsInf(NormalQuantile(0), -1) || !math.IsInf(NormalQuantile(1), 1) {
		t.Error("NormalQuantile(0 or 1) should be ∓Inf")
	}
	for _, p := range []float64{-0.1, 1.1, math.NaN()} {
		if !math.IsNaN(NormalQuantile(p)) {
			t.Errorf("NormalQuantile(%v) should be NaN", p)
		}
	}
	// Round trip through the CDF over the whole range.
	for p := 0.0005; p < 1; p += 0.0137 {
		near(t, "Φ(Φ⁻¹(p))", NormalCDF(NormalQuantile(p)), p, 1e-14)
	}
}

func TestQuantileMedianMAD(t *testing.T) {
	x := []float64{3.1, 1.2, 7.7, 2.2, 9.0, 4.4, 4.4, 0.5}
	// numpy.quantile(x, q) (linear, type 7): 0.5, 0.99, 1.95, 3.75, 8.545, 9.0
	for _, c := range []struct{ q, want float64 }{
		{0, 0.5}, {0.1, 0.99}, {0.25, 1.95}, {0.5, 3.75}, {0.95, 8.545}, {1, 9.0},
	} {
		got, err := Quantile(x, c.q)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "Quantile", got, c.want, 1e-12)
	}
	m, _ := Median(x)
	near(t, "Median", m, 3.75, 0)
	odd, _ := Median([]float64{5, 1, 3})
	near(t, "Median odd", odd, 3, 0)
	// 1.4826*np.median(np.abs(x - np.median(x))) = 3.03933
	mad, _ := MAD(x)
	near(t, "MAD", mad, 3.0393299999999996, 1e-12)
	if x[0] != 3.1 || x[7] != 0.5 {
		t.Error("input was modified")
	}
}

func TestDescribeBadInput(t *testing.T) {
	for name, f := range map[string]func() error{
		"median empty":   func() error { _, err := Median(nil); return err },
		"quantile NaN":   func() error { _, err := Quantile([]float64{1, math.NaN()}, 0.5); return err },
		"quantile q>1":   func() error { _, err := Quantile([]float64{1}, 1.5); return err },
		"MAD Inf":        func() error { _, err := MAD([]float64{1, math.Inf(1)}); return err },
		"quantile q NaN": func() error { _, err := Quantile([]float64{1}, math.NaN()); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Median(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Median(nil) error %v is not ErrEmpty", err)
	}
	if _, err := Median([]float64{math.NaN()}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("Median(NaN) error %v is not ErrNonFinite", err)
	}
}

package stats

import (
	"fmt"
	"math"
)

// LeastSquaresFit is an ordinary least-squares line with the textbook test
// of its slope, which assumes independent, equally spread normal errors.
type LeastSquaresFit struct {
	Line
	// SlopeSE is the slope's standard error, √(SSE/(n−2) / Σ(x−x̄)²).
	SlopeSE float64
	// P is the one-sided p of a slope above 0: Student's t = slope/SlopeSE
	// on n−2 degrees of freedom (0 for a perfect rising fit, NaN with
	// fewer than 3 points).
	P float64
}

// LeastSquares fits y = Intercept + Slope·x by ordinary least squares.
// The leak hunter judges Theil–Sen, not this: it is shown beside it, and
// measured against it (docs/STATISTICS.md, "Leak hunter").
func LeastSquares(x, y []float64) (LeastSquaresFit, error) {
	if len(x) != len(y) {
		return LeastSquaresFit{}, fmt.Errorf("%w: %d x values but %d y values", ErrInvalid, len(x), len(y))
	}
	if err := checkFinite(x); err != nil {
		return LeastSquaresFit{}, err
	}
	if err := checkFinite(y); err != nil {
		return LeastSquaresFit{}, err
	}
	if len(x) < 2 {
		return LeastSquaresFit{}, fmt.Errorf("%w: need two points with different x", ErrEmpty)
	}
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	if sxx == 0 {
		return LeastSquaresFit{}, fmt.Errorf("%w: need two points with different x", ErrEmpty)
	}
	f := LeastSquaresFit{Line: Line{Slope: sxy / sxx}, SlopeSE: math.NaN(), P: math.NaN()}
	f.Intercept = my - f.Slope*mx
	if len(x) < 3 {
		return f, nil
	}
	var sse float64
	for i := range x {
		e := y[i] - f.Intercept - f.Slope*x[i]
		sse += e * e
	}
	f.SlopeSE = math.Sqrt(sse / (n - 2) / sxx)
	for _, v := range []float64{f.Slope, f.Intercept, f.SlopeSE} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return LeastSquaresFit{}, fmt.Errorf("%w: the sums of squares overflow", ErrNonFinite)
		}
	}
	switch {
	case f.SlopeSE > 0:
		f.P = StudentSurvival(f.Slope/f.SlopeSE, n-2)
	case f.Slope > 0:
		f.P = 0
	default:
		f.P = 1
	}
	return f, nil
}

package stats

import (
	"fmt"
	"math"
	"slices"
)

// MADScale turns a median absolute deviation into a consistent estimate of σ
// for normal data (1/Φ⁻¹(3/4) ≈ 1.4826, the robust σ of docs/STATISTICS.md).
const MADScale = 1.4826

// checkFinite reports the first NaN or ±Inf in x.
func checkFinite(x []float64) error {
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w (index %d: %v)", ErrNonFinite, i, v)
		}
	}
	return nil
}

// sortedCopy returns a sorted copy of x after checking it is non-empty and finite.
func sortedCopy(x []float64) ([]float64, error) {
	if len(x) == 0 {
		return nil, ErrEmpty
	}
	if err := checkFinite(x); err != nil {
		return nil, err
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s, nil
}

// Median returns the median of x (the mean of the two middle values when
// len(x) is even).
func Median(x []float64) (float64, error) {
	s, err := sortedCopy(x)
	if err != nil {
		return 0, err
	}
	return medianSorted(s), nil
}

func medianSorted(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}

// Quantile returns the q-quantile of x (0 ≤ q ≤ 1) with linear interpolation
// between order statistics: Hyndman & Fan type 7, the default of R and numpy.
func Quantile(x []float64, q float64) (float64, error) {
	if math.IsNaN(q) || q < 0 || q > 1 {
		return 0, fmt.Errorf("%w: quantile %v outside [0,1]", ErrInvalid, q)
	}
	s, err := sortedCopy(x)
	if err != nil {
		return 0, err
	}
	return quantileSorted(s, q), nil
}

func quantileSorted(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// MAD returns the median absolute deviation from the median, scaled by
// MADScale so that it estimates σ for normal data.
func MAD(x []float64) (float64, error) {
	m, err := Median(x)
	if err != nil {
		return 0, err
	}
	dev := make([]float64, len(x))
	for i, v := range x {
		dev[i] = math.Abs(v - m)
	}
	slices.Sort(dev)
	return MADScale * medianSorted(dev), nil
}

// NormalCDF returns Φ(z), the standard normal distribution function.
// It is accurate in both tails (computed from erfc, not 1−erf).
func NormalCDF(z float64) float64 {
	return 0.5 * math.Erfc(-z/math.Sqrt2)
}

// NormalSurvival returns 1 − Φ(z) without cancellation for large z.
func NormalSurvival(z float64) float64 {
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// NormalQuantile returns Φ⁻¹(p): −Inf at 0, +Inf at 1, NaN outside [0,1].
//
// Acklam's rational approximation (relative error 1.15e-9) refined by one
// Halley step on erfc, which brings it to full double precision.
func NormalQuantile(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	}
	const pLow = 0.02425
	var x float64
	switch {
	case p < pLow:
		q := math.Sqrt(-2 * math.Log(p))
		x = (((((acklamC[0]*q+acklamC[1])*q+acklamC[2])*q+acklamC[3])*q+acklamC[4])*q + acklamC[5]) /
			((((acklamD[0]*q+acklamD[1])*q+acklamD[2])*q+acklamD[3])*q + 1)
	case p <= 1-pLow:
		q := p - 0.5
		r := q * q
		x = (((((acklamA[0]*r+acklamA[1])*r+acklamA[2])*r+acklamA[3])*r+acklamA[4])*r + acklamA[5]) * q /
			(((((acklamB[0]*r+acklamB[1])*r+acklamB[2])*r+acklamB[3])*r+acklamB[4])*r + 1)
	default:
		q := math.Sqrt(-2 * math.Log1p(-p))
		x = -(((((acklamC[0]*q+acklamC[1])*q+acklamC[2])*q+acklamC[3])*q+acklamC[4])*q + acklamC[5]) /
			((((acklamD[0]*q+acklamD[1])*q+acklamD[2])*q+acklamD[3])*q + 1)
	}
	// Halley refinement. In the upper tail work with the survival function so
	// that 1−p keeps its precision.
	var e float64
	if p > 0.5 {
		e = (1 - p) - NormalSurvival(x) // = Φ(x) − p
	} else {
		e = NormalCDF(x) - p
	}
	u := e * math.Sqrt(2*math.Pi) * math.Exp(x*x/2)
	return x - u/(1+x*u/2)
}

var (
	acklamA = [6]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
		1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	acklamB = [5]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
		6.680131188771972e+01, -1.328068155288572e+01}
	acklamC = [6]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
		-2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	acklamD = [4]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
		3.754408661907416e+00}
)

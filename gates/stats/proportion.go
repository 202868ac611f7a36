package stats

import (
	"fmt"
	"math"
)

// Proportion is a count of events (errors) out of trials (requests).
type Proportion struct {
	Events, Trials int64
}

// Rate returns Events/Trials, or 0 when there are no trials.
func (p Proportion) Rate() float64 {
	if p.Trials == 0 {
		return 0
	}
	return float64(p.Events) / float64(p.Trials)
}

func (p Proportion) valid() error {
	if p.Events < 0 || p.Trials < 0 || p.Events > p.Trials {
		return fmt.Errorf("%w: %d events out of %d trials", ErrInvalid, p.Events, p.Trials)
	}
	return nil
}

func sumProportions(ws []Proportion) (Proportion, error) {
	var t Proportion
	for _, w := range ws {
		if err := w.valid(); err != nil {
			return Proportion{}, err
		}
		t.Events += w.Events
		t.Trials += w.Trials
	}
	return t, nil
}

// Dispersion returns the overdispersion factor φ = max(1, χ²/df) of
// per-window counts: each group (one run) is tested against its own pooled
// rate with Pearson's χ² = Σ (e_w − n_w·p̂)² / (n_w·p̂·(1−p̂)) on k−1 degrees
// of freedom, and the groups' χ² and df are added up. Errors come in bursts,
// so φ > 1 is the norm; it widens the variance of the two-proportion test.
// A group with no events (or only events) or fewer than two windows carries
// no information about dispersion and is skipped; with nothing left φ = 1.
// df is the pooled degrees of freedom behind φ.
func Dispersion(groups ...[]Proportion) (phi float64, df int, err error) {
	var chi2 float64
	for _, g := range groups {
		tot, err := sumProportions(g)
		if err != nil {
			return 0, 0, err
		}
		if tot.Events == 0 || tot.Events == tot.Trials {
			continue
		}
		p := tot.Rate()
		k := 0
		for _, w := range g {
			if w.Trials == 0 {
				continue
			}
			k++
			exp := float64(w.Trials) * p
			d := float64(w.Events) - exp
			chi2 += d * d / (exp * (1 - p))
		}
		if k >= 2 {
			df += k - 1
		}
	}
	if df == 0 {
		return 1, 0, nil
	}
	return math.Max(1, chi2/float64(df)), df, nil
}

// ZTest is the outcome of a one-sided normal test.
type ZTest struct {
	Z, P float64
}

// TwoProportionZ tests whether cur has a higher event rate than base with the
// pooled two-proportion z-test, its variance multiplied by phi (≥ 1, see
// Dispersion): z = (p₂ − p₁)/√(φ·p̄(1−p̄)(1/n₁ + 1/n₂)). When no or every
// trial is an event there is no evidence of a difference and P is 1.
func TwoProportionZ(base, cur Proportion, phi float64) (ZTest, error) {
	if err := base.valid(); err != nil {
		return ZTest{}, err
	}
	if err := cur.valid(); err != nil {
		return ZTest{}, err
	}
	if base.Trials == 0 || cur.Trials == 0 {
		return ZTest{}, fmt.Errorf("%w: both groups need trials (got %d and %d)", ErrEmpty, base.Trials, cur.Trials)
	}
	if math.IsNaN(phi) || math.IsInf(phi, 0) || phi < 1 {
		return ZTest{}, fmt.Errorf("%w: overdispersion %v must be ≥ 1", ErrInvalid, phi)
	}
	n1, n2 := float64(base.Trials), float64(cur.Trials)
	pool := float64(base.Events+cur.Events) / (n1 + n2)
	se := math.Sqrt(phi * pool * (1 - pool) * (1/n1 + 1/n2))
	if se == 0 {
		return ZTest{Z: 0, P: 1}, nil
	}
	z := (cur.Rate() - base.Rate()) / se
	return ZTest{Z: z, P: NormalSurvival(z)}, nil
}

// FisherExact returns the one-sided p-value of Fisher's exact test that cur
// has a higher event rate than base: P(X ≥ cur.Events) for X hypergeometric
// with the table's margins (scipy's fisher_exact(alternative="greater") on
// [[cur.Events, cur non-events], [base.Events, base non-events]]).
func FisherExact(base, cur Proportion) (float64, error) {
	if err := base.valid(); err != nil {
		return 0, err
	}
	if err := cur.valid(); err != nil {
		return 0, err
	}
	n := base.Trials + cur.Trials
	k := base.Events + cur.Events
	draws := cur.Trials
	lo := max(0, draws-(n-k))
	hi := min(k, draws)
	x := cur.Events
	if x <= lo {
		return 1, nil
	}
	logDen := logChoose(n, draws)
	pmf := func(i int64) float64 {
		return math.Exp(logChoose(k, i) + logChoose(n-k, draws-i) - logDen)
	}
	// Sum the shorter tail directly; the terms fall geometrically past the
	// mode, so stop once they no longer change the sum.
	mode := int64(math.Floor(float64(draws+1) * float64(k+1) / float64(n+2)))
	var p float64
	if x > mode {
		for i := x; i <= hi; i++ {
			t := pmf(i)
			p += t
			if t < p*1e-17 {
				break
			}
		}
		return math.Min(1, p), nil
	}
	for i := x - 1; i >= lo; i-- {
		t := pmf(i)
		p += t
		if i < mode && t < p*1e-17 {
			break
		}
	}
	return math.Max(0, math.Min(1, 1-p)), nil
}

func logChoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// ProportionTest is the outcome of CompareProportions.
type ProportionTest struct {
	Base, Cur Proportion // totals over the windows
	Phi       float64    // overdispersion factor used (≥ 1)
	DF        int        // degrees of freedom behind Phi
	// Method is "z" (two-proportion z-test, φ = 1 or φ given on no degrees
	// of freedom), "t" (the same statistic widened by an estimated φ > 1,
	// referred to Student's t on DF degrees of freedom) or "fisher".
	Method string
	Z      float64 // the test statistic; NaN for Fisher
	P      float64 // one-sided: cur rate higher than base rate
}

// FisherBelow is the smallest expected cell count (after deflating by φ)
// for which CompareProportions trusts the normal approximation.
const FisherBelow = 5

// CompareProportions tests whether the event rate of cur is higher than that
// of base, given per-window counts. It estimates φ with Dispersion, then uses
// the φ-widened two-proportion test, or — when an expected cell of the 2×2
// table is below FisherBelow — Fisher's exact test on counts divided by φ
// (the Rao–Scott design-effect correction: bursty events carry less
// information than their raw count, so they count as fewer independent
// trials). An estimated φ > 1 is itself uncertain, so its statistic is
// referred to Student's t on φ's degrees of freedom rather than the normal
// (the quasi-likelihood convention); the normal would understate p by about
// a third at the 0.3% level with 58 degrees of freedom.
func CompareProportions(base, cur []Proportion) (ProportionTest, error) {
	b, err := sumProportions(base)
	if err != nil {
		return ProportionTest{}, err
	}
	c, err := sumProportions(cur)
	if err != nil {
		return ProportionTest{}, err
	}
	if b.Trials == 0 || c.Trials == 0 {
		return ProportionTest{}, fmt.Errorf("%w: both groups need trials (got %d and %d)", ErrEmpty, b.Trials, c.Trials)
	}
	phi, df, err := Dispersion(base, cur)
	if err != nil {
		return ProportionTest{}, err
	}
	return CompareTotals(b, c, phi, df)
}

// CompareTotals is CompareProportions on totals, with the overdispersion
// φ ≥ 1 and its degrees of freedom given (measured elsewhere, or over
// other groupings of the same windows). df = 0 means φ was not estimated.
func CompareTotals(b, c Proportion, phi float64, df int) (ProportionTest, error) {
	if err := b.valid(); err != nil {
		return ProportionTest{}, err
	}
	if err := c.valid(); err != nil {
		return ProportionTest{}, err
	}
	if b.Trials == 0 || c.Trials == 0 {
		return ProportionTest{}, fmt.Errorf("%w: both groups need trials (got %d and %d)", ErrEmpty, b.Trials, c.Trials)
	}
	if math.IsNaN(phi) || math.IsInf(phi, 0) || phi < 1 || df < 0 {
		return ProportionTest{}, fmt.Errorf("%w: overdispersion %v on %d degrees of freedom", ErrInvalid, phi, df)
	}
	out := ProportionTest{Base: b, Cur: c, Phi: phi, DF: df}
	db, dc := deflate(b, phi), deflate(c, phi)
	pool := float64(db.Events+dc.Events) / float64(db.Trials+dc.Trials)
	minExpected := math.Min(float64(min(db.Trials, dc.Trials))*pool, float64(min(db.Trials, dc.Trials))*(1-pool))
	if minExpected < FisherBelow {
		p, err := FisherExact(db, dc)
		if err != nil {
			return ProportionTest{}, err
		}
		out.Method, out.Z, out.P = "fisher", math.NaN(), p
		return out, nil
	}
	zt, err := TwoProportionZ(b, c, phi)
	if err != nil {
		return ProportionTest{}, err
	}
	out.Method, out.Z, out.P = "z", zt.Z, zt.P
	if phi > 1 && df > 0 {
		out.Method, out.P = "t", StudentSurvival(zt.Z, float64(df))
	}
	return out, nil
}

// deflate divides counts by φ, keeping at least one trial and events ≤ trials.
func deflate(p Proportion, phi float64) Proportion {
	if phi == 1 {
		return p
	}
	t := max(1, int64(math.Round(float64(p.Trials)/phi)))
	e := min(t, int64(math.Round(float64(p.Events)/phi)))
	return Proportion{Events: e, Trials: t}
}

// MajorityAbove tests whether a proportion's rate exceeds one half: the
// one-sided Wald test z = (p̂ − ½)/√(φ·p̂(1−p̂)/n), its variance the observed
// one times the overdispersion phi (≥ 1, see Dispersion), read on
// Student's t with df degrees of freedom when φ was estimated (phi > 1,
// df > 0). With p̂ the share of requests slower than a threshold, it asks
// whether the median is above the threshold. Every trial an event is
// z = +Inf, p = 0; none, p = 1.
func MajorityAbove(p Proportion, phi float64, df int) (ZTest, error) {
	if err := p.valid(); err != nil {
		return ZTest{}, err
	}
	if p.Trials == 0 {
		return ZTest{}, fmt.Errorf("%w: no trials", ErrEmpty)
	}
	if math.IsNaN(phi) || math.IsInf(phi, 0) || phi < 1 || df < 0 {
		return ZTest{}, fmt.Errorf("%w: overdispersion %v on %d degrees of freedom", ErrInvalid, phi, df)
	}
	r := p.Rate()
	switch p.Events {
	case p.Trials:
		return ZTest{Z: math.Inf(1), P: 0}, nil
	case 0:
		return ZTest{Z: math.Inf(-1), P: 1}, nil
	}
	z := (r - 0.5) / math.Sqrt(phi*r*(1-r)/float64(p.Trials))
	if phi > 1 && df > 0 {
		return ZTest{Z: z, P: StudentSurvival(z, float64(df))}, nil
	}
	return ZTest{Z: z, P: NormalSurvival(z)}, nil
}

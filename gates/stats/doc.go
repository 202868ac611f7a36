// Package stats holds the small, dependency-free statistics that the gates
// rest on: robust summaries, trend tests (Theil–Sen, Sen bounds, least squares,
// Mann–Kendall), two-sample tests (Mann–Whitney, Hodges–Lehmann),
// Holm–Bonferroni, and tests on proportions (overdispersed two-proportion
// z-test, Fisher's exact test).
//
// Everything here is pure: float64 slices in, plain structs out, no I/O.
// Bad input (empty, too short, NaN or ±Inf) returns an error wrapping one of
// the sentinel errors below; nothing panics. Inputs are never modified.
package stats

import "errors"

var (
	// ErrEmpty is returned when a function gets fewer values than it needs.
	ErrEmpty = errors.New("stats: not enough data")
	// ErrNonFinite is returned when an input holds NaN or ±Inf.
	ErrNonFinite = errors.New("stats: NaN or infinite value in input")
	// ErrInvalid is returned for arguments out of their domain
	// (a quantile outside [0,1], mismatched lengths, negative counts, …).
	ErrInvalid = errors.New("stats: invalid argument")
)

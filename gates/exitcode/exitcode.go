// Package exitcode is the one table of lab's exit codes: every command
// exits with one of them, and the gates turn a run's verdicts into one
// (docs/DESIGN.md, "Exit codes").
package exitcode

const (
	// OK: every gate passed.
	OK = 0
	// Breach: a gate was breached, had no samples or was inconclusive, or
	// the run was interrupted (judged on what it had, never a pass).
	Breach = 1
	// BadInput: the plan, the command line or a file given to the command
	// (a run, a baseline, Locust's CSV) is invalid.
	BadInput = 2
	// CouldNotRun: the run could not be carried out (target unreachable at
	// start, a memory source that cannot be read, results that cannot be
	// written), or its figures cannot be trusted (a saturated generator).
	CouldNotRun = 3
)

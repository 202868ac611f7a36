//go:build !linux

package engine

import "time"

// waiter sleeps the open model's dispatcher until an arrival is due, on
// Go's timers (up to a millisecond late; wait_linux.go says why Linux uses
// a timerfd).
type waiter struct {
	timer *time.Timer
	stop  chan struct{}
}

func newWaiter(stop chan struct{}) *waiter { return &waiter{stop: stop} }

// wait sleeps for d; false when the run stopped meanwhile.
func (w *waiter) wait(d time.Duration) bool { return w.waitTimer(d) }

func (w *waiter) interrupt() {}
func (w *waiter) close()     {}

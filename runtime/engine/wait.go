package engine

import "time"

// waitTimer sleeps for d on a Go timer; false when the run stopped meanwhile.
func (w *waiter) waitTimer(d time.Duration) bool {
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-w.stop:
		w.timer.Stop()
		return false
	}
}

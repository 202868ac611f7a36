package engine

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// waiter sleeps the open model's dispatcher until an arrival is due.
//
// Subtleness ahead: Go's timers wake up to a millisecond late here — an
// idle process waits for its next timer in epoll_wait, whose timeout is in
// whole milliseconds (bench/timers measures it: 0.1 to 1 ms late) — and
// that lateness would be counted as latency the target never caused. The
// engine used to wake a millisecond early and spin, which cost half a core
// at 500 arrivals/s. A timerfd expires on the kernel's high-resolution
// clock instead (30–50 µs late, measured), and the runtime's poller wakes
// the dispatcher when it does, so nothing spins and no thread is held.
type waiter struct {
	fd     int
	f      *os.File
	buf    [8]byte
	timer  *time.Timer // when no timerfd could be made, or it failed
	broken bool
	stop   chan struct{}
}

func newWaiter(stop chan struct{}) *waiter {
	w := &waiter{stop: stop}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return w
	}
	w.fd, w.f = fd, os.NewFile(uintptr(fd), "timerfd")
	return w
}

// wait sleeps for d; false when the run stopped meanwhile.
func (w *waiter) wait(d time.Duration) bool {
	if w.f == nil || w.broken {
		return w.waitTimer(d)
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(w.fd, 0, &spec, nil); err != nil {
		return w.waitTimer(d)
	}
	if _, err := w.f.Read(w.buf[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false // interrupt set a deadline in the past: the run stopped
		}
		// Not expected; Go's timers still work, a millisecond coarser.
		w.broken = true
		return w.waitTimer(d)
	}
	return true
}

// interrupt ends a wait in progress, and every later one, at once.
func (w *waiter) interrupt() {
	if w.f != nil {
		w.f.SetReadDeadline(time.Unix(1, 0))
	}
}

func (w *waiter) close() {
	if w.f != nil {
		w.f.Close()
	}
}

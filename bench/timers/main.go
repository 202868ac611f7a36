// Command timers measures how late Go's timers, a timerfd and the kernel's
// nanosleep wake up on this machine, and what each wake-up costs in CPU:
// the figures behind the open model's wait for an arrival's due time
// (runtime/wait_linux.go). With -floor it measures the least CPU an
// open-model request can cost here: one goroutine on one connection, a
// request every 2 ms (500/s), waiting on a timerfd (or time.Sleep), no
// statistics. Not part of lab.
//
//	go run ./bench/timers                          # 2,000 waits per delay and method
//	go run ./bench/timers -floor 127.0.0.1:9099    # against bench/target
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	n := flag.Int("n", 2000, "waits per delay and method")
	floorAddr := flag.String("floor", "", "measure the least CPU per request against this HTTP server (host:port)")
	flag.Parse()
	if *floorAddr != "" {
		for _, m := range []string{"timerfd", "time.Sleep"} {
			fmt.Printf("%-10s %6.1f CPU-µs per request at 500/s (one connection, no statistics)\n", m, floor(*floorAddr, m, 5000))
		}
		return
	}
	// A listener initialises the network poller, as in lab: Go's idle
	// threads then wait for timers in epoll_wait, in whole milliseconds.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		panic(err)
	}
	tf := os.NewFile(uintptr(tfd), "timerfd")
	var buf [8]byte
	methods := []struct {
		name string
		wait func(time.Duration)
	}{
		{"time.Sleep", time.Sleep},
		{"time.Timer", func(d time.Duration) {
			t := time.NewTimer(d)
			<-t.C
		}},
		{"timerfd", func(d time.Duration) {
			spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
			if err := unix.TimerfdSettime(tfd, 0, &spec, nil); err != nil {
				panic(err)
			}
			if _, err := tf.Read(buf[:]); err != nil {
				panic(err)
			}
		}},
		{"nanosleep", func(d time.Duration) {
			ts := syscall.NsecToTimespec(int64(d))
			for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
			}
		}},
	}
	fmt.Printf("%-11s %8s %10s %10s %10s %10s %14s\n", "method", "delay", "late p50", "late p99", "late p999", "late max", "CPU-µs/wait")
	for _, d := range []time.Duration{100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 1500 * time.Microsecond, 2 * time.Millisecond, 10 * time.Millisecond} {
		for _, m := range methods {
			reps := *n
			if d >= 10*time.Millisecond {
				reps = *n / 5
			}
			late := make([]time.Duration, reps)
			c0 := cpu()
			for i := range late {
				t0 := time.Now()
				m.wait(d)
				late[i] = time.Since(t0) - d
			}
			c := cpu() - c0
			sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
			q := func(p float64) time.Duration { return late[min(len(late)-1, int(p*float64(len(late))))] }
			fmt.Printf("%-11s %8v %10v %10v %10v %10v %14.1f\n", m.name, d, q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond),
				q(0.999).Round(time.Microsecond), late[len(late)-1].Round(time.Microsecond), float64(c.Microseconds())/float64(reps))
		}
	}
}

// floor sends n requests at 500/s on one connection, each waiting for its
// due time by method, and returns the process's CPU-µs per request.
func floor(addr, method string, n int) float64 {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		panic(err)
	}
	tf := os.NewFile(uintptr(tfd), "timerfd")
	defer tf.Close()
	var buf [8]byte
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
	resp := make([]byte, 4096)
	start := time.Now()
	c0 := cpu()
	for i := 0; i < n; i++ {
		if d := time.Duration(i)*2*time.Millisecond - time.Since(start); d > 0 {
			if method == "timerfd" {
				spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
				unix.TimerfdSettime(tfd, 0, &spec, nil)
				tf.Read(buf[:])
			} else {
				time.Sleep(d)
			}
		}
		if _, err := c.Write(req); err != nil {
			panic(err)
		}
		if _, err := r.Read(resp); err != nil { // bench/target's answer comes in one read
			panic(err)
		}
	}
	return float64((cpu() - c0).Microseconds()) / float64(n)
}

package engine

import (
	"runtime"
	"testing"
)

// A cgroup's CPU quota reads as CPUs: 25000 µs of every 100000 is a
// quarter of one; no quota (v1's -1, v2's max) or a bad reading is none.
// CPUs never exceeds GOMAXPROCS.
func TestCPUQuota(t *testing.T) {
	for _, c := range []struct {
		quota, period string
		want          float64
	}{{"25000", "100000", 0.25}, {"150000", "100000", 1.5}, {"-1", "100000", 0}, {"max", "100000", 0}, {"x", "100000", 0}, {"1000", "0", 0}} {
		if got := ratio(c.quota, c.period); got != c.want {
			t.Errorf("%s/%s: %v, want %v", c.quota, c.period, got, c.want)
		}
	}
	if n := CPUs(); n <= 0 || n > float64(runtime.GOMAXPROCS(0)) {
		t.Errorf("CPUs %v, GOMAXPROCS %d", n, runtime.GOMAXPROCS(0))
	}
}

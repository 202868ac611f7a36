package engine

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// CPUs is how many CPUs this process may use: GOMAXPROCS, or a cgroup's
// CPU quota when that is lower (a container run with --cpus 0.5, a
// Kubernetes limit of 500m): Go rounds such a limit up to whole
// processors, at least two, so a quarter of a CPU would otherwise look
// like two whole ones and the generator never short of CPU.
func CPUs() float64 {
	n := float64(runtime.GOMAXPROCS(0))
	if q := cgroupCPUQuota(); q > 0 && q < n {
		return q
	}
	return n
}

// cgroupCPUQuota reads the CPU quota of this process's cgroup, in CPUs
// (cgroup v2's cpu.max, else v1's cfs quota and period); 0 when there is
// none or it cannot be read.
func cgroupCPUQuota() float64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/cpu.max"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 && f[0] != "max" {
			return ratio(f[0], f[1])
		}
		return 0
	}
	for _, dir := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"} {
		quota, err1 := os.ReadFile(dir + "/cpu.cfs_quota_us")
		period, err2 := os.ReadFile(dir + "/cpu.cfs_period_us")
		if err1 == nil && err2 == nil {
			return ratio(strings.TrimSpace(string(quota)), strings.TrimSpace(string(period)))
		}
	}
	return 0
}

// ratio is quota/period, 0 for no quota (-1, "max") or a bad reading.
func ratio(quota, period string) float64 {
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 || math.IsInf(q/p, 0) {
		return 0
	}
	return q / p
}

package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/stats"
	"lab/runtime/nginxtest"
	"lab/runtime/result"
)

// make soak-self: load on the lab itself, too long for make test.
var soakSelf = flag.Bool("soak-self", false, "run the load-on-lab tests (SOAK_FULL, default 10m; SOAK_STEADY, default 30m)")

func soakDuration(t *testing.T, env, def string) time.Duration {
	t.Helper()
	if !*soakSelf {
		t.Skipf("make soak-self runs it (%s=%s)", env, def)
	}
	s := os.Getenv(env)
	if s == "" {
		s = def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return d
}

// rssSample is lab's resident memory at a time into its run.
type rssSample struct {
	at  time.Duration
	rss float64 // bytes
}

// watchRSS reads pid's VmRSS every period until stop is closed.
func watchRSS(pid int, period time.Duration, stop <-chan struct{}) func() []rssSample {
	var mu sync.Mutex
	var out []rssSample
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(period)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
					kb, _ := strconv.ParseFloat(f[1], 64)
					mu.Lock()
					out = append(out, rssSample{time.Since(start), kb * 1024})
					mu.Unlock()
				}
			}
		}
	}()
	return func() []rssSample {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// selfRun runs lab apply against nginx with args, watching its memory, and
// checks that no sample is lost: the totals of result.json (which Load
// checks against its windows and seconds) equal the lines nginx logged.
func selfRun(t *testing.T, period time.Duration, args ...string) (*result.Run, []rssSample) {
	t.Helper()
	host, stopNginx := nginxtest.StartTerse(t)
	results := t.TempDir()
	cmd := exec.Command(clitest.Binary(t), append([]string{"apply", "--quiet", "--metrics", "off", "--results", results, "-var", "host=" + host}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	samples := watchRSS(cmd.Process.Pid, period, stop)
	err := cmd.Wait()
	close(stop)
	if code := clitest.ExitCode(err); code != 0 {
		t.Fatalf("lab apply: exit %d\n%s", code, out.String())
	}
	dirs, _ := filepath.Glob(filepath.Join(results, "*", "latest"))
	if len(dirs) != 1 {
		t.Fatalf("runs %v", dirs)
	}
	run, err := result.Load(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, q := range run.Requests {
		total += q.Count
	}
	logged := int64(bytes.Count(stopNginx(), []byte("\n")))
	if total != logged || total == 0 {
		t.Errorf("result.json counts %d requests, nginx logged %d", total, logged)
	}
	return run, samples()
}

// growth fits lab's memory after warmup with Theil–Sen: bytes per minute.
func growth(t *testing.T, s []rssSample, warmup time.Duration) (perMin, first, peak float64) {
	t.Helper()
	var x, y []float64
	for _, p := range s {
		peak = max(peak, p.rss)
		if p.at < warmup {
			continue
		}
		if first == 0 {
			first = p.rss
		}
		x = append(x, p.at.Minutes())
		y = append(y, p.rss)
	}
	line, err := stats.TheilSen(x, y)
	if err != nil {
		t.Fatalf("%d memory samples after %v: %v", len(x), warmup, err)
	}
	return line.Slope, first, peak
}

// TestSelfLoadFullSpeed: SOAK_FULL (10 minutes) of 64 users sending back to
// back to nginx, as fast as lab goes: the run loses no sample (its totals,
// its windows and nginx's access log agree), and lab's memory after the
// first minute does not grow with the requests sent.
func TestSelfLoadFullSpeed(t *testing.T) {
	d := soakDuration(t, "SOAK_FULL", "10m")
	run, s := selfRun(t, 5*time.Second, "bench/plans/closed.hcl", "-var", "users=64", "-var", "duration="+d.String())
	var total int64
	for _, q := range run.Requests {
		total += q.Count
	}
	perMin, first, peak := growth(t, s, time.Minute)
	grew := perMin * (d - time.Minute).Minutes()
	t.Logf("full speed %v: %d requests (%.0f/s); lab's RSS %.1f MB after 1 min, peak %.1f MB, trend %+.2f MB/min (%+.1f bytes per 1000 requests)",
		d, total, float64(total)/d.Seconds(), first/1e6, peak/1e6, perMin/1e6, grew/float64(total)*1000)
	if grew > 32e6 {
		t.Errorf("lab's memory grew %.1f MB over the run after its first minute: it keeps something per request", grew/1e6)
	}
}

// TestSelfSoakProjection: SOAK_STEADY (30 minutes) at a steady 2000
// arrivals/s: lab's memory trend after a 5-minute warm-up, projected over
// 24 hours, stays under 500 MB (the per-second series and 10-second windows
// a run keeps grow with its length, slowly).
func TestSelfSoakProjection(t *testing.T) {
	d := soakDuration(t, "SOAK_STEADY", "30m")
	_, s := selfRun(t, 10*time.Second, "bench/plans/open.hcl", "-var", "rate=2000/s", "-var", "duration="+d.String())
	warmup := min(5*time.Minute, d/3)
	perMin, first, peak := growth(t, s, warmup)
	day := perMin * 24 * 60
	t.Logf("steady %v at 2000/s: lab's RSS %.1f MB after %v, peak %.1f MB, trend %+.3f MB/min: %+.0f MB projected over 24 h",
		d, first/1e6, warmup, peak/1e6, perMin/1e6, day/1e6)
	if day > 500e6 {
		t.Errorf("lab's memory would grow %.0f MB in 24 hours (limit 500 MB)", day/1e6)
	}
}

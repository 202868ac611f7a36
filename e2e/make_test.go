package e2e

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lab/cli/clitest"
	"lab/runtime/needs"
)

// makeTarget runs `make TARGET` here with the variables, its run written
// under results; it returns make's exit code and output.
func makeTarget(t *testing.T, results string, env []string, target string, vars ...string) (int, string) {
	t.Helper()
	needs.Tool(t, "make", "apt-get install make")
	cmd := exec.Command("make", append([]string{"--no-print-directory", target}, vars...)...)
	cmd.Env = append(os.Environ(), env...)
	// Its own binary: other tests build bin/lab while this one runs it.
	cmd.Env = append(cmd.Env, "LAB_FLAGS=--results "+results+" --metrics off --quiet", "BIN="+filepath.Join(results, "lab"))
	out, err := cmd.CombinedOutput()
	return clitest.ExitCode(err), string(out)
}

// make spike DURATION=60s runs the shipped spike at a tenth of its length:
// stats_history.csv shows 20 users, the spike to 200 from 20 s (2 of 6
// minutes) to 30 s, and 20 again after it. The seconds checked leave the
// ramps (50 users/s, 3.6 s) and a second of slack: the history's seconds
// are the wall clock's, the run's start is not.
func TestMakeSpikeScaled(t *testing.T) {
	if testing.Short() {
		t.Skip("a 60 s run")
	}
	t.Parallel()
	results := t.TempDir()
	code, out := makeTarget(t, results, []string{"LAB_VAR_host=http://" + clitest.FreePort(t)}, "spike", "DURATION=60s")
	if code != 0 {
		t.Fatalf("make spike DURATION=60s: exit %d\n%s", code, out)
	}
	f, err := os.Open(filepath.Join(results, "spike", "latest", "stats_history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 55 {
		t.Fatalf("stats_history.csv: %d rows, %v", len(rows), err)
	}
	t0, _ := strconv.ParseInt(rows[1][0], 10, 64)
	users := map[int64]int{} // second of the run → users
	for _, r := range rows[1:] {
		ts, _ := strconv.ParseInt(r[0], 10, 64)
		n, _ := strconv.Atoi(r[1])
		users[ts-t0] = n
	}
	for _, c := range []struct {
		from, to int64
		want     int
	}{{5, 18, 20}, {25, 28, 200}, {37, 58, 20}} {
		seen := 0
		for s := c.from; s <= c.to; s++ {
			n, ok := users[s]
			if !ok {
				continue
			}
			seen++
			if n != c.want {
				t.Errorf("second %d: %d users, want %d (stats_history.csv)", s, n, c.want)
			}
		}
		if want := int(c.to-c.from) + 1; seen < want-1 {
			t.Errorf("seconds %d–%d: %d rows in stats_history.csv, want %d", c.from, c.to, seen, want)
		}
	}
	if !strings.Contains(out, "spike") {
		t.Errorf("make spike printed no verdicts:\n%s", out)
	}
}

package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"lab/cli/clitest"
	"lab/runtime/needs"
	"lab/sut"
)

// A light workload: a few users with a pause, so runs side by side
// leave the machine's cores to the terminals being watched.
const pausedRoute = `
user "u" {
  wait = constant("100ms")
  task "home" {
    get = "/"
  }
}
`

// progressRow finds the progress line of a 6 or 10 s run ("3s/6s") on a
// screen.
var progressRow = regexp.MustCompile(`(\d+)s/(?:6|10)s`)

// TestProgressInATerminal runs lab apply in a real pseudo-terminal (a tmux
// pane) at 80 and 120 columns and reads the screen as the user sees it:
// one progress line, redrawn in place, never wrapped, showing more at 120
// columns than at 80; and with two worker processes, one killed mid-run,
// the master's "lost" message on a row of its own above the progress line.
func TestProgressInATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs lab for 6 to 10 s in three terminals")
	}
	tmux := needs.Tool(t, "tmux", "Debian package tmux")
	bin := clitest.Binary(t)
	host := clitest.Shop(t, func(*sut.Knobs) {})
	cases := []struct {
		name string
		cols int
		body string
	}{
		{"80", 80, clitest.ClosedShape("6s", 5)},
		{"120", 120, clitest.ClosedShape("6s", 5)},
		{"120-lost-worker", 120, clitest.ClosedShape("10s", 4) + "topology {\n  workers = 2\n  on_worker_loss = \"continue\"\n}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			pane := applyInPane(t, tmux, bin, host, c.cols, c.body)
			first := pane.waitFor(t, func(s []string) bool { return elapsedOn(s) >= 2 })
			if strings.Contains(c.name, "lost") {
				killWorker(t, first)
				pane.waitFor(t, func(s []string) bool { return strings.Contains(strings.Join(s, "\n"), "lost:") })
			}
			second := pane.waitFor(t, func(s []string) bool { return elapsedOn(s) >= elapsedOn(first)+2 })
			last := pane.waitFor(t, func(s []string) bool { return strings.Contains(strings.Join(s, "\n"), "lab exited") })
			for i, screen := range [][]string{first, second, last} {
				line := oneProgressLine(t, screen, c.cols)
				checkFitted(t, line, c.cols)
				if i == 2 && !strings.Contains(strings.Join(screen, "\n"), "lab exited 0") {
					t.Errorf("lab failed:\n%s", strings.Join(screen, "\n"))
				}
			}
			if elapsedOn(first) == elapsedOn(second) {
				t.Errorf("the line was not redrawn:\n%s\n---\n%s", strings.Join(first, "\n"), strings.Join(second, "\n"))
			}
		})
	}
}

// A window narrowed mid-run: the next lines fit the new width (it is read
// at every tick). The row the terminal rewrapped is left as it is.
func TestProgressFollowsAResize(t *testing.T) {
	if testing.Short() {
		t.Skip("runs lab for 6 s in a terminal")
	}
	tmux := needs.Tool(t, "tmux", "Debian package tmux")
	bin := clitest.Binary(t)
	host := clitest.Shop(t, func(*sut.Knobs) {})
	pane := applyInPane(t, tmux, bin, host, 120, clitest.ClosedShape("6s", 5))
	wide := pane.waitFor(t, func(s []string) bool { return elapsedOn(s) >= 2 })
	if out, err := pane.run("resize-window", "-x", "60"); err != nil {
		t.Fatalf("tmux resize-window: %v: %s", err, out)
	}
	narrow := pane.waitFor(t, func(s []string) bool { return elapsedOn(s) >= elapsedOn(wide)+2 })
	before, after := lastProgressRow(wide), lastProgressRow(narrow)
	if !strings.Contains(before, "p50") || strings.Contains(after, "p50") || utf8.RuneCountInString(after) > 59 {
		t.Errorf("at 120 columns %q, narrowed to 60 %q", before, after)
	}
}

// applyInPane runs lab apply on a plan against host in a new tmux pane
// cols wide; the pane stays open when lab is done.
func applyInPane(t *testing.T, tmux, bin, host string, cols int, body string) pane {
	t.Helper()
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "p.hcl", pausedRoute, host, body)
	// CI would make lab print plain lines: the terminal is what is tested.
	cmd := fmt.Sprintf("env -u CI '%s' apply '%s' --results '%s'; echo lab exited $?; sleep 600",
		bin, plan, filepath.Join(dir, "results"))
	return startPane(t, tmux, filepath.Join(dir, "tmux.sock"), cols, cmd)
}

func lastProgressRow(screen []string) string {
	last := ""
	for _, row := range screen {
		if progressRow.MatchString(row) {
			last = row
		}
	}
	return last
}

// killWorker kills the second of the worker processes the screen names.
func killWorker(t *testing.T, screen []string) {
	t.Helper()
	m := regexp.MustCompile(`started 2 workers here \(pids (\d+) (\d+)\)`).FindStringSubmatch(strings.Join(screen, "\n"))
	if m == nil {
		t.Fatalf("no worker pids on the screen:\n%s", strings.Join(screen, "\n"))
	}
	pid, _ := strconv.Atoi(m[2])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// oneProgressLine requires exactly one row of the screen to hold progress
// (a wrapped line redrawn with \r leaves a stack of them) and returns it.
func oneProgressLine(t *testing.T, screen []string, cols int) string {
	t.Helper()
	var rows []string
	for _, row := range screen {
		if progressRow.MatchString(row) || strings.ContainsAny(row, "█░") {
			rows = append(rows, row)
		}
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows of progress at %d columns, want 1:\n%s", len(rows), cols, strings.Join(screen, "\n"))
	}
	return rows[0]
}

// checkFitted: the line (wrapped rows joined) fits in the width and uses
// it: at 80 columns the totals and p50 are dropped, at 120 p50 stays.
func checkFitted(t *testing.T, line string, cols int) {
	t.Helper()
	n := utf8.RuneCountInString(line)
	if n >= cols || n < cols*3/4 && cols == 80 {
		t.Errorf("a progress line of %d cells at %d columns: %q", n, cols, line)
	}
	for _, want := range []string{"req/s", "p95", "fail/s"} {
		if !strings.Contains(line, want) {
			t.Errorf("%d columns: no %q in %q", cols, want, line)
		}
	}
	if has := strings.Contains(line, "p50"); has != (cols >= 120) {
		t.Errorf("%d columns: p50 shown %v: %q", cols, has, line)
	}
	if cols == 80 && strings.Contains(line, "requests,") {
		t.Errorf("80 columns keep the totals: %q", line)
	}
}

// elapsedOn reads the seconds elapsed from the screen's last progress row.
func elapsedOn(screen []string) int {
	n := -1
	for _, row := range screen {
		if m := progressRow.FindStringSubmatch(row); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
	}
	return n
}

// pane is a tmux pane running one command on its own tmux server.
type pane struct{ tmux, sock string }

func startPane(t *testing.T, tmux, sock string, cols int, cmd string) pane {
	t.Helper()
	p := pane{tmux, sock}
	if out, err := p.run("new-session", "-d", "-x", strconv.Itoa(cols), "-y", "30", cmd); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { p.run("kill-server") })
	if out, _ := p.run("display-message", "-p", "#{window_width}"); strings.TrimSpace(out) != strconv.Itoa(cols) {
		t.Fatalf("the pane is %q columns wide, want %d", out, cols)
	}
	return p
}

func (p pane) run(args ...string) (string, error) {
	out, err := exec.Command(p.tmux, append([]string{"-S", p.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

// waitFor returns the screen, wrapped rows joined (-J), once done holds
// for it; it fails after 60 s.
func (p pane) waitFor(t *testing.T, done func([]string) bool) []string {
	t.Helper()
	var screen []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := p.run("capture-pane", "-p", "-J")
		if err != nil {
			t.Fatalf("tmux capture-pane: %v: %s", err, out)
		}
		screen = strings.Split(strings.TrimRight(out, "\n"), "\n")
		for i := range screen {
			screen[i] = strings.TrimRight(screen[i], " ")
		}
		if done(screen) {
			return screen
		}
	}
	t.Fatalf("timed out; the screen:\n%s", strings.Join(screen, "\n"))
	return nil
}

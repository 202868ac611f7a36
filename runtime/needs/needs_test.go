package needs

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A missing tool skips the test outside CI and fails it in CI. The verdicts
// are read from a child `go test` process, since a test cannot watch
// itself skip or fail.
func TestMissingToolSkipsOrFails(t *testing.T) {
	if os.Getenv("NEEDS_CHILD") == "1" {
		Tool(t, "no-such-tool-for-lab-tests", "nowhere")
		t.Fatal("Tool returned for a missing program")
		return
	}
	for _, c := range []struct {
		ci   string
		want string
	}{
		{"", "--- SKIP"},
		{"false", "--- SKIP"},
		{"true", "--- FAIL"},
		{"1", "--- FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestMissingToolSkipsOrFails$", "-test.v")
		cmd.Env = append(os.Environ(), "NEEDS_CHILD=1", "CI="+c.ci)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "no-such-tool-for-lab-tests is not installed (nowhere)") {
			t.Errorf("CI=%q: want %s with the reason, got:\n%s", c.ci, c.want, out)
		}
	}
}

// A tool that is there is found, on PATH or in /usr/sbin.
func TestToolFound(t *testing.T) {
	if p := Tool(t, "go", "the Go toolchain"); p == "" {
		t.Fatal("go not found")
	}
}

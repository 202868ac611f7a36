// Package needs lets a test require a real tool it drives (nginx, Locust,
// Docker, Prometheus, Chromium): without it the test skips on a
// developer's machine, and fails when the environment variable CI is set,
// so that a CI run never goes green by skipping the only independent check.
// .ci/run installs the tools and sets CI.
package needs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI tells whether the tests run in CI (the variable CI is set and not
// "false" or "0").
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Tool returns the path of the program name, found on PATH or in the
// system folders Debian installs servers to (/usr/sbin). Without it the
// test skips, or fails in CI; install says how to get it ("Debian package
// nginx-light").
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, "%s is not installed (%s)", name, install)
	return ""
}

// Missing ends a test that lacks something real it drives: it skips, or
// fails in CI, saying what is missing.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s; CI is set, so this test fails instead of skipping (.ci/run installs what the tests need)", msg)
	}
	t.Skip(msg)
}

// NoRace skips a test under the race detector, saying why: a simulation
// that runs one goroutine has nothing to show it but takes ten times as
// long, and a timing measurement is off by the detector's own overhead.
func NoRace(t testing.TB, why string) {
	t.Helper()
	if Race {
		t.Skip("not under the race detector: " + why)
	}
}

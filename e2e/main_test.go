// Package e2e holds lab's end-to-end tests: they build bin/lab, drive it
// and the real tools users have beside it (nginx, Locust, Docker, Chromium,
// Prometheus, tmux, network namespaces), and judge from the other side
// (access logs, the shop's counters). Each test that needs a tool skips
// without it on a laptop and fails under CI (runtime/needs).
package e2e

import (
	"os"
	"testing"

	"lab/cli"
	"lab/cli/clitest"
	"lab/runtime/memory/hogtest"
)

func TestMain(m *testing.M) {
	clitest.ToRoot()
	code := m.Run()
	hogtest.Cleanup()
	os.Exit(code)
}

// lab runs a lab command line in-process, with thread-safe captured
// streams and the given environment variables; it returns the exit code,
// stdout and stderr.
func lab(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	out, errs := &clitest.SyncBuffer{}, &clitest.SyncBuffer{}
	code := cli.Run(out, errs, func(k string) string { return vars[k] }, args)
	return code, out.String(), errs.String()
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lab/gates/exitcode"
)

// TestHuntRefusesWhatItCannotDo: a plan with no leak block names no memory
// to read, and too few rounds give no spread to make an interval of: both
// exit 2 before anything is sent, saying why.
func TestHuntRefusesWhatItCannotDo(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.hcl")
	os.WriteFile(plan, []byte(`
workload "w" {
  host = "http://127.0.0.1:1"
  user "u" {
    task "t" {
      get = "/"
    }
  }
}
shape "s" {
  stage {
    until = "10s"
    users = 1
  }
}
`), 0o644)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"hunt", plan}, "has no leak block"},
		{[]string{"hunt", "../plans/leak-test.hcl", "--rounds", "2"}, "--rounds 2: want 3 to 100"},
		{[]string{"hunt", "../plans/leak-test.hcl", "--rate", "fast"}, `--rate "fast"`},
		{[]string{"hunt", "../plans/leak-test.hcl", "--pulse", "10ms"}, "--pulse 10ms"},
		{[]string{"hunt"}, "one plan file"},
	} {
		code, _, errs := lab(t, nil, c.args...)
		if code != exitcode.BadInput || !strings.Contains(errs, c.says) {
			t.Errorf("lab %s: exit %d, %q; want 2 saying %q", strings.Join(c.args, " "), code, errs, c.says)
		}
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/gates/exitcode"
	"lab/gates/synth"
	"lab/runtime/result"
)

// A stored run whose totals do not add up (here a window lost 50 requests)
// is refused by lab gate and lab compare with exit 2, saying which total.
func TestRunWhoseTotalsDoNotAddUpIsRefused(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	run := synth.Run(synth.Spec{Plan: "smoke", Duration: time.Minute, Seed: 1, Requests: []synth.Request{
		{Name: "GET /", Rate: 20, MedianUS: 3000, Sigma: 0.3},
	}})
	if err := result.Write(good, run); err != nil {
		t.Fatal(err)
	}
	run.Requests[0].Windows[2].Count -= 50
	data, _ := json.Marshal(run)
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "result.json"), data, 0o644)
	for _, args := range [][]string{
		{"gate", bad, "--plan", "plans/smoke.hcl"},
		{"compare", good, bad},
		{"compare", bad, good},
	} {
		code, _, stderr := lab(t, nil, args...)
		if code != exitcode.BadInput || !strings.Contains(stderr, "do not add up") || !strings.Contains(stderr, "windows count") {
			t.Errorf("lab %s: exit %d, stderr %q; want 2, saying the totals do not add up", strings.Join(args, " "), code, stderr)
		}
	}
	if code, _, stderr := lab(t, nil, "compare", good, good); code == exitcode.BadInput {
		t.Errorf("a run that adds up is refused: %s", stderr)
	}
}

// A result.json cut short, or not JSON at all, given to lab gate, lab
// compare or lab report is exit 2 with a message that says so, never a
// pass.
func TestMalformedResultIsRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	run := synth.Run(synth.Spec{Plan: "smoke", Duration: time.Minute, Seed: 2, Requests: []synth.Request{
		{Name: "GET /", Rate: 20, MedianUS: 3000, Sigma: 0.3},
	}})
	if err := result.Write(good, run); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(good, "result.json"))
	for name, text := range map[string][]byte{"cut": data[:len(data)*2/3], "garbage": []byte("<html>not a run</html>"), "empty": nil} {
		bad := filepath.Join(dir, name)
		os.MkdirAll(bad, 0o755)
		os.WriteFile(filepath.Join(bad, "result.json"), text, 0o644)
		for _, args := range [][]string{{"gate", bad, "--plan", "plans/smoke.hcl"}, {"compare", good, bad}, {"compare", bad, good}, {"report", bad}} {
			code, stdout, stderr := lab(t, nil, args...)
			if code != exitcode.BadInput || !strings.Contains(stderr, "not a whole lab run") || strings.Contains(stdout, "pass") {
				t.Errorf("lab %s (%s): exit %d, stderr %q; want 2, saying it is not a whole run", strings.Join(args, " "), name, code, stderr)
			}
		}
	}
}

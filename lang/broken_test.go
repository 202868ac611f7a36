package lang

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite golden files")

// markedLines returns the lines of src that carry "# ERROR": where the one
// mistake of a broken plan is.
func markedLines(t *testing.T, path string) map[int]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[int]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), "# ERROR") {
			lines[n] = true
		}
	}
	return lines
}

// TestBrokenPlans loads plans that each hold one mistake. Each must fail
// with diagnostics on the marked line only (no cascade of follow-on errors),
// and the rendered diagnostics must match the golden file.
func TestBrokenPlans(t *testing.T) {
	files, _ := filepath.Glob("testdata/broken/*.hcl")
	if len(files) < 30 {
		t.Fatalf("only %d broken plans in testdata/broken; want at least 30", len(files))
	}
	for _, path := range files {
		if !IsPlanFile(path) {
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			// The mistake may sit in a file the plan reads (a shapes file):
			// its marked lines count too.
			marked := map[string]map[int]bool{}
			wantIn := func(file string) map[int]bool {
				if _, ok := marked[file]; !ok {
					marked[file] = markedLines(t, file)
				}
				return marked[file]
			}
			want := wantIn(path)
			l := NewLoader(Options{})
			plan, diags := l.Load(path)
			if plan != nil || !diags.HasErrors() {
				t.Fatalf("loaded without error; want an error on line(s) %v", want)
			}
			for _, hd := range diags {
				if hd.Severity != hcl.DiagError {
					continue
				}
				d := hd
				if hd.Subject == nil {
					t.Errorf("error without a source range: %s", d)
					continue
				}
				if !strings.HasPrefix(hd.Subject.Filename, "testdata/broken/") || !wantIn(hd.Subject.Filename)[hd.Subject.Start.Line] {
					t.Errorf("error at %s, want a line marked # ERROR in %s or a file it reads: %s", hd.Subject, path, d)
				}
			}
			var out bytes.Buffer
			if err := l.WriteDiagnostics(&out, diags, false); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./lang -update)", err)
			}
			if !bytes.Equal(exp, out.Bytes()) {
				t.Errorf("diagnostics differ from %s (run go test ./lang -update to accept):\n--- got\n%s--- want\n%s", golden, out.Bytes(), exp)
			}
		})
	}
}

package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lab/gates/exitcode"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// lab fmt on deliberately messy plans (testdata/fmt: wrong indentation,
// misaligned equals signs, blank lines, comments) writes the golden file
// beside each, byte for byte; -check flags each before and passes after.
// After a change on purpose, go test -run TestFmtGolden ./cli -update rewrites
// the golden files.
func TestFmtGolden(t *testing.T) {
	files, _ := filepath.Glob("cli/testdata/fmt/*.hcl")
	if len(files) < 5 {
		t.Fatalf("%d messy plans in testdata/fmt", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".hcl")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			messy := filepath.Join(t.TempDir(), name+".hcl")
			os.WriteFile(messy, src, 0o644)
			if code, _, _ := lab(t, nil, "fmt", "-check", messy); code != exitcode.Breach {
				t.Errorf("fmt -check on the messy plan: exit %d, want 1", code)
			}
			if code, _, stderr := lab(t, nil, "fmt", messy); code != exitcode.OK {
				t.Fatalf("fmt: exit %d\n%s", code, stderr)
			}
			got, _ := os.ReadFile(messy)
			golden := strings.TrimSuffix(f, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestFmtGolden ./cli -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("lab fmt %s differs from %s (if the change is meant, run go test -run TestFmtGolden ./cli -update):\n--- got\n%s--- want\n%s", f, golden, got, want)
			}
			if code, stdout, _ := lab(t, nil, "fmt", "-check", messy); code != exitcode.OK {
				t.Errorf("fmt -check after fmt: exit %d, %s", code, stdout)
			}
		})
	}
}

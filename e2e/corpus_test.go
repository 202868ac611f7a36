package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The corpus of real Locust and k6 scripts (docs/WORKLOADS.md): every
// plan written from one loads with lab plan, every script's folder says
// where it came from and under which license, and the document's table
// lists every folder. No target is needed and no request is sent.
func TestCorpusPlansLoad(t *testing.T) {
	dirs, err := filepath.Glob("e2e/testdata/corpus/*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		info, err := os.Stat(d)
		return err != nil || !info.IsDir() || strings.HasPrefix(filepath.Base(d), ".") || filepath.Base(d) == "LICENSES"

	})
	if len(dirs) < 12 {
		t.Fatalf("%d corpus folders found, want at least 12: run from the repository's root", len(dirs))
	}
	doc, err := os.ReadFile("docs/WORKLOADS.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| ") {
			rows = append(rows, line)
		}
	}
	out := t.TempDir() // lab plan's generated files, kept out of generated/
	plans := 0
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			source, err := os.ReadFile(filepath.Join(dir, sourceFile))
			if err != nil {
				t.Fatalf("no %s: %v", sourceFile, err)
			}
			m := licenseRow.FindSubmatch(source)
			if m == nil || !permissive[string(m[1])] {
				t.Errorf("%s names no license lab may redistribute (a row | license | SPDX-ID |, one of %v)", sourceFile, slices.Sorted(maps.Keys(permissive)))
			} else if _, err := os.Stat(filepath.Join("e2e/testdata/corpus/LICENSES", string(m[1])+".txt")); err != nil {
				t.Errorf("the license %s has no text in e2e/testdata/corpus/LICENSES: the script must go with it", m[1])
			}
			if !strings.Contains(string(source), "https://github.com/") {
				t.Errorf("%s names no repository", sourceFile)
			}
			_, errPy := os.Stat(filepath.Join(dir, "locustfile.py"))
			_, errJS := os.Stat(filepath.Join(dir, "script.js"))
			if errPy != nil && errJS != nil {
				t.Errorf("no locustfile.py or script.js")
			}
			row := slices.IndexFunc(rows, func(r string) bool { return strings.Contains(r, "corpus/"+name+"/") })
			if row < 0 {
				t.Errorf("docs/WORKLOADS.md's table has no row for corpus/%s/", name)
			}
			plan := filepath.Join(dir, "plan.hcl")
			if _, err := os.Stat(plan); err != nil {
				if row >= 0 && !strings.Contains(rows[row], "not expressible") {
					t.Errorf("no plan.hcl, but docs/WORKLOADS.md does not call the script not expressible")
				}
				return
			}
			plans++
			code, stdout, stderr := lab(t, nil, "plan", plan, "--out", out)
			if code != 0 {
				t.Errorf("lab plan %s: exit %d\n%s%s", plan, code, stdout, stderr)
			}
		})
	}
	if plans < 10 {
		t.Errorf("%d plans loaded, want at least 10", plans)
	}
}

// sourceFile is each corpus folder's note on where its script came from.
const sourceFile = "SOURCE.txt"

// licenseRow is the source note's license row: | license | SPDX-ID |.
var licenseRow = regexp.MustCompile(`(?m)^\| license \| ([A-Za-z0-9.+-]+) \|`)

// permissive are the licenses under which a script may be kept here.
var permissive = map[string]bool{
	"Apache-2.0": true, "MIT": true, "BSD-2-Clause": true, "BSD-3-Clause": true,
	"ISC": true, "MPL-2.0": true, "CC0-1.0": true, "Unlicense": true,
}

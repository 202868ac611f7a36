package cli

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestImportRules holds the code to docs/DESIGN.md, "Packages and imports":
// every import between lab's packages and every third-party module a
// package uses is an arrow its table draws, every arrow it draws is still
// in the code, and the rules below the table hold.
func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	rows := designTable(t)
	for _, p := range pkgs {
		rel := relPath(p.ImportPath)
		row, ok := rows[rel]
		if !ok {
			t.Errorf("%s is not in docs/DESIGN.md's package table: add a row for it", rel)
			continue
		}
		checkArrows(t, rel, p, row)
	}
	for rel := range rows {
		if !slices.ContainsFunc(pkgs, func(p goPackage) bool { return relPath(p.ImportPath) == rel }) {
			t.Errorf("docs/DESIGN.md lists %s, which is not a package any more", rel)
		}
	}
	checkRules(t, pkgs)
}

// goPackage is what go list says of a package.
type goPackage struct {
	ImportPath, Dir                    string
	GoFiles, TestGoFiles, XTestGoFiles []string
	Imports, TestImports, XTestImports []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages: run from the repository's root", len(pkgs))
	}
	return pkgs
}

// relPath is a package as the table names it: its folder, main.go for the root.
func relPath(importPath string) string {
	if importPath == "lab" {
		return "main.go"
	}
	return strings.TrimPrefix(importPath, "lab/")
}

// designRow is one row's arrows: lab's packages and third-party modules (by
// the short names thirdParty gives them).
type designRow struct {
	lab, third []string
	testsOnly  bool
}

var backticked = regexp.MustCompile("`([^`]+)`")

// designTable reads the package table of docs/DESIGN.md.
func designTable(t *testing.T) map[string]designRow {
	t.Helper()
	data, err := os.ReadFile("docs/DESIGN.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "| package | holds | imports of lab, and third-party |")
	if start < 0 {
		t.Fatal("docs/DESIGN.md has no package table")
	}
	rows := map[string]designRow{}
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("docs/DESIGN.md: a table row of %d cells: %s", len(cells), line)
		}
		name := backticked.FindStringSubmatch(cells[0])
		if name == nil {
			t.Fatalf("docs/DESIGN.md: a row names no package: %s", line)
		}
		var row designRow
		arrows := strings.TrimSpace(cells[2])
		labPart, thirdPart := arrows, ""
		if i := strings.Index(arrows, ";"); i >= 0 {
			labPart, thirdPart = arrows[:i], arrows[i+1:]
		} else if !strings.Contains(arrows, "`") {
			labPart, thirdPart = "", arrows
		}
		for _, m := range backticked.FindAllStringSubmatch(labPart, -1) {
			row.lab = append(row.lab, m[1])
		}
		switch thirdPart = strings.TrimSpace(thirdPart); thirdPart {
		case "standard library only", "":
		case "(tests only)":
			row.testsOnly = true
		default:
			for _, s := range strings.Split(thirdPart, ",") {
				row.third = append(row.third, strings.TrimSpace(s))
			}
		}
		rows[name[1]] = row
	}
	return rows
}

// thirdParty names each module as the table does.
var thirdParty = map[string]string{
	"github.com/spf13/pflag":                         "pflag",
	"github.com/hashicorp/hcl/v2":                    "hcl",
	"github.com/zclconf/go-cty":                      "cty",
	"github.com/agext/levenshtein":                   "levenshtein",
	"github.com/valyala/fasthttp":                    "fasthttp",
	"github.com/valyala/fastjson":                    "fastjson",
	"github.com/HdrHistogram/hdrhistogram-go":        "hdrhistogram-go",
	"golang.org/x/sys":                               "x/sys",
	"github.com/prometheus/client_golang":            "client_golang",
	"github.com/prometheus/client_model":             "client_model",
	"github.com/prometheus/common":                   "common",
	"github.com/prometheus/prometheus/promql/parser": "promql/parser",
	"github.com/compose-spec/compose-go/v2":          "compose-go",
	"go.yaml.in/yaml/v4":                             "yaml",
	"github.com/grafana/grafana-foundation-sdk/go":   "grafana-foundation-sdk",
	"k8s.io/api":                    "k8s.io/api",
	"k8s.io/apimachinery":           "k8s.io/apimachinery",
	"github.com/klauspost/compress": "klauspost/compress",
}

// moduleName is the table's name for a third-party import path, "" for
// one it has no name for.
func moduleName(path string) string {
	best := ""
	for prefix := range thirdParty {
		if (path == prefix || strings.HasPrefix(path, prefix+"/")) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return thirdParty[best]
}

func isStd(path string) bool {
	return !strings.Contains(strings.Split(path, "/")[0], ".") && path != "lab" && !strings.HasPrefix(path, "lab/")
}

func checkArrows(t *testing.T, rel string, p goPackage, row designRow) {
	t.Helper()
	if row.testsOnly {
		if len(p.GoFiles) > 0 {
			t.Errorf("%s holds tests only (docs/DESIGN.md), yet has %v", rel, p.GoFiles)
		}
		return
	}
	var lab, third []string
	for _, imp := range p.Imports {
		switch {
		case isStd(imp):
		case imp == "lab" || strings.HasPrefix(imp, "lab/"):
			lab = append(lab, relPath(imp))
		default:
			name := moduleName(imp)
			if name == "" {
				t.Errorf("%s imports %s, a module docs/DESIGN.md names nowhere: add it to its row and to thirdParty here", rel, imp)
				continue
			}
			if !slices.Contains(third, name) {
				third = append(third, name)
			}
		}
	}
	for _, imp := range lab {
		if !slices.Contains(row.lab, imp) {
			t.Errorf("%s imports %s: docs/DESIGN.md draws no such arrow", rel, imp)
		}
	}
	for _, imp := range row.lab {
		if !slices.Contains(lab, imp) {
			t.Errorf("docs/DESIGN.md says %s imports %s; it does not (any more)", rel, imp)
		}
	}
	for _, name := range third {
		if !slices.Contains(row.third, name) {
			t.Errorf("%s uses %s: docs/DESIGN.md does not say so", rel, name)
		}
	}
	for _, name := range row.third {
		if !slices.Contains(third, name) {
			t.Errorf("docs/DESIGN.md says %s uses %s; it does not (any more)", rel, name)
		}
	}
}

// checkRules holds the rules under the table.
func checkRules(t *testing.T, pkgs []goPackage) {
	t.Helper()
	// 1. One Go file at the root, importing only cli.
	root, _ := filepath.Glob("*.go")
	if !slices.Equal(root, []string{"main.go"}) {
		t.Errorf("the root holds %v: only main.go belongs there (commands in cli/, end-to-end tests in e2e/)", root)
	}
	for _, p := range pkgs {
		rel := relPath(p.ImportPath)
		all := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		// 2. Nothing imports cli but main.go and e2e; clitest only from tests.
		if slices.Contains(all, "lab/cli") && rel != "main.go" && rel != "e2e" {
			t.Errorf("%s imports cli: only main.go and e2e may", rel)
		}
		if slices.Contains(p.Imports, "lab/cli/clitest") {
			t.Errorf("%s imports cli/clitest outside its tests", rel)
		}
		if rel == "main.go" {
			for _, imp := range p.Imports {
				if !isStd(imp) && imp != "lab/cli" {
					t.Errorf("main.go imports %s: it imports only cli", imp)
				}
			}
		}
		// 5. The layering below cli.
		for _, imp := range p.Imports {
			if why := forbidden(rel, imp); why != "" {
				t.Errorf("%s imports %s: %s (docs/DESIGN.md, \"The rules\")", rel, imp, why)
			}
		}
		// 3 and 4: what the files themselves do.
		if !meetsTheWorld(rel) {
			for _, f := range p.GoFiles {
				checkOutsideWorld(t, filepath.Join(p.Dir, f))
			}
		}
		if rel != "e2e" {
			for _, f := range slices.Concat(p.TestGoFiles, p.XTestGoFiles) {
				checkNoTools(t, filepath.Join(p.Dir, f))
			}
		}
	}
}

// meetsTheWorld: main.go and cli, and what is not lab itself: the bench
// programs and the helpers for tests (runtime/needs, the *test packages).
func meetsTheWorld(rel string) bool {
	return rel == "main.go" || rel == "cli" || strings.HasPrefix(rel, "bench/") || rel == "runtime/needs" || strings.HasSuffix(rel, "test")
}

// forbidden says why the design forbids pkg to import imp, or "".
func forbidden(pkg, imp string) string {
	if isStd(imp) {
		return ""
	}
	lab := strings.HasPrefix(imp, "lab/")
	target := strings.TrimPrefix(imp, "lab/")
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	switch {
	case under(pkg, "lang"):
		if lab && !under(target, "lang") {
			return "lang imports only its own packages"
		}
		if !lab && !slices.Contains([]string{"hcl", "cty", "levenshtein"}, moduleName(imp)) {
			return "lang imports only hcl, cty and levenshtein"
		}
	case under(pkg, "runtime"):
		if lab && (under(target, "gates") || under(target, "cli") || under(target, "sut") || under(target, "deploy") || under(target, "grafana")) {
			return "runtime may import lang, never the gates, the shop or the generators"
		}
	case under(pkg, "gates"):
		if lab && under(target, "runtime") && target != "runtime/result" && target != "runtime/guard" {
			return "the gates read the Run model, never the engine"
		}
		if lab && (under(target, "cli") || under(target, "sut") || under(target, "deploy") || under(target, "grafana")) {
			return "the gates read runs and plans only"
		}
	case under(pkg, "sut"):
		if lab && !under(target, "sut") && target != "lang/shopknobs" && target != "lang/units" {
			return "the shop imports only its knob table and units"
		}
		if !lab && moduleName(imp) != "client_golang" && moduleName(imp) != "client_model" {
			return "the shop imports the standard library and the Prometheus client"
		}
	case under(pkg, "deploy"), pkg == "grafana":
		if lab && !under(target, "lang") && target != "grafana" {
			return "the generators read plans only"
		}
	}
	return ""
}

// outsideWorld is what only cli touches: the command line, the
// environment, stdio and the process's exit.
var outsideWorld = []string{"Args", "Stdin", "Stdout", "Stderr", "Getenv", "LookupEnv", "Environ", "Exit"}

func checkOutsideWorld(t *testing.T, file string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if p := strings.Trim(imp.Path.Value, `"`); p == "flag" || p == "github.com/spf13/pflag" {
			t.Errorf("%s imports %s: only cli reads flags", file, p)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" && slices.Contains(outsideWorld, sel.Sel.Name) {
				t.Errorf("%s uses os.%s: only cli touches the command line, the environment, stdio and the exit", file, sel.Sel.Name)
			}
		}
		return true
	})
}

// checkNoTools: only e2e needs a tool outside Go or runs the binary.
func checkNoTools(t *testing.T, file string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if p := strings.Trim(imp.Path.Value, `"`); p == "lab/runtime/nginxtest" {
			t.Errorf("%s runs nginx: such tests belong in e2e", file)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				switch {
				case x.Name == "needs" && sel.Sel.Name == "Tool":
					t.Errorf("%s needs a tool outside Go: such tests belong in e2e", file)
				case x.Name == "clitest" && sel.Sel.Name == "Binary":
					t.Errorf("%s runs the lab binary: such tests belong in e2e", file)
				}
			}
		}
		return true
	})
}

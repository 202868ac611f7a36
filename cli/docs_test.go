package cli

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The documents that code, help texts, scripts and the docs cite are in
// the repository, with the sections they name: a newcomer with only this
// repository can follow every reference. A reference is a Markdown file
// name (README.md, docs/STATISTICS.md, ../docs/LANGUAGE.md), optionally
// followed by a section, as `, "Section title"` or `#anchor`; Markdown
// links are checked too, whatever they point at inside the repository.
func TestDocReferences(t *testing.T) {
	refs := 0
	for _, file := range citingFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.HasSuffix(file, ".go") {
			// Documents not in the repository that comments used to cite
			// (spelt in two parts, so that this file does not cite them).
			for _, gone := range []string{"GATES-" + "STATISTICS", "ANCHORS" + ".md"} {
				if strings.Contains(text, gone) {
					t.Errorf("%s cites %s, which is not in the repository: cite docs/STATISTICS.md or docs/DESIGN.md", file, gone)
				}
			}
			text = foldComments(text)
		}
		for _, m := range docRef.FindAllStringSubmatch(text, -1) {
			refs++
			checkRef(t, file, m[1], m[2], m[3], false)
		}
		if strings.HasSuffix(file, ".md") {
			for _, m := range mdLink.FindAllStringSubmatch(withoutCode(text), -1) {
				refs++
				checkRef(t, file, m[1], strings.TrimPrefix(m[2], "#"), "", true)
			}
		}
	}
	if refs < 30 {
		t.Errorf("only %d references found: the scan is broken", refs)
	}
}

// The tests, fuzz targets and benchmarks the documents name exist, so a
// reader can run what a figure or a rule is held to.
func TestDocsNameRealTests(t *testing.T) {
	defined := map[string]bool{}
	var docs []string
	for _, file := range citingFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(file, "_test.go"):
			for _, m := range testFunc.FindAllStringSubmatch(string(data), -1) {
				defined[m[1]] = true
			}
		case strings.HasSuffix(file, ".md"):
			docs = append(docs, file)
		}
	}
	named := 0
	for _, file := range docs {
		data, _ := os.ReadFile(file)
		patterns := map[string]bool{}
		for _, m := range runPattern.FindAllStringSubmatch(string(data), -1) {
			patterns[m[1]] = true
		}
		for _, m := range testName.FindAllStringSubmatch(string(data), -1) {
			named++
			if !defined[m[2]] && !(patterns[m[2]] && matchesSome(defined, m[2])) {
				t.Errorf("%s names %s, which no _test.go file defines", file, m[2])
			}
		}
	}
	if named < 50 {
		t.Errorf("only %d test names found in the documents: the scan is broken", named)
	}
}

// matchesSome tells whether a -run pattern ('TestShop') matches a test.
func matchesSome(defined map[string]bool, name string) bool {
	for d := range defined {
		if strings.HasPrefix(d, name) {
			return true
		}
	}
	return false
}

var (
	testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Z]\w*)\(`)
	// testName is a test named in a document (not a template's field,
	// like go list's {{.TestImports}}).
	testName = regexp.MustCompile(`(^|[^.\w])((?:Test|Fuzz|Benchmark)[A-Z]\w*)`)
	// runPattern is the start of a `go test -run` pattern, which may name
	// a prefix of tests.
	runPattern = regexp.MustCompile(`-run '?\^?((?:Test|Fuzz|Benchmark)[A-Z]\w*)`)
	// docRef is a Markdown file named in text, with the section it names.
	docRef = regexp.MustCompile(`((?:\.\./)*(?:docs/)?[A-Z][A-Z0-9_-]*\.md)(?:#([\w-]+)|, "([^"]+)")?`)
	// mdLink is a Markdown link to a file or an anchor of this repository.
	mdLink = regexp.MustCompile(`\]\(([^()\s#:]*)(#[^()\s]*)?\)`)
	// commentBreak is a line break inside a // comment, with the next
	// line's comment marker.
	commentBreak = regexp.MustCompile(`\n[ \t]*//[ \t]?`)
	fence        = regexp.MustCompile("(?s)```.*?```")
)

// citingFiles are the files whose text may cite a document: Go sources,
// Markdown, scripts, plans, the Makefile and CI.
func citingFiles(t *testing.T) []string {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == "cli/docs_test.go" { // its examples are not references
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "results", ".lab", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".py", ".hcl":
			files = append(files, path)
		default:
			if path == "Makefile" || filepath.Dir(path) == ".ci" {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// foldComments joins the lines of // comments, so that a reference broken
// over two lines ("docs/STATISTICS.md, "Regression\n// compare"") reads whole.
func foldComments(src string) string {
	return strings.Join(strings.Fields(commentBreak.ReplaceAllString(src, " ")), " ")
}

func withoutCode(md string) string { return fence.ReplaceAllString(md, "") }

// checkRef checks that target, cited from file, is in the repository, and
// has the section named by anchor or title when one is given. A link is
// relative to the citing file's folder; a file named in text may also be
// named from the repository's root (docs/STATISTICS.md from gates/leak).
func checkRef(t *testing.T, file, target, anchor, title string, link bool) {
	t.Helper()
	path := file // a bare "#anchor" link
	if target != "" {
		path = filepath.Join(filepath.Dir(file), target)
		if _, err := os.Stat(path); err != nil && !link {
			path = filepath.Clean(target)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("%s cites %s, which is not in the repository", file, target)
		return
	}
	if anchor == "" && title == "" {
		return
	}
	if !strings.HasSuffix(path, ".md") {
		t.Errorf("%s cites a section of %s, which is not Markdown", file, path)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	titles, anchors := headings(string(data))
	switch {
	case title != "" && !titles[title]:
		t.Errorf("%s cites %s, %q: %s has no such section (its headings: %v)", file, target, title, path, keys(titles))
	case anchor != "" && !anchors[anchor]:
		t.Errorf("%s cites %s#%s: %s has no such anchor (its anchors: %v)", file, target, anchor, path, keys(anchors))
	}
}

// headings returns a Markdown file's section titles (with and without
// their backticks) and the anchors GitHub gives them.
func headings(md string) (titles, anchors map[string]bool) {
	titles, anchors = map[string]bool{}, map[string]bool{}
	seen := map[string]int{}
	for _, line := range strings.Split(withoutCode(md), "\n") {
		hashes := len(line) - len(strings.TrimLeft(line, "#"))
		if hashes == 0 || hashes > 6 || !strings.HasPrefix(line[hashes:], " ") {
			continue
		}
		title := strings.TrimSpace(line[hashes:])
		titles[title] = true
		titles[strings.ReplaceAll(title, "`", "")] = true
		slug := slugOf(title)
		if n := seen[slug]; n > 0 {
			anchors[slug+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return titles, anchors
}

// slugOf is GitHub's anchor for a heading: lower case, letters, digits,
// spaces turned to hyphens, hyphens and underscores kept, the rest dropped.
func slugOf(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func keys(m map[string]bool) []string {
	return slices.Sorted(maps.Keys(m))
}

package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"lab/gates/exitcode"
	"lab/lang"
	"lab/runtime/atomicfile"
)

const fmtAbout = `Rewrite plans in canonical form (aligned equals signs, two-space indent).

With no FILE, formats every .hcl file under the current folder (skipping
hidden folders, generated/ and results/). A FILE may be a folder.
-check writes nothing and exits 1, listing the files that are not formatted.`

func runFmt(env *cmdEnv, args []string) error {
	fset := newFlags("fmt")
	check := fset.Bool("check", false, "write nothing; exit 1 and list files that are not formatted")
	if err := parseFlags(env, fset, args, "lab fmt [FILE|DIR…] [-check]", fmtAbout); err != nil {
		return err
	}
	targets := fset.Args()
	if len(targets) == 0 {
		targets = []string{"."}
	}
	files, err := hclFiles(targets)
	if err != nil {
		return failf(exitcode.BadInput, "%v", err)
	}
	code := exitcode.OK
	var unformatted []string
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			env.notef("%v", err)
			code = exitcode.BadInput
			continue
		}
		out, diags := lang.Format(src, path)
		if diags.HasErrors() {
			lang.WriteDiagnostics(env.stderr, map[string][]byte{path: src}, diags, useColor(env, env.stderr))
			code = exitcode.BadInput
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		unformatted = append(unformatted, path)
		if *check {
			continue
		}
		st, _ := os.Stat(path)
		if err := atomicfile.Write(path, out, st.Mode().Perm()); err != nil {
			return failf(exitcode.CouldNotRun, "%v", err)
		}
	}
	for _, f := range unformatted {
		fmt.Fprintln(env.stdout, f)
	}
	if code != exitcode.OK {
		return exitWith(code)
	}
	if *check && len(unformatted) > 0 {
		// Said as "lab fmt -check: …", the mode that failed.
		fmt.Fprintf(env.stderr, "lab fmt -check: %d file(s) not formatted; run lab fmt\n", len(unformatted))
		return exitWith(exitcode.Breach)
	}
	return nil
}

// hclFiles expands folders to the .hcl files below them.
func hclFiles(targets []string) ([]string, error) {
	var out []string
	for _, t := range targets {
		st, err := os.Stat(t)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, t)
			continue
		}
		err = filepath.WalkDir(t, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				name := d.Name()
				if path != t && (strings.HasPrefix(name, ".") || name == "generated" || name == "results" || name == "testdata") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".hcl") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

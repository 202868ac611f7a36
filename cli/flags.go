package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"lab/gates/exitcode"
	"lab/lang"
)

// planFlags are the flags every command that loads a plan takes.
type planFlags struct {
	vars         []string
	varFiles     []string
	shape        string
	allowOutside bool
}

func (pf *planFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&pf.vars, "var", nil, "set a variable: -var name=value (repeatable)")
	fs.StringArrayVar(&pf.varFiles, "var-file", nil, "read variables from an HCL file of name = value lines (repeatable)")
	fs.StringVar(&pf.shape, "shape", "", "run this shape (wins over LAB_SHAPE and run.shape)")
	fs.BoolVar(&pf.allowOutside, "allow-outside-files", false, "let the plan read files (source, file()) outside its own folder")
}

func (pf *planFlags) options(env *cmdEnv) lang.Options {
	return lang.Options{Vars: pf.vars, VarFiles: pf.varFiles, Env: env.getenv, Shape: pf.shape, AllowOutside: pf.allowOutside}
}

// normalizeArgs lets single-dash long flags work as terraform users type
// them (-var, -var-file, -check): pflag reads a single dash as shorthands.
func normalizeArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name := a[1:]
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				name = name[:eq]
			}
			if len(name) > 1 && fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// useColor tells whether to colour output for w: a terminal, and NO_COLOR unset.
func useColor(env *cmdEnv, w io.Writer) bool {
	if env.getenv("NO_COLOR") != "" || env.getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// printDiags writes diagnostics with their source lines to stderr.
func printDiags(env *cmdEnv, l *lang.Loader, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	if err := l.WriteDiagnostics(env.stderr, diags, useColor(env, env.stderr)); err != nil {
		fmt.Fprintln(env.stderr, diags.Error())
	}
}

// loadPlan loads a plan and prints its diagnostics; an invalid plan is
// exit 2, said by its diagnostics.
func loadPlan(env *cmdEnv, path string, opts lang.Options) (*lang.Plan, *lang.Loader, error) {
	l := lang.NewLoader(opts)
	plan, diags := l.Load(path)
	printDiags(env, l, diags)
	if diags.HasErrors() {
		return nil, l, exitWith(exitcode.BadInput)
	}
	return plan, l, nil
}

// Package cli is lab's command line: the one package that reads flags, the
// environment and stdio, prints `lab <command>: …` for people and picks exit
// codes. The packages below it return values and errors.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/pflag"

	"lab/gates/exitcode"
)

// A command is one sub-command of lab. run receives the arguments after the
// command name; the error it returns carries the exit code (exitError).
type command struct {
	name    string
	summary string
	run     func(env *cmdEnv, args []string) error
}

// cmdEnv carries what a command may touch of the outside world, so tests run
// commands in-process with their own streams and environment.
type cmdEnv struct {
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	command string // the command running, which prefixes what lab says
}

func commands() []command {
	return []command{
		{"plan", "validate a plan, print what it will do and write generated/<plan>/", runPlan},
		{"apply", "run a plan and judge its budgets", runApply},
		{"fmt", "rewrite plans in canonical form", runFmt},
		{"worker", "run as a worker of a distributed run", runWorker},
		{"sut", "run the bundled misbehaving shop", runSUT},
		{"gate", "re-judge a stored run against a plan's budgets", runGate},
		{"compare", "compare two stored runs for regressions", runCompare},
		{"hunt", "find which request leaks: pulses of one request at a time", runHunt},
		{"report", "rebuild a run folder's report.html from its result.json", runReport},
		{"version", "print the version", runVersion},
	}
}

// Main runs the command line of this process and returns its exit code.
func Main() int {
	return Run(os.Stdout, os.Stderr, os.Getenv, os.Args[1:])
}

// Run runs one lab command line with the given streams and environment, so
// tests drive every command in-process.
func Run(stdout, stderr io.Writer, getenv func(string) string, args []string) int {
	return dispatch(&cmdEnv{stdout: stdout, stderr: stderr, getenv: getenv}, args)
}

func dispatch(env *cmdEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return exitcode.BadInput
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		usage(env.stdout)
		return exitcode.OK
	case "--version", "-v":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			env.command = c.name
			return exit(env, c.run(env, args[1:]))
		}
	}
	fmt.Fprintf(env.stderr, "lab: unknown command %q%s\n\n", name, suggest(name, commandNames()))
	usage(env.stderr)
	return exitcode.BadInput
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "lab — performance testing as code\n\nUsage:\n  lab <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'lab <command> -h' for a command's flags.\n"+
		"Exit codes: 0 pass · 1 a gate was breached · 2 invalid plan or command line · 3 the run could not be carried out\n")
}

// newFlags makes a flag set for a command whose usage lists its flags and the
// positional arguments it takes.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("lab "+name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	fs.SetInterspersed(true)
	fs.BoolP("help", "h", false, "show this help")
	fs.Lookup("help").Hidden = true
	return fs
}

// parseFlags parses args; it prints usage and returns an error when the
// command should stop here: errStop when help was asked for, an exit 2 for
// a bad flag.
func parseFlags(env *cmdEnv, fs *pflag.FlagSet, args []string, synopsis, about string) error {
	err := fs.Parse(normalizeArgs(fs, args))
	if errors.Is(err, pflag.ErrHelp) || (err == nil && fs.Lookup("help").Changed) {
		printCommandUsage(env.stdout, fs, synopsis, about)
		return errStop
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n\n", fs.Name(), err)
		printCommandUsage(env.stderr, fs, synopsis, about)
		return exitWith(exitcode.BadInput)
	}
	return nil
}

func printCommandUsage(w io.Writer, fs *pflag.FlagSet, synopsis, about string) {
	fmt.Fprintf(w, "Usage:\n  %s\n\n%s\n", synopsis, strings.TrimSpace(about))
	if f := fs.FlagUsages(); strings.TrimSpace(f) != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", f)
	}
}

// suggest returns ` (did you mean "x"?)` when one of names is close to s.
func suggest(s string, names []string) string {
	best, bestD := "", 3
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, n := range sorted {
		if d := levenshtein.Distance(s, n, nil); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

package cli

import (
	"fmt"

	"lab/gates/exitcode"
)

// version is set at build time with -ldflags "-X lab/cli.version=…".
var version = "dev"

func runVersion(env *cmdEnv, args []string) error {
	fs := newFlags("version")
	if err := parseFlags(env, fs, args, "lab version", "Print the version of this lab binary."); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return failf(exitcode.BadInput, "unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintf(env.stdout, "lab %s\n", version)
	return nil
}

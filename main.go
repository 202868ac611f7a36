// Command lab is performance testing as code: a reviewed HCL plan declares the
// workload, the load shape and the budgets; `lab plan` checks it and writes what
// deploys it; `lab apply` runs it and turns every budget into an exit code.
// The commands are in package cli (docs/DESIGN.md, "Packages and imports").
package main

import (
	"os"

	"lab/cli"
)

func main() {
	os.Exit(cli.Main())
}

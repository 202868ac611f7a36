package main

import "fmt"

func runGate(env *cmdEnv, args []string) int {
	fs := newFlags("gate")
	if stop, code := parseFlags(env, fs, args, "lab gate", "Not built yet."); stop {
		return code
	}
	fmt.Fprintln(env.stderr, "lab gate: not built yet")
	return exitCouldNotRun
}

package main

import "fmt"

func runFmt(env *cmdEnv, args []string) int {
	fs := newFlags("fmt")
	if stop, code := parseFlags(env, fs, args, "lab fmt", "Not built yet."); stop {
		return code
	}
	fmt.Fprintln(env.stderr, "lab fmt: not built yet")
	return exitCouldNotRun
}

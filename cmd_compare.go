package main

import "fmt"

func runCompare(env *cmdEnv, args []string) int {
	fs := newFlags("compare")
	if stop, code := parseFlags(env, fs, args, "lab compare", "Not built yet."); stop {
		return code
	}
	fmt.Fprintln(env.stderr, "lab compare: not built yet")
	return exitCouldNotRun
}

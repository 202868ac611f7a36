package main

import "fmt"

func runApply(env *cmdEnv, args []string) int {
	fs := newFlags("apply")
	if stop, code := parseFlags(env, fs, args, "lab apply", "Not built yet."); stop {
		return code
	}
	fmt.Fprintln(env.stderr, "lab apply: not built yet")
	return exitCouldNotRun
}

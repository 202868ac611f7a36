package main

import "fmt"

func runPlan(env *cmdEnv, args []string) int {
	fs := newFlags("plan")
	if stop, code := parseFlags(env, fs, args, "lab plan", "Not built yet."); stop {
		return code
	}
	fmt.Fprintln(env.stderr, "lab plan: not built yet")
	return exitCouldNotRun
}

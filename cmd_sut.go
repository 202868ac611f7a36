package main

import "fmt"

func runSUT(env *cmdEnv, args []string) int {
	fs := newFlags("sut")
	if stop, code := parseFlags(env, fs, args, "lab sut", "Not built yet."); stop {
		return code
	}
	fmt.Fprintln(env.stderr, "lab sut: not built yet")
	return exitCouldNotRun
}

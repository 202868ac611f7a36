package sut

import "syscall"

// childSysProcAttr puts the child in its own process group (a terminal's
// Ctrl-C goes to lab, which stops the shop itself) and has the kernel send it
// SIGTERM if lab dies first, so no shop outlives its run.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

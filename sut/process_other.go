//go:build !linux

package sut

import "syscall"

func childSysProcAttr() *syscall.SysProcAttr { return nil }

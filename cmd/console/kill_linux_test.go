package main

import (
	"os/exec"
	"syscall"
)

func init() {
	dieWithTest = func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
}

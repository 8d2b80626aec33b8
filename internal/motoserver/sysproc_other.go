//go:build unix && !linux

package motoserver

import "syscall"

// sysProcAttr puts moto_server in its own process group so stop can kill the
// whole group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group led by pid.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

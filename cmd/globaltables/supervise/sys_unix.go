//go:build unix && !linux

package supervise

import "syscall"

// sysProcAttr puts a child in a process group of its own, so that the
// terminal's Ctrl-C reaches only the supervising process.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

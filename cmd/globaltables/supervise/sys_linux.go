package supervise

import "syscall"

// sysProcAttr makes the kernel send SIGTERM to a child when its parent
// dies, so that a killed `up` leaves no orphaned regions behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

package supervise

import "syscall"

// sysProcAttr puts a child in a process group of its own, so that the
// terminal's Ctrl-C reaches only the supervising process, which then stops
// its children once and in order; and it makes the kernel send SIGTERM to
// a child when its parent dies, so that a killed `up` leaves no orphaned
// regions behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

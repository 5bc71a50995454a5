//go:build unix

package listener

import "syscall"

// FileLimit returns the process's soft limit on open files. Go raises the
// soft limit to the hard limit when it starts (syscall's init, since Go
// 1.19), so this is the hard limit unless something lowered it since; the
// region does not raise it again (a Setrlimit would also stop Go from
// restoring the original limit in child processes).
func FileLimit() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == ^uint64(0) {
		return 0, false
	}
	return lim.Cur, true
}

//go:build unix

package supervise

import "syscall"

// Alive reports whether process pid exists (signal 0 reaches it).
func Alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

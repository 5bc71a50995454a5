//go:build !unix

package supervise

// Alive reports whether process pid exists. Without signal 0 it cannot
// tell, and says yes: a caller then claims nothing about the process.
func Alive(pid int) bool { return pid > 0 }

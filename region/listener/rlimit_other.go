//go:build !unix

package listener

// FileLimit is unknown outside Unix.
func FileLimit() (uint64, bool) { return 0, false }

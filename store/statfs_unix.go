//go:build unix

package store

import (
	"fmt"
	"syscall"
)

// freeBytes returns the bytes available to unprivileged users on the
// filesystem holding dir: what a write can still allocate (root's reserved
// blocks on ext4 are not counted, so the measure errs on the safe side).
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil //nolint:unconvert // Bsize is int64 on Linux, uint32 on BSDs
}

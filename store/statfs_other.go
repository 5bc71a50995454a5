//go:build !unix

package store

import "errors"

// freeBytes cannot measure free space on this platform; the store then
// admits every write and relies on Badger's own errors.
func freeBytes(string) (uint64, error) {
	return 0, errors.New("free disk space: not measurable on this platform")
}

package storetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs of sizeMB MiB on a new folder and unmounts it
// when the test ends. tmpfs allocates pages on first touch, like sparse
// files on a disk, so a full tmpfs faults (SIGBUS) on mmap writes just as a
// full ext4 does: Badger's failure on a full disk reproduces on it. It
// needs root; without, the test is skipped with a message saying so.
func SmallDisk(tb testing.TB, sizeMB int) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("disk-full test: needs root to mount a small tmpfs (mount -t tmpfs); run the tests as root")
	}
	dir := tb.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", sizeMB), "tmpfs", dir).CombinedOutput()
	if err != nil {
		tb.Skipf("disk-full test: cannot mount a tmpfs: %v: %s", err, out)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			tb.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes a file of real (allocated) data at path: size bytes, or
// until the disk is full when size is negative.
func Fill(tb testing.TB, path string, size int64) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i)
	}
	for written := int64(0); size < 0 || written < size; {
		chunk := buf
		if size >= 0 && size-written < int64(len(chunk)) {
			chunk = chunk[:size-written]
		}
		n, err := f.Write(chunk)
		written += int64(n)
		if errors.Is(err, syscall.ENOSPC) && size < 0 {
			return
		}
		if err != nil {
			tb.Fatalf("fill %s: %v", path, err)
		}
	}
}

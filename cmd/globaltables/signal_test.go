package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRegion_RepeatedSignalsDoNotInterruptItsStop sends a region SIGTERM
// and then SIGINT and SIGTERM again and again until it exits, as a
// terminal's Ctrl-C and a supervisor's stop can both reach it: it must
// finish its orderly stop anyway, exit 0 and leave its store closed
// (Badger removes its LOCK file only on a clean close).
func TestRegion_RepeatedSignalsDoNotInterruptItsStop(t *testing.T) {
	dir := t.TempDir()
	p := startRegionProc(t, "--name", "us-east-1", "--listen", "127.0.0.1:0", "--data", dir)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	sigs := []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	for i := 0; ; i++ {
		select {
		case <-p.exited:
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("region exited %d after %d repeated signals:\n%s", code, i, p.Log())
			}
			if _, err := os.Stat(filepath.Join(dir, "db", "LOCK")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("store not closed cleanly (LOCK left: %v):\n%s", err, p.Log())
			}
			return
		case <-deadline:
			t.Fatalf("region did not stop:\n%s", p.Log())
		case <-tick.C:
			p.cmd.Process.Signal(sigs[i%2])
		}
	}
}

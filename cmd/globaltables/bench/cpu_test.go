package bench

import (
	"os"
	"testing"
	"time"
)

// processCPU must read this process's CPU time, and see it grow as the
// process works.
func TestProcessCPU_GrowsWithWork(t *testing.T) {
	pid := os.Getpid()
	start, err := processCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for {
		for i := range 1 << 20 {
			x += i
		}
		now, err := processCPU(pid)
		if err != nil {
			t.Fatal(err)
		}
		if now >= start+5*clockTick {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %s (from %s) while the test worked (%d)", now, start, x)
		}
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("processCPU(-1): no error")
	}
}

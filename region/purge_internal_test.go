package region

import (
	"context"
	"testing"
	"time"
)

// TestPurgeLoop_TinyHorizon runs the purge loop with a tombstone horizon
// under 8 ns, which validation accepts (it only asks for a positive
// duration): its period used to be 0, and time.NewTicker panicked in the
// replication's goroutine, ending the region's process.
func TestPurgeLoop_TinyHorizon(t *testing.T) {
	cfg := ReplicationConfig{TombstoneHorizon: 7 * time.Nanosecond}
	cfg.withDefaults()
	r := &replication{cfg: cfg}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.purgeLoop(ctx) // returns at once: ctx is done
	if got := purgeEvery(cfg.TombstoneHorizon); got <= 0 {
		t.Fatalf("purge period for a 7ns horizon is %v", got)
	}
}

package memtune

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"time"
)

// TestReleaser_ReleasesOncePerQuietSpell checks that the free heap is
// returned when the process allocated next to nothing since the previous
// look, once per quiet spell, and again after a busy spell.
func TestReleaser_ReleasesOncePerQuietSpell(t *testing.T) {
	var allocated uint64
	releases := 0
	r := &Releaser{allocs: func() uint64 { return allocated }, release: func() { releases++ }}
	steps := []struct {
		name      string
		allocate  uint64
		wantTotal int
	}{
		{"busy", 50 << 20, 0},
		{"quiet: release", 4 << 10, 1},
		{"still quiet: nothing more to give back", 4 << 10, 1},
		{"busy again", quietBytes, 1},
		{"quiet again: release", 0, 2},
	}
	for _, s := range steps {
		allocated += s.allocate
		r.look()
		if releases != s.wantTotal {
			t.Fatalf("%s: %d releases, want %d", s.name, releases, s.wantTotal)
		}
	}
}

// TestReleaser_RunStops checks that Run returns when its context ends, and
// at once when releasing is off.
func TestReleaser_RunStops(t *testing.T) {
	if err := NewReleaser(-1).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewReleaser(time.Millisecond).Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestSetLimit_ZeroMeansNone checks that a limit of 0 removes the limit
// rather than setting one of zero bytes (which would make the collector
// run without pause).
func TestSetLimit_ZeroMeansNone(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	SetLimit(64 << 20)
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Fatalf("limit = %d, want 64 MiB", got)
	}
	SetLimit(0)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit = %d after SetLimit(0), want none (MaxInt64)", got)
	}
}

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{{GCPercent: 0}, {GCPercent: 50, LimitBytes: -1}} {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

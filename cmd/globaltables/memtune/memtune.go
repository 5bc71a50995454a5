// Package memtune sets the Go runtime's memory settings of a region process
// and gives the memory a load left behind back to the system once the
// process is quiet.
//
// It is for a process, not a region: the garbage collector's settings are
// process-wide, so only package main applies them (tests run many regions
// in one process and leave the runtime alone).
//
// Why these settings: most of a loaded region's heap is Badger's memtable,
// one large pointer-free allocation the collector does not scan, so a
// collection costs little and GOGC 50 (DefaultGCPercent) keeps a third less
// headroom than Go's 100 for no measurable CPU (docs/performance.md, goal
// 4). After a load, the runtime keeps the freed heap (tens of MB) resident
// for as long as it might grow again; Releaser hands it back once the
// process has allocated next to nothing for a while. A soft memory limit is
// left off by default: below the live heap of a load (two memtables during a
// flush) the collector runs all the time, and a region's CPU per operation
// tripled in a load of 4 KB items under a 64 MiB limit.
package memtune

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Defaults for Config.
const (
	// DefaultGCPercent is the collector's target heap growth, in percent
	// (GOGC).
	DefaultGCPercent = 50
	// DefaultReleaseAfter is how long the process must be quiet (allocate
	// less than quietBytes per period) before its free heap is released.
	DefaultReleaseAfter = 10 * time.Second
)

// quietBytes is how much a quiet process may allocate in ReleaseAfter: an
// idle region allocates a few kilobytes a second (the links' pings and
// status); a single request allocates about as much.
const quietBytes = 1 << 20

// Config is the runtime's memory settings.
type Config struct {
	// GCPercent is the collector's target heap growth, in percent, as
	// GOGC. Default DefaultGCPercent; it must be positive.
	GCPercent int
	// LimitBytes is the runtime's soft memory limit, in bytes, as
	// GOMEMLIMIT. Default 0: none.
	LimitBytes int64
	// ReleaseAfter is how long the process must be quiet before the heap it
	// does not use is returned to the system. Default DefaultReleaseAfter;
	// negative: never.
	ReleaseAfter time.Duration
}

// DefaultConfig returns the settings for a lab region.
func DefaultConfig() Config {
	return Config{GCPercent: DefaultGCPercent, ReleaseAfter: DefaultReleaseAfter}
}

// Validate reports a setting the runtime cannot take.
func (c Config) Validate() error {
	if c.GCPercent <= 0 {
		return fmt.Errorf("GC percent %d: must be positive", c.GCPercent)
	}
	if c.LimitBytes < 0 {
		return fmt.Errorf("memory limit %d: must not be negative", c.LimitBytes)
	}
	return nil
}

// SetGCPercent sets the collector's target heap growth (debug.SetGCPercent).
func SetGCPercent(percent int) { debug.SetGCPercent(percent) }

// SetLimit sets the runtime's soft memory limit; 0 removes it.
func SetLimit(bytes int64) {
	if bytes == 0 {
		bytes = math.MaxInt64 // the runtime's "no limit"
	}
	debug.SetMemoryLimit(bytes)
}

// Releaser returns the free heap to the system once the process has been
// quiet for a period. Its state belongs to the goroutine running Run.
type Releaser struct {
	period   time.Duration
	allocs   func() uint64 // bytes allocated since the process started
	release  func()
	last     uint64 // allocs at the previous look
	released bool   // released since the process was last busy
}

// NewReleaser returns a Releaser that looks every period.
func NewReleaser(period time.Duration) *Releaser {
	return &Releaser{period: period, allocs: heapAllocs, release: debug.FreeOSMemory}
}

// Run looks every period until ctx ends, and returns nil then. A period of
// zero or less returns at once.
func (r *Releaser) Run(ctx context.Context) error {
	if r.period <= 0 {
		return nil
	}
	r.last = r.allocs()
	t := time.NewTicker(r.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.look()
		}
	}
}

// look releases the free heap once per quiet spell: when the process
// allocated less than quietBytes since the previous look, and had not been
// released since it was last busy. It reports whether it released.
func (r *Releaser) look() bool {
	now := r.allocs()
	busy := now-r.last >= quietBytes
	r.last = now
	if busy {
		r.released = false
		return false
	}
	if r.released {
		return false
	}
	// A full collection and the return of every free page: a few
	// milliseconds, once per quiet spell.
	r.release()
	r.released = true
	return true
}

// heapAllocs returns the bytes the process allocated on the heap since it
// started, from runtime/metrics (no stop of the world, unlike ReadMemStats).
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

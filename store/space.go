package store

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Disk space.
//
// Badger v4 writes its memtable write-ahead logs (*.mem), its value log
// (*.vlog), its SSTables and its discard statistics through shared mmaps of
// files it sizes with ftruncate: sparse files (z.OpenMmapFile in ristretto,
// memtable.go, value.go and table.CreateTable in badger v4.9.6). The
// filesystem allocates a block only when a page is first dirtied, so when
// the disk is full the store to the mapping faults and the kernel sends
// SIGBUS, which kills the process, whichever goroutine (Badger's writer,
// flusher or compactors) happens to write. No Badger option changes that:
// there is no fallocate and no write(2) mode for these files, and
// debug.SetPanicOnFault covers only the goroutine that calls it, not
// Badger's own.
//
// So the store never lets Badger near a full disk. Every write checks the
// free space of the filesystem (statfs) against Config.DiskReserve before it
// commits: the bytes Badger may still need to allocate after the last write
// it accepted (flushing its memtables, one L0 compaction, one value-log GC
// rewrite, new files' headers). A write that would leave less than that free
// fails with a *DiskFullError (ErrDiskFull, syscall.ENOSPC) and writes
// nothing; reads go on; the next write after space was freed succeeds.
// Maintenance writes that eventually free space (trimming published change
// records, purging tombstones and dropped tables) may go down to half the
// reserve.
//
// A store opened with less than the reserve free opens Badger read-only (a
// read-write open replays and flushes memtables and creates new log files:
// mmap writes again), serves reads, and reopens itself read-write once
// space is freed (reopenWhenSpace).
//
// The guard also refuses every write once a flush of the group commit has
// failed (flushfail.go): each write asks it first, so that is where a
// store that can no longer acknowledge writes turns them away.

// ErrDiskFull is matched (errors.Is) by the *DiskFullError of every write
// refused for lack of disk space. syscall.ENOSPC matches it too.
var ErrDiskFull = errors.New("no space left on device")

// DiskFullError is a write refused because the disk holding the store has
// too little free space.
type DiskFullError struct {
	// Dir is the store's folder.
	Dir string
	// Free is the space available on its filesystem, in bytes; Reserve
	// the space the store keeps free for Badger's own allocations.
	Free, Reserve uint64
	// ReadOnly says the store was opened read-only, on a full disk.
	ReadOnly bool
}

// Error names the cause and the figures, for the client as much as for the
// log: the folder is left out.
func (e *DiskFullError) Error() string {
	s := fmt.Sprintf("no space left on device: %s free, %s reserved", mib(e.Free), mib(e.Reserve))
	if e.ReadOnly {
		s += "; the store was opened read-only and accepts writes once space is freed"
	}
	return s
}

// Is makes errors.Is(err, ErrDiskFull) and errors.Is(err, syscall.ENOSPC)
// hold.
func (e *DiskFullError) Is(target error) bool {
	return target == ErrDiskFull || target == syscall.ENOSPC
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// DiskStatus is the store's view of its disk, for status pages.
type DiskStatus struct {
	// Known is false when free space cannot be measured (in memory, or a
	// platform without statfs); the figures are then meaningless.
	Known bool `json:"known"`
	// FreeBytes is the space available on the store's filesystem now;
	// ReserveBytes what the store keeps free for Badger.
	FreeBytes    uint64 `json:"free_bytes"`
	ReserveBytes uint64 `json:"reserve_bytes"`
	// Full is true while writes are refused for lack of space, since
	// FullSince.
	Full      bool      `json:"full"`
	FullSince time.Time `json:"full_since,omitzero"`
	// ReadOnly is true while the store runs read-only because it was
	// opened on a full disk.
	ReadOnly bool `json:"read_only"`
	// LastError is the last refusal.
	LastError string `json:"last_error,omitempty"`
	// FlushFailed is true once a flush of the store's logs to disk
	// failed (a FlushError, FlushError its message, at FlushFailedAt):
	// writes are refused from then until the region restarts.
	FlushFailed   bool      `json:"flush_failed,omitempty"`
	FlushFailedAt time.Time `json:"flush_failed_at,omitzero"`
	FlushError    string    `json:"flush_error,omitempty"`
}

// spaceRefresh is how long a free-space measurement stands while far from
// the reserve. Near it, every write measures again.
const spaceRefresh = 100 * time.Millisecond

// entryOverhead approximates Badger's per-entry header and checksum in the
// write-ahead log, for counting the bytes a transaction adds.
const entryOverhead = 32

// spaceGuard admits writes while the disk has room and no flush has
// failed. It is safe for concurrent use.
type spaceGuard struct {
	dir     string
	reserve uint64
	// unmeasured is set when the store keeps no reserve (DiskReserve
	// negative): the guard then only checks flush.
	unmeasured bool
	// flush holds the group commit's flush failure; nil without SyncWrites.
	flush *flushLatch
	log   hclog.Logger
	// statfs returns the bytes available on dir's filesystem; a field so
	// that tests can fill a disk without one.
	statfs func(dir string) (uint64, error)

	mu       sync.Mutex // guards the fields below
	free     uint64     // last measurement
	at       time.Time  // when it was taken
	admitted uint64     // bytes admitted since
	full     bool
	since    time.Time
	lastErr  string
	readOnly bool
}

func newSpaceGuard(dir string, reserve uint64, log hclog.Logger) *spaceGuard {
	return &spaceGuard{dir: dir, reserve: reserve, log: log, statfs: freeBytes}
}

// admit reports whether n more bytes may be written: not after a flush
// failed (a *FlushError), nor when the disk lacks the room (a
// *DiskFullError). maintenance writes (deletes that eventually free space)
// may use half of the reserve. A nil guard admits everything.
func (g *spaceGuard) admit(n uint64, maintenance bool) error {
	if g == nil {
		return nil
	}
	if err := g.flush.failure(); err != nil {
		return err
	}
	return g.admitSpace(n, maintenance)
}

// admitSpace is admit for the disk's free space only.
func (g *spaceGuard) admitSpace(n uint64, maintenance bool) error {
	if g == nil || g.unmeasured {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	need := g.reserve
	if maintenance {
		need /= 2
	}
	if g.readOnly {
		return g.refuse(&DiskFullError{Dir: g.dir, Free: g.free, Reserve: g.reserve, ReadOnly: true})
	}
	now := time.Now()
	if now.Sub(g.at) >= spaceRefresh || g.free < g.admitted+n+2*g.reserve {
		if err := g.measure(now); err != nil {
			// Unmeasurable: let the write try; Badger's own errors stand.
			return nil
		}
	}
	if g.free < g.admitted+n+need {
		return g.refuse(&DiskFullError{Dir: g.dir, Free: g.free - min(g.free, g.admitted), Reserve: g.reserve})
	}
	g.admitted += n
	if g.full && !maintenance {
		g.full = false
		g.log.Info("disk space recovered: accepting writes again", "free", mib(g.free), "reserve", mib(g.reserve),
			"refused_for", now.Sub(g.since).Round(time.Millisecond))
	}
	return nil
}

// measure takes a fresh measurement; the caller holds mu.
func (g *spaceGuard) measure(now time.Time) error {
	free, err := g.statfs(g.dir)
	if err != nil {
		return err
	}
	g.free, g.at, g.admitted = free, now, 0
	return nil
}

// refuse records a refusal, logging when refusals start; the caller holds
// mu.
func (g *spaceGuard) refuse(e *DiskFullError) error {
	g.lastErr = e.Error()
	if !g.full {
		g.full, g.since = true, time.Now()
		g.log.Error("disk full: refusing writes until space is freed", "dir", e.Dir,
			"free", mib(e.Free), "reserve", mib(e.Reserve), "read_only", e.ReadOnly)
	}
	return e
}

// status measures the disk and reports.
func (g *spaceGuard) status() DiskStatus {
	if g == nil {
		return DiskStatus{}
	}
	var st DiskStatus
	if fe, _ := g.flush.failure().(*FlushError); fe != nil {
		st.FlushFailed, st.FlushFailedAt, st.FlushError = true, fe.At, fe.Error()
	}
	if g.unmeasured {
		return st
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st.ReserveBytes, st.ReadOnly, st.Full, st.LastError = g.reserve, g.readOnly, g.full, g.lastErr
	if g.full {
		st.FullSince = g.since
	}
	if err := g.measure(time.Now()); err == nil {
		st.Known, st.FreeBytes = true, g.free
	}
	return st
}

// CheckSpace returns a *DiskFullError while writes would be refused for
// lack of disk space, nil otherwise: for the publisher, whose stream may
// share the disk. A failed flush does not count: the publisher goes on
// publishing the records that were made durable before it.
func (db *DB) CheckSpace() error { return db.space.admitSpace(0, false) }

// CheckFree returns a *DiskFullError if the filesystem holding dir has less
// than reserve bytes free, nil if it has them or cannot be measured.
func CheckFree(dir string, reserve uint64) error {
	free, err := freeBytes(dir)
	if err != nil || free >= reserve {
		return nil
	}
	return &DiskFullError{Dir: dir, Free: free, Reserve: reserve}
}

// roomToReopen measures the disk and reports whether it has the reserve
// free, for a read-only store to reopen read-write.
func (g *spaceGuard) roomToReopen() (free uint64, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	free, err := g.statfs(g.dir)
	return free, err == nil && free >= g.reserve
}

// setReadOnly marks the store read-only (opened on a full disk) or
// writable again.
func (g *spaceGuard) setReadOnly(ro bool, free uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readOnly, g.free, g.at, g.admitted = ro, free, time.Now(), 0
	if ro {
		_ = g.refuse(&DiskFullError{Dir: g.dir, Free: free, Reserve: g.reserve, ReadOnly: true})
	}
}

// txBytes approximates what writing k and v adds to Badger's logs.
func txBytes(k, v []byte) uint64 { return uint64(len(k) + len(v) + entryOverhead) }

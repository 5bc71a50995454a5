package store

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Flush failures.
//
// With SyncWrites a commit is acknowledged once a group-commit round has
// flushed Badger's log files (sync.go). When such a flush fails (EIO from
// fdatasync, or ENOSPC, or the folder's fsync), Linux has already marked
// the pages that did not reach the disk clean, and reports the error once
// per open file: a later flush of the same file can succeed although the
// failed pages are still missing from the disk. Badger's replay after a
// crash stops at the first torn entry of a write-ahead log, so a hole
// there loses every commit written after it as well, including those a
// later, successful round would have acknowledged.
//
// So the first flush failure sticks (flushLatch): from then on no commit
// is acknowledged as durable (every durable wait fails with the
// *FlushError), and every write is refused up front with it, through the
// check that already admits each write (spaceGuard.admit). Reads go on.
// Only a reopen clears it: opening the store replays what is really on
// disk (and closing it first writes Badger's memtables, which still hold
// every commit, to new, freshly flushed files). The store does not reopen
// itself: a store that is open for writes has background work (value-log
// GC, stream maintenance, the sync rounds and their kept-open files) that
// would all have to stop and restart around the swap, and a disk that
// failed a flush is one an operator should look at. The region restarts,
// by hand or by its supervisor.
//
// A full disk cannot cause a flush ENOSPC in normal running: writes are
// refused while the free space is short of Config.DiskReserve (space.go),
// before Badger would have to allocate. Should a flush still fail with
// ENOSPC (a filesystem whose free space the store cannot see, such as a
// thin-provisioned volume), it sticks like any other flush failure:
// freeing space is not enough, the region must restart. It is not a
// *DiskFullError, so nothing waits for space to come back.

// ErrFlushFailed is matched (errors.Is) by the *FlushError of every write
// refused, and every commit not acknowledged, because a flush of the
// store's logs to disk failed.
var ErrFlushFailed = errors.New("store: a flush to disk failed")

// FlushError is a commit not acknowledged, or a write refused, because a
// group-commit round failed to flush one of Badger's log files (or their
// folder) to disk.
type FlushError struct {
	// File is the base name of the file or folder whose flush failed.
	File string
	// Err is the flush's error (syscall.EIO, syscall.ENOSPC, ...).
	Err error
	// At is when the flush failed.
	At time.Time

	path string // File with its folder, for the log
}

// Error names the file and the cause and says what to do; the folder is
// left out, as the message may reach clients.
func (e *FlushError) Error() string {
	return fmt.Sprintf("store: a flush of %s to disk failed at %s (%v): writes are refused until the region restarts",
		e.File, e.At.UTC().Format(time.RFC3339), e.Err)
}

// Is makes errors.Is(err, ErrFlushFailed) hold.
func (e *FlushError) Is(target error) bool { return target == ErrFlushFailed }

// Unwrap returns the flush's own error.
func (e *FlushError) Unwrap() error { return e.Err }

// flushLatch holds the first flush failure of a store's group commit. It
// is safe for concurrent use.
type flushLatch struct {
	log hclog.Logger
	err atomic.Pointer[FlushError]
}

// set latches e unless a failure is latched already, and returns the
// latched one: every later caller is told of the first failure. The first
// is logged, once.
func (l *flushLatch) set(e *FlushError) *FlushError {
	if !l.err.CompareAndSwap(nil, e) {
		return l.err.Load()
	}
	path := e.path
	if path == "" {
		path = e.File
	}
	l.log.Error("flushing the store's logs to disk failed: commits are no longer acknowledged and writes are refused until the region restarts",
		"file", path, "error", e.Err)
	return e
}

// failure returns the latched failure; nil if none, or for a nil latch.
func (l *flushLatch) failure() error {
	if l == nil {
		return nil
	}
	if e := l.err.Load(); e != nil {
		return e
	}
	return nil
}

// stickFlushFailures makes every write fail once a flush of the group
// commit failed. Each write asks the space guard (admit) before it
// writes; a store that keeps no reserve (DiskReserve negative) gets a
// guard that measures nothing and checks only the latch.
func (db *DB) stickFlushFailures() {
	if db.space == nil {
		db.space = &spaceGuard{dir: db.cfg.Dir, log: db.log, unmeasured: true}
	}
	db.space.flush = &db.group.failed
}

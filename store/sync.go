package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Group commit.
//
// Badger's SyncWrites does not group fsyncs: its single writer goroutine
// batches the waiting commits into one write, but then msyncs the write-ahead
// log once per commit in the batch (writeToLSM calls memTable.SyncWAL per
// request, badger v4.9.6 db.go). Concurrent writers still pay one device
// flush each: on the 2-core test machine 8 writers gained 1.6x over one with
// Badger's SyncWrites, 3.5x with the group commit below.
//
// So with Config.SyncWrites the store opens Badger without SyncWrites and
// makes commits durable itself: a committed transaction joins the next sync
// round and waits for it; one goroutine runs rounds back to back, each
// fsyncing the files that can hold data written before the round began. All
// the commits that finished while a round ran share the next one.
//
// A round fsyncs, through file descriptors of its own (on Linux, fsync
// writes back pages dirtied through Badger's shared mmaps too):
//   - every *.mem file: the active memtable's write-ahead log, and those of
//     immutable memtables not yet flushed (Badger's DB.Sync covers only the
//     active one, so a commit that landed just before a memtable rotation
//     would be missed). A file that is no longer the newest cannot receive
//     writes any more; once fsynced it is skipped.
//   - the *.vlog files the same way, but only when a commit since the last
//     round wrote a value of valueThreshold bytes or more (the others never
//     touch the value log), or value-log GC moved values. A clean fsync
//     still costs a device flush.
//
// Value-log GC moves live values to the newest value-log file, then deletes
// the old file, without an fsync in between when Badger runs without
// SyncWrites. gcLoop runs a round right after each GC pass; a power cut in
// that window of milliseconds could lose the moved values (items of 4 KiB
// and more only).
//
// A file that disappears between listing and fsync was flushed into an
// msynced SSTable and is skipped. WAL order gives the rest: anything written
// before a synced commit (a sequence lease, a backfill batch) is synced with
// it.
//
// Commits become visible to readers when Badger has applied them, before
// their round completes. Changes therefore waits for a round before handing
// records to the publisher, so no other region ever sees a change this
// region could lose.

// syncRound is one fsync pass and the commits waiting for it.
type syncRound struct {
	done    chan struct{}
	err     error
	waiters int
}

// groupSync runs sync rounds for the commits that ask for one.
type groupSync struct {
	// sync makes everything written so far durable; a field so that tests
	// can observe and hold rounds.
	sync func() error

	mu      sync.Mutex // guards pending
	pending *syncRound // the next round, collecting waiters; nil if none
	kick    chan struct{}
	stopped chan struct{} // closed when run returns
	rounds  atomic.Int64
}

func newGroupSync(sync func() error) *groupSync {
	return &groupSync{sync: sync, kick: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// wait returns once a sync round that started after the call has completed.
func (g *groupSync) wait() error {
	g.mu.Lock()
	r := g.pending
	if r == nil {
		r = &syncRound{done: make(chan struct{})}
		g.pending = r
	}
	r.waiters++
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default: // a kick is already queued
	}
	select {
	case <-r.done:
		return r.err
	case <-g.stopped:
		return ErrClosed
	}
}

// run performs rounds until ctx is cancelled.
func (g *groupSync) run(ctx context.Context) {
	defer close(g.stopped)
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.kick:
		}
		g.mu.Lock()
		r := g.pending
		g.pending = nil
		g.mu.Unlock()
		if r == nil {
			continue
		}
		r.err = g.sync()
		g.rounds.Add(1)
		close(r.done)
	}
}

// fileSyncer fsyncs Badger's log files; see the comment at the top of the
// file. sync is called by one goroutine at a time.
type fileSyncer struct {
	dir string
	// vlogDirty is set by writers of values that went to the value log,
	// after they were written; the next sync consumes it.
	vlogDirty atomic.Bool
	clean     map[string]bool // files fsynced after they stopped receiving writes
}

func (s *fileSyncer) sync() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("sync: list %s: %w", s.dir, err)
	}
	exts := []string{".mem"}
	if s.vlogDirty.Swap(false) {
		exts = append(exts, ".vlog")
	}
	for _, ext := range exts {
		var names []string
		newest, newestID := "", int64(-1)
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ext) {
				continue
			}
			id, err := strconv.ParseInt(strings.TrimSuffix(name, ext), 10, 64)
			if err != nil {
				continue
			}
			names = append(names, name)
			if id > newestID {
				newest, newestID = name, id
			}
		}
		for _, name := range names {
			if s.clean[name] {
				continue
			}
			if err := fsyncFile(filepath.Join(s.dir, name)); err != nil {
				return err
			}
			if name != newest {
				s.clean[name] = true
			}
		}
	}
	// Forget files that are gone, so the map stays small.
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		present[e.Name()] = true
	}
	for name := range s.clean {
		if !present[name] {
			delete(s.clean, name)
		}
	}
	return nil
}

func fsyncFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // flushed to an SSTable and deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// markVlogDirty makes the next sync round fsync the value log, for a commit
// that wrote values there without waiting for a round itself.
func (db *DB) markVlogDirty(vlog bool) {
	if vlog && db.files != nil {
		db.files.vlogDirty.Store(true)
	}
}

// durable returns once everything committed before the call is on disk: at
// once without SyncWrites, after a sync round with it. vlog says that the
// caller's writes (or a GC pass) touched the value log; metadata changes
// always pass true (a table's JSON may exceed valueThreshold, and they are
// rare).
func (db *DB) durable(vlog bool) error {
	if db.group == nil {
		return nil
	}
	if vlog {
		db.files.vlogDirty.Store(true)
	}
	return db.group.wait()
}

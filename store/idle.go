package store

import (
	"context"
	"time"
	_ "unsafe" // go:linkname, below

	"github.com/dgraph-io/badger/v4"
)

// Badger's compactors poll: each wakes every 50 ms to look for work
// (levels.go, runCompactor, hard-coded in badger v4.9.6), so the two a store
// runs cost 40 wake-ups a second even when nothing is written. On a small
// machine that is most of what an idle region costs (about 0.5–1 % of a
// core, issue 12). Badger has no option for the interval and no public call
// to pause its compactors, but its own DropAll and Flatten pause and resume
// them with the two methods below; the store calls them while it is idle.
// Were they renamed in a later Badger, the build would fail at link time
// (an undefined symbol), not silently.
//
//go:linkname badgerStopCompactions github.com/dgraph-io/badger/v4.(*DB).stopCompactions
func badgerStopCompactions(db *badger.DB)

//go:linkname badgerStartCompactions github.com/dgraph-io/badger/v4.(*DB).startCompactions
func badgerStartCompactions(db *badger.DB)

// DefaultCompactorIdleAfter is how long no level of the LSM tree must need
// compaction before the store pauses Badger's compactors.
const DefaultCompactorIdleAfter = 10 * time.Second

// idleCheckEvery is how often the idle watcher looks at Badger's levels: how
// late compaction may start once a level needs it (a memtable flush every
// 2 s is 16 MiB/s of writes with 32 MiB memtables). Only a memtable flush
// (which the compactors do not run) or a compaction (which needs them) makes
// a level need compaction; level 0 needs it at 4 tables and Badger stalls
// writes only at 12 (badgerOptions), eight more memtable flushes.
const idleCheckEvery = 2 * time.Second

// compactorPauser is the state of the idle watcher, owned by its goroutine.
type compactorPauser struct {
	bdb      *badger.DB
	paused   bool
	lastBusy time.Time // when a level last needed compaction
}

// idleCompactors pauses Badger's compactors once no level of its LSM tree
// has needed compaction for CompactorIdleAfter, and resumes them within
// idleCheckEvery of one needing it. Writes alone need no compactor: they go
// to the memtable, and only its flush adds a table to level 0.
//
// It returns when ctx ends, leaving the compactors paused or not: Badger's
// Close stops them either way. It must not run while bdb may be swapped
// (reopen.go): it is started only on a writable store, as value-log GC is.
// It reads Badger only through Levels, which takes Badger's locks (not
// MaxVersion, which races with writes in badger v4.9.6).
func (db *DB) idleCompactors(ctx context.Context) {
	p := &compactorPauser{bdb: db.bdb, lastBusy: time.Now()}
	t := time.NewTicker(idleCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			switch p.look(now, db.cfg.CompactorIdleAfter) {
			case pauseNow:
				db.log.Trace("nothing to compact: pausing badger's compactors")
			case resumeNow:
				db.log.Trace("a level needs compaction: resuming badger's compactors")
			}
		}
	}
}

type pauseAction int

const (
	keepAsIs pauseAction = iota
	pauseNow
	resumeNow
)

// look decides from Badger's levels at now whether to pause or resume the
// compactors, and does it.
func (p *compactorPauser) look(now time.Time, idleAfter time.Duration) pauseAction {
	if needsCompaction(p.bdb) {
		p.lastBusy = now
	}
	busy := now.Sub(p.lastBusy) < idleAfter
	switch {
	case p.paused && busy:
		badgerStartCompactions(p.bdb)
		p.paused = false
		return resumeNow
	case !p.paused && !busy:
		badgerStopCompactions(p.bdb)
		p.paused = true
		return pauseNow
	}
	return keepAsIs
}

// needsCompaction reports whether a compactor would find work: Badger
// compacts only levels whose score is at least 1 (pickCompactLevels).
func needsCompaction(bdb *badger.DB) bool {
	for _, l := range bdb.Levels() {
		if l.Score >= 1 {
			return true
		}
	}
	return false
}

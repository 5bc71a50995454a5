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

// DefaultCompactorIdleAfter is how long the store must see no write, with
// no level needing compaction, before it pauses Badger's compactors.
const DefaultCompactorIdleAfter = 10 * time.Second

// idleCheckEvery is how often the idle watcher looks at Badger: how long a
// burst of writes after an idle spell may run before compaction resumes.
// Badger stalls writes only at 12 level-0 tables (badgerOptions), a dozen
// memtable flushes, and a stall would last only until the next look.
const idleCheckEvery = time.Second

// compactorPauser is the state of the idle watcher, owned by its goroutine.
type compactorPauser struct {
	bdb       *badger.DB
	paused    bool
	lastVer   uint64    // Badger's MaxVersion at the last look
	lastWrite time.Time // when lastVer last changed
}

// idleCompactors pauses Badger's compactors once the store has seen no
// write for CompactorIdleAfter and no level needs compacting, and resumes
// them within idleCheckEvery of the next write (or of a level needing
// compaction). It returns when ctx ends, leaving them paused or not: Badger's
// Close stops them either way. It must not run while bdb may be swapped
// (reopen.go): it is started only on a writable store, as value-log GC is.
func (db *DB) idleCompactors(ctx context.Context) {
	p := &compactorPauser{bdb: db.bdb, lastVer: db.bdb.MaxVersion(), lastWrite: time.Now()}
	t := time.NewTicker(idleCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			switch p.look(now, db.cfg.CompactorIdleAfter) {
			case pauseNow:
				db.log.Debug("no writes: pausing badger's compactors")
			case resumeNow:
				db.log.Debug("writes: resuming badger's compactors")
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

// look decides from Badger's state at now whether to pause or resume the
// compactors, and does it.
func (p *compactorPauser) look(now time.Time, idleAfter time.Duration) pauseAction {
	if v := p.bdb.MaxVersion(); v != p.lastVer {
		p.lastVer, p.lastWrite = v, now
	}
	busy := now.Sub(p.lastWrite) < idleAfter || needsCompaction(p.bdb)
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

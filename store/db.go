package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

var (
	// ErrClosed is returned by every method of a closed DB.
	ErrClosed = errors.New("store: closed")
	// ErrTableExists is returned by CreateTable for a name already in use.
	ErrTableExists = errors.New("store: table already exists")
	// ErrTableNotFound is returned for a table that does not exist, or that
	// was deleted (and perhaps re-created) since the caller looked it up.
	ErrTableNotFound = errors.New("store: table not found")
	// ErrIndexNotFound is returned for an index the table does not have.
	ErrIndexNotFound = errors.New("store: index not found")
	// ErrInvalidTable is returned for a table definition the store cannot
	// hold (missing names, key types other than S, N or B, duplicate index
	// names) or an UpdateTable that changes the name, ID or key schema.
	ErrInvalidTable = errors.New("store: invalid table definition")
	// ErrInvalidKey is returned when an item or key lacks a key attribute or
	// has one of the wrong type.
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrInvalidRange is returned for a RangeCond that does not fit the sort
	// key (wrong operand count or type, a condition without a sort key).
	ErrInvalidRange = errors.New("store: invalid range condition")
	// ErrStartOutsideSegment is returned by Scan for a start key that
	// does not belong to the scanned segment.
	ErrStartOutsideSegment = errors.New("store: start key outside the scanned segment")
	// ErrConflict is returned by Update when its transaction kept conflicting
	// with concurrent ones and the retries ran out.
	ErrConflict = errors.New("store: transaction conflict")
	// ErrTxTooBig is returned when a transaction's writes (items, index
	// entries and change records) exceed what one Badger transaction holds
	// (see Config.MemTableSize).
	ErrTxTooBig = errors.New("store: transaction too big")
	// ErrCorrupt is returned when a stored row or record cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrBadChange is returned by DecodeChange for malformed input.
	ErrBadChange = errors.New("store: malformed change record")
)

// DB is the storage of one region. It is safe for concurrent use.
type DB struct {
	cfg   Config
	log   hclog.Logger
	bdb   *badger.DB
	clock Clock
	seq   *badger.Sequence
	// streamSeq numbers stream records and shard boundaries (stream.go),
	// under commitMu like change records.
	streamSeq *badger.Sequence
	group     *groupSync  // nil unless SyncWrites on disk
	files     *fileSyncer // the group's sync, nil with it
	space     *spaceGuard // nil in memory, or with DiskReserve negative and no SyncWrites

	// commitMu serializes the assignment of change sequence numbers with
	// the hand-off of their transaction to Badger, so that sequence order is
	// commit order (see doc.go). It is held only for that hand-off, never
	// across an fsync.
	commitMu sync.Mutex
	// minting holds the versions minted by uncommitted local writes.
	minting inflight
	// durableSeq is the highest change sequence number known to be on
	// disk: every record at or below it is durable, because sequence
	// numbers follow commit order and a sync round covers every commit
	// handed to Badger before it began. Changes hands out records up to it
	// without waiting for a round of its own.
	durableSeq atomic.Uint64
	// handoff holds durable change records for the publisher (handoff.go).
	handoff handoff
	// streamSynced is the highest stream sequence number known to be on
	// disk (streamread.go).
	streamSynced atomic.Uint64
	// conflictSeq is the last conflict sequence number assigned; guarded by
	// commitMu, for the same reason as change sequence numbers.
	conflictSeq uint64
	// conflictCount is the number of records in the conflict log.
	conflictCount atomic.Int64
	// applied counts applied and conflicting changes by source and table.
	applied applyCounts
	// purged is what PurgeTombstones' last pass left (purge.go).
	purged purgeState

	// metaMu serializes metadata changes (CreateTable, UpdateTable,
	// DeleteTable, DropIndex) so that the table cache is updated in commit
	// order. Lock order: metaMu before mu.
	metaMu sync.Mutex

	mu       sync.RWMutex // guards the fields below
	tables   map[string]*cachedTable
	stats    map[uint64]*tableStats // by table ID
	changed  chan struct{}          // closed on the next commit with change records
	closed   bool
	inflight sync.WaitGroup // public calls in progress; Close waits for them
	// readOnly is set while Badger is open read-only (opened on a full
	// disk); reopening is set while reopenWritable swaps bdb, and enter
	// waits on reopened until it is done.
	readOnly  bool
	reopening bool
	reopened  *sync.Cond // on mu

	cancel   context.CancelFunc // stops the background goroutines
	bg       sync.WaitGroup     // background goroutines: value-log GC, sync rounds
	once     sync.Once
	closeErr error

	// afterCommit, when set (tests only), is called by a commit that logs
	// records once Badger has written it, before anything else.
	afterCommit func(*Tx)
}

// Open opens (or creates) the database described by cfg.
func Open(cfg Config) (*DB, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.Named("store")
	space, readOnly, free, err := openSpace(cfg, log)
	if err != nil {
		return nil, err
	}
	var bdb *badger.DB
	if readOnly {
		bdb, err = openReadOnly(cfg, log.Named("badger"))
	} else {
		bdb, err = badger.Open(cfg.badgerOptions(log.Named("badger"), false))
	}
	if err != nil {
		if readOnly {
			return nil, fmt.Errorf("open badger at %s read-only: %w (%w)", cfg.Dir, err,
				&DiskFullError{Dir: cfg.Dir, Free: free, Reserve: uint64(cfg.DiskReserve), ReadOnly: true})
		}
		return nil, fmt.Errorf("open badger at %s: %w", cfg.Dir, err)
	}
	db := &DB{
		cfg:      cfg,
		log:      log,
		bdb:      bdb,
		clock:    cfg.Clock,
		space:    space,
		readOnly: readOnly,
		tables:   make(map[string]*cachedTable),
		stats:    make(map[uint64]*tableStats),
		changed:  make(chan struct{}),
	}
	db.reopened = sync.NewCond(&db.mu)
	if readOnly {
		space.setReadOnly(true, free)
	}
	ctx, cancel := context.WithCancel(context.Background())
	db.cancel = cancel
	if cfg.SyncWrites && !cfg.InMemory {
		// The first round syncs every log file: values written before a
		// crash may sit in any of them.
		db.files = newFileSyncer(cfg.Dir)
		db.files.vlogDirty.Store(true)
		db.group = newGroupSync(db.files.sync, log)
		db.stickFlushFailures()
		db.bg.Add(1)
		go func() {
			defer db.bg.Done()
			defer db.files.close()
			db.group.run(ctx)
		}()
	}
	if err := db.init(); err != nil {
		cancel()
		db.bg.Wait()
		_ = bdb.Close()
		return nil, err
	}
	if readOnly {
		db.bg.Add(1)
		go func() {
			defer db.bg.Done()
			db.reopenWhenSpace(ctx)
		}()
	} else {
		db.startGC(ctx)
	}
	log.Info("opened", "dir", cfg.Dir, "in_memory", cfg.InMemory, "sync_writes", cfg.SyncWrites, "tables", len(db.tables),
		"read_only", readOnly, "disk_reserve", cfg.DiskReserve)
	return db, nil
}

// startGC starts the background work of a writable store: stream
// maintenance, the pausing of idle compactors and value-log GC (the last
// two if the configuration wants them).
func (db *DB) startGC(ctx context.Context) {
	// Stream maintenance writes, so it runs, like GC, only while writable.
	db.bg.Add(1)
	go func() {
		defer db.bg.Done()
		db.streamLoop(ctx)
	}()
	if db.cfg.CompactorIdleAfter > 0 {
		db.bg.Add(1)
		go func() {
			defer db.bg.Done()
			db.idleCompactors(ctx)
		}()
	}
	if !db.cfg.InMemory && db.cfg.GCInterval > 0 {
		db.bg.Add(1)
		go func() {
			defer db.bg.Done()
			db.gcLoop(ctx)
		}()
	}
}

// init loads metadata, finishes interrupted table drops, leases change
// sequence numbers and loads or recounts statistics.
func (db *DB) init() error {
	if err := db.initWrites(); err != nil {
		return err
	}
	if err := db.loadTables(); err != nil {
		return err
	}
	if err := db.loadConflicts(); err != nil {
		return err
	}
	// What the log holds after Open was read back from disk: durable.
	last, err := db.lastChangeSeq()
	if err != nil {
		return err
	}
	db.durableSeq.Store(last)
	return db.loadStats()
}

// initWrites leases change sequence numbers and finishes interrupted table
// drops: the part of init that writes, skipped while read-only and run by
// reopenWritable.
func (db *DB) initWrites() error {
	if db.readOnly {
		return nil
	}
	seq, err := db.bdb.GetSequence(keySeq, seqBandwidth)
	if err != nil {
		return fmt.Errorf("lease change sequence: %w", err)
	}
	db.seq = seq
	if db.streamSeq, err = db.bdb.GetSequence(keyStreamSeq, seqBandwidth); err != nil {
		return fmt.Errorf("lease stream sequence: %w", err)
	}
	return db.resumeDrops()
}

// Close stops background work, waits for calls in progress, saves the
// statistics and closes Badger. It is idempotent.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	db.once.Do(func() {
		db.mu.Lock()
		db.closed = true
		db.reopened.Broadcast()
		close(db.changed) // wake publishers; WaitChanges returns a closed channel from now on
		db.mu.Unlock()
		db.inflight.Wait()
		db.cancel()
		db.bg.Wait()

		var errs []error
		if db.seq != nil {
			if err := db.seq.Release(); err != nil {
				errs = append(errs, fmt.Errorf("release change sequence: %w", err))
			}
		}
		if db.streamSeq != nil {
			if err := db.streamSeq.Release(); err != nil {
				errs = append(errs, fmt.Errorf("release stream sequence: %w", err))
			}
		}
		if refused := db.space.admit(4096, true); db.readOnly || refused != nil {
			// Nothing can be written: the next Open recounts.
			db.log.Warn("statistics not saved: writes are refused; the next start recounts them", "reason", refused)
		} else if err := db.saveStats(); err != nil {
			errs = append(errs, err)
		}
		if db.bdb != nil {
			if err := db.bdb.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close badger: %w", err))
			}
		}
		db.closeErr = errors.Join(errs...)
		db.log.Info("closed")
	})
	return db.closeErr
}

// enter registers a public call; it fails once Close has begun. Every
// successful enter is paired with exit.
func (db *DB) enter() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for db.reopening && !db.closed {
		db.reopened.Wait()
	}
	if db.closed {
		return ErrClosed
	}
	db.inflight.Add(1)
	return nil
}

func (db *DB) exit() { db.inflight.Done() }

// gcLoop runs value-log GC every GCInterval until ctx is cancelled. One GC
// call rewrites at most one file, so it repeats while files get rewritten.
func (db *DB) gcLoop(ctx context.Context) {
	t := time.NewTicker(db.cfg.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rewritten := 0
		// A GC pass rewrites the live values of a file at least half
		// garbage, at most one memtable's worth (a file is two), before it
		// deletes the file: a maintenance write.
		for ctx.Err() == nil && db.space.admit(uint64(db.cfg.MemTableSize), true) == nil {
			err := db.bdb.RunValueLogGC(DefaultGCDiscardRatio)
			if err != nil {
				if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
					db.log.Warn("value-log gc failed", "error", err)
				}
				break
			}
			rewritten++
		}
		if rewritten > 0 {
			db.log.Debug("value-log gc", "files_rewritten", rewritten)
			if err := db.durable(true); err != nil && !errors.Is(err, ErrClosed) {
				db.log.Error("sync after value-log gc failed", "error", err)
			}
		}
	}
}

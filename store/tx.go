package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/conflict"

	"github.com/globaltables/globaltables/store/attr"
)

// ErrTxDone is returned by a Tx used after its Update function returned.
var ErrTxDone = errors.New("store: transaction already finished")

// Retry policy for transactions that conflict: capped exponential backoff
// with jitter, a bounded number of attempts.
const (
	maxAttempts     = 20
	retryBaseDelay  = 500 * time.Microsecond
	retryMaxBackoff = 50 * time.Millisecond
)

// Tx is one read-write transaction, handed to the function given to Update.
// It is not safe for concurrent use, and is invalid once that function has
// returned.
type Tx struct {
	db      *DB
	txn     *badger.Txn
	tables  map[string]*Table // metadata as this transaction reads it
	changes []*Change
	// logged are the change records as logged, for the hand-off.
	logged []EncodedChange
	// conflicts are logged at commit, numbered like changes.
	conflicts []*Conflict
	deltas    map[uint64]*statsDelta // by table ID
	done      bool
	// wrote records that the transaction has writes, which a commit with
	// SyncWrites must wait to be durable.
	wrote bool
	// bigValues records a value of valueThreshold bytes or more, which
	// Badger puts in the value log.
	bigValues bool
	// lazy commits without waiting for a sync round (see applyBatch).
	lazy bool
	// bytes approximates what the writes add to Badger's logs, for the
	// disk-space check at commit.
	bytes uint64
	// minted are the versions this transaction minted, in flight until it
	// is numbered or discarded (inflight.go).
	minted []conflict.Version
	// streamRecs and streamShards are numbered at commit (stream.go).
	streamRecs   []pendingRecord
	streamShards []*pendingShard
	// ttl marks the deletes of DeleteExpired in the stream.
	ttl bool
	// announced is the announcement of Update's write to the group
	// commit, until the commit hands it to durable (arrive).
	announced *announcement
	// row is the item row last read or written (getrow.go).
	row rowMemo
}

// arrive returns the transaction's announcement, which its commit hands to
// durableAs, and clears it, so that Update does not withdraw it.
func (tx *Tx) arrive() announcement {
	if tx.announced == nil {
		return announcement{}
	}
	a := *tx.announced
	*tx.announced = announcement{}
	return a
}

// mint mints the version of a local write replacing prev.
func (tx *Tx) mint(prev conflict.Version) conflict.Version {
	v := tx.db.minting.mint(func() conflict.Version { return tx.db.clock.Next(prev) })
	tx.minted = append(tx.minted, v)
	return v
}

// set writes one key in the transaction.
func (tx *Tx) set(k, v []byte) error {
	if len(v) >= valueThreshold {
		tx.bigValues = true
	}
	tx.wrote = true
	tx.bytes += txBytes(k, v)
	tx.row.forget(k)
	return txErr(tx.txn.Set(k, v))
}

// del deletes one key in the transaction.
func (tx *Tx) del(k []byte) error {
	tx.wrote = true
	tx.bytes += txBytes(k, nil)
	tx.row.forget(k)
	return txErr(tx.txn.Delete(k))
}

// Update runs fn in one atomic Badger read-write transaction and commits it.
// When the commit conflicts with a concurrent transaction (badger.ErrConflict)
// fn is run again on a fresh transaction, up to a bounded number of attempts
// with jittered backoff; ErrConflict is returned when they run out. fn may
// therefore run more than once and must not have other side effects. An error
// from fn aborts the transaction (nothing is written) and is returned
// unchanged.
//
// With SyncWrites, Update returns only after the commit is on disk. On a
// disk short of Config.DiskReserve it writes nothing and returns a
// *DiskFullError.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	if err := db.space.admit(0, false); err != nil {
		return err
	}
	// Announced now, the write makes a sync round that starts while fn
	// runs wait for it (sync.go, gather).
	a := db.announceWrite()
	defer func() { db.withdrawWrite(a) }()
	var fnErr error
	err := retry(ctx, func() error {
		tx := &Tx{db: db, txn: db.bdb.NewTransaction(true), announced: &a}
		defer tx.discard()
		if err := fn(tx); err != nil {
			fnErr = err
			return stopRetry{err}
		}
		return tx.commit()
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// stopRetry carries fn's error through retry without letting errors.Is see a
// badger.ErrConflict inside it.
type stopRetry struct{ err error }

func (s stopRetry) Error() string { return s.err.Error() }

// retry runs f until it returns something other than badger.ErrConflict, at
// most maxAttempts times, sleeping a jittered, doubling delay in between.
func retry(ctx context.Context, f func() error) error {
	return retryN(ctx, maxAttempts, f)
}

// retryN is retry with at most maxAttempts attempts.
func retryN(ctx context.Context, maxAttempts int, f func() error) error {
	delay := retryBaseDelay
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := f()
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("%w: gave up after %d attempts", ErrConflict, attempt)
		}
		// Full jitter over [delay/2, delay*3/2) spreads the writers that
		// collided so that they don't collide again.
		timer := time.NewTimer(delay/2 + rand.N(delay))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		delay = min(2*delay, retryMaxBackoff)
	}
}

func (tx *Tx) discard() {
	tx.done = true
	tx.txn.Discard()
	tx.db.minting.done(tx.minted)
	tx.minted = nil
}

// table returns t's metadata as this transaction sees it. Reading the
// metadata key puts it in the conflict set: a write racing a metadata change
// (an index added, the table dropped) retries and sees the change.
func (tx *Tx) table(t *Table) (*Table, error) {
	if tx.done {
		return nil, ErrTxDone
	}
	if t == nil {
		return nil, fmt.Errorf("%w: nil table", ErrTableNotFound)
	}
	m, ok := tx.tables[t.Name]
	if !ok {
		var err error
		m, err = tx.db.readTable(tx.txn, t.Name)
		if err != nil {
			return nil, err
		}
		if tx.tables == nil {
			tx.tables = make(map[string]*Table)
		}
		tx.tables[t.Name] = m
	}
	if m.ID != t.ID {
		return nil, fmt.Errorf("%w: %s was deleted and re-created", ErrTableNotFound, t.Name)
	}
	return m, nil
}

// tableNamed returns the metadata of the table called name as this
// transaction sees it (joining the conflict set like table), or
// ErrTableNotFound.
func (tx *Tx) tableNamed(name string) (*Table, error) {
	if m, ok := tx.tables[name]; ok {
		return m, nil
	}
	m, err := tx.db.readTable(tx.txn, name)
	if err != nil {
		return nil, err
	}
	if tx.tables == nil {
		tx.tables = make(map[string]*Table)
	}
	tx.tables[name] = m
	return m, nil
}

// Get reads an item row inside the transaction; the row joins the
// transaction's conflict set. key holds at least the key attributes. An
// absent item is the zero Record. The Record's Item and Context are shared
// with the transaction's later reads of the row (getrow.go), and so with
// the old image a Put or Delete of it uses: clone them before changing
// them.
func (tx *Tx) Get(t *Table, key attr.Item) (Record, error) {
	if tx.done {
		return Record{}, ErrTxDone
	}
	k, _, _, err := tableKey(t, key)
	if err != nil {
		return Record{}, err
	}
	return tx.getRow(k)
}

func (tx *Tx) getRow(k []byte) (Record, error) {
	if rec, ok := tx.row.get(k); ok {
		return rec, nil
	}
	rec, err := getRowWith(tx.txn, k, true)
	if err == nil {
		tx.row.remember(k, rec)
	}
	return rec, err
}

// Put writes item (which must hold the table's key attributes) as a new
// version of its row, replacing a live item or a tombstone. The new version
// is Clock.Next(old.Version) and the new context old.Context plus that
// version: the write knowingly supersedes everything the old row's history
// holds, remote writes merged into it included. Put updates the indexes and appends a change
// record, and returns the row it replaced. item must not be modified
// afterwards.
func (tx *Tx) Put(t *Table, item attr.Item) (old Record, err error) {
	m, err := tx.table(t)
	if err != nil {
		return Record{}, err
	}
	k, pk, sk, err := tableKey(m, item)
	if err != nil {
		return Record{}, err
	}
	old, err = tx.getRow(k)
	if err != nil {
		return Record{}, err
	}
	v := tx.mint(old.Version)
	rec := Record{Item: item, Version: v, Prev: old.Version, Context: old.Context.With(v)}
	if err := tx.writeRow(m, k, pk, sk, old, rec); err != nil {
		return Record{}, err
	}
	tx.streamEvent(m, old, rec, false, false)
	tx.changes = append(tx.changes, &Change{
		Table:   m.Name,
		TableID: m.ID,
		Key:     keyOf(item, m.schema()),
		New:     item,
		Old:     old.live(),
		Version: rec.Version,
		Prev:    old.Version,
		Context: rec.Context,
	})
	return old, nil
}

// Delete replaces a live item with a tombstone, updates the indexes, appends
// a change record and returns the item's row as it was. Deleting an absent
// item or a tombstone writes and records nothing (the read still joins the
// conflict set).
func (tx *Tx) Delete(t *Table, key attr.Item) (old Record, err error) {
	m, err := tx.table(t)
	if err != nil {
		return Record{}, err
	}
	k, pk, sk, err := tableKey(m, key)
	if err != nil {
		return Record{}, err
	}
	old, err = tx.getRow(k)
	if err != nil || !old.Exists() {
		return old, err
	}
	v := tx.mint(old.Version)
	rec := Record{Deleted: true, Version: v, Prev: old.Version, Context: old.Context.With(v)}
	if err := tx.writeRow(m, k, pk, sk, old, rec); err != nil {
		return Record{}, err
	}
	tx.streamEvent(m, old, rec, false, tx.ttl)
	tx.changes = append(tx.changes, &Change{
		Table:   m.Name,
		TableID: m.ID,
		Key:     keyOf(old.Item, m.schema()),
		Old:     old.Item,
		Deleted: true,
		Version: rec.Version,
		Prev:    old.Version,
		Context: rec.Context,
	})
	return old, nil
}

// DeleteExpired is Delete made by the time-to-live sweeper: its stream
// record carries the TTL marker (DynamoDB's userIdentity of a service
// delete).
func (tx *Tx) DeleteExpired(t *Table, key attr.Item) (old Record, err error) {
	tx.ttl = true
	defer func() { tx.ttl = false }()
	return tx.Delete(t, key)
}

// writeRow replaces the row at k (whose current content is old) with rec and
// brings every maintained index and the statistics delta in line. It is the
// one place rows change, for local writes and remote ones (Apply).
func (tx *Tx) writeRow(t *Table, k, pk, sk []byte, old, rec Record) error {
	if err := tx.set(k, appendRow(nil, rec)); err != nil {
		return fmt.Errorf("write row: %w", err)
	}
	tx.row.remember(k, rec)
	for _, ix := range t.maintained() {
		oldKey, hadEntry := indexEntryKey(t, ix, old, pk, sk)
		newKey, newVal, hasEntry := indexEntry(t, ix, rec, pk, sk)
		if hadEntry && (!hasEntry || !bytes.Equal(oldKey, newKey)) {
			if err := tx.del(oldKey); err != nil {
				return fmt.Errorf("delete entry of index %s: %w", ix.Name, err)
			}
		}
		if hasEntry {
			if err := tx.set(newKey, newVal); err != nil {
				return fmt.Errorf("write entry of index %s: %w", ix.Name, err)
			}
		}
	}
	d := tx.deltas[t.ID]
	if d == nil {
		if tx.deltas == nil {
			tx.deltas = make(map[uint64]*statsDelta)
		}
		d = &statsDelta{}
		tx.deltas[t.ID] = d
	}
	if old.Exists() {
		d.count--
		d.size -= int64(attr.ItemSize(old.Item))
	}
	if rec.Exists() {
		d.count++
		d.size += int64(attr.ItemSize(rec.Item))
	}
	return nil
}

// indexEntryKey returns the key of rec's entry in ix; ok is false when rec
// is not live or lacks an index key attribute (sparse index). An empty S
// or B value is not a valid key either: writes refuse it once the index
// exists, and items that held one before the index was added are left out
// of it, as DynamoDB's backfill leaves them out.
func indexEntryKey(t *Table, ix *Index, rec Record, pk, sk []byte) (key []byte, ok bool) {
	if !rec.Exists() {
		return nil, false
	}
	ks := ix.schema()
	if emptyKeyValue(rec.Item, ks.hash) || (ks.rng != nil && emptyKeyValue(rec.Item, *ks.rng)) {
		return nil, false
	}
	ipk, isk, ok := ks.encode(rec.Item)
	if !ok {
		return nil, false
	}
	return indexKey(t.ID, ix.ID, ipk, isk, pk, sk), true
}

// indexEntry returns the key and value of rec's entry in ix: the projected
// item with rec's versions.
func indexEntry(t *Table, ix *Index, rec Record, pk, sk []byte) (key, val []byte, ok bool) {
	key, ok = indexEntryKey(t, ix, rec, pk, sk)
	if !ok {
		return nil, nil, false
	}
	proj := Record{Item: project(t, ix, rec.Item), Version: rec.Version, Prev: rec.Prev}
	return key, appendEntry(nil, proj), true
}

// project returns the attributes of item that ix carries: all of them, or
// the table's and the index's keys plus INCLUDE's non-key attributes.
func project(t *Table, ix *Index, item attr.Item) attr.Item {
	switch ix.Projection.Type {
	case "", ProjectionAll:
		return item
	}
	out := keyOf(item, t.schema(), ix.schema())
	if ix.Projection.Type == ProjectionInclude {
		for _, name := range ix.Projection.NonKeyAttributes {
			if v, ok := item[name]; ok {
				out[name] = v
			}
		}
	}
	return out
}

// commit assigns sequence numbers to the change records and the conflicts,
// logs them and commits; with SyncWrites it returns once the commit is
// durable. See doc.go for why the numbering and the hand-off to Badger
// happen under one mutex.
func (tx *Tx) commit() error {
	tx.done = true
	db := tx.db
	if tx.wrote {
		if err := db.space.admit(tx.bytes, false); err != nil {
			return err
		}
	}
	if len(tx.changes) == 0 && len(tx.conflicts) == 0 && len(tx.streamRecs) == 0 && len(tx.streamShards) == 0 {
		db.vlogWriteBegins(tx.bigValues)
		err := tx.txn.Commit()
		db.vlogWriteEnds(tx.bigValues)
		if err != nil {
			return err
		}
		if tx.wrote && !tx.lazy {
			if err := db.durableAs(tx.bigValues, tx.arrive()); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
		}
		db.applyStats(tx.deltas)
		return nil
	}
	done := make(chan error, 1)
	db.commitMu.Lock()
	if err := tx.logRecords(time.Now()); err != nil {
		db.commitMu.Unlock()
		return err
	}
	db.vlogWriteBegins(tx.bigValues)
	tx.txn.CommitWith(func(err error) { done <- err })
	db.commitMu.Unlock()
	err := <-done
	if db.afterCommit != nil {
		db.afterCommit(tx)
	}
	db.vlogWriteEnds(tx.bigValues)
	if err != nil {
		return err
	}
	db.conflictCount.Add(int64(len(tx.conflicts)))
	if tx.lazy {
		db.applyStats(tx.deltas)
		return nil
	}
	if err := db.durableAs(tx.bigValues, tx.arrive()); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.applyStats(tx.deltas)
	if n := len(tx.streamRecs); n > 0 {
		db.markStreamSynced(tx.streamRecs[n-1].rec.Seq)
	}
	if len(tx.changes) > 0 {
		// Durable: raise the watermark and hand the records to the
		// publisher from memory (handoff.go), then wake it.
		db.handOff(tx.logged)
		db.notifyChanges()
	}
	return nil
}

// markDurable raises the durability watermark to seq.
func (db *DB) markDurable(seq uint64) { raise(&db.durableSeq, seq) }

// raise sets a to v unless it is already greater.
func raise(a *atomic.Uint64, v uint64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// logRecords numbers and writes the change records and conflicts; the
// caller holds commitMu. now is the real wall time of the commit: change
// records carry it to measure replication latency, which the hybrid clock
// (possibly skewed forward by a remote region) could not.
func (tx *Tx) logRecords(now time.Time) error {
	db := tx.db
	if len(tx.minted) > 0 {
		// This transaction's later records are numbered after each
		// one: a record's floor stays at or below their versions.
		floor := db.minting.floor(tx.minted)
		for i := len(tx.changes) - 1; i >= 0; i-- {
			if c := tx.changes[i]; c.Kind == ChangeItem {
				c.Floor = floor
				if c.Version.Less(floor) {
					floor = c.Version
				}
			}
		}
	}
	for _, c := range tx.changes {
		seq, err := db.nextSeq()
		if err != nil {
			return err
		}
		c.Seq, c.CommittedAt = seq, now
		if err := tx.logChange(c); err != nil {
			return fmt.Errorf("log change: %w", err)
		}
	}
	// Numbered: a later record's floor may pass these versions.
	db.minting.done(tx.minted)
	tx.minted = nil
	if err := tx.logStreams(now); err != nil {
		return err
	}
	for _, c := range tx.conflicts {
		db.conflictSeq++ // a failed commit leaves a gap, as for changes
		c.Seq = db.conflictSeq
		if err := tx.set(conflictKey(c.Seq), appendConflict(nil, c)); err != nil {
			return fmt.Errorf("log conflict: %w", err)
		}
	}
	return nil
}

// nextSeq returns the next change sequence number; 0 is skipped so that
// Changes(0, n) means "from the start".
func (db *DB) nextSeq() (uint64, error) {
	for {
		n, err := db.seq.Next()
		if err != nil {
			return 0, fmt.Errorf("next change sequence: %w", err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// txErr maps Badger's transaction-size errors to ErrTxTooBig, keeping
// Badger's error in the chain.
func txErr(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("%w: %w", ErrTxTooBig, err)
	}
	return err
}

// emptyKeyValue reports whether item's value of the key attribute el is an
// empty string or binary.
func emptyKeyValue(item attr.Item, el KeyElement) bool {
	v, ok := item[el.Name]
	return ok && ((v.Type == attr.TypeS && v.S == "") || (v.Type == attr.TypeB && len(v.B) == 0))
}

package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store/attr"
)

// ApplyStats says what Apply did. Every change given is counted once in
// Applied (it replaced the local row), Duplicates (the local row already
// was that write) or Skipped (older or already covered, a control record, an
// unknown table, a malformed change). Conflicts counts the entries added to
// the conflict log: changes concurrent with the local row, whichever won,
// unless both were deletes.
type ApplyStats struct{ Applied, Skipped, Duplicates, Conflicts int }

func (s *ApplyStats) add(o ApplyStats) {
	s.Applied += o.Applied
	s.Skipped += o.Skipped
	s.Duplicates += o.Duplicates
	s.Conflicts += o.Conflicts
}

// Apply applies item changes from another region in one transaction, by
// last-writer-wins (conflict.Classify on the local row's version and context
// and the change's), and, if cursor > 0, records cursor as the last applied
// stream sequence of source in the same transaction, so a crash never
// separates the two. Control records and changes for tables that do not
// exist locally are skipped (counted): the region applies control records
// itself, and a table it does not replicate has nowhere to go.
//
// A change that replaces the local row writes it with the remote version,
// Prev and the merged context (local ∪ incoming); one that loses but was
// concurrent rewrites only the local row's context, merged, so that contexts
// converge as well as items; a duplicate or an older, already covered change
// writes nothing. Every concurrent pair but two deletes is recorded in the
// conflict log. Every change's version is observed by the clock, so a later
// local write supersedes it. Apply logs no change records (no echo). With
// SyncWrites it returns once the commit is durable.
//
// Changes are applied in order, so a batch may hold several changes of one
// key. A batch too big for one Badger transaction is split into several,
// the cursor written with the last; if Apply fails part way, the earlier
// parts stay applied, which is harmless (applying is idempotent) and the
// returned stats count them. Transactions that conflict with local writes
// are retried, and a batch that keeps conflicting is split likewise.
func (db *DB) Apply(ctx context.Context, source string, cursor uint64, changes []*Change) (ApplyStats, error) {
	return db.apply(ctx, source, cursor, changes, false)
}

// apply is Apply; lazy commits without waiting for a sync round even
// without a cursor (ApplyCopy).
func (db *DB) apply(ctx context.Context, source string, cursor uint64, changes []*Change, lazy bool) (ApplyStats, error) {
	if err := db.enter(); err != nil {
		return ApplyStats{}, err
	}
	defer db.exit()
	// On a full disk nothing is applied: the caller keeps the changes
	// (a link does not acknowledge them) and tries again later.
	if err := db.space.admit(0, false); err != nil {
		return ApplyStats{}, fmt.Errorf("apply %d changes from %s: %w", len(changes), source, err)
	}
	var total ApplyStats
	rest, n := changes, len(changes)
	for len(rest) > 0 || cursor > 0 {
		n = min(n, len(rest))
		last := n == len(rest)
		var cur uint64
		if last {
			cur = cursor
		}
		attempts := maxAttempts
		if n > 1 {
			attempts = applySplitAttempts
		}
		st, fit, err := db.applyBatch(ctx, source, cur, rest[:n], attempts, lazy)
		if errors.Is(err, ErrConflict) && n > 1 {
			// Local writers keep changing keys of the batch: a smaller
			// transaction reads fewer of them and stays short.
			n /= 2
			continue
		}
		if errors.Is(err, ErrTxTooBig) && n > 1 {
			// Retry with what fitted, less a margin for the conflict
			// records and cursor written at commit.
			if fit > 0 && fit < n {
				n = max(1, fit-fit/8)
			} else {
				n /= 2
			}
			continue
		}
		if err != nil {
			return total, fmt.Errorf("apply %d changes from %s: %w", n, source, err)
		}
		total.add(st)
		rest = rest[n:]
		if last {
			break
		}
	}
	return total, nil
}

// applySplitAttempts is how many times a batch of several changes is tried
// against conflicting local writes before Apply halves it.
const applySplitAttempts = 4

// applyBatch applies changes and the cursor (unless 0) in one transaction,
// tried up to attempts times on conflict. fit is how many changes were
// written when the transaction failed.
func (db *DB) applyBatch(ctx context.Context, source string, cursor uint64, changes []*Change, attempts int, lazy bool) (st ApplyStats, fit int, err error) {
	err = retryN(ctx, attempts, func() error {
		tx := &Tx{db: db, txn: db.bdb.NewTransaction(true), lazy: lazy}
		defer tx.discard()
		a := applier{tx: tx, source: source, rows: make(map[string]Record, len(changes))}
		for i, c := range changes {
			if err := a.apply(c); err != nil {
				fit = i
				return err
			}
		}
		fit = len(changes)
		if cursor > 0 {
			if err := tx.set(cursorKey(source), binary.BigEndian.AppendUint64(nil, cursor)); err != nil {
				return fmt.Errorf("write cursor: %w", err)
			}
			// What this region has received of the source's own writes,
			// for a rebuild after a long absence (rebuild.go).
			if err := tx.raiseWatermark(source, maxFloor(source, changes)); err != nil {
				return err
			}
			// A live apply need not wait for an fsync round: its
			// cursor commits with it, so a crash before the round loses
			// both, and the link applies the same changes again from the
			// stream. Skipping the wait takes a round off every change's
			// replication latency. Applies without a cursor (catch-up,
			// snapshots) wait: nothing would replay them.
			tx.lazy = true
		}
		st = a.stats
		if err := tx.commit(); err != nil {
			return err
		}
		db.applied.add(source, a.tables)
		return nil
	})
	return st, fit, err
}

// applier applies the changes of one transaction.
type applier struct {
	tx     *Tx
	source string
	// rows holds the rows this transaction has read or written, by key: a
	// later change of the same key sees the earlier one without decoding it
	// back from Badger's pending writes.
	rows  map[string]Record
	stats ApplyStats
	// tables counts the same by table, for ApplyCounts.
	tables []tableApplyCount
}

func (a *applier) skip(c *Change, why string) {
	a.stats.Skipped++
	a.tx.db.log.Warn("skipping malformed remote change", "source", a.source, "table", c.Table, "version", c.Version.Token(), "reason", why)
}

func (a *applier) apply(c *Change) error {
	tx, db := a.tx, a.tx.db
	if !c.Version.IsZero() {
		db.clock.Observe(c.Version)
	}
	if c.Kind != ChangeItem {
		a.stats.Skipped++
		return nil
	}
	m, err := tx.tableNamed(c.Table)
	if errors.Is(err, ErrTableNotFound) {
		a.stats.Skipped++
		return nil
	}
	if err != nil {
		return err
	}
	if c.Version.IsZero() {
		a.skip(c, "no version")
		return nil
	}
	keySrc := c.Key
	if !c.Deleted {
		keySrc = c.New
	}
	k, pk, sk, err := tableKey(m, keySrc)
	if err != nil {
		a.skip(c, err.Error())
		return nil
	}
	old, ok := a.rows[string(k)]
	if !ok {
		if old, err = tx.getRow(k); err != nil {
			return err
		}
	}
	in := c.Context
	if len(in) == 0 {
		// A change from before contexts: its writer had seen what it
		// replaced.
		in = in.With(c.Prev)
	}
	in = in.With(c.Version)
	v := conflict.Classify(old.Version, old.Context, c.Version, in)
	merged := old.Context.Merge(in)

	rec := old
	if v.Outcome == conflict.Replace {
		rec = Record{Version: c.Version, Prev: c.Prev, Context: merged, Deleted: c.Deleted}
		if !c.Deleted {
			rec.Item = c.New
		}
		if err := tx.writeRow(m, k, pk, sk, old, rec); err != nil {
			return err
		}
		tx.streamEvent(m, old, rec, v.Concurrent && old.Version.Region == db.cfg.Region, false)
		a.stats.Applied++
	} else {
		if v.Duplicate {
			a.stats.Duplicates++
		} else {
			a.stats.Skipped++
		}
		if !merged.Equal(old.Context) {
			// Same item and version, so indexes and statistics stand.
			rec.Context = merged
			if err := tx.set(k, appendRow(nil, rec)); err != nil {
				return fmt.Errorf("write row context: %w", err)
			}
		}
	}
	a.rows[string(k)] = rec

	concurrent := v.Concurrent && (!old.Deleted || !c.Deleted) // two deletes lose nothing
	a.tables = countApply(a.tables, m.Name, v.Outcome == conflict.Replace, concurrent)
	if concurrent {
		a.stats.Conflicts++
		a.recordConflict(m, keySrc, old, c, v.Outcome == conflict.Replace)
	}
	return nil
}

func (a *applier) recordConflict(m *Table, key attr.Item, local Record, c *Change, incomingWon bool) {
	var inItem attr.Item
	if !c.Deleted {
		inItem = c.New
	}
	cf := &Conflict{
		Table:      m.Name,
		Key:        keyOf(key, m.schema()),
		Region:     a.tx.db.cfg.Region,
		Source:     a.source,
		DetectedAt: time.Now(),
	}
	if incomingWon {
		cf.Winner, cf.WinnerItem = c.Version, inItem
		cf.Loser, cf.LoserItem = local.Version, local.live()
	} else {
		cf.Winner, cf.WinnerItem = local.Version, local.live()
		cf.Loser, cf.LoserItem = c.Version, inItem
	}
	a.tx.conflicts = append(a.tx.conflicts, cf)
}

// Cursor returns the last stream sequence applied from source (0 if none).
func (db *DB) Cursor(source string) (uint64, error) {
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.exit()
	var seq uint64
	err := db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(cursorKey(source))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			seq, err = decodeCursor(v)
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("read cursor of %s: %w", source, err)
	}
	return seq, nil
}

func decodeCursor(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: cursor of %d bytes", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// SetCursor records the cursor of source without applying anything: after
// control records, which the region applies itself, or to restart from
// another position. It sets the value given, even if lower.
func (db *DB) SetCursor(source string, cursor uint64) error {
	err := db.Update(context.Background(), func(tx *Tx) error {
		return tx.set(cursorKey(source), binary.BigEndian.AppendUint64(nil, cursor))
	})
	if err != nil {
		return fmt.Errorf("set cursor of %s: %w", source, err)
	}
	return nil
}

// Cursors returns every source's cursor.
func (db *DB) Cursors() (map[string]uint64, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	out := make(map[string]uint64)
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{prefixCursor}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				seq, err := decodeCursor(v)
				out[string(item.Key()[1:])] = seq
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cursors: %w", err)
	}
	return out, nil
}

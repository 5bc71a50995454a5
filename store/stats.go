package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/store/attr"
)

// tableStats counts a table's live items and their DynamoDB size.
type tableStats struct {
	count, size atomic.Int64
}

// statsDelta is one transaction's change to a table's statistics, applied
// after the transaction commits.
type statsDelta struct {
	count, size int64
}

// Stats returns the number of live items of a table (tombstones excluded)
// and their total size in bytes as DynamoDB measures it. It reads memory
// only. An unknown table has zero of both.
func (db *DB) Stats(table string) (itemCount, sizeBytes int64) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	c, ok := db.tables[table]
	if !ok {
		return 0, 0
	}
	s := db.stats[c.t.ID]
	if s == nil {
		return 0, 0
	}
	return s.count.Load(), s.size.Load()
}

func (db *DB) applyStats(deltas map[uint64]*statsDelta) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	for id, d := range deltas {
		if s := db.stats[id]; s != nil { // nil: the table was dropped meanwhile
			s.count.Add(d.count)
			s.size.Add(d.size)
		}
	}
}

// saveStats writes the statistics for the next Open; Close calls it once no
// call is in progress.
func (db *DB) saveStats() error {
	snap := make(map[uint64][2]int64, len(db.stats))
	for id, s := range db.stats {
		snap[id] = [2]int64{s.count.Load(), s.size.Load()}
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("save stats: %w", err)
	}
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Set(keyStats, b) }); err != nil {
		return fmt.Errorf("save stats: %w", err)
	}
	return nil
}

// loadStats restores the statistics saved by the last Close and deletes the
// snapshot, so that a crash before the next Close forces a recount.
func (db *DB) loadStats() error {
	for _, c := range db.tables {
		db.stats[c.t.ID] = &tableStats{}
	}
	var snap map[uint64][2]int64
	err := db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyStats)
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &snap) })
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return db.recountStats()
	case err != nil:
		db.log.Warn("stats snapshot unreadable, recounting", "error", err)
		return db.recountStats()
	}
	for id, v := range snap {
		if s := db.stats[id]; s != nil {
			s.count.Store(v[0])
			s.size.Store(v[1])
		}
	}
	return db.consumeStatsSnapshot()
}

// consumeStatsSnapshot deletes the statistics snapshot once loaded, so that
// a crash before the next Close forces a recount. A read-only store keeps
// it until reopenWritable calls this again.
func (db *DB) consumeStatsSnapshot() error {
	if db.readOnly {
		return nil
	}
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(keyStats) }); err != nil {
		return fmt.Errorf("consume stats snapshot: %w", err)
	}
	if !db.cfg.InMemory {
		if err := db.bdb.Sync(); err != nil {
			return fmt.Errorf("consume stats snapshot: %w", err)
		}
	}
	return nil
}

// recountStats counts every live row. It runs at Open after a crash.
func (db *DB) recountStats() error {
	rows := 0
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{prefixItem}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 9 {
				continue
			}
			s := db.stats[binary.BigEndian.Uint64(k[1:9])]
			if s == nil {
				continue // a dropped table not yet purged
			}
			rec, err := itemRowWith(item, false)
			if err != nil {
				return err
			}
			rows++
			if rec.Exists() {
				s.count.Add(1)
				s.size.Add(int64(attr.ItemSize(rec.Item)))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recount stats: %w", err)
	}
	db.log.Info("recounted table statistics", "rows", rows)
	return nil
}

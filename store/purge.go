package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// purgeBatch bounds the rows one PurgeTombstones transaction examines.
const purgeBatch = 1000

// purgeState lets PurgeTombstones look only at the rows written since its
// last pass while no tombstone it left can have come due: a purge loop
// runs a few times per horizon, and reading every row of a large table
// each time cost a region a fifth of a core with a horizon of seconds.
type purgeState struct {
	mu sync.Mutex // held through a purge: one at a time
	// since is the Badger read timestamp at which the last complete pass
	// began, 0 before the first: every row written after it has a greater
	// version (Badger hands out read timestamps only once every commit
	// below them is visible).
	since uint64
	// due is the least version wall time among the tombstones the passes
	// since the last full one left (math.MaxInt64: none). While the cutoff
	// is at or before it, none of them can be purged.
	due int64
}

// PurgeTombstones deletes the tombstones (of every table) whose version's
// wall time is before cutoff, and returns how many it deleted. Each batch of
// rows is examined and purged in one transaction whose conflict set holds
// the rows, so a concurrent write of the same key either commits first (and
// the purge, retried, sees it) or retries after the purge.
//
// A pass reads every row only when a tombstone left by an earlier pass may
// have come due (or on the first pass); otherwise it reads only the rows
// written since the last pass began (Badger's IteratorOptions.SinceTs, which
// skips whole tables older than that). A row it does not read either was
// read by an earlier pass and is not a tombstone, or is a tombstone that
// pass left, newer than cutoff.
//
// A purged tombstone no longer stops an older put from resurrecting the
// item: cutoff must be older than any change still on its way, that is than
// the change streams' retention; a region away for longer re-syncs and
// rebuilds (docs/replication.md, "Back after longer than the tombstone
// horizon").
func (db *DB) PurgeTombstones(ctx context.Context, cutoff time.Time) (int, error) {
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.exit()
	ps := &db.purged
	ps.mu.Lock()
	defer ps.mu.Unlock()
	cut := cutoff.UnixNano()
	p := purgePass{cut: cut, due: math.MaxInt64}
	if ps.since != 0 && cut <= ps.due {
		p.since, p.due = ps.since, ps.due
	}
	total := 0
	for start := []byte{prefixItem}; start != nil; {
		var n int
		var next []byte
		limit := purgeBatch
		err := retry(ctx, func() error {
			var err error
			n, next, err = db.purgeBatch(&p, start, limit)
			if errors.Is(err, badger.ErrConflict) && limit > 1 {
				// Every row examined is in the conflict set: under busy
				// writers a smaller batch collides with fewer of them.
				limit /= 2
			}
			return err
		})
		if err != nil {
			return total, fmt.Errorf("purge tombstones: %w", err)
		}
		total += n
		start = next
	}
	ps.since, ps.due = p.began, p.due
	if total > 0 {
		db.log.Debug("purged tombstones", "count", total, "cutoff", cutoff)
	}
	return total, nil
}

// purgePass is one PurgeTombstones pass.
type purgePass struct {
	cut int64
	// since is the read timestamp of the pass whose rows need no second
	// look (0: read every row).
	since uint64
	// due is the least wall time of the tombstones left (purgeState.due);
	// began the read timestamp of the pass's first transaction.
	due   int64
	began uint64
}

// purgeBatch purges the old tombstones among up to limit rows from start
// on; next is where the next batch starts, nil at the end.
func (db *DB) purgeBatch(p *purgePass, start []byte, limit int) (n int, next []byte, err error) {
	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()
	if p.began == 0 {
		p.began = txn.ReadTs()
	}
	err = func() error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{prefixItem}
		opts.PrefetchValues = false
		opts.SinceTs = p.since
		it := txn.NewIterator(opts)
		defer it.Close()
		examined := 0
		for it.Seek(start); it.Valid(); it.Next() {
			item := it.Item() // joins the conflict set
			if examined == limit {
				next = item.KeyCopy(nil)
				return nil
			}
			examined++
			if item.ValueSize() >= valueThreshold {
				continue // a large live item; a tombstone is a few bytes
			}
			var old bool
			err := item.Value(func(v []byte) error {
				rec, _, err := decodeRowHeader(v, false)
				if err == nil && rec.Deleted {
					old = rec.Version.Wall < p.cut
					if !old {
						p.due = min(p.due, rec.Version.Wall)
					}
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("row %x: %w", item.Key(), err)
			}
			if old {
				if err := txn.Delete(item.KeyCopy(nil)); err != nil {
					return txErr(err)
				}
				n++
			}
		}
		return nil
	}()
	if err != nil {
		return 0, nil, err
	}
	if n == 0 {
		return 0, next, nil
	}
	if err := db.space.admit(uint64(n)*txBytes(nil, nil), true); err != nil {
		return 0, nil, err
	}
	if err := txn.Commit(); err != nil {
		return 0, nil, err
	}
	return n, next, nil
}

package region

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// ttlHorizon is how far in the past an expiry time may lie and still be
// honoured. DynamoDB ignores TTL values more than five years old, so that a
// millisecond timestamp mistaken for seconds, or a date field, does not wipe
// a table.
const ttlHorizon = 5 * 365 * 24 * time.Hour

// sweepBatch bounds how many expired keys one pass collects before deleting
// them, so a table full of expired items is worked through in steps.
const sweepBatch = 256

// sweeper deletes items whose time-to-live attribute has passed. Deletes go
// through the store's ordinary write path, so they leave tombstones, update
// indexes and produce change records that replicate like any delete.
type sweeper struct {
	db       *store.DB
	log      hclog.Logger
	now      func() time.Time
	interval time.Duration
}

// Run sweeps every interval until ctx is cancelled.
func (s *sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.sweepAll(ctx)
		// A full disk is logged by the store when it starts and ends, a
		// failed flush once.
		if err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrDiskFull) && !errors.Is(err, store.ErrFlushFailed) {
			s.log.Warn("ttl sweep failed", "error", err)
		}
		if n > 0 {
			s.log.Debug("ttl sweep deleted expired items", "count", n)
		}
	}
}

// sweepAll makes one pass over every table with TTL enabled and returns how
// many items it deleted.
func (s *sweeper) sweepAll(ctx context.Context) (int, error) {
	tables, err := s.db.Tables()
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range tables {
		if !t.TTLEnabled || t.TTLAttribute == "" || t.Status != "ACTIVE" {
			continue
		}
		n, err := s.sweepTable(ctx, t)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// expired reports whether an item's TTL attribute has passed at now.
func expired(it attr.Item, name string, now time.Time) bool {
	v, ok := it[name]
	if !ok || v.Type != attr.TypeN {
		return false
	}
	secs, err := strconv.ParseFloat(v.N, 64)
	if err != nil {
		return false
	}
	at := time.Unix(0, 0).Add(time.Duration(secs * float64(time.Second)))
	return at.Before(now) && now.Sub(at) <= ttlHorizon
}

func (s *sweeper) sweepTable(ctx context.Context, t *store.Table) (int, error) {
	deleted := 0
	var start attr.Item
	for {
		now := s.now()
		var keys []attr.Item
		var last attr.Item
		more := false
		err := s.db.Scan(store.ScanInput{Table: t, TotalSegments: 1, Start: start}, func(it, lk attr.Item) bool {
			last = lk
			if expired(it, t.TTLAttribute, now) {
				keys = append(keys, keyOf(t, it))
				if len(keys) >= sweepBatch {
					more = true
					return false
				}
			}
			return true
		})
		if err != nil {
			return deleted, err
		}
		for _, k := range keys {
			ok, err := s.deleteIfExpired(ctx, t, k, now)
			if err != nil {
				return deleted, err
			}
			if ok {
				deleted++
			}
		}
		if !more || ctx.Err() != nil {
			return deleted, ctx.Err()
		}
		start = last
	}
}

// deleteIfExpired deletes the item if it is still expired when the delete
// runs: a write that extended or removed its TTL in the meantime wins.
func (s *sweeper) deleteIfExpired(ctx context.Context, t *store.Table, key attr.Item, now time.Time) (bool, error) {
	deleted := false
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		deleted = false
		rec, err := tx.Get(t, key)
		if err != nil {
			return err
		}
		if rec.Deleted || rec.Version.IsZero() || !expired(rec.Item, t.TTLAttribute, now) {
			return nil
		}
		if _, err := tx.DeleteExpired(t, key); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	return deleted, err
}

func keyOf(t *store.Table, it attr.Item) attr.Item {
	k := attr.Item{t.Hash.Name: it[t.Hash.Name]}
	if t.Range != nil {
		k[t.Range.Name] = it[t.Range.Name]
	}
	return k
}

package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store/attr"
)

// prefixWatermark keys hold, per source, the greatest version written by
// that source that this region applied from the source's own stream:
// w | source → conflict.Version.AppendBinary. See Watermarks.
const prefixWatermark byte = 'w'

func watermarkKey(source string) []byte {
	k := make([]byte, 0, 1+len(source))
	return append(append(k, prefixWatermark), source...)
}

// maxFloor returns the greatest floor (Change.Floor) among the item changes
// written by source itself (zero if none).
func maxFloor(source string, changes []*Change) conflict.Version {
	var m conflict.Version
	for _, c := range changes {
		if c.Kind == ChangeItem && c.Version.Region == source && c.Floor.Compare(m) > 0 {
			m = c.Floor
		}
	}
	return m
}

// raiseWatermark writes w|source = v in tx if v is greater than what it
// holds.
func (tx *Tx) raiseWatermark(source string, v conflict.Version) error {
	if v.IsZero() {
		return nil
	}
	k := watermarkKey(source)
	item, err := tx.txn.Get(k)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return fmt.Errorf("read watermark of %s: %w", source, err)
	default:
		var cur conflict.Version
		if err := item.Value(func(b []byte) error {
			cur, _, err = conflict.DecodeVersion(b)
			return err
		}); err != nil {
			return fmt.Errorf("%w: watermark of %s: %w", ErrCorrupt, source, err)
		}
		if v.Compare(cur) <= 0 {
			return nil
		}
	}
	return tx.set(k, v.AppendBinary(nil))
}

// Watermarks returns, per source region, the greatest floor
// (Change.Floor) among the source's own writes that this region applied
// from the source's stream (Apply with a cursor): this region has received
// every write of the source whose version is below it. Snapshot and
// catch-up applies (cursor 0) do not move it.
func (db *DB) Watermarks() (map[string]conflict.Version, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	out := map[string]conflict.Version{}
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{prefixWatermark}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(b []byte) error {
				v, _, err := conflict.DecodeVersion(b)
				if err != nil {
					return fmt.Errorf("%w: watermark %q: %w", ErrCorrupt, item.Key()[1:], err)
				}
				out[string(item.Key()[1:])] = v
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read watermarks: %w", err)
	}
	return out, nil
}

// keyItem returns the item holding c's key attributes: the new image of a
// put (a put may carry no Key), the key of a delete.
func keyItem(c *Change) attr.Item {
	if !c.Deleted && c.New != nil {
		return c.New
	}
	return c.Key
}

// RowKeys returns, for each row of table (item changes, as ExportTable
// gives them), an opaque string identifying its key, equal in every region
// for the same key.
func (db *DB) RowKeys(table string, rows []*Change) ([]string, error) {
	t, err := db.Table(table)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, c := range rows {
		k, _, _, err := tableKey(t, keyItem(c))
		if err != nil {
			return nil, err
		}
		out[i] = string(k[len(itemPrefix(t.ID)):])
	}
	return out, nil
}

// Lacking reports, for each row of table, whether this region holds nothing
// at all for its key: neither an item nor a tombstone. It reads no row's
// value.
func (db *DB) Lacking(table string, rows []*Change) ([]bool, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	out := make([]bool, len(rows))
	err := db.bdb.View(func(txn *badger.Txn) error {
		t, err := db.readTable(txn, table)
		if err != nil {
			return err
		}
		for i, c := range rows {
			k, _, _, err := tableKey(t, keyItem(c))
			if err != nil {
				return err
			}
			_, err = txn.Get(k)
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
				out[i] = true
			case err != nil:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up rows of %s: %w", table, err)
	}
	return out, nil
}

// selectPage bounds the rows SelectRows reads in one snapshot.
const selectPage = 4096

// SelectRows reads every row of table in key order, tombstones included,
// and returns those keep wants, as item changes carrying Key, Version,
// Deleted and Table (no item). keep is given the row's key as RowKeys
// gives it, whether it is a tombstone, and its version; items are not
// decoded, so a pass over a large table to find a few rows costs little.
// Each selectPage rows are read in one snapshot.
func (db *DB) SelectRows(table string, keep func(key string, deleted bool, v conflict.Version) bool) ([]*Change, error) {
	return db.SelectRowsBetween(table, "", "", keep)
}

// SelectRowsBetween is SelectRows for the rows whose keys (as RowKeys
// gives them) are after after and at most through: "" leaves that end
// open. A rebuild compares each snapshot page with the local rows of the
// page's key range, before the page is applied, rather than the whole
// local copy with every key it was sent once the copy is done.
func (db *DB) SelectRowsBetween(table, after, through string, keep func(key string, deleted bool, v conflict.Version) bool) ([]*Change, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	var out []*Change
	var from []byte
	if after != "" {
		from = []byte(after)
	}
	for after := from; ; {
		var next []byte
		err := db.bdb.View(func(txn *badger.Txn) error {
			t, base, it, err := db.tableRows(txn, table, after, 0)
			if err != nil {
				return err
			}
			defer it.Close()
			n := 0
			for ; it.Valid(); it.Next() {
				item := it.Item()
				if n == selectPage {
					next = after
					return nil
				}
				n++
				if through != "" && string(item.Key()[len(base):]) > through {
					return nil // next stays nil: done
				}
				var rec Record
				err := item.Value(func(v []byte) error {
					var err error
					rec, _, err = decodeRowHeader(v, false)
					return err
				})
				if err != nil {
					return fmt.Errorf("row %x: %w", item.Key(), err)
				}
				after = item.KeyCopy(after[:0])[len(base):]
				if !keep(string(after), rec.Deleted, rec.Version) {
					continue
				}
				key, err := rowKeyItem(t, item.Key())
				if err != nil {
					return err
				}
				out = append(out, &Change{Kind: ChangeItem, Table: t.Name, TableID: t.ID, Key: key, Version: rec.Version, Deleted: rec.Deleted})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("select rows of %s: %w", table, err)
		}
		if next == nil {
			return out, nil
		}
		after = bytes.Clone(next)
	}
}

// DropStale removes live items of table that a rebuild found deleted
// elsewhere: each row whose item is still live at the version given becomes
// a tombstone at that same version (indexes and statistics follow), with no
// change record, so the removal is local: nothing replicates, and a
// snapshot of this region serves the tombstone, which every region already
// holds or that supersedes nothing newer. A row written since (another
// version) is left alone. It returns how many rows it removed.
func (db *DB) DropStale(ctx context.Context, table string, rows []*Change) (int, error) {
	dropped := 0
	for len(rows) > 0 {
		n := min(len(rows), 256)
		batch := rows[:n]
		rows = rows[n:]
		var got int
		err := db.Update(ctx, func(tx *Tx) error {
			got = 0
			m, err := tx.tableNamed(table)
			if err != nil {
				return err
			}
			for _, c := range batch {
				k, pk, sk, err := tableKey(m, keyItem(c))
				if err != nil {
					return err
				}
				old, err := tx.getRow(k)
				if err != nil {
					return err
				}
				if !old.Exists() || old.Version != c.Version {
					continue
				}
				rec := Record{Deleted: true, Version: old.Version, Prev: old.Prev, Context: old.Context}
				if err := tx.writeRow(m, k, pk, sk, old, rec); err != nil {
					return err
				}
				got++
			}
			return nil
		})
		if err != nil {
			return dropped, fmt.Errorf("drop stale rows of %s: %w", table, err)
		}
		dropped += got
	}
	return dropped, nil
}

package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/store/attr"
)

// DefaultExportMax is how many rows ExportTable returns when limit is not
// positive.
const DefaultExportMax = 256

// ExportTable returns up to limit rows of the table in key order after the
// position after (nil: from the start), tombstones included (a replica
// that missed a delete must still learn it), as Changes: Seq 0, Kind
// ChangeItem, Key, New or Deleted, Version, Prev, Context, Table and the
// local TableID. It also returns the position to continue from, nil when
// done. The position is opaque (the row key below the table's prefix), so it
// is valid in any region holding the table. Each call reads one consistent
// snapshot; rows written between calls may or may not be seen, which is
// harmless to a receiver that applies both the rows and the live changes by
// last-writer-wins. Applying the rows is Apply(ctx, source, 0, rows).
func (db *DB) ExportTable(table string, after []byte, limit int) ([]*Change, []byte, error) {
	if err := db.enter(); err != nil {
		return nil, nil, err
	}
	defer db.exit()
	if limit <= 0 {
		limit = DefaultExportMax
	}
	var out []*Change
	var next []byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		t, base, it, err := db.tableRows(txn, table, after, min(limit, 100))
		if err != nil {
			return err
		}
		defer it.Close()
		var lastKey []byte
		for ; it.Valid(); it.Next() {
			item := it.Item()
			if len(out) == limit {
				next = bytes.Clone(lastKey[len(base):])
				return nil
			}
			c, err := exportRow(t, item)
			if err != nil {
				return err
			}
			out = append(out, c)
			lastKey = item.KeyCopy(lastKey[:0])
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("export table %s: %w", table, err)
	}
	return out, next, nil
}

// tableRows returns an iterator over table's rows (items and tombstones)
// in txn, positioned after the position after (nil: at the first row),
// with the table and the prefix of its rows' keys. prefetch is the
// iterator's PrefetchSize (0: Badger's default). The caller closes it.
func (db *DB) tableRows(txn *badger.Txn, table string, after []byte, prefetch int) (*Table, []byte, *badger.Iterator, error) {
	t, err := db.readTable(txn, table)
	if err != nil {
		return nil, nil, nil, err
	}
	base := itemPrefix(t.ID)
	from := base
	if after != nil {
		from = keySuccessor(append(bytes.Clone(base), after...))
	}
	opts := badger.DefaultIteratorOptions
	opts.Prefix = base
	if prefetch > 0 {
		opts.PrefetchSize = prefetch
	}
	it := txn.NewIterator(opts)
	it.Seek(from)
	return t, base, it, nil
}

// exportRow returns the row item holds as ExportTable gives it.
func exportRow(t *Table, item *badger.Item) (*Change, error) {
	rec, err := itemRow(item)
	if err != nil {
		return nil, err
	}
	c := &Change{
		Kind: ChangeItem, Table: t.Name, TableID: t.ID,
		Deleted: rec.Deleted, Version: rec.Version, Prev: rec.Prev, Context: rec.Context,
	}
	if rec.Deleted {
		c.Key, err = rowKeyItem(t, item.Key())
		if err != nil {
			return nil, err
		}
	} else {
		c.New = rec.Item
		c.Key = keyOf(rec.Item, t.schema())
	}
	return c, nil
}

// ApplyCopy applies rows copied from another region's snapshot by
// last-writer-wins, as Apply with cursor 0 does, but returns without
// waiting for a sync round: a copy is many transactions, and one round at
// its end (Durable) makes all of them durable, where a round per page
// made the copy wait on the disk once per page. The caller must call
// Durable before it records the copy as done (a re-sync, before its link
// moves the cursor past what the copy replaces): a crash before that
// loses part of the copy and also the record that it was made, so it is
// made again.
func (db *DB) ApplyCopy(ctx context.Context, source string, rows []*Change) (ApplyStats, error) {
	return db.apply(ctx, source, 0, rows, true)
}

// Durable returns once everything committed before the call is on disk
// (at once without SyncWrites).
func (db *DB) Durable() error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	return db.durable(false)
}

// ErrPageTooSmall is returned by AppendSnapshotPage for a row that does
// not fit in a page on its own.
var ErrPageTooSmall = errors.New("store: a row takes more than a page")

// AppendSnapshotPage appends to page the rows of table after the position
// after (nil: from the start), as ExportTable would return them, each as a
// uvarint length and its AppendChange record, until the next row would take
// the page past budget bytes or the table ends. It returns the page and the
// position to continue from (nil when done), which ExportTable accepts too.
// It reads one consistent snapshot.
//
// It is the snapshot service's fast path: a row is copied into its record
// as stored (versions, context and item bytes) instead of being decoded
// into a Change and encoded again, which took most of the service's CPU.
// The record differs from AppendChange of ExportTable's Change only in a
// live row's Key, which is decoded from the row's key (as a tombstone's
// is) rather than taken from the item: the same attributes, with a number
// in its canonical form. Receivers key a put by its New image.
func (db *DB) AppendSnapshotPage(page []byte, table string, after []byte, budget int) ([]byte, []byte, error) {
	if err := db.enter(); err != nil {
		return nil, nil, err
	}
	defer db.exit()
	var next []byte
	start := len(page)
	err := db.bdb.View(func(txn *badger.Txn) error {
		t, base, it, err := db.tableRows(txn, table, after, 0)
		if err != nil {
			return err
		}
		defer it.Close()
		var rec []byte
		for ; it.Valid(); it.Next() {
			item := it.Item()
			if rec, err = appendRowRecord(rec[:0], t, item); err != nil {
				return err
			}
			if len(page)-start+binary.MaxVarintLen64+len(rec) > budget {
				if len(page) == start {
					return fmt.Errorf("%w: a row of table %s takes %d bytes, more than a page of %d", ErrPageTooSmall, table, len(rec), budget)
				}
				return nil // next is the last row's position
			}
			page = binary.AppendUvarint(page, uint64(len(rec)))
			page = append(page, rec...)
			next = append(next[:0], item.Key()[len(base):]...)
		}
		next = nil // the table ended
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot page of %s: %w", table, err)
	}
	return page, next, nil
}

// appendRowRecord appends the change record of the row item holds. A row
// in the current format is copied; an older one goes through exportRow.
func appendRowRecord(dst []byte, t *Table, item *badger.Item) ([]byte, error) {
	key, err := rowKeyItem(t, item.Key())
	if err != nil {
		return nil, err
	}
	err = item.Value(func(v []byte) error {
		if len(v) < 2 || v[0] != rowFormat2 || v[1]&^rowFlags != 0 {
			return errOldRow
		}
		deleted := v[1]&rowDeleted != 0
		b := v[2:]
		n1, err := versionLen(b)
		if err != nil {
			return err
		}
		n2, err := versionLen(b[n1:])
		if err != nil {
			return err
		}
		n3, err := skipContext(b[n1+n2:])
		if err != nil {
			return err
		}
		versions, ctx, itemBytes := b[:n1+n2], b[n1+n2:n1+n2+n3], b[n1+n2+n3:]
		flags := changeHasKey
		if deleted {
			flags |= changeDeleted
			if len(itemBytes) != 0 {
				return fmt.Errorf("%w: tombstone with %d bytes of item", ErrCorrupt, len(itemBytes))
			}
		} else {
			flags |= changeHasNew
		}
		dst = append(dst, changeFormat2, flags, byte(ChangeItem), 0) // seq 0
		dst = binary.AppendUvarint(dst, uint64(len(t.Name)))
		dst = append(dst, t.Name...)
		dst = binary.AppendUvarint(dst, t.ID)
		dst = appendItemField(dst, key)
		if !deleted {
			dst = binary.AppendUvarint(dst, uint64(len(itemBytes)))
			dst = append(dst, itemBytes...)
		}
		dst = append(dst, versions...)
		dst = append(dst, ctx...) // no CommittedAt: the context follows prev
		return nil
	})
	if errors.Is(err, errOldRow) {
		c, err := exportRow(t, item)
		if err != nil {
			return nil, err
		}
		return AppendChange(dst, c), nil
	}
	if err != nil {
		return nil, fmt.Errorf("row %x: %w", item.Key(), err)
	}
	return dst, nil
}

// errOldRow marks a row written before contexts, which appendRowRecord
// cannot copy.
var errOldRow = errors.New("row in an older format")

// versionLen returns the length of the encoded version at the front of b
// (conflict.Version.AppendBinary: wall(8) | logical(4) | uvarint len |
// region) without decoding it.
func versionLen(b []byte) (int, error) {
	if len(b) < 13 {
		return 0, fmt.Errorf("%w: row version truncated", ErrCorrupt)
	}
	l, k := binary.Uvarint(b[12:])
	if k <= 0 || l > uint64(len(b)-12-k) {
		return 0, fmt.Errorf("%w: row version region length", ErrCorrupt)
	}
	return 12 + k + int(l), nil
}

// rowKeyItem decodes the key attributes from an item row's key, for a
// tombstone, which holds no attributes.
func rowKeyItem(t *Table, k []byte) (attr.Item, error) {
	if len(k) < 11 {
		return nil, fmt.Errorf("%w: row key %x", ErrCorrupt, k)
	}
	b := k[11:] // i | tableID(8) | h16(2)
	pk, n, err := attr.DecodeKey(b, t.Hash.Type)
	if err != nil {
		return nil, fmt.Errorf("%w: row key %x: %w", ErrCorrupt, k, err)
	}
	b = b[n:]
	key := attr.Item{t.Hash.Name: pk}
	if t.Range != nil {
		sk, n, err := attr.DecodeKey(b, t.Range.Type)
		if err != nil {
			return nil, fmt.Errorf("%w: row key %x: %w", ErrCorrupt, k, err)
		}
		b = b[n:]
		key[t.Range.Name] = sk
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: row key %x: %d trailing bytes", ErrCorrupt, k, len(b))
	}
	return key, nil
}

// Digest returns a SHA-256 hash of the table's live content and the number
// of live items: every live item with its key and version, in key order
// (tombstones, Prev and contexts excluded), then the count. Key order and
// the item encoding are the same in every region, so two regions holding the
// same items at the same versions give the same digest, whatever order the
// writes arrived in. It reads one snapshot.
func (db *DB) Digest(table string) (sum [32]byte, items int, err error) {
	if err := db.enter(); err != nil {
		return sum, 0, err
	}
	defer db.exit()
	h := sha256.New()
	var buf []byte
	err = db.bdb.View(func(txn *badger.Txn) error {
		t, err := db.readTable(txn, table)
		if err != nil {
			return err
		}
		base := itemPrefix(t.ID)
		opts := badger.DefaultIteratorOptions
		opts.Prefix = base
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				rec, itemBytes, err := decodeRowHeader(v, false)
				if err != nil || rec.Deleted {
					return err
				}
				k := item.Key()[len(base):]
				buf = binary.AppendUvarint(buf[:0], uint64(len(k)))
				buf = append(buf, k...)
				buf = rec.Version.AppendBinary(buf)
				buf = binary.AppendUvarint(buf, uint64(len(itemBytes)))
				h.Write(buf)
				h.Write(itemBytes)
				items++
				return nil
			})
			if err != nil {
				return fmt.Errorf("row %x: %w", item.Key(), err)
			}
		}
		return nil
	})
	if err != nil {
		return sum, 0, fmt.Errorf("digest of %s: %w", table, err)
	}
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(items)))
	h.Sum(sum[:0])
	return sum, items, nil
}

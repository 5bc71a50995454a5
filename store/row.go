package store

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store/attr"
)

// Record is an item row as stored: a live item or a tombstone.
type Record struct {
	// Item is the item; nil for a tombstone and for an absent item.
	Item attr.Item
	// Version is the version of the write that produced the row; zero when
	// the item has never existed.
	Version conflict.Version
	// Prev is the version the write replaced (zero if none). Replication
	// compares it with a remote change's version to tell succession from a
	// concurrent write.
	Prev conflict.Version
	// Deleted marks a tombstone.
	Deleted bool
}

// Exists reports whether r is a live item (not absent, not a tombstone).
func (r Record) Exists() bool { return !r.Deleted && !r.Version.IsZero() }

// live returns the item if r is live, else nil.
func (r Record) live() attr.Item {
	if r.Exists() {
		return r.Item
	}
	return nil
}

const (
	rowFormat1 byte = 1

	rowDeleted byte = 1 << 0
	rowFlags        = rowDeleted
)

// appendRow appends the value of an item row or index entry:
// format | flags | version | prev | item.
func appendRow(dst []byte, r Record) []byte {
	var flags byte
	if r.Deleted {
		flags |= rowDeleted
	}
	dst = append(dst, rowFormat1, flags)
	dst = r.Version.AppendBinary(dst)
	dst = r.Prev.AppendBinary(dst)
	if !r.Deleted {
		dst = attr.AppendItem(dst, r.Item)
	}
	return dst
}

// decodeRow decodes a value written by appendRow. The result shares no
// memory with b (attr.DecodeItem copies), so b may be Badger's buffer.
func decodeRow(b []byte) (Record, error) {
	var r Record
	if len(b) < 2 {
		return r, fmt.Errorf("%w: row of %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != rowFormat1 {
		return r, fmt.Errorf("%w: row format %d", ErrCorrupt, b[0])
	}
	flags := b[1]
	if flags&^rowFlags != 0 {
		return r, fmt.Errorf("%w: row flags %#x", ErrCorrupt, flags)
	}
	r.Deleted = flags&rowDeleted != 0
	b = b[2:]
	v, n, err := conflict.DecodeVersion(b)
	if err != nil {
		return Record{}, fmt.Errorf("%w: row version: %w", ErrCorrupt, err)
	}
	r.Version, b = v, b[n:]
	v, n, err = conflict.DecodeVersion(b)
	if err != nil {
		return Record{}, fmt.Errorf("%w: row prev version: %w", ErrCorrupt, err)
	}
	r.Prev, b = v, b[n:]
	if r.Deleted {
		if len(b) != 0 {
			return Record{}, fmt.Errorf("%w: tombstone with %d bytes of item", ErrCorrupt, len(b))
		}
		return r, nil
	}
	r.Item, err = attr.DecodeItem(b)
	if err != nil {
		return Record{}, fmt.Errorf("%w: row item: %w", ErrCorrupt, err)
	}
	return r, nil
}

// itemRow decodes the row a Badger item holds.
func itemRow(item *badger.Item) (Record, error) {
	var rec Record
	err := item.Value(func(v []byte) error {
		var err error
		rec, err = decodeRow(v)
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("row %x: %w", item.Key(), err)
	}
	return rec, nil
}

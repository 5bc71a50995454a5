package store

import (
	"encoding/binary"
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
	// Prev is the version the write replaced (zero if none).
	Prev conflict.Version
	// Context is the row's causal history (it includes Version): what
	// replication compares with an incoming change's context to tell
	// succession from a concurrent write. nil for an absent item. Rows
	// written before contexts existed read as {Version}.
	Context conflict.Context
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
	// rowFormat1 has no context. Index entries are still written in it:
	// replication never reads them, and they stay small.
	rowFormat1 byte = 1
	// rowFormat2 adds the context after prev; item rows are written in it.
	rowFormat2 byte = 2

	rowDeleted byte = 1 << 0
	rowFlags        = rowDeleted
)

// appendRow appends the value of an item row:
// format(2) | flags | version | prev | context | item.
func appendRow(dst []byte, r Record) []byte {
	dst = appendRowHeader(dst, rowFormat2, r)
	dst = r.Context.AppendBinary(dst)
	return appendRowItem(dst, r)
}

// appendEntry appends the value of an index entry, which carries no
// context: format(1) | flags | version | prev | item.
func appendEntry(dst []byte, r Record) []byte {
	return appendRowItem(appendRowHeader(dst, rowFormat1, r), r)
}

func appendRowHeader(dst []byte, format byte, r Record) []byte {
	var flags byte
	if r.Deleted {
		flags |= rowDeleted
	}
	dst = append(dst, format, flags)
	dst = r.Version.AppendBinary(dst)
	return r.Prev.AppendBinary(dst)
}

func appendRowItem(dst []byte, r Record) []byte {
	if !r.Deleted {
		dst = attr.AppendItem(dst, r.Item)
	}
	return dst
}

// decodeRow decodes a value written by appendRow or appendEntry, context
// included. The result shares no memory with b (attr.DecodeItem copies), so
// b may be Badger's buffer.
func decodeRow(b []byte) (Record, error) {
	return decodeRowWith(b, true)
}

// decodeRowWith decodes a row; without withContext it skips the context
// (Record.Context stays nil), which spares reads that only serve items
// (Query, Scan) a map per row.
func decodeRowWith(b []byte, withContext bool) (Record, error) {
	r, rest, err := decodeRowHeader(b, withContext)
	if err != nil {
		return Record{}, err
	}
	if r.Deleted {
		if len(rest) != 0 {
			return Record{}, fmt.Errorf("%w: tombstone with %d bytes of item", ErrCorrupt, len(rest))
		}
		return r, nil
	}
	r.Item, err = attr.DecodeItem(rest)
	if err != nil {
		return Record{}, fmt.Errorf("%w: row item: %w", ErrCorrupt, err)
	}
	return r, nil
}

// decodeRowHeader decodes everything but the item and returns the item's
// bytes (empty for a tombstone).
func decodeRowHeader(b []byte, withContext bool) (Record, []byte, error) {
	var r Record
	if len(b) < 2 {
		return r, nil, fmt.Errorf("%w: row of %d bytes", ErrCorrupt, len(b))
	}
	format := b[0]
	if format != rowFormat1 && format != rowFormat2 {
		return r, nil, fmt.Errorf("%w: row format %d", ErrCorrupt, b[0])
	}
	flags := b[1]
	if flags&^rowFlags != 0 {
		return r, nil, fmt.Errorf("%w: row flags %#x", ErrCorrupt, flags)
	}
	r.Deleted = flags&rowDeleted != 0
	b = b[2:]
	v, n, err := conflict.DecodeVersion(b)
	if err != nil {
		return Record{}, nil, fmt.Errorf("%w: row version: %w", ErrCorrupt, err)
	}
	r.Version, b = v, b[n:]
	v, n, err = conflict.DecodeVersion(b)
	if err != nil {
		return Record{}, nil, fmt.Errorf("%w: row prev version: %w", ErrCorrupt, err)
	}
	r.Prev, b = v, b[n:]
	switch {
	case format == rowFormat2 && withContext:
		c, n, err := conflict.DecodeContext(b)
		if err != nil {
			return Record{}, nil, fmt.Errorf("%w: row context: %w", ErrCorrupt, err)
		}
		if len(c) > 0 {
			r.Context = c
		}
		b = b[n:]
	case format == rowFormat2:
		n, err := skipContext(b)
		if err != nil {
			return Record{}, nil, err
		}
		b = b[n:]
	case withContext && !r.Version.IsZero():
		// A row from before contexts: its history is at least itself.
		r.Context = conflict.Context{r.Version.Region: r.Version}
	}
	return r, b, nil
}

// skipContext returns the length of the encoded context at the front of b
// without building it.
func skipContext(b []byte) (int, error) {
	n, used := binary.Uvarint(b)
	if used <= 0 || n > uint64(len(b)) {
		return 0, fmt.Errorf("%w: row context length", ErrCorrupt)
	}
	for range n {
		// A version is wall(8) | logical(4) | uvarint len | region
		// (conflict.Version.AppendBinary).
		rest := b[used:]
		if len(rest) < 13 {
			return 0, fmt.Errorf("%w: row context truncated", ErrCorrupt)
		}
		l, k := binary.Uvarint(rest[12:])
		if k <= 0 || l > uint64(len(rest)-12-k) {
			return 0, fmt.Errorf("%w: row context region length", ErrCorrupt)
		}
		used += 12 + k + int(l)
	}
	return used, nil
}

// itemRow decodes the row a Badger item holds, context included.
func itemRow(item *badger.Item) (Record, error) {
	return itemRowWith(item, true)
}

func itemRowWith(item *badger.Item, withContext bool) (Record, error) {
	var rec Record
	err := item.Value(func(v []byte) error {
		var err error
		rec, err = decodeRowWith(v, withContext)
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("row %x: %w", item.Key(), err)
	}
	return rec, nil
}

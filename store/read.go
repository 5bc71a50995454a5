package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/store/attr"
)

// RangeOp is a sort-key condition of a Query.
type RangeOp int

// The sort-key conditions of a KeyConditionExpression.
const (
	RangeAll        RangeOp = iota // no condition: the whole partition
	RangeEQ                        // sk = v
	RangeLT                        // sk < v
	RangeLE                        // sk <= v
	RangeGT                        // sk > v
	RangeGE                        // sk >= v
	RangeBetween                   // v0 <= sk <= v1
	RangeBeginsWith                // begins_with(sk, v), S and B only
)

var rangeOpNames = [...]string{"ALL", "EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"}

func (op RangeOp) String() string {
	if op >= 0 && int(op) < len(rangeOpNames) {
		return rangeOpNames[op]
	}
	return fmt.Sprintf("RangeOp(%d)", int(op))
}

// RangeCond is a condition on the sort key: Op and its operands (none for
// RangeAll, two for RangeBetween, one otherwise).
type RangeCond struct {
	Op     RangeOp
	Values []attr.Value
}

// QueryInput selects one partition of a table or index, and optionally a
// range of its sort key.
type QueryInput struct {
	Table *Table
	// Index names the index to query; "" queries the table.
	Index string
	// Hash is the partition key value.
	Hash  attr.Value
	Range RangeCond
	// Forward is ScanIndexForward: ascending sort-key order when true.
	Forward bool
	// Start is ExclusiveStartKey: the table's key attributes, plus the
	// index's for an index. nil starts at the beginning.
	Start attr.Item
}

// ScanInput selects a segment of a table or index.
type ScanInput struct {
	Table *Table
	// Index names the index to scan; "" scans the table.
	Index string
	// Segment and TotalSegments split a parallel scan; TotalSegments 0 or 1
	// scans everything.
	Segment, TotalSegments int
	// Start is ExclusiveStartKey, as for QueryInput.
	Start attr.Item
}

// Get reads an item row. key holds at least the table's key attributes. An
// absent item is the zero Record.
func (db *DB) Get(t *Table, key attr.Item) (Record, error) {
	return db.readRow(t, key, true)
}

// source is what Query and Scan read: a table or one of its indexes.
type source struct {
	t      *Table
	ix     *Index      // nil for the table
	schema keySchema   // the key schema that orders rows
	keys   []keySchema // the schemas whose attributes form LastEvaluatedKey
	base   []byte      // i|tableID or x|tableID|indexID
}

func newSource(t *Table, index string) (*source, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil table", ErrTableNotFound)
	}
	if index == "" {
		return &source{t: t, schema: t.schema(), keys: []keySchema{t.schema()}, base: itemPrefix(t.ID)}, nil
	}
	ix, ok := t.Index(index)
	if !ok {
		return nil, fmt.Errorf("%w: %s on %s", ErrIndexNotFound, index, t.Name)
	}
	return &source{
		t: t, ix: ix, schema: ix.schema(),
		keys: []keySchema{t.schema(), ix.schema()},
		base: indexPrefix(t.ID, ix.ID),
	}, nil
}

// startKey returns the row key that a LastEvaluatedKey names.
func (s *source) startKey(start attr.Item) ([]byte, error) {
	pk, sk, ok := s.t.schema().encode(start)
	if !ok {
		return nil, fmt.Errorf("%w: start key needs %s", ErrInvalidKey, s.t.schema())
	}
	if s.ix == nil {
		return itemKey(s.t.ID, pk, sk), nil
	}
	ipk, isk, ok := s.schema.encode(start)
	if !ok {
		return nil, fmt.Errorf("%w: start key needs %s", ErrInvalidKey, s.schema)
	}
	return indexKey(s.t.ID, s.ix.ID, ipk, isk, pk, sk), nil
}

// Query calls fn for each live item of one partition whose sort key meets
// in.Range, in sort-key order (reversed unless in.Forward), skipping
// tombstones, with the item (for an index: the projected item) and its
// LastEvaluatedKey. fn returning false stops the query. The query reads one
// consistent snapshot.
func (db *DB) Query(in QueryInput, fn func(it attr.Item, lastKey attr.Item) bool) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	src, err := newSource(in.Table, in.Index)
	if err != nil {
		return err
	}
	if in.Hash.Type != src.schema.hash.Type {
		return fmt.Errorf("%w: partition key %s must be %s, not %s", ErrInvalidKey, src.schema.hash.Name, src.schema.hash.Type, in.Hash.Type)
	}
	pk, ok := appendKey(nil, in.Hash)
	if !ok {
		return fmt.Errorf("%w: partition key %s: invalid %s value", ErrInvalidKey, src.schema.hash.Name, in.Hash.Type)
	}
	part := partitionPrefix(src.base, pk)
	lo, hi, err := rangeBounds(part, src.schema.rng, in.Range)
	if err != nil {
		return err
	}
	if in.Start != nil {
		sk, err := src.startKey(in.Start)
		if err != nil {
			return err
		}
		if in.Forward {
			lo = maxKey(lo, keySuccessor(sk))
		} else {
			hi = minKey(hi, sk)
		}
	}
	return db.iterate(src, part, lo, hi, !in.Forward, fn)
}

// Scan calls fn for each live item of one segment of a table or index, in
// key order (partition hash order), skipping tombstones, with the item (for
// an index: the projected item) and its LastEvaluatedKey. fn returning false
// stops the scan. Segment s of N covers partition hashes
// [s*65536/N, (s+1)*65536/N), so the segments partition the table exactly.
func (db *DB) Scan(in ScanInput, fn func(it attr.Item, lastKey attr.Item) bool) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	src, err := newSource(in.Table, in.Index)
	if err != nil {
		return err
	}
	total := in.TotalSegments
	if total <= 0 {
		total = 1
	}
	if in.Segment < 0 || in.Segment >= total {
		return fmt.Errorf("%w: segment %d of %d", ErrInvalidRange, in.Segment, total)
	}
	loHash := uint64(in.Segment) * 65536 / uint64(total)
	hiHash := uint64(in.Segment+1) * 65536 / uint64(total)
	lo := binary.BigEndian.AppendUint16(bytes.Clone(src.base), uint16(loHash))
	var hi []byte
	if hiHash >= 65536 {
		hi = prefixEnd(src.base)
	} else {
		hi = binary.BigEndian.AppendUint16(bytes.Clone(src.base), uint16(hiHash))
	}
	if in.Start != nil {
		sk, err := src.startKey(in.Start)
		if err != nil {
			return err
		}
		if bytes.Compare(sk, lo) < 0 || bytes.Compare(sk, hi) >= 0 {
			return ErrStartOutsideSegment
		}
		lo = maxKey(lo, keySuccessor(sk))
	}
	return db.iterate(src, src.base, lo, hi, false, fn)
}

// iterate visits the live rows with keys in [lo, hi), all sharing prefix, in
// one snapshot, forwards or backwards.
func (db *DB) iterate(src *source, prefix, lo, hi []byte, reverse bool, fn func(it, lastKey attr.Item) bool) error {
	return db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		opts.Reverse = reverse
		opts.PrefetchSize = 16
		it := txn.NewIterator(opts)
		defer it.Close()
		if reverse {
			// A reverse Seek lands on the largest key <= hi; hi itself is
			// excluded.
			it.Seek(hi)
			for it.Valid() && bytes.Compare(it.Item().Key(), hi) >= 0 {
				it.Next()
			}
		} else {
			it.Seek(lo)
		}
		for ; it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if reverse && bytes.Compare(k, lo) < 0 || !reverse && bytes.Compare(k, hi) >= 0 {
				return nil
			}
			rec, err := itemRowWith(item, false)
			if err != nil {
				return err
			}
			if !rec.Exists() {
				continue
			}
			if !fn(rec.Item, keyOf(rec.Item, src.keys...)) {
				return nil
			}
		}
		return nil
	})
}

// rangeBounds turns a sort-key condition into the key range [lo, hi) inside
// partition prefix part. It relies on attr.AppendKey being order-preserving
// and prefix-free: every key that starts with part+enc(v) belongs to sort
// key v.
func rangeBounds(part []byte, rng *KeyElement, c RangeCond) (lo, hi []byte, err error) {
	end := prefixEnd(part)
	want := 1
	switch c.Op {
	case RangeAll:
		want = 0
	case RangeBetween:
		want = 2
	case RangeEQ, RangeLT, RangeLE, RangeGT, RangeGE, RangeBeginsWith:
	default:
		return nil, nil, fmt.Errorf("%w: unknown operator %d", ErrInvalidRange, int(c.Op))
	}
	if len(c.Values) != want {
		return nil, nil, fmt.Errorf("%w: %s takes %d values, got %d", ErrInvalidRange, c.Op, want, len(c.Values))
	}
	if c.Op == RangeAll {
		return part, end, nil
	}
	if rng == nil {
		return nil, nil, fmt.Errorf("%w: %s on a key without a sort key", ErrInvalidRange, c.Op)
	}
	for _, v := range c.Values {
		if v.Type != rng.Type {
			return nil, nil, fmt.Errorf("%w: sort key %s is %s, operand is %s", ErrInvalidRange, rng.Name, rng.Type, v.Type)
		}
		if _, ok := appendKey(nil, v); !ok {
			return nil, nil, fmt.Errorf("%w: invalid %s operand", ErrInvalidRange, v.Type)
		}
	}
	at := func(v attr.Value) []byte { return attr.AppendKey(bytes.Clone(part), v) }
	after := func(v attr.Value) []byte { return prefixEnd(at(v)) } // past every key with sort key v
	v := c.Values[0]
	switch c.Op {
	case RangeEQ:
		return at(v), after(v), nil
	case RangeLT:
		return part, at(v), nil
	case RangeLE:
		return part, after(v), nil
	case RangeGT:
		return after(v), end, nil
	case RangeGE:
		return at(v), end, nil
	case RangeBetween:
		return at(v), after(c.Values[1]), nil
	}
	// RangeBeginsWith: the sort keys with prefix p are exactly those in
	// [p, succ(p)), succ(p) being p with trailing 0xFF bytes dropped and
	// the last byte incremented; with no successor, to the partition's end.
	var raw []byte
	switch v.Type {
	case attr.TypeS:
		raw = []byte(v.S)
	case attr.TypeB:
		raw = v.B
	default:
		return nil, nil, fmt.Errorf("%w: begins_with needs S or B, not %s", ErrInvalidRange, v.Type)
	}
	succ := prefixEnd(raw)
	if succ == nil {
		return at(v), end, nil
	}
	sv := attr.Value{Type: v.Type}
	if v.Type == attr.TypeS {
		sv.S = string(succ)
	} else {
		sv.B = succ
	}
	return at(v), at(sv), nil
}

func maxKey(a, b []byte) []byte {
	if bytes.Compare(a, b) >= 0 {
		return a
	}
	return b
}

func minKey(a, b []byte) []byte {
	if bytes.Compare(a, b) <= 0 {
		return a
	}
	return b
}

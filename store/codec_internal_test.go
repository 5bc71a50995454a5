package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store/attr"
)

func sampleChanges() []*Change {
	v1 := conflict.Version{Wall: 1700000000000000000, Logical: 3, Region: "eu"}
	v2 := conflict.Version{Wall: 1700000000000000001, Logical: 0, Region: "us-east-1"}
	key := attr.Item{"pk": attr.String("a"), "sk": attr.Number("1.5")}
	full := attr.Item{"pk": attr.String("a"), "sk": attr.Number("1.5"), "m": attr.Map(map[string]attr.Value{"l": attr.List([]attr.Value{attr.Null(), attr.Bool(true)})}), "b": attr.Binary([]byte{0, 1})}
	return []*Change{
		{Seq: 1, Table: "t", TableID: 1, Key: key, New: full, Version: v1, Context: conflict.Context{"eu": v1}, CommittedAt: time.Unix(0, 1700000000000000123)},
		{Seq: 1 << 62, Table: "tåble", TableID: 1 << 40, Key: key, New: key, Old: full, Version: v2, Prev: v1, Context: conflict.Context{"eu": v1, "us-east-1": v2}, CommittedAt: time.Unix(5, 0)},
		{Seq: 7, Table: "t", TableID: 2, Key: key, Old: full, Deleted: true, Version: v2, Prev: v1},
		{Key: attr.Item{}, New: attr.Item{}, Old: attr.Item{}},
		{Seq: 9, Kind: ChangeControl, Table: "t", TableID: 3, Control: []byte(`{"replicas":["eu"]}`), CommittedAt: time.Unix(6, 0)},
		{Kind: ChangeControl, Table: "t"},
	}
}

func changesEqual(a, b *Change) bool {
	return a.Seq == b.Seq && a.Table == b.Table && a.TableID == b.TableID &&
		attr.ItemsEqual(a.Key, b.Key) && (a.Key == nil) == (b.Key == nil) &&
		attr.ItemsEqual(a.New, b.New) && (a.New == nil) == (b.New == nil) &&
		attr.ItemsEqual(a.Old, b.Old) && (a.Old == nil) == (b.Old == nil) &&
		a.Deleted == b.Deleted && a.Version == b.Version && a.Prev == b.Prev &&
		a.CommittedAt.Equal(b.CommittedAt) && a.CommittedAt.IsZero() == b.CommittedAt.IsZero() &&
		a.Context.Equal(b.Context) && a.Kind == b.Kind && bytes.Equal(a.Control, b.Control)
}

// appendChangeV1 is AppendChange as it was before contexts (format 1), to
// check that records logged by an older build still decode.
func appendChangeV1(dst []byte, c *Change) []byte {
	var flags byte
	if c.Deleted {
		flags |= changeDeleted
	}
	if c.New != nil {
		flags |= changeHasNew
	}
	if c.Old != nil {
		flags |= changeHasOld
	}
	if !c.CommittedAt.IsZero() {
		flags |= changeHasCommitted
	}
	dst = append(dst, changeFormat1, flags)
	dst = binary.AppendUvarint(dst, c.Seq)
	dst = binary.AppendUvarint(dst, uint64(len(c.Table)))
	dst = append(dst, c.Table...)
	dst = binary.AppendUvarint(dst, c.TableID)
	dst = appendItemField(dst, c.Key)
	if c.New != nil {
		dst = appendItemField(dst, c.New)
	}
	if c.Old != nil {
		dst = appendItemField(dst, c.Old)
	}
	dst = c.Version.AppendBinary(dst)
	dst = c.Prev.AppendBinary(dst)
	if !c.CommittedAt.IsZero() {
		dst = binary.AppendVarint(dst, c.CommittedAt.UnixNano())
	}
	return dst
}

func TestChange_DecodesFormat1(t *testing.T) {
	for i, c := range sampleChanges()[:4] {
		got, err := DecodeChange(appendChangeV1(nil, c))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		want := *c
		want.Context = nil // format 1 has none
		if !changesEqual(got, &want) {
			t.Errorf("%d: got %+v, want %+v", i, got, &want)
		}
	}
	// Format 1 knows none of the new flags.
	b := appendChangeV1(nil, sampleChanges()[0])
	b[1] |= changeHasControl
	if _, err := DecodeChange(b); !errors.Is(err, ErrBadChange) {
		t.Errorf("format 1 with a control flag: %v", err)
	}
}

func TestChange_DecodeRejectsBadKind(t *testing.T) {
	b := AppendChange(nil, sampleChanges()[0])
	b[2] = 7
	if _, err := DecodeChange(b); !errors.Is(err, ErrBadChange) {
		t.Errorf("kind 7: %v", err)
	}
}

func TestChange_RoundTrip(t *testing.T) {
	for i, c := range sampleChanges() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			enc := AppendChange([]byte("prefix"), c)
			got, err := DecodeChange(enc[len("prefix"):])
			if err != nil {
				t.Fatal(err)
			}
			if !changesEqual(got, c) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
			}
			if again := AppendChange(nil, got); !bytes.Equal(again, enc[len("prefix"):]) {
				t.Error("re-encoding differs")
			}
		})
	}
}

func TestChange_DecodeRejectsMalformed(t *testing.T) {
	good := AppendChange(nil, sampleChanges()[1])
	cases := map[string][]byte{
		"empty":        nil,
		"format":       append([]byte{9}, good[1:]...),
		"flags":        append([]byte{good[0], 0x80}, good[2:]...),
		"trailing":     append(bytes.Clone(good), 0),
		"huge length":  {changeFormat1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad uvarint":  {changeFormat1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"missing prev": good[:len(good)-12],
	}
	for i := 1; i < len(good); i++ {
		cases[fmt.Sprint("truncated at ", i)] = good[:i]
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeChange(b); !errors.Is(err, ErrBadChange) {
				t.Errorf("DecodeChange = %v, want ErrBadChange", err)
			}
		})
	}
}

func FuzzDecodeChange(f *testing.F) {
	for _, c := range sampleChanges() {
		f.Add(AppendChange(nil, c))
	}
	f.Add([]byte{changeFormat1, changeFlags1})
	f.Add([]byte{changeFormat2, changeFlags2, byte(ChangeControl)})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChange(b)
		if err != nil {
			if !errors.Is(err, ErrBadChange) {
				t.Fatalf("error %v does not wrap ErrBadChange", err)
			}
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		enc := AppendChange(nil, c)
		c2, err := DecodeChange(enc)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !changesEqual(c, c2) {
			t.Fatalf("decode(encode(c)) != c:\n%+v\n%+v", c, c2)
		}
	})
}

func TestRow_RoundTrip(t *testing.T) {
	v := conflict.Version{Wall: 42, Logical: 1, Region: "r"}
	w := conflict.Version{Wall: 41, Region: "s"}
	for i, r := range []Record{
		{Item: sampleChanges()[0].New, Version: v, Context: conflict.Context{"r": v}},
		{Item: attr.Item{}, Version: v, Prev: v, Context: conflict.Context{"r": v, "s": w}},
		{Deleted: true, Version: v, Prev: w, Context: conflict.Context{"r": v, "s": w}},
	} {
		enc := appendRow(nil, r)
		got, err := decodeRow(enc)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got.Version != r.Version || got.Prev != r.Prev || got.Deleted != r.Deleted || !attr.ItemsEqual(got.Item, r.Item) || !got.Context.Equal(r.Context) {
			t.Errorf("%d: got %+v, want %+v", i, got, r)
		}
		// Reads that skip the context get the rest the same.
		bare, err := decodeRowWith(enc, false)
		if err != nil || bare.Context != nil || bare.Version != r.Version || !attr.ItemsEqual(bare.Item, r.Item) {
			t.Errorf("%d: without context: %+v, %v", i, bare, err)
		}
		// A row of format 1 (from before contexts, and index entries)
		// decodes with its own version as its history.
		old, err := decodeRow(appendEntry(nil, r))
		if err != nil || old.Version != r.Version || old.Prev != r.Prev || !attr.ItemsEqual(old.Item, r.Item) ||
			!old.Context.Equal(conflict.Context{v.Region: v}) {
			t.Errorf("%d: format 1: %+v, %v", i, old, err)
		}
	}
}

// TestDB_ReadsFormat1Rows stores a row as the previous build wrote it and
// checks that reads, local writes and Apply all handle it.
func TestDB_ReadsFormat1Rows(t *testing.T) {
	db := testDB(t, "")
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	if err := db.CreateTable(tbl); err != nil {
		t.Fatal(err)
	}
	key := attr.Item{"pk": attr.String("a")}
	k, _, _, err := tableKey(tbl, key)
	if err != nil {
		t.Fatal(err)
	}
	v := conflict.Version{Wall: 100, Region: "old"}
	err = db.bdb.Update(func(txn *badger.Txn) error {
		return txn.Set(k, appendEntry(nil, Record{Item: attr.Item{"pk": attr.String("a"), "x": attr.String("1")}, Version: v}))
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.Get(tbl, key)
	if err != nil || !rec.Exists() || !rec.Context.Equal(conflict.Context{"old": v}) {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	// A remote write that had seen v succeeds it without a conflict.
	w := conflict.Version{Wall: 200, Region: "eu"}
	st, err := db.Apply(t.Context(), "eu", 0, []*Change{{Table: "t", Key: key, New: attr.Item{"pk": attr.String("a"), "x": attr.String("2")}, Version: w, Prev: v}})
	if err != nil || st.Applied != 1 || st.Conflicts != 0 {
		t.Fatalf("Apply = %+v, %v", st, err)
	}
	rec, _ = db.Get(tbl, key)
	if rec.Version != w || !rec.Context.Equal(conflict.Context{"old": v, "eu": w}) {
		t.Fatalf("after Apply: %+v", rec)
	}
	err = db.Update(t.Context(), func(tx *Tx) error {
		_, err := tx.Put(tbl, attr.Item{"pk": attr.String("a"), "x": attr.String("3")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ = db.Get(tbl, key)
	if !w.Less(rec.Version) || !rec.Context.Equal(conflict.Context{"old": v, "eu": w, "r": rec.Version}) {
		t.Fatalf("after a local write: %+v", rec)
	}
}

func FuzzDecodeRow(f *testing.F) {
	v := conflict.Version{Wall: 42, Logical: 1, Region: "r"}
	f.Add(appendRow(nil, Record{Item: sampleChanges()[0].New, Version: v}))
	f.Add(appendRow(nil, Record{Deleted: true, Version: v, Prev: v}))
	f.Add(appendRow(nil, Record{Deleted: true, Version: v, Prev: v, Context: conflict.Context{"r": v, "s": {Wall: 1, Region: "s"}}}))
	f.Add(appendEntry(nil, Record{Item: sampleChanges()[0].New, Version: v}))
	f.Fuzz(func(t *testing.T, b []byte) {
		bare, bareErr := decodeRowWith(b, false)
		if bareErr != nil && !errors.Is(bareErr, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", bareErr)
		}
		r, err := decodeRow(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if bareErr != nil || bare.Version != r.Version || bare.Prev != r.Prev || bare.Deleted != r.Deleted || !attr.ItemsEqual(bare.Item, r.Item) {
			t.Fatalf("decoding without context: %+v, %v; want %+v", bare, bareErr, r)
		}
		r2, err := decodeRow(appendRow(nil, r))
		if err != nil || r2.Version != r.Version || r2.Prev != r.Prev || r2.Deleted != r.Deleted || !attr.ItemsEqual(r2.Item, r.Item) || !r2.Context.Equal(r.Context) {
			t.Fatalf("re-encoding: %+v, %v; want %+v", r2, err, r)
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
		{nil, nil},
	}
	for _, c := range cases {
		if got := prefixEnd(c.in); !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("prefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
}

// countPrefix counts the keys under p.
func countPrefix(t *testing.T, db *DB, p []byte) int {
	t.Helper()
	n := 0
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = p
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testDB(t *testing.T, dir string) *DB {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Region = "r"
	if dir == "" {
		cfg.InMemory = true
	} else {
		cfg.Dir = dir
	}
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestDB_DeleteTablePurgesEveryRow(t *testing.T) {
	db := testDB(t, "")
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS},
		GSIs: []Index{{Name: "g", Hash: KeyElement{Name: "g", Type: attr.TypeS}}}}
	keep := &Table{Name: "keep", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	for _, def := range []*Table{tbl, keep} {
		if err := db.CreateTable(def); err != nil {
			t.Fatal(err)
		}
	}
	err := db.Update(t.Context(), func(tx *Tx) error {
		for i := range 300 {
			it := attr.Item{"pk": attr.String(fmt.Sprint(i)), "g": attr.String("x")}
			if _, err := tx.Put(tbl, it); err != nil {
				return err
			}
			if _, err := tx.Put(keep, it); err != nil {
				return err
			}
		}
		_, err := tx.Delete(tbl, attr.Item{"pk": attr.String("0")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countPrefix(t, db, indexTablePrefix(tbl.ID)); n != 299 {
		t.Fatalf("%d index entries before the drop, want 299", n)
	}
	if err := db.DeleteTable("t"); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{itemPrefix(tbl.ID), indexTablePrefix(tbl.ID), metaDropKeyPrefix()} {
		if n := countPrefix(t, db, p); n != 0 {
			t.Errorf("%d keys left under %x", n, p)
		}
	}
	if n := countPrefix(t, db, itemPrefix(keep.ID)); n != 300 {
		t.Errorf("other table has %d rows, want 300", n)
	}
}

func TestDB_OpenResumesInterruptedDrop(t *testing.T) {
	dir := t.TempDir()
	db := testDB(t, dir)
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	if err := db.CreateTable(tbl); err != nil {
		t.Fatal(err)
	}
	err := db.Update(t.Context(), func(tx *Tx) error {
		_, err := tx.Put(tbl, attr.Item{"pk": attr.String("a")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a crash between the metadata delete and the purge.
	err = db.bdb.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(metaTableKey("t")); err != nil {
			return err
		}
		return txn.Set(metaDropKey(itemPrefix(tbl.ID)), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = testDB(t, dir)
	if n := countPrefix(t, db, itemPrefix(tbl.ID)); n != 0 {
		t.Errorf("%d rows survive the resumed drop", n)
	}
	if n := countPrefix(t, db, metaDropKeyPrefix()); n != 0 {
		t.Errorf("%d drop markers left", n)
	}
}

func TestDB_StatsRecountedWithoutSnapshot(t *testing.T) {
	dir := t.TempDir()
	db := testDB(t, dir)
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	if err := db.CreateTable(tbl); err != nil {
		t.Fatal(err)
	}
	err := db.Update(t.Context(), func(tx *Tx) error {
		for i := range 10 {
			if _, err := tx.Put(tbl, attr.Item{"pk": attr.String(fmt.Sprint(i)), "v": attr.String("abc")}); err != nil {
				return err
			}
		}
		_, err := tx.Delete(tbl, attr.Item{"pk": attr.String("0")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCount, wantSize := db.Stats("t")
	if wantCount != 9 {
		t.Fatalf("Stats = %d, want 9", wantCount)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Remove the snapshot Close wrote, as a crash would have.
	bdb, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(txn *badger.Txn) error { return txn.Delete(keyStats) }); err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	db = testDB(t, dir)
	if c, s := db.Stats("t"); c != wantCount || s != wantSize {
		t.Errorf("recounted Stats = %d, %d, want %d, %d", c, s, wantCount, wantSize)
	}
}

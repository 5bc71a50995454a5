package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// TestDB_ChangeFloorCoversEveryEarlierWrite writes from many goroutines at
// once and checks the floor's promise: every record with a smaller version
// than a record's floor has a smaller sequence number.
func TestDB_ChangeFloorCoversEveryEarlierWrite(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				err := db.Update(context.Background(), func(tx *store.Tx) error {
					for j := 0; j < 3; j++ {
						if _, err := tx.Put(tbl, attr.Item{"pk": s(fmt.Sprintf("%d-%d", w, j)), "sk": n(t, fmt.Sprint(i))}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	changes, err := db.Changes(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 8*50*3 {
		t.Fatalf("%d records", len(changes))
	}
	for i, c := range changes {
		if c.Floor.IsZero() {
			t.Fatalf("record %d has no floor", c.Seq)
		}
		for _, later := range changes[i+1:] {
			if later.Version.Less(c.Floor) {
				t.Fatalf("record %d (version %v) follows record %d whose floor %v is above it", later.Seq, later.Version, c.Seq, c.Floor)
			}
		}
	}
	last := changes[len(changes)-1]
	for _, c := range changes {
		if !c.Version.Less(last.Floor) {
			t.Fatalf("the last record's floor %v does not cover version %v", last.Floor, c.Version)
		}
	}
	// The floor survives encoding.
	back, err := store.DecodeChange(store.AppendChange(nil, last))
	if err != nil || back.Floor != last.Floor {
		t.Fatalf("decoded floor %v (%v), want %v", back.Floor, err, last.Floor)
	}
}

// TestDB_WatermarksFollowLinkApplies checks that applying a source's changes
// with a cursor raises its watermark to their greatest floor, and that
// snapshot applies (no cursor) and other regions' writes do not.
func TestDB_WatermarksFollowLinkApplies(t *testing.T) {
	src := storetest.Open(t, func(c *store.Config) { c.Region = "src" })
	dst := storetest.Open(t)
	for _, db := range []*store.DB{src, dst} {
		storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	}
	tbl, _ := src.Table("t")
	for i := 0; i < 5; i++ {
		storetest.Put(t, src, tbl, attr.Item{"pk": s("a"), "sk": n(t, fmt.Sprint(i))})
	}
	changes, err := src.Changes(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Apply(t, dst, "src", 0, changes...)
	if w, _ := dst.Watermarks(); len(w) != 0 {
		t.Fatalf("a snapshot apply set watermarks %v", w)
	}
	storetest.Apply(t, dst, "src", 3, changes[:3]...)
	storetest.Apply(t, dst, "src", 5, changes[3:]...)
	storetest.Apply(t, dst, "src", 6, changes[:1]...) // an older record again
	w, err := dst.Watermarks()
	if err != nil {
		t.Fatal(err)
	}
	if w["src"] != changes[4].Floor {
		t.Fatalf("watermark %v, want the last record's floor %v", w["src"], changes[4].Floor)
	}
}

// TestDB_DropStaleAndLacking checks that a dropped row becomes a tombstone
// at its own version, that a row written since is left alone, and that
// Lacking tells a missing row from a tombstone.
func TestDB_DropStaleAndLacking(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	a := attr.Item{"pk": s("a"), "sk": n(t, "1")}
	b := attr.Item{"pk": s("b"), "sk": n(t, "1")}
	storetest.Put(t, db, tbl, a, b)
	rows := storetest.Export(t, db, "t")
	storetest.Put(t, db, tbl, attr.Item{"pk": s("b"), "sk": n(t, "1"), "x": s("newer")})
	before, _ := db.Changes(0, 0)
	got, err := db.DropStale(context.Background(), "t", rows)
	if err != nil || got != 1 {
		t.Fatalf("dropped %d (%v), want 1: the row written since stays", got, err)
	}
	if after, _ := db.Changes(0, 0); len(after) != len(before) {
		t.Fatalf("dropping logged %d change records", len(after)-len(before))
	}
	left := storetest.Export(t, db, "t")
	var live, dead int
	for _, r := range left {
		if r.Deleted {
			dead++
			if r.Version != rows[0].Version && r.Version != rows[1].Version {
				t.Errorf("tombstone at %v, want the dropped row's version", r.Version)
			}
		} else {
			live++
		}
	}
	if live != 1 || dead != 1 {
		t.Fatalf("%d live rows and %d tombstones, want 1 and 1", live, dead)
	}
	missing := &store.Change{Kind: store.ChangeItem, Table: "t", Key: attr.Item{"pk": s("zz"), "sk": n(t, "0")}, Deleted: true,
		Version: conflict.Version{Wall: 1, Region: "x"}}
	lacking, err := db.Lacking("t", append(left, missing))
	if err != nil {
		t.Fatal(err)
	}
	if lacking[0] || lacking[1] || !lacking[2] {
		t.Fatalf("lacking %v, want [false false true]", lacking)
	}
}

// TestDB_SelectRows: every row once, in key order, across the pages it is
// read in, with the key RowKeys gives, its version and whether it is a
// tombstone; only the rows kept are returned, keyed for DropStale.
func TestDB_SelectRows(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	var items []attr.Item
	for i := range 4100 { // more than one page of SelectRows
		items = append(items, attr.Item{"pk": s(fmt.Sprint("p", i%13)), "sk": n(t, fmt.Sprint(i)), "v": s("x")})
	}
	storetest.Put(t, db, tbl, items...)
	storetest.Delete(t, db, tbl, attr.Item{"pk": items[7]["pk"], "sk": items[7]["sk"]})
	rows := storetest.Export(t, db, "t")
	keys, err := db.RowKeys("t", rows)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	got, err := db.SelectRows("t", func(key string, deleted bool, v conflict.Version) bool {
		if i >= len(rows) || key != keys[i] || deleted != rows[i].Deleted || v != rows[i].Version {
			t.Fatalf("row %d: key %x deleted %v version %v, want %+v", i, key, deleted, v, rows[min(i, len(rows)-1)])
		}
		i++
		return deleted || i%1000 == 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != len(rows) || len(got) != 5 {
		t.Fatalf("saw %d rows of %d, selected %d, want 5", i, len(rows), len(got))
	}
	for _, c := range got {
		rec, err := db.Get(tbl, c.Key)
		if err != nil || rec.Version != c.Version || rec.Deleted != c.Deleted || c.Table != "t" || c.New != nil {
			t.Fatalf("selected %+v, stored %+v (%v)", c, rec, err)
		}
	}
	// What it selects, DropStale takes.
	if dropped, err := db.DropStale(context.Background(), "t", got); err != nil || dropped != 4 {
		t.Fatalf("dropped %d (%v), want the 4 live rows selected", dropped, err)
	}
	if _, err := db.SelectRows("nope", nil); !errors.Is(err, store.ErrTableNotFound) {
		t.Fatalf("missing table: %v", err)
	}
}

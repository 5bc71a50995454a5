package store_test

import (
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// A transaction that reads, writes and reads again one row sees each of its
// own writes, whichever of its reads are answered from the row it read or
// wrote last (getrow.go) and whichever from Badger.
func TestTx_ReadsOfOneRowSeeTheTransactionsWrites(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	key := attr.Item{"pk": s("a")}
	other := attr.Item{"pk": s("b")}
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "v": s("0")})
	err := db.Update(t.Context(), func(tx *store.Tx) error {
		before, err := tx.Get(tbl, key)
		if err != nil {
			return err
		}
		old, err := tx.Put(tbl, attr.Item{"pk": s("a"), "v": s("1")})
		if err != nil {
			return err
		}
		if old.Version != before.Version || old.Item["v"].S != "0" {
			t.Errorf("Put replaced %v %v, want what Get read: %v %v", old.Version, old.Item, before.Version, before.Item)
		}
		if _, err := tx.Get(tbl, other); err != nil { // another row in between
			return err
		}
		first, err := tx.Get(tbl, key)
		if err != nil {
			return err
		}
		if first.Item["v"].S != "1" || first.Prev != before.Version || !first.Context.Covers(first.Version) {
			t.Errorf("after the first Put, Get = %+v", first)
		}
		old, err = tx.Put(tbl, attr.Item{"pk": s("a"), "v": s("2")})
		if err != nil {
			return err
		}
		if old.Version != first.Version || old.Item["v"].S != "1" {
			t.Errorf("second Put replaced %v %v, want the first Put's row %v", old.Version, old.Item, first.Version)
		}
		old, err = tx.Delete(tbl, key)
		if err != nil {
			return err
		}
		if old.Item["v"].S != "2" {
			t.Errorf("Delete replaced %v, want the second Put's row", old.Item)
		}
		gone, err := tx.Get(tbl, key)
		if err != nil {
			return err
		}
		if !gone.Deleted || gone.Prev != old.Version {
			t.Errorf("after Delete, Get = %+v, want a tombstone replacing %v", gone, old.Version)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.Get(tbl, key)
	if err != nil || !rec.Deleted {
		t.Fatalf("after the commit, Get = %+v, %v; want the tombstone", rec, err)
	}
}

// GetItem reads what Get reads, without the context.
func TestDB_GetItemLeavesOutTheContext(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "v": s("x")})
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("a")})
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "v": s("y")})
	for _, k := range []string{"a", "absent"} {
		key := attr.Item{"pk": s(k)}
		full, err := db.Get(tbl, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.GetItem(tbl, key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Context != nil || got.Version != full.Version || got.Prev != full.Prev ||
			got.Deleted != full.Deleted || !itemsEqual(got.Item, full.Item) {
			t.Errorf("%s: GetItem = %+v, Get = %+v", k, got, full)
		}
	}
	if _, err := db.GetItem(tbl, attr.Item{"v": s("no key")}); err == nil {
		t.Error("GetItem without the key attributes succeeded")
	}
}

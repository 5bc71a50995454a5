package store_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// TestDB_BackfillInterruptedRunsAgain stops a backfill after its first
// batch, changes the table (deletes of rows already indexed, new rows,
// moved index keys), reopens the store, and backfills again from the
// start: the index must be CREATING in between and exact at the end
// (issue 7, finding 2).
func TestDB_BackfillInterruptedRunsAgain(t *testing.T) {
	dir := t.TempDir()
	db := storetest.Open(t, storetest.OnDisk(dir))
	tbl := storetest.CreateTable(t, db, indexedTable())
	r := rand.New(rand.NewPCG(5, 6))
	var keys []attr.Item
	for i := range 10 {
		var items []attr.Item
		for j := range 100 {
			it := randomItem(t, r)
			it["pk"] = s(fmt.Sprint("bulk", i))
			it["sk"] = n(t, fmt.Sprint(j))
			items = append(items, it)
			keys = append(keys, attr.Item{"pk": it["pk"], "sk": it["sk"]})
		}
		storetest.Put(t, db, tbl, items...)
	}
	newIndex := store.Index{Name: "late", Hash: store.KeyElement{Name: "color", Type: attr.TypeS}, Projection: store.Projection{Type: store.ProjectionAll}}
	if _, err := db.UpdateTable("idx", func(t *store.Table) error {
		t.GSIs = append(t.GSIs, newIndex)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	stop := errors.New("interrupted")
	batches := 0
	err := db.BackfillIndexProgress(t.Context(), "idx", "late", func(rows int) error {
		batches++
		return stop
	})
	if !errors.Is(err, stop) || batches != 1 {
		t.Fatalf("interrupted backfill = %v after %d batches", err, batches)
	}
	// Rows the first pass indexed change or go; new rows arrive.
	storetest.Delete(t, db, tbl, keys[:50]...)
	for i := range 50 {
		it := randomItem(t, r)
		it["pk"], it["sk"] = keys[50+i]["pk"], keys[50+i]["sk"]
		it["color"] = s("moved")
		storetest.Put(t, db, tbl, it)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = storetest.Open(t, storetest.OnDisk(dir))
	cur, err := db.Table("idx")
	if err != nil {
		t.Fatal(err)
	}
	if ix, _ := cur.Index("late"); ix.Status != store.StatusCreating {
		t.Fatalf("index after the interruption and a restart is %s, want CREATING", ix.Status)
	}
	var last int
	if err := db.BackfillIndexProgress(t.Context(), "idx", "late", func(rows int) error {
		last = rows
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	final, _ := db.Table("idx")
	if ix, _ := final.Index("late"); ix.Status != store.StatusActive {
		t.Fatalf("index after the second backfill is %s", ix.Status)
	}
	if last < 1000 {
		t.Errorf("the second backfill read %d rows, want every row from the start", last)
	}
	checkIndexes(t, db, final)
}

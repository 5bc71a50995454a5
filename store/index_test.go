package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// indexedTable has a GSI of each projection type and an LSI.
func indexedTable() *store.Table {
	t := storetest.HashRangeTable("idx", attr.TypeS, attr.TypeN)
	t.GSIs = []store.Index{
		{Name: "color", Hash: store.KeyElement{Name: "color", Type: attr.TypeS}, Range: &store.KeyElement{Name: "size", Type: attr.TypeN}, Projection: store.Projection{Type: store.ProjectionAll}},
		{Name: "owner", Hash: store.KeyElement{Name: "owner", Type: attr.TypeS}, Projection: store.Projection{Type: store.ProjectionKeysOnly}},
		{Name: "tag", Hash: store.KeyElement{Name: "tag", Type: attr.TypeB}, Range: &store.KeyElement{Name: "name", Type: attr.TypeS}, Projection: store.Projection{Type: store.ProjectionInclude, NonKeyAttributes: []string{"extra", "missing"}}},
	}
	t.LSIs = []store.Index{
		{Name: "price", Local: true, Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}, Range: &store.KeyElement{Name: "price", Type: attr.TypeN}, Projection: store.Projection{Type: store.ProjectionInclude, NonKeyAttributes: []string{"color"}}},
	}
	return t
}

// wantProjection is the reference projection of an item into an index.
func wantProjection(tbl *store.Table, ix *store.Index, it attr.Item) (attr.Item, bool) {
	keys := []store.KeyElement{tbl.Hash, *tbl.Range, ix.Hash}
	if ix.Range != nil {
		keys = append(keys, *ix.Range)
	}
	for _, k := range keys[2:] {
		if v, ok := it[k.Name]; !ok || v.Type != k.Type {
			return nil, false // sparse
		}
	}
	if ix.Projection.Type == store.ProjectionAll {
		return it, true
	}
	out := attr.Item{}
	for _, k := range keys {
		out[k.Name] = it[k.Name]
	}
	for _, a := range ix.Projection.NonKeyAttributes {
		if v, ok := it[a]; ok && ix.Projection.Type == store.ProjectionInclude {
			out[a] = v
		}
	}
	return out, true
}

// randomItem draws an item whose index attributes are often missing or of
// the wrong type, so that entries appear, move and vanish.
func randomItem(t *testing.T, r *rand.Rand) attr.Item {
	it := attr.Item{"pk": s(fmt.Sprint("p", r.IntN(4))), "sk": n(t, fmt.Sprint(r.IntN(8)))}
	switch r.IntN(4) {
	case 0:
		it["color"] = s([]string{"red", "blue", "green"}[r.IntN(3)])
	case 1:
		it["color"] = n(t, "7") // wrong type: not indexed
	case 2:
		it["color"] = s("red")
		it["size"] = n(t, fmt.Sprint(r.IntN(5)-2))
	}
	if r.IntN(3) > 0 {
		it["size"] = n(t, fmt.Sprint(r.IntN(5)-2))
	}
	if r.IntN(2) == 0 {
		it["owner"] = s([]string{"alice", "bob"}[r.IntN(2)])
	}
	switch r.IntN(4) {
	case 0:
		it["tag"] = b(byte(r.IntN(3)))
		it["name"] = s(fmt.Sprint("n", r.IntN(3)))
	case 1:
		it["tag"] = s("wrong type")
		it["name"] = s("x")
	case 2:
		it["tag"] = b(1) // no name: not indexed
	}
	if r.IntN(2) == 0 {
		it["extra"] = s(fmt.Sprint("e", r.IntN(100)))
	}
	if r.IntN(2) == 0 {
		it["price"] = n(t, fmt.Sprint(r.IntN(20)-10, ".5"))
	}
	it["payload"] = s(fmt.Sprint(r.Uint64()))
	return it
}

// checkIndexes compares every index of tbl, read by Scan and by Query, with
// the projections of the live items of the table.
func checkIndexes(t *testing.T, db *store.DB, tbl *store.Table) {
	t.Helper()
	live := storetest.Scan(t, db, store.ScanInput{Table: tbl}).Items
	for _, ixs := range [][]store.Index{tbl.GSIs, tbl.LSIs} {
		for i := range ixs {
			ix := &ixs[i]
			want := make(map[string]attr.Item)
			partitions := make(map[string]attr.Value)
			for _, it := range live {
				if p, ok := wantProjection(tbl, ix, it); ok {
					want[keyString(it)] = p
					partitions[fmt.Sprint(it[ix.Hash.Name])] = it[ix.Hash.Name]
				}
			}
			got := storetest.Scan(t, db, store.ScanInput{Table: tbl, Index: ix.Name})
			if len(got.Items) != len(want) {
				t.Fatalf("index %s has %d entries, want %d", ix.Name, len(got.Items), len(want))
			}
			for j, it := range got.Items {
				w, ok := want[keyString(it)]
				if !ok || !itemsEqual(it, w) {
					t.Fatalf("index %s entry %v, want %v", ix.Name, it, w)
				}
				lk := attr.Item{"pk": it["pk"], "sk": it["sk"], ix.Hash.Name: it[ix.Hash.Name]}
				if ix.Range != nil {
					lk[ix.Range.Name] = it[ix.Range.Name]
				}
				if !itemsEqual(got.LastKeys[j], lk) {
					t.Fatalf("index %s LastKey %v, want %v", ix.Name, got.LastKeys[j], lk)
				}
			}
			// Each partition of the index comes back in (index sort key,
			// table key) order, and paginates.
			for _, hv := range partitions {
				var w []attr.Item
				for _, it := range want {
					if attr.Equal(it[ix.Hash.Name], hv) {
						w = append(w, it)
					}
				}
				slices.SortFunc(w, func(a, b attr.Item) int {
					for _, name := range []string{rangeName(ix), "pk", "sk"} {
						if name == "" {
							continue
						}
						if c := cmp(t, a[name], b[name]); c != 0 {
							return c
						}
					}
					return 0
				})
				page := storetest.Query(t, db, store.QueryInput{Table: tbl, Index: ix.Name, Hash: hv, Forward: true})
				if len(page.Items) != len(w) {
					t.Fatalf("index %s partition %v: %d items, want %d", ix.Name, hv, len(page.Items), len(w))
				}
				for j := range w {
					if !itemsEqual(page.Items[j], w[j]) {
						t.Fatalf("index %s partition %v item %d: %v, want %v", ix.Name, hv, j, page.Items[j], w[j])
					}
				}
				if len(w) > 1 {
					rest := storetest.Query(t, db, store.QueryInput{Table: tbl, Index: ix.Name, Hash: hv, Forward: true, Start: page.LastKeys[0]})
					if len(rest.Items) != len(w)-1 || !itemsEqual(rest.Items[0], w[1]) {
						t.Fatalf("index %s partition %v: resuming after the first item gave %v", ix.Name, hv, rest.Items)
					}
					back := storetest.Query(t, db, store.QueryInput{Table: tbl, Index: ix.Name, Hash: hv, Forward: false, Start: page.LastKeys[len(w)-1]})
					if len(back.Items) != len(w)-1 || !itemsEqual(back.Items[0], w[len(w)-2]) {
						t.Fatalf("index %s partition %v: resuming backwards gave %v", ix.Name, hv, back.Items)
					}
				}
			}
		}
	}
}

func rangeName(ix *store.Index) string {
	if ix.Range == nil {
		return ""
	}
	return ix.Range.Name
}

func TestDB_IndexesFollowWrites(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, indexedTable())
	r := rand.New(rand.NewPCG(1, 2))
	errAbort := errors.New("abort")
	for step := range 600 {
		ops := 1
		if r.IntN(5) == 0 {
			ops = 2 + r.IntN(4)
		}
		abort := r.IntN(10) == 0
		err := db.Update(t.Context(), func(tx *store.Tx) error {
			for range ops {
				it := randomItem(t, r)
				if r.IntN(4) == 0 {
					if _, err := tx.Delete(tbl, attr.Item{"pk": it["pk"], "sk": it["sk"]}); err != nil {
						return err
					}
				} else if _, err := tx.Put(tbl, it); err != nil {
					return err
				}
			}
			if abort {
				return errAbort
			}
			return nil
		})
		if err != nil && !(abort && errors.Is(err, errAbort)) {
			t.Fatal(err)
		}
		if step%100 == 99 {
			checkIndexes(t, db, tbl)
		}
	}
}

func TestDB_IndexProjectionsAndSparseness(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, indexedTable())
	full := attr.Item{
		"pk": s("p"), "sk": n(t, "1"), "color": s("red"), "size": n(t, "3"), "owner": s("alice"),
		"tag": b(9), "name": s("n"), "extra": s("e"), "price": n(t, "1.5"), "payload": s("big"),
	}
	sparse := attr.Item{"pk": s("p"), "sk": n(t, "2"), "color": n(t, "1"), "size": n(t, "3"), "tag": b(9), "payload": s("x")}
	storetest.Put(t, db, tbl, full, sparse)

	want := map[string][]attr.Item{
		"color": {full},
		"owner": {{"pk": s("p"), "sk": n(t, "1"), "owner": s("alice")}},
		"tag":   {{"pk": s("p"), "sk": n(t, "1"), "tag": b(9), "name": s("n"), "extra": s("e")}},
		"price": {{"pk": s("p"), "sk": n(t, "1"), "price": n(t, "1.5"), "color": s("red")}},
	}
	for name, w := range want {
		got := storetest.Scan(t, db, store.ScanInput{Table: tbl, Index: name}).Items
		if len(got) != len(w) || !itemsEqual(got[0], w[0]) {
			t.Errorf("index %s = %v, want %v", name, got, w)
		}
	}
	// Changing the index keys moves the entry; removing them removes it.
	moved := full.Clone()
	moved["color"] = s("blue")
	delete(moved, "owner")
	storetest.Put(t, db, tbl, moved)
	if got := storetest.Query(t, db, store.QueryInput{Table: tbl, Index: "color", Hash: s("red"), Forward: true}).Items; len(got) != 0 {
		t.Errorf("old color entry still there: %v", got)
	}
	if got := storetest.Query(t, db, store.QueryInput{Table: tbl, Index: "color", Hash: s("blue"), Forward: true}).Items; len(got) != 1 || !itemsEqual(got[0], moved) {
		t.Errorf("new color entry = %v", got)
	}
	if got := storetest.Scan(t, db, store.ScanInput{Table: tbl, Index: "owner"}).Items; len(got) != 0 {
		t.Errorf("owner entry survived removal of owner: %v", got)
	}
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("p"), "sk": n(t, "1")})
	for name := range want {
		if got := storetest.Scan(t, db, store.ScanInput{Table: tbl, Index: name}).Items; len(got) != 0 {
			t.Errorf("index %s keeps a deleted item: %v", name, got)
		}
	}
}

func TestDB_BackfillIndexWithConcurrentWrites(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, indexedTable())
	r := rand.New(rand.NewPCG(3, 4))
	// Enough rows for several backfill batches.
	for range 20 {
		var items []attr.Item
		for j := range 60 {
			it := randomItem(t, r)
			it["pk"] = s(fmt.Sprint("bulk", r.IntN(1000)))
			it["sk"] = n(t, fmt.Sprint(j))
			items = append(items, it)
		}
		storetest.Put(t, db, tbl, items...)
	}

	newIndex := store.Index{Name: "late", Hash: store.KeyElement{Name: "color", Type: attr.TypeS}, Projection: store.Projection{Type: store.ProjectionKeysOnly}}
	updated, err := db.UpdateTable("idx", func(t *store.Table) error {
		t.GSIs = append(t.GSIs, newIndex)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := updated.Index("late")
	if ix.Status != store.StatusCreating || ix.ID == 0 {
		t.Fatalf("new index = %+v, want CREATING with an ID", ix)
	}

	// Writers use the table as they looked it up before the index existed:
	// the store must still maintain the new index for them.
	stale := tbl
	var stop atomic.Bool
	var writes atomic.Int64
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			wr := rand.New(rand.NewPCG(uint64(w), 9))
			for !stop.Load() || writes.Load() < 300 {
				it := randomItem(t, wr)
				it["pk"] = s(fmt.Sprint("bulk", wr.IntN(1000)))
				it["sk"] = n(t, fmt.Sprint(wr.IntN(60)))
				err := db.Update(context.Background(), func(tx *store.Tx) error {
					if wr.IntN(3) == 0 {
						_, err := tx.Delete(stale, attr.Item{"pk": it["pk"], "sk": it["sk"]})
						return err
					}
					_, err := tx.Put(stale, it)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				writes.Add(1)
			}
		})
	}
	err = db.BackfillIndex(t.Context(), "idx", "late")
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	final, _ := db.Table("idx")
	if ix, _ := final.Index("late"); ix.Status != store.StatusActive {
		t.Errorf("status after backfill = %s", ix.Status)
	}
	t.Logf("%d concurrent writes", writes.Load())
	checkIndexes(t, db, final)

	// Dropping the index removes it and its entries.
	if err := db.DropIndex("idx", "late"); err != nil {
		t.Fatal(err)
	}
	final, _ = db.Table("idx")
	if _, ok := final.Index("late"); ok {
		t.Error("index still listed after DropIndex")
	}
	if err := db.DropIndex("idx", "late"); !errors.Is(err, store.ErrIndexNotFound) {
		t.Errorf("second DropIndex = %v", err)
	}
	checkIndexes(t, db, final)
}

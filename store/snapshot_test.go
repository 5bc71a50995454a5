package store_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// TestDB_AppendSnapshotPageIsExportTable: the snapshot service's fast
// path, which copies rows as stored, gives the same rows as ExportTable
// (items and tombstones, versions, contexts, keys), pages within the
// budget, and positions that chain.
func TestDB_AppendSnapshotPageIsExportTable(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t.1", attr.TypeS, attr.TypeN))
	var items []attr.Item
	for i := range 60 {
		items = append(items, attr.Item{"pk": s(fmt.Sprint("p", i%7)), "sk": n(t, fmt.Sprint(i-30, ".25")), "v": s(fmt.Sprint(i))})
	}
	storetest.Put(t, db, tbl, items...)
	for i := 0; i < len(items); i += 6 {
		storetest.Delete(t, db, tbl, attr.Item{"pk": items[i]["pk"], "sk": items[i]["sk"]})
	}
	want := storetest.Export(t, db, "t.1")
	if len(want) != 60 {
		t.Fatalf("exported %d rows", len(want))
	}
	for _, budget := range []int{200, 1000, 1 << 20} {
		var got []*store.Change
		var after []byte
		for pages := 0; ; pages++ {
			page, next, err := db.AppendSnapshotPage([]byte("x"), "t.1", after, budget)
			if err != nil {
				t.Fatalf("budget %d: %v", budget, err)
			}
			if page[0] != 'x' || len(page)-1 > budget {
				t.Fatalf("budget %d: page of %d bytes, or dst not kept", budget, len(page)-1)
			}
			for b := page[1:]; len(b) > 0; {
				l, k := binary.Uvarint(b)
				c, err := store.DecodeChange(b[k : k+int(l)])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, c)
				b = b[k+int(l):]
			}
			if next == nil {
				break
			}
			if pages > 100 {
				t.Fatalf("budget %d: no end", budget)
			}
			after = next
			// ExportTable takes the same positions.
			if _, _, err := db.ExportTable("t.1", next, 1); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("budget %d: %d rows, want %d", budget, len(got), len(want))
		}
		for i, c := range got {
			w := want[i]
			if keyString(c.Key) != keyString(w.Key) || c.Deleted != w.Deleted || c.Version != w.Version || c.Prev != w.Prev ||
				!c.Context.Equal(w.Context) || !itemsEqual(c.New, w.New) || c.Seq != 0 || c.Kind != store.ChangeItem ||
				c.Table != w.Table || c.TableID != w.TableID || !c.CommittedAt.IsZero() || !c.Floor.IsZero() || c.Old != nil {
				t.Fatalf("budget %d: row %d is %+v, ExportTable gives %+v", budget, i, c, w)
			}
		}
	}
	if _, _, err := db.AppendSnapshotPage(nil, "t.1", nil, 20); !errors.Is(err, store.ErrPageTooSmall) {
		t.Errorf("a row larger than the page: %v", err)
	}
	if _, _, err := db.AppendSnapshotPage(nil, "nope", nil, 1000); !errors.Is(err, store.ErrTableNotFound) {
		t.Errorf("a missing table: %v", err)
	}
}

// TestDB_ApplyCopyWaitsForNoRoundAndDurableForOne: a snapshot copy's pages
// commit without a sync round each (the copy waited on the disk once per
// page), and Durable runs the one round that makes them all durable,
// which a re-sync waits for before its link moves the cursor.
func TestDB_ApplyCopyWaitsForNoRoundAndDurableForOne(t *testing.T) {
	src := storetest.Open(t)
	tbl := storetest.CreateTable(t, src, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	for i := range 20 {
		storetest.Put(t, src, tbl, attr.Item{"pk": s(fmt.Sprint("k", i))})
	}
	rows := storetest.Export(t, src, "t")
	db := storetest.Open(t, storetest.OnDisk(t.TempDir()))
	storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	before := store.SyncRounds(db)
	for i := 0; i < len(rows); i += 5 {
		st, err := db.ApplyCopy(context.Background(), "src", rows[i:i+5])
		if err != nil || st.Applied != 5 {
			t.Fatalf("ApplyCopy: %+v, %v", st, err)
		}
	}
	if got := store.SyncRounds(db) - before; got != 0 {
		t.Fatalf("ApplyCopy waited for %d sync rounds, want none", got)
	}
	if err := db.Durable(); err != nil {
		t.Fatal(err)
	}
	if got := store.SyncRounds(db) - before; got != 1 {
		t.Fatalf("Durable ran %d sync rounds, want 1", got)
	}
	if sum, n := storetest.Digest(t, db, "t"); n != 20 {
		t.Fatalf("copy holds %d items (%x), want 20", n, sum)
	}
}

package store_test

import (
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

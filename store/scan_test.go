package store_test

import (
	"fmt"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

func TestDB_ScanSegmentsPartitionTheTable(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	other := storetest.CreateTable(t, db, storetest.HashRangeTable("other", attr.TypeS, attr.TypeN))
	const parts, per = 150, 3
	want := make(map[string]bool)
	for p := range parts {
		for i := range per {
			it := attr.Item{"pk": s(fmt.Sprint("p", p)), "sk": n(t, fmt.Sprint(i))}
			storetest.Put(t, db, tbl, it)
			storetest.Put(t, db, other, it)
			want[keyString(it)] = true
		}
	}
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("p0"), "sk": n(t, "0")})
	delete(want, keyString(attr.Item{"pk": s("p0"), "sk": n(t, "0")}))

	for _, total := range []int{0, 1, 2, 3, 7, 16, 1000} {
		t.Run(fmt.Sprint(total, " segments"), func(t *testing.T) {
			seen := make(map[string]int)
			segs := max(total, 1)
			for seg := range segs {
				page := storetest.Scan(t, db, store.ScanInput{Table: tbl, Segment: seg, TotalSegments: total})
				for i, it := range page.Items {
					k := keyString(it)
					if prev, dup := seen[k]; dup {
						t.Fatalf("%s in segments %d and %d", k, prev, seg)
					}
					seen[k] = seg
					if !itemsEqual(page.LastKeys[i], attr.Item{"pk": it["pk"], "sk": it["sk"]}) {
						t.Fatalf("LastKey %v for %v", page.LastKeys[i], it)
					}
				}
			}
			if len(seen) != len(want) {
				t.Fatalf("segments cover %d items, want %d", len(seen), len(want))
			}
			for k := range want {
				if _, ok := seen[k]; !ok {
					t.Fatalf("%s in no segment", k)
				}
			}
		})
	}

	t.Run("pagination", func(t *testing.T) {
		for _, total := range []int{1, 3} {
			for seg := range total {
				in := store.ScanInput{Table: tbl, Segment: seg, TotalSegments: total}
				full := storetest.Scan(t, db, in)
				var paged []attr.Item
				for {
					var last attr.Item
					count := 0
					err := db.Scan(in, func(it, lk attr.Item) bool {
						paged = append(paged, it)
						last = lk
						count++
						return count < 7
					})
					if err != nil {
						t.Fatal(err)
					}
					if count < 7 {
						break
					}
					in.Start = last
				}
				if len(paged) != len(full.Items) {
					t.Fatalf("segment %d/%d: %d items paged, %d in one go", seg, total, len(paged), len(full.Items))
				}
				for i := range paged {
					if !itemsEqual(paged[i], full.Items[i]) {
						t.Fatalf("segment %d/%d item %d: paged %v, full %v", seg, total, i, paged[i], full.Items[i])
					}
				}
			}
		}
	})

	t.Run("bad segment", func(t *testing.T) {
		for _, in := range []store.ScanInput{{Table: tbl, Segment: 3, TotalSegments: 3}, {Table: tbl, Segment: -1, TotalSegments: 2}} {
			if err := db.Scan(in, func(_, _ attr.Item) bool { return true }); err == nil {
				t.Errorf("Scan(%d of %d) succeeded", in.Segment, in.TotalSegments)
			}
		}
	})
}

// keyString renders the table key of it for maps.
func keyString(it attr.Item) string {
	return fmt.Sprintf("%v|%v", it["pk"], it["sk"])
}

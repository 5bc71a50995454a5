package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// BenchmarkStreamCost measures what a table's stream adds to the write
// path: the same ~200-byte puts (local writes, then replicated applies in
// batches of 100) into a table without a stream and with each kind of
// stream, on disk without fsync so that the figure is the CPU and I/O cost
// of the records, not of sync rounds.
func BenchmarkStreamCost(b *testing.B) {
	pad := attr.String(strings.Repeat("x", 170))
	for _, view := range []string{"off", store.StreamKeysOnly, store.StreamNewAndOldImages} {
		open := func(b *testing.B) (*store.DB, *store.Table) {
			db := storetest.Open(b, storetest.OnDisk(b.TempDir()), func(c *store.Config) { c.SyncWrites = false })
			def := storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid)
			if view != "off" {
				def.Stream = &store.StreamSpec{ViewType: view}
			}
			return db, storetest.CreateTable(b, db, def)
		}
		b.Run("put/stream="+view, func(b *testing.B) {
			db, tbl := open(b)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				// Every other put replaces an item: MODIFY records carry
				// both images.
				it := attr.Item{"pk": attr.String(fmt.Sprintf("k%08d", i/2)), "pad": pad, "n": attr.String(fmt.Sprint(i))}
				if err := db.Update(context.Background(), func(tx *store.Tx) error {
					_, err := tx.Put(tbl, it)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("apply100/stream="+view, func(b *testing.B) {
			db, _ := open(b)
			wall := time.Now().UnixNano()
			next := 0
			changes := make([]*store.Change, 100)
			var cursor uint64
			b.ReportAllocs()
			for b.Loop() {
				for i := range changes {
					next++
					wall++
					v := conflict.Version{Wall: wall, Region: "eu"}
					it := attr.Item{"pk": attr.String(fmt.Sprintf("k%09d", next)), "pad": pad}
					changes[i] = &store.Change{Table: "bench", Key: attr.Item{"pk": it["pk"]}, New: it, Version: v, Context: conflict.Context{"eu": v}}
				}
				cursor++
				if _, err := db.Apply(context.Background(), "eu", cursor, changes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

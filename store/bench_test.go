package store_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// BenchmarkPut measures one-item Updates of ~200-byte items on disk, with
// and without fsync, from one writer and from 8. With SyncWrites, the
// parallel figure shows whether Badger groups concurrent commits into one
// fsync: ns/op far below the serial figure means it does.
func BenchmarkPut(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("sync=%v/writers=%d", sync, writers), func(b *testing.B) {
				db := storetest.Open(b, storetest.OnDisk(b.TempDir()), func(c *store.Config) { c.SyncWrites = sync })
				tbl := storetest.CreateTable(b, db, storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid))
				pad := attr.String(strings.Repeat("x", 170))
				if size := attr.ItemSize(attr.Item{"pk": attr.String("k00000000"), "pad": pad}); size < 180 || size > 220 {
					b.Fatalf("item size %d", size)
				}
				var next atomic.Int64
				put := func() {
					it := attr.Item{"pk": attr.String(fmt.Sprintf("k%08d", next.Add(1))), "pad": pad}
					err := db.Update(context.Background(), func(tx *store.Tx) error {
						_, err := tx.Put(tbl, it)
						return err
					})
					if err != nil {
						b.Error(err)
					}
				}
				b.ReportAllocs()
				rounds := store.SyncRounds(db)
				b.ResetTimer()
				if writers == 1 {
					for b.Loop() {
						put()
					}
				} else {
					b.SetParallelism(max(1, writers/runtime.GOMAXPROCS(0)))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							put()
						}
					})
				}
				b.ReportMetric(float64(store.SyncRounds(db)-rounds)/float64(b.N), "syncrounds/op")
			})
		}
	}
}

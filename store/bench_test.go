package store_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
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
				cpu0 := processCPU()
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
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// processCPU returns the CPU time (user and system) the process has used,
// in nanoseconds: with fsync, most of a commit's cost is in the kernel and
// in other goroutines, which ns/op (wall time) does not show.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkApply measures the replication hot path: one Apply of a batch of
// remote puts of ~200-byte items (new keys) per op, on disk with SyncWrites,
// so one transaction and one fsync round per batch.
func BenchmarkApply(b *testing.B) {
	for _, batch := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db := storetest.Open(b, storetest.OnDisk(b.TempDir()))
			storetest.CreateTable(b, db, storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid))
			pad := attr.String(strings.Repeat("x", 170))
			wall := time.Now().UnixNano()
			next := 0
			changes := make([]*store.Change, batch)
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
				st, err := db.Apply(context.Background(), "eu", cursor, changes)
				if err != nil || st.Applied != batch {
					b.Fatalf("Apply = %+v, %v", st, err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

//go:build unix

package region

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// rebuildItems is the table size of issue 12's goal 6: a 100,000-item
// re-sync in under 2 s.
const rebuildItems = 100_000

// BenchmarkRebuild is the re-sync of one 100,000-item table (~200-byte
// items) by a region back after longer than the streams keep changes:
// rebuildTable against a real nats-server and Badger on disk at both ends,
// the source serving its snapshot with its provenance. It reports the
// seconds per re-sync and the CPU the process used for it (both ends and
// the server are in this process; the machine is shared, so CPU is the
// steadier figure).
//
//	go test -run '^$' -bench Rebuild -benchtime 3x ./region/
//
// stream=NEW_AND_OLD_IMAGES is the table as a global table's replicas
// have it, with a stream: the copy writes a stream record per row.
func BenchmarkRebuild(b *testing.B) {
	src := storetest.Open(b, storetest.OnDisk(b.TempDir()))
	storetest.CreateTable(b, src, storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid))
	pad := attr.String(strings.Repeat("x", 170))
	wall := time.Now().UnixNano()
	var batch []*store.Change
	for i := range rebuildItems {
		v := conflict.Version{Wall: wall + int64(i), Region: "src"}
		k := attr.String(fmt.Sprintf("k%09d", i))
		batch = append(batch, &store.Change{Kind: store.ChangeItem, Table: "bench", Key: attr.Item{"pk": k},
			New: attr.Item{"pk": k, "pad": pad}, Version: v, Context: conflict.Context{}.With(v)})
		if len(batch) == 1000 {
			if _, err := src.Apply(context.Background(), "src", 0, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	ctx := b.Context()
	nc := serveSnapshots(b, &replicatedStore{DB: src, region: "src", horizon: time.Hour, log: hclog.NewNullLogger()}, "bench")
	// A global table's replicas keep a stream (NEW_AND_OLD_IMAGES), and
	// the copy writes a stream record per row, as bench catchup's table
	// does.
	for _, view := range []string{"", store.StreamNewAndOldImages} {
		b.Run("stream="+cmp.Or(view, "none"), func(b *testing.B) {
			var took, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				dst := storetest.Open(b, storetest.OnDisk(b.TempDir()))
				tbl := storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid)
				if view != "" {
					tbl.Stream = &store.StreamSpec{ViewType: view}
				}
				storetest.CreateTable(b, dst, tbl)
				r := &replication{cfg: ReplicationConfig{TombstoneHorizon: time.Hour}, db: dst, self: "dst", log: hclog.NewNullLogger()}
				b.StartTimer()
				start, cpu0 := time.Now(), benchCPU(b)
				rep, err := r.rebuildTable(ctx, nc, "src", "bench")
				if err != nil || rep.Applied != rebuildItems || rep.Dropped != 0 || rep.Skipped != 0 {
					b.Fatalf("rebuild %+v: %v", rep, err)
				}
				took += time.Since(start)
				cpu += benchCPU(b) - cpu0
			}
			b.ReportMetric(took.Seconds()/float64(b.N), "s/resync")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/resync")
		})
	}
}

// benchCPU is the CPU time (user + system) this process used so far.
func benchCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

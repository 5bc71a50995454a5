package replicator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// BenchmarkPublisherCPU measures the CPU of the publisher's path with a
// real store: one writer commits an item every `every` to a store on disk,
// and the publisher reads each record and publishes it to the embedded
// JetStream server, in one process. SyncWrites is off, so that the fsync
// of the group commit (hundreds of µs of CPU) does not drown the
// publisher's own cost; what remains per message is the commit without
// its flush, the publisher's read and publish, and the server's store.
//
//	go test -run '^$' -bench 'PublisherCPU' -benchtime 3000x -count 6 ./replicator/
//
// cpu-µs/msg is the process's user + system CPU over the run divided by
// the records: compare builds side by side (benchstat).
func BenchmarkPublisherCPU(b *testing.B) {
	for _, every := range []time.Duration{time.Millisecond, 3 * time.Millisecond} {
		b.Run("every="+every.String(), func(b *testing.B) { benchPublisherCPU(b, every) })
	}
}

func benchPublisherCPU(b *testing.B, every time.Duration) {
	srv := natstest.StartServer(b, "src", b.TempDir())
	db := storetest.Open(b, storetest.OnDisk(b.TempDir()), func(c *store.Config) { c.SyncWrites = false })
	tbl := storetest.CreateTable(b, db, storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid))
	p, err := NewPublisher(PublisherConfig{Region: "src", Log: db, Conn: natstest.Connect(b, srv.ClientURL())})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}()
	pad := attr.String(string(make([]byte, 170)))
	put := func(i int) {
		it := attr.Item{"pk": attr.String(fmt.Sprintf("k%08d", i)), "pad": pad}
		if err := db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Put(tbl, it)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up: the stream set up and one record acknowledged.
	put(-1)
	for p.Status().Published < 1 {
		time.Sleep(time.Millisecond) // polling for the warm-up
	}
	cpu0 := processCPU(b)
	b.ResetTimer()
	paced(b.N, every, put)
	for p.Status().Published < uint64(b.N)+1 {
		time.Sleep(time.Millisecond) // polling for the end
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
}

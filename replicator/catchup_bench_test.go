//go:build unix

package replicator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// The catch-up and re-sync paths of issue 12's goal 6, with real parts: an
// embedded nats-server with file storage, Badger on disk with SyncWrites,
// ~200-byte items. Run one at a time, at the goal's size:
//
//	go test -run '^$' -bench 'CatchUp_Link' -benchtime 100000x ./replicator/
//	go test -run '^$' -bench 'Snapshot_Resync' -benchtime 3x ./replicator/
//
// BenchmarkCatchUp_Link is a region back from an outage: b.N changes wait
// in the source's stream, and a link with a fresh store applies them; it
// reports changes/s from the link's start to its cursor at the last one.
// BenchmarkSnapshot_Resync serves a 100,000-item table's snapshot from
// one store and applies it into another, as a join or a re-sync does
// (region's rebuild adds its own bookkeeping: region.BenchmarkRebuild).

// benchPad makes a bench item about 200 bytes.
var benchPad = attr.String(strings.Repeat("x", 170))

// benchChange returns the i-th change of the bench table, written by "src".
func benchChange(i int, wall int64) *store.Change {
	v := conflict.Version{Wall: wall, Region: "src"}
	k := attr.String(fmt.Sprintf("k%09d", i))
	return &store.Change{
		Kind: store.ChangeItem, Table: "bench", TableID: 1, Seq: uint64(i + 1),
		Key: attr.Item{"pk": k}, New: attr.Item{"pk": k, "pad": benchPad},
		Version: v, Context: conflict.Context{}.With(v), CommittedAt: time.Unix(0, wall),
	}
}

// benchStore opens a store on disk with the bench table.
func benchStore(b *testing.B) *store.DB {
	b.Helper()
	db := storetest.Open(b, storetest.OnDisk(b.TempDir()))
	storetest.CreateTable(b, db, storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid))
	return db
}

// publishAll publishes n bench changes to src's stream, asynchronously,
// and waits for every acknowledgement.
func publishAll(b *testing.B, js jetstream.JetStream, n int) {
	b.Helper()
	wall := time.Now().UnixNano()
	for i := range n {
		c := benchChange(i, wall+int64(i))
		m := nats.NewMsg(ChangeSubject("src", c))
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("src/%d", c.Seq))
		m.Data = store.AppendChange(nil, c)
		if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		b.Fatal("publishing did not complete")
	}
}

func BenchmarkCatchUp_Link(b *testing.B) {
	for _, batch := range []int{0, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchCatchUpLink(b, batch) })
	}
}

// benchCatchUpLink measures a link of the given Batch (0: the default).
func benchCatchUpLink(b *testing.B, batch int) {
	srv := natstest.StartServer(b, "src", b.TempDir())
	js, err := jetstream.New(natstest.Connect(b, srv.ClientURL()), jetstream.WithPublishAsyncMaxPending(DefaultWindow))
	if err != nil {
		b.Fatal(err)
	}
	createStream(b, js, "src", nil)
	publishAll(b, js, b.N)
	db := benchStore(b)
	l, err := NewLink(LinkConfig{Source: "src", Dest: "dst", URL: srv.ClientURL(), Store: db, Control: newFakeStore(), Batch: batch})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU(b)
	go func() { done <- l.Run(ctx) }()
	for l.Status().Cursor < uint64(b.N) {
		select {
		case err := <-done:
			b.Fatalf("link ended: %v", err)
		case <-time.After(time.Millisecond): // polling for the end
		}
	}
	took, cpu := time.Since(start), processCPU(b)-cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "changes/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/change")
	if st := l.Status(); st.Applied != uint64(b.N) {
		b.Fatalf("applied %d, want %d", st.Applied, b.N)
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// resyncItems is the size of the table BenchmarkSnapshot_Resync copies.
const resyncItems = 100_000

// fillBenchTable writes n bench items into db, as remote writes of "src".
func fillBenchTable(b *testing.B, db *store.DB, n int) {
	b.Helper()
	wall := time.Now().UnixNano()
	batch := make([]*store.Change, 0, 1000)
	for i := range n {
		batch = append(batch, benchChange(i, wall+int64(i)))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := db.Apply(context.Background(), "src", 0, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func BenchmarkSnapshot_Resync(b *testing.B) {
	src := benchStore(b)
	fillBenchTable(b, src, resyncItems)
	srv := natstest.StartServer(b, "src", b.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- ServeSnapshots(ctx, natstest.Connect(b, srv.ClientURL()), "src", src, nil) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			b.Error(err)
		}
	}()
	nc := natstest.Connect(b, srv.ClientURL())
	natstest.WaitFor(b, waitLong, func() error {
		return FetchSnapshot(ctx, nc, "src", "bench", func([]*store.Change) error { return nil })
	})
	var took, cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		dst := benchStore(b)
		b.StartTimer()
		start, cpu0 := time.Now(), processCPU(b)
		applied := 0
		err := FetchSnapshot(ctx, nc, "src", "bench", func(rows []*store.Change) error {
			st, err := dst.Apply(ctx, "src", 0, rows)
			applied += st.Applied
			return err
		})
		if err != nil || applied != resyncItems {
			b.Fatalf("re-sync applied %d of %d: %v", applied, resyncItems, err)
		}
		took += time.Since(start)
		cpu += processCPU(b) - cpu0
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "s/resync")
	b.ReportMetric(float64(resyncItems*b.N)/took.Seconds(), "items/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/resync")
}

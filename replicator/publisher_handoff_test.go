package replicator

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// TestPublisher_PublishesTheStoresRecordsInOrder runs the publisher on a
// real store on disk (SyncWrites) while writers commit concurrently, so
// that commits become durable out of order and the store hands records
// over from memory or falls back to Badger; the publisher is restarted
// halfway (its new run starts from Badger). The stream must hold every
// record once, in Seq order, with the bytes the publisher built from
// Badger before the hand-off existed.
func TestPublisher_PublishesTheStoresRecordsInOrder(t *testing.T) {
	srv := natstest.StartServer(t, "src", t.TempDir())
	db := storetest.Open(t, storetest.OnDisk(t.TempDir()))
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	cfg := func(c *PublisherConfig) { c.TrimGrace = time.Hour } // keep the records to compare

	write := func(round int) {
		t.Helper()
		const writers, each = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					it := attr.Item{"pk": attr.String(fmt.Sprintf("r%d-w%d-%d", round, w, i))}
					if err := db.Update(context.Background(), func(tx *store.Tx) error {
						_, err := tx.Put(tbl, it)
						return err
					}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}

	p := newTestPublisher(t, db, srv.ClientURL(), cfg)
	stop := run(t, p.Run)
	write(0)
	waitStreamLen(t, js, "src", 100)
	stop()
	p2 := newTestPublisher(t, db, srv.ClientURL(), cfg)
	run(t, p2.Run)
	write(1)
	waitStreamLen(t, js, "src", 200)

	want, err := db.Changes(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 200 {
		t.Fatalf("the log holds %d records, want 200", len(want))
	}
	for i, m := range streamMsgs(t, js, "src", 200) {
		c := want[i]
		if got := m.Header.Get(jetstream.MsgIDHeader); got != MsgID("src", c.Seq) {
			t.Fatalf("message %d is %s, want record %d", i+1, got, c.Seq)
		}
		if m.Subject != ChangeSubject("src", c) {
			t.Fatalf("message %d: subject %q, want %q", i+1, m.Subject, ChangeSubject("src", c))
		}
		if !bytes.Equal(m.Data, store.AppendChange(nil, c)) {
			t.Fatalf("message %d: data %x, Badger's record encodes as %x", i+1, m.Data, store.AppendChange(nil, c))
		}
	}
}

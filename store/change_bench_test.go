package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// BenchmarkChangesTail measures what the publisher did on each wake-up at
// a steady rate before the in-memory hand-off: read the one record
// committed since its last read (Changes after the last Seq it has), with
// the log's earlier records published and trimmed, as a region's log is.
//
//	go test -run '^$' -bench 'ChangesTail' -benchmem -count 6 ./store/
func BenchmarkChangesTail(b *testing.B) {
	benchTail(b, func(db *store.DB, last uint64) (uint64, error) {
		cs, err := db.Changes(last, 256)
		if err != nil || len(cs) != 1 {
			return 0, fmt.Errorf("Changes = %d records, %v", len(cs), err)
		}
		return cs[0].Seq, nil
	})
}

// BenchmarkPublisherTail is BenchmarkChangesTail as the publisher reads the
// log since the in-memory hand-off (handoff.go): the record committed since
// its last read, encoded for publishing (EncodedChanges). Before the
// hand-off the same step was Changes and AppendChange.
//
//	go test -run '^$' -bench 'PublisherTail' -benchtime 20000x -benchmem -count 6 ./store/
func BenchmarkPublisherTail(b *testing.B) {
	benchTail(b, func(db *store.DB, last uint64) (uint64, error) {
		cs, err := db.EncodedChanges(last, 256)
		if err != nil || len(cs) != 1 {
			return 0, fmt.Errorf("EncodedChanges = %d records, %v", len(cs), err)
		}
		return cs[0].Seq, nil
	})
}

// benchTail commits one record per iteration, untimed, and times read,
// which returns the Seq of the one record after last.
func benchTail(b *testing.B, read func(db *store.DB, last uint64) (uint64, error)) {
	db := storetest.Open(b, storetest.OnDisk(b.TempDir()), func(c *store.Config) { c.SyncWrites = false })
	tbl := storetest.CreateTable(b, db, storetest.HashRangeTable("bench", attr.TypeS, attr.TypeInvalid))
	pad := attr.String(strings.Repeat("x", 170))
	put := func(i int) {
		it := attr.Item{"pk": attr.String(fmt.Sprintf("k%08d", i)), "pad": pad}
		if err := db.Update(context.Background(), func(tx *store.Tx) error {
			_, err := tx.Put(tbl, it)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	// A published past: 10,000 records written, read and trimmed.
	for i := range 10000 {
		put(i)
	}
	cs, err := db.Changes(0, 20000)
	if err != nil {
		b.Fatal(err)
	}
	seqs := make([]uint64, len(cs))
	for i, c := range cs {
		seqs[i] = c.Seq
	}
	if err := db.TrimChanges(seqs...); err != nil {
		b.Fatal(err)
	}
	last := seqs[len(seqs)-1]
	b.ReportAllocs()
	i := 10000
	for b.Loop() {
		b.StopTimer()
		i++
		put(i)
		b.StartTimer()
		if last, err = read(db, last); err != nil {
			b.Fatal(err)
		}
	}
}

package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// TestDB_PurgeTombstonesLaterPasses: a pass that reads only the rows
// written since the last one still purges an old tombstone written since
// (a remote delete of long ago), leaves a young tombstone alone until the
// cutoff passes it, and then purges it.
func TestDB_PurgeTombstonesLaterPasses(t *testing.T) {
	db := storetest.Open(t, storetest.OnDisk(t.TempDir()))
	tbl := hashTable(t, db)
	now := time.Now()
	del := func(key string, at time.Time) *store.Change {
		v := ver(at.UnixNano(), "eu")
		return remoteDelete("t", attr.Item{"pk": s(key)}, v, conflict.Version{}, ctxOf(v))
	}
	for i := range 2500 { // several batches
		storetest.Put(t, db, tbl, attr.Item{"pk": s(fmt.Sprint("live", i))})
	}
	storetest.Apply(t, db, "eu", 0, del("young", now.Add(-10*time.Minute)))
	purge := func(cutoff time.Time) int {
		t.Helper()
		n, err := db.PurgeTombstones(t.Context(), cutoff)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := purge(now.Add(-30 * time.Minute)); n != 0 {
		t.Fatalf("first pass purged %d, want 0", n)
	}
	storetest.Apply(t, db, "eu", 0, del("late", now.Add(-2*time.Hour)))
	if n := purge(now.Add(-30 * time.Minute)); n != 1 {
		t.Fatalf("a pass after an old delete purged %d, want it", n)
	}
	if n := purge(now.Add(-20 * time.Minute)); n != 0 {
		t.Fatalf("a pass with the cutoff before the young tombstone purged %d", n)
	}
	if n := purge(now); n != 1 {
		t.Fatalf("a pass with the cutoff after the young tombstone purged %d, want it", n)
	}
	rows := storetest.Export(t, db, "t")
	if len(rows) != 2500 {
		t.Fatalf("%d rows left, want the 2,500 live ones", len(rows))
	}
	for _, r := range rows {
		if r.Deleted {
			t.Fatalf("tombstone of %v left", r.Key)
		}
	}
}

// BenchmarkPurgeTombstones is a purge pass over a table of 100,000 live
// items and no tombstones, after a first pass: what a region's purge loop
// costs every horizon/8 (every 375 ms with bench catchup's 3 s horizon).
//
//	go test -run '^$' -bench PurgeTombstones ./store/
func BenchmarkPurgeTombstones(b *testing.B) {
	db := storetest.Open(b, storetest.OnDisk(b.TempDir()))
	storetest.CreateTable(b, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	pad := s(string(make([]byte, 170)))
	var batch []*store.Change
	wall := time.Now().UnixNano()
	for i := range 100_000 {
		v := ver(wall+int64(i), "eu")
		batch = append(batch, remotePut("t", attr.Item{"pk": s(fmt.Sprintf("k%09d", i)), "pad": pad}, v, conflict.Version{}, ctxOf(v)))
		if len(batch) == 1000 {
			storetest.Apply(b, db, "eu", 0, batch...)
			batch = batch[:0]
		}
	}
	cutoff := time.Now().Add(-time.Hour)
	if _, err := db.PurgeTombstones(b.Context(), cutoff); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if n, err := db.PurgeTombstones(b.Context(), cutoff); err != nil || n != 0 {
			b.Fatalf("purged %d: %v", n, err)
		}
	}
}

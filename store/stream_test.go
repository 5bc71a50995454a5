package store_test

import (
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// streamTable creates table "t" (hash key pk) with a stream of viewType.
func streamTable(t *testing.T, db *store.DB, viewType string) *store.Table {
	t.Helper()
	def := storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid)
	def.Stream = &store.StreamSpec{ViewType: viewType}
	tbl := storetest.CreateTable(t, db, def)
	if tbl.Stream == nil || tbl.Stream.ID == 0 {
		t.Fatalf("stream not assigned: %+v", tbl.Stream)
	}
	return tbl
}

// readAll follows a stream's shards from the first, in lineage order, and
// returns every record once.
func readAll(t *testing.T, db *store.DB, id uint64) []*store.StreamRecord {
	t.Helper()
	_, shards, err := db.Stream(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []*store.StreamRecord
	for _, sh := range shards {
		after := sh.Start - 1
		for {
			page, err := db.StreamRecords(id, sh.Index, after, 3, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Records...)
			after = page.Next
			if len(page.Records) == 0 {
				break
			}
		}
	}
	return out
}

func events(recs []*store.StreamRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.EventName+":"+r.Keys["pk"].S)
	}
	return out
}

func TestStream_LocalWrites(t *testing.T) {
	db := storetest.Open(t)
	tbl := streamTable(t, db, store.StreamNewAndOldImages)
	a1 := attr.Item{"pk": s("a"), "x": s("1")}
	a2 := attr.Item{"pk": s("a"), "x": s("2")}
	storetest.Put(t, db, tbl, a1)
	storetest.Put(t, db, tbl, a2)
	storetest.Put(t, db, tbl, a2) // changes nothing: no record
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("a")})
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("a")}) // absent: no record
	recs := readAll(t, db, tbl.Stream.ID)
	got := events(recs)
	want := []string{"INSERT:a", "MODIFY:a", "REMOVE:a"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	if recs[0].OldImage != nil || !attr.ItemsEqual(recs[0].NewImage, a1) {
		t.Errorf("insert images %v / %v", recs[0].NewImage, recs[0].OldImage)
	}
	if !attr.ItemsEqual(recs[1].OldImage, a1) || !attr.ItemsEqual(recs[1].NewImage, a2) {
		t.Errorf("modify images %v / %v", recs[1].NewImage, recs[1].OldImage)
	}
	if recs[2].NewImage != nil || !attr.ItemsEqual(recs[2].OldImage, a2) {
		t.Errorf("remove images %v / %v", recs[2].NewImage, recs[2].OldImage)
	}
	for i, r := range recs {
		if r.OriginRegion != storetest.Region || r.OverwroteLocal || r.SizeBytes <= 0 || r.CreatedAt.IsZero() {
			t.Errorf("record %d: %+v", i, r)
		}
		if i > 0 && r.Seq <= recs[i-1].Seq {
			t.Errorf("sequence numbers not increasing: %d after %d", r.Seq, recs[i-1].Seq)
		}
	}
}

func TestStream_ViewTypes(t *testing.T) {
	for _, vt := range []string{store.StreamKeysOnly, store.StreamNewImage, store.StreamOldImage} {
		t.Run(vt, func(t *testing.T) {
			db := storetest.Open(t)
			tbl := streamTable(t, db, vt)
			storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "x": s("1")})
			storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "x": s("2")})
			recs := readAll(t, db, tbl.Stream.ID)
			if len(recs) != 2 {
				t.Fatalf("%d records", len(recs))
			}
			m := recs[1]
			if (m.NewImage != nil) != (vt == store.StreamNewImage) || (m.OldImage != nil) != (vt == store.StreamOldImage) {
				t.Errorf("view %s: new %v old %v", vt, m.NewImage, m.OldImage)
			}
			if len(m.Keys) != 1 {
				t.Errorf("keys %v", m.Keys)
			}
		})
	}
}

// A replicated change writes a record only when it wins last-writer-wins;
// a loser and a duplicate write none, and a winner over a concurrent local
// write is marked.
func TestStream_Apply(t *testing.T) {
	db := storetest.Open(t)
	tbl := streamTable(t, db, store.StreamNewAndOldImages)
	now := time.Now().UnixNano()
	key := attr.Item{"pk": s("a")}
	remote := func(x string, v conflict.Version) *store.Change {
		return remotePut("t", attr.Item{"pk": s("a"), "x": s(x)}, v, conflict.Version{}, ctxOf(v))
	}
	// Remote insert wins.
	storetest.Apply(t, db, "eu", 0, remote("eu", ver(now, "eu")))
	storetest.Apply(t, db, "eu", 0, remote("eu", ver(now, "eu"))) // duplicate
	// A local write, then a concurrent older remote one that loses.
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "x": s("local")})
	st := storetest.Apply(t, db, "ap", 0, remote("old", ver(now-1, "ap")))
	if st.Skipped != 1 {
		t.Fatalf("loser applied: %+v", st)
	}
	// A concurrent remote write far ahead wins over the local one.
	storetest.Apply(t, db, "us", 0, remote("us", ver(now+int64(time.Hour), "us")))
	_ = key
	recs := readAll(t, db, tbl.Stream.ID)
	var got []string
	for _, r := range recs {
		got = append(got, r.EventName+":"+r.NewImage["x"].S+"@"+r.OriginRegion)
	}
	want := []string{"INSERT:eu@eu", "MODIFY:local@" + storetest.Region, "MODIFY:us@us"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("records %v, want %v", got, want)
	}
	if !recs[2].OverwroteLocal || recs[0].OverwroteLocal || recs[1].OverwroteLocal {
		t.Errorf("overwroteLocal markers: %v %v %v", recs[0].OverwroteLocal, recs[1].OverwroteLocal, recs[2].OverwroteLocal)
	}
}

// Disabling keeps the old stream readable, closes its shard, and enabling
// again makes a new stream.
func TestStream_DisableEnable(t *testing.T) {
	db := storetest.Open(t)
	tbl := streamTable(t, db, store.StreamKeysOnly)
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a")})
	old := tbl.Stream.ID
	tbl2, err := db.UpdateTable("t", func(t *store.Table) error { t.Stream = nil; return nil })
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, db, tbl2, attr.Item{"pk": s("b")})
	tbl3, err := db.UpdateTable("t", func(t *store.Table) error {
		t.Stream = &store.StreamSpec{ViewType: store.StreamNewImage}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, db, tbl3, attr.Item{"pk": s("c")})
	if tbl3.Stream.ID == old {
		t.Fatal("re-enabled stream kept the old ID")
	}
	info, shards, err := db.Stream(old)
	if err != nil {
		t.Fatal(err)
	}
	if info.Enabled() || len(shards) != 1 || shards[0].Open() {
		t.Fatalf("old stream %+v shards %+v", info, shards)
	}
	if got := events(readAll(t, db, old)); len(got) != 1 || got[0] != "INSERT:a" {
		t.Errorf("old stream %v", got)
	}
	if got := events(readAll(t, db, tbl3.Stream.ID)); len(got) != 1 || got[0] != "INSERT:c" {
		t.Errorf("new stream %v", got)
	}
	streams, err := db.Streams()
	if err != nil || len(streams) != 2 {
		t.Fatalf("streams %v %v", streams, err)
	}
}

// Shards roll over while writes go on; a reader following lineage sees
// every record exactly once, and old records are trimmed.
func TestStream_RollOverAndTrim(t *testing.T) {
	db := storetest.Open(t, func(c *store.Config) {
		c.StreamShardPeriod = 20 * time.Millisecond
		c.StreamRetention = time.Hour
	})
	tbl := streamTable(t, db, store.StreamKeysOnly)
	const n = 300
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < n; i++ {
		storetest.Put(t, db, tbl, attr.Item{"pk": s(string(rune('a'+i%26)) + string(rune('0'+i/26)))})
		if i%50 == 0 {
			time.Sleep(25 * time.Millisecond) // let shards roll between writes
		}
	}
	for {
		_, shards, err := db.Stream(tbl.Stream.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(shards) >= 3 {
			for i, sh := range shards {
				if i > 0 && sh.Parent != int64(shards[i-1].Index) {
					t.Fatalf("shard %d parent %d", sh.Index, sh.Parent)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shards did not roll over: %d", len(shards))
		}
		time.Sleep(10 * time.Millisecond)
	}
	recs := readAll(t, db, tbl.Stream.ID)
	seen := map[uint64]bool{}
	for _, r := range recs {
		if seen[r.Seq] {
			t.Fatalf("record %d seen twice", r.Seq)
		}
		seen[r.Seq] = true
	}
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
}

func TestStream_Trim(t *testing.T) {
	db := storetest.Open(t, func(c *store.Config) {
		c.StreamShardPeriod = 30 * time.Millisecond
		c.StreamRetention = 100 * time.Millisecond
	})
	tbl := streamTable(t, db, store.StreamKeysOnly)
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a")})
	_, shards, err := db.Stream(tbl.Stream.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := shards[0]
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := db.StreamRecords(tbl.Stream.ID, first.Index, first.Start-1, 10, 1<<20)
		if err != nil {
			// Trimmed: the shard's metadata is gone or the position is
			// below the horizon.
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("record never trimmed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, shards, err = db.Stream(tbl.Stream.ID)
	if err != nil || len(shards) == 0 || !shards[len(shards)-1].Open() {
		t.Fatalf("after trim: %+v %v", shards, err)
	}
}

// Records and sequence numbers survive a restart, and iteration continues.
func TestStream_Restart(t *testing.T) {
	dir := t.TempDir()
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Region, cfg.GCInterval = dir, storetest.Region, -1
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tbl := streamTable(t, db, store.StreamKeysOnly)
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a")})
	first := readAll(t, db, tbl.Stream.ID)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl, err = db.Table("t")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, db, tbl, attr.Item{"pk": s("b")})
	recs := readAll(t, db, tbl.Stream.ID)
	if len(recs) != 2 || recs[0].Seq != first[0].Seq || recs[1].Seq <= recs[0].Seq {
		t.Fatalf("after restart: %v", events(recs))
	}
}

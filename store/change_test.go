package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

func TestDB_ChangeRecords(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	key := attr.Item{"pk": s("a"), "sk": n(t, "1")}
	v1 := attr.Item{"pk": s("a"), "sk": n(t, "1"), "x": s("one")}
	v2 := attr.Item{"pk": s("a"), "sk": n(t, "1"), "x": s("two")}
	v3 := attr.Item{"pk": s("a"), "sk": n(t, "1"), "x": s("three")}

	before := time.Now()
	storetest.Put(t, db, tbl, v1)                                           // create
	storetest.Put(t, db, tbl, v2)                                           // overwrite
	storetest.Delete(t, db, tbl, key)                                       // delete
	storetest.Delete(t, db, tbl, key)                                       // delete of a tombstone: no record
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("zz"), "sk": n(t, "0")}) // absent: no record
	storetest.Put(t, db, tbl, v3)                                           // put over the tombstone

	changes, err := db.Changes(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 4 {
		t.Fatalf("%d change records, want 4", len(changes))
	}
	want := []struct {
		newItem, old attr.Item
		deleted      bool
	}{{v1, nil, false}, {v2, v1, false}, {nil, v2, true}, {v3, nil, false}}
	var prev conflict.Version
	var lastSeq uint64
	for i, c := range changes {
		w := want[i]
		if c.Seq <= lastSeq {
			t.Errorf("change %d: seq %d after %d", i, c.Seq, lastSeq)
		}
		lastSeq = c.Seq
		if c.Table != "t" || c.TableID != tbl.ID || !itemsEqual(c.Key, key) {
			t.Errorf("change %d: table %s/%d key %v", i, c.Table, c.TableID, c.Key)
		}
		if c.Deleted != w.deleted || !itemsEqual(c.New, w.newItem) || (c.New == nil) != (w.newItem == nil) {
			t.Errorf("change %d: deleted=%v new=%v, want %v %v", i, c.Deleted, c.New, w.deleted, w.newItem)
		}
		if !itemsEqual(c.Old, w.old) || (c.Old == nil) != (w.old == nil) {
			t.Errorf("change %d: old=%v, want %v", i, c.Old, w.old)
		}
		if c.Prev != prev || !prev.Less(c.Version) || c.Version.Region != storetest.Region {
			t.Errorf("change %d: version %v prev %v, want prev %v", i, c.Version, c.Prev, prev)
		}
		if c.CommittedAt.Before(before.Add(-time.Second)) || c.CommittedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("change %d: committed at %v", i, c.CommittedAt)
		}
		prev = c.Version
	}
	rec, _ := db.Get(tbl, key)
	if rec.Version != changes[3].Version {
		t.Errorf("row version %v, last change %v", rec.Version, changes[3].Version)
	}

	// Paging and trimming.
	rest, _ := db.Changes(changes[1].Seq, 2)
	if len(rest) != 2 || rest[0].Seq != changes[2].Seq {
		t.Errorf("Changes(after 2nd, 2) = %d records starting %d", len(rest), rest[0].Seq)
	}
	if err := db.TrimChanges(changes[0].Seq, changes[2].Seq, 1<<60); err != nil {
		t.Fatal(err)
	}
	left, _ := db.Changes(0, 10)
	if len(left) != 2 || left[0].Seq != changes[1].Seq || left[1].Seq != changes[3].Seq {
		t.Errorf("after trim: %v", left)
	}
}

func TestDB_WaitChangesSignalsCommits(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	ch := db.WaitChanges()
	select {
	case <-ch:
		t.Fatal("signalled before any commit")
	default:
	}
	// A transaction without writes signals nothing.
	if err := db.Update(t.Context(), func(*store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("signalled by an empty transaction")
	default:
	}
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a")})
	select {
	case <-ch:
	default:
		t.Fatal("not signalled after a commit")
	}
	next := db.WaitChanges()
	if next == ch {
		t.Fatal("WaitChanges returned the spent channel")
	}
	// The publisher pattern: take the channel, read, then wait.
	got, _ := db.Changes(0, 0)
	done := make(chan []*store.Change)
	go func() {
		<-next
		c, _ := db.Changes(got[len(got)-1].Seq, 0)
		done <- c
	}()
	storetest.Put(t, db, tbl, attr.Item{"pk": s("b")})
	select {
	case c := <-done:
		if len(c) != 1 || c[0].Key["pk"].S != "b" {
			t.Errorf("publisher read %v", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("publisher never woke")
	}
}

func TestDB_SequenceSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() *store.DB {
		cfg := store.DefaultConfig()
		cfg.Dir, cfg.Region = dir, "r1"
		db, err := store.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	var maxSeq uint64
	for round := range 3 {
		db := open()
		tbl, err := db.Table("t")
		if errors.Is(err, store.ErrTableNotFound) {
			tbl = storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
		} else if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			storetest.Put(t, db, tbl, attr.Item{"pk": s(string(rune('a' + i))), "round": n(t, string(rune('0'+round)))})
		}
		changes, err := db.Changes(0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 5*(round+1) {
			t.Fatalf("round %d: %d change records, want %d", round, len(changes), 5*(round+1))
		}
		for _, c := range changes[5*round:] {
			if c.Seq <= maxSeq {
				t.Fatalf("round %d: seq %d reuses or precedes %d", round, c.Seq, maxSeq)
			}
			maxSeq = c.Seq
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

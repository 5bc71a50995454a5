package region

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

func TestReceived(t *testing.T) {
	created := time.Unix(100, 0)
	marks := map[string]conflict.Version{}
	at := func(wall int64, region string) conflict.Version {
		return conflict.Version{Wall: wall * int64(time.Second), Region: region}
	}
	marks["b"] = at(500, "b")
	for _, tt := range []struct {
		v    conflict.Version
		want bool
	}{
		{at(200, "a"), true},  // its own write
		{at(50, "a"), false},  // its own, but before its copy of the table
		{at(499, "b"), true},  // below its watermark of b
		{at(500, "b"), false}, // at the watermark: not covered
		{at(600, "b"), false}, // above it
		{at(200, "c"), false}, // nothing applied from c
		{at(50, "b"), false},  // before its copy of the table
	} {
		if got := received("a", created, marks, tt.v); got != tt.want {
			t.Errorf("received(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestReplicatedStore_DropForgotten: a link drops an old put the region
// received and holds nothing of (deleted, tombstone purged), and nothing
// else.
func TestReplicatedStore_DropForgotten(t *testing.T) {
	db := storetest.Open(t)
	storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeS))
	tbl, err := db.Table("t")
	if err != nil {
		t.Fatal(err)
	}
	// Versions just after the table's creation, older than a horizon of
	// 1 ns by the time they are judged.
	base := tbl.CreatedAt.UnixNano()
	v := func(d int64) conflict.Version { return conflict.Version{Wall: base + d, Region: "src"} }
	put := func(pk string, ver conflict.Version) *store.Change {
		return &store.Change{Kind: store.ChangeItem, Table: "t", TableID: tbl.ID, Version: ver,
			New: attr.Item{"pk": attr.String(pk), "sk": attr.String("1")}}
	}
	seen := put("held", v(1))
	seen.Floor = v(10)
	storetest.Apply(t, db, "src", 1, seen) // watermark of src: v(10)
	s := &replicatedStore{DB: db, region: storetest.Region, horizon: time.Nanosecond, log: hclog.NewNullLogger()}

	forgotten := put("gone", v(2))
	held := put("held", v(3))
	unseen := put("new", v(20))
	del := &store.Change{Kind: store.ChangeItem, Table: "t", TableID: tbl.ID, Version: v(4), Deleted: true,
		Key: attr.Item{"pk": attr.String("gone2"), "sk": attr.String("1")}}
	kept, dropped, err := s.dropForgotten("src", []*store.Change{forgotten, held, unseen, del})
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 1 || len(kept) != 3 || kept[0] != held || kept[1] != unseen || kept[2] != del {
		t.Fatalf("dropped %d, kept %d; want only the forgotten put dropped", dropped, len(kept))
	}
	s.horizon = time.Hour // nothing is older than the horizon
	if _, dropped, _ := s.dropForgotten("src", []*store.Change{forgotten}); dropped != 0 {
		t.Fatal("dropped a put younger than the horizon")
	}
}

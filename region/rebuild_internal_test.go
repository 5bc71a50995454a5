package region

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/replicator/natstest"
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

// TestRebuildTable_ComparesEachPageRange: a rebuild whose snapshot spans
// several pages drops the local rows the source had received and deleted
// wherever they fall (before the first key the source sent, between keys
// of each page, between pages, after the last key), keeps those the source
// never received, leaves rows the source also holds, and applies the rest.
// The pages are compared with the local rows of their own key range, so
// each range is covered.
func TestRebuildTable_ComparesEachPageRange(t *testing.T) {
	src := storetest.Open(t)
	storetest.CreateTable(t, src, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	dst := storetest.Open(t)
	storetest.CreateTable(t, dst, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	st, err := src.Table("t")
	if err != nil {
		t.Fatal(err)
	}
	// Versions just after the source's table was created: older than its
	// tombstone horizon of 1 ns, and written while its copy existed.
	base := st.CreatedAt.UnixNano()
	pad := attr.String(strings.Repeat("p", 900)) // ~1 KB rows: 4,000 make 4 pages
	row := func(k string, wall int64, region string) *store.Change {
		v := conflict.Version{Wall: base + wall, Region: region}
		return &store.Change{Kind: store.ChangeItem, Table: "t", Version: v, Context: conflict.Context{}.With(v),
			New: attr.Item{"pk": attr.String(k), "pad": pad}}
	}
	var sent []*store.Change
	for i := range 4000 {
		sent = append(sent, row(fmt.Sprintf("k%05d0", i), int64(i+1), "src"))
	}
	storetest.Apply(t, src, "src", 0, sent...)
	// Local rows the snapshot lacks: written by the source (it had
	// received them: deleted there since) at keys spread over every page's
	// range and beyond both ends, and one written here (never received
	// there). One row the source also holds, at the same version.
	var local []*store.Change
	gone := append([]string{"g1", "g2", "g3", "g4", "g5"}, endKeys(t, dst, sent)...)
	for _, k := range gone {
		local = append(local, row(k, 1, "src"))
	}
	local = append(local, row("k010005", 2, storetest.Region), sent[1234])
	storetest.Apply(t, dst, "src", 0, local...)

	ctx := t.Context()
	nc := serveSnapshots(t, &replicatedStore{DB: src, region: "src", horizon: time.Nanosecond, log: hclog.NewNullLogger()}, "t")
	r := &replication{cfg: ReplicationConfig{TombstoneHorizon: time.Hour}, db: dst, self: storetest.Region, log: hclog.NewNullLogger()}
	rep, err := r.rebuildTable(ctx, nc, "src", "t")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != len(sent)-1 || rep.Dropped != len(gone) || rep.Kept != 1 || rep.KeptLocal != 1 || rep.Skipped != 0 {
		t.Fatalf("report %+v: want %d applied, %d dropped, 1 kept (local)", rep, len(sent)-1, len(gone))
	}
	want, n, err := src.Digest("t")
	if err != nil {
		t.Fatal(err)
	}
	got, m, err := dst.Digest("t")
	if err != nil {
		t.Fatal(err)
	}
	if m != n+1 {
		t.Fatalf("%d items here, want the source's %d and the local write", m, n)
	}
	// Less the kept local write, the copy is the source's.
	storetest.Apply(t, dst, "src", 0, &store.Change{Kind: store.ChangeItem, Table: "t", Deleted: true,
		Version: conflict.Version{Wall: base + 3, Region: storetest.Region}, Key: attr.Item{"pk": attr.String("k010005")}})
	if got, _, err = dst.Digest("t"); err != nil || got != want {
		t.Fatalf("the copy differs from the source's table (%v)", err)
	}
}

// endKeys returns two keys of table t whose rows sort before and after
// every row of sent (rows are ordered by a hash of the key first).
func endKeys(t *testing.T, db *store.DB, sent []*store.Change) []string {
	t.Helper()
	keys, err := db.RowKeys("t", sent)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := slices.Min(keys), slices.Max(keys)
	var first, last string
	for i := 0; i < 1_000_000 && (first == "" || last == ""); i++ {
		k := fmt.Sprintf("e%d", i)
		rk, err := db.RowKeys("t", []*store.Change{{Kind: store.ChangeItem, Table: "t", New: attr.Item{"pk": attr.String(k)}}})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case rk[0] < lo && first == "":
			first = k
		case rk[0] > hi && last == "":
			last = k
		}
	}
	if first == "" || last == "" {
		t.Fatal("found no key sorting before or after every row sent")
	}
	return []string{first, last}
}

// serveSnapshots serves rs's snapshots as region "src" on a NATS server
// of its own until the test ends, and returns a connection to it once the
// service answers for table.
func serveSnapshots(tb testing.TB, rs *replicatedStore, table string) *nats.Conn {
	tb.Helper()
	srv := natstest.StartServer(tb, "src", tb.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- replicator.ServeSnapshots(ctx, natstest.Connect(tb, srv.ClientURL()), "src", rs, nil)
	}()
	tb.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			tb.Error(err)
		}
	})
	nc := natstest.Connect(tb, srv.ClientURL())
	natstest.WaitFor(tb, time.Minute, func() error {
		_, _, err := replicator.FetchItemCount(ctx, nc, "src", table)
		return err
	})
	return nc
}

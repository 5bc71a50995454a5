package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

func ver(wall int64, region string) conflict.Version {
	return conflict.Version{Wall: wall, Region: region}
}

func ctxOf(vs ...conflict.Version) conflict.Context {
	var c conflict.Context
	for _, v := range vs {
		c = c.With(v)
	}
	return c
}

// remotePut is a change from another region putting item, which ctx says
// its writer had seen (ctx includes v).
func remotePut(table string, item attr.Item, v, prev conflict.Version, ctx conflict.Context) *store.Change {
	return &store.Change{Table: table, Key: attr.Item{"pk": item["pk"]}, New: item, Version: v, Prev: prev, Context: ctx}
}

func remoteDelete(table string, key attr.Item, v, prev conflict.Version, ctx conflict.Context) *store.Change {
	return &store.Change{Table: table, Key: key, Deleted: true, Version: v, Prev: prev, Context: ctx}
}

func hashTable(t *testing.T, db *store.DB) *store.Table {
	t.Helper()
	return storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
}

func TestDB_ApplyLastWriterWins(t *testing.T) {
	key := attr.Item{"pk": s("a")}
	item := func(x string) attr.Item { return attr.Item{"pk": s("a"), "x": s(x)} }
	eu10, eu20, ap10, ap20 := ver(10, "eu"), ver(20, "eu"), ver(10, "ap"), ver(20, "ap")
	tests := []struct {
		name          string
		first, second *store.Change
		want          store.ApplyStats // of the second
		wantVersion   conflict.Version
		wantItem      attr.Item // nil: a tombstone
		wantCtx       conflict.Context
	}{
		{"succession replaces", remotePut("t", item("1"), eu10, conflict.Version{}, ctxOf(eu10)),
			remotePut("t", item("2"), ap20, eu10, ctxOf(eu10, ap20)),
			store.ApplyStats{Applied: 1}, ap20, item("2"), ctxOf(eu10, ap20)},
		{"concurrent newer replaces", remotePut("t", item("1"), eu10, conflict.Version{}, ctxOf(eu10)),
			remotePut("t", item("2"), ap20, conflict.Version{}, ctxOf(ap20)),
			store.ApplyStats{Applied: 1, Conflicts: 1}, ap20, item("2"), ctxOf(eu10, ap20)},
		{"concurrent older loses", remotePut("t", item("1"), eu20, conflict.Version{}, ctxOf(eu20)),
			remotePut("t", item("2"), ap10, conflict.Version{}, ctxOf(ap10)),
			store.ApplyStats{Skipped: 1, Conflicts: 1}, eu20, item("1"), ctxOf(eu20, ap10)},
		{"older covered put is dropped", remotePut("t", item("1"), eu20, ap10, ctxOf(ap10, eu20)),
			remotePut("t", item("2"), ap10, conflict.Version{}, ctxOf(ap10)),
			store.ApplyStats{Skipped: 1}, eu20, item("1"), ctxOf(ap10, eu20)},
		{"duplicate", remotePut("t", item("1"), eu10, conflict.Version{}, ctxOf(eu10)),
			remotePut("t", item("1"), eu10, conflict.Version{}, ctxOf(eu10)),
			store.ApplyStats{Duplicates: 1}, eu10, item("1"), ctxOf(eu10)},
		{"delete succeeds put", remotePut("t", item("1"), eu10, conflict.Version{}, ctxOf(eu10)),
			remoteDelete("t", key, ap20, eu10, ctxOf(eu10, ap20)),
			store.ApplyStats{Applied: 1}, ap20, nil, ctxOf(eu10, ap20)},
		{"concurrent delete beats older put", remotePut("t", item("1"), eu10, conflict.Version{}, ctxOf(eu10)),
			remoteDelete("t", key, ap20, conflict.Version{}, ctxOf(ap20)),
			store.ApplyStats{Applied: 1, Conflicts: 1}, ap20, nil, ctxOf(eu10, ap20)},
		{"older concurrent put does not resurrect a tombstone", remoteDelete("t", key, eu20, conflict.Version{}, ctxOf(eu20)),
			remotePut("t", item("2"), ap10, conflict.Version{}, ctxOf(ap10)),
			store.ApplyStats{Skipped: 1, Conflicts: 1}, eu20, nil, ctxOf(eu20, ap10)},
		{"older covered put does not resurrect a tombstone", remoteDelete("t", key, eu20, ap10, ctxOf(ap10, eu20)),
			remotePut("t", item("2"), ap10, conflict.Version{}, ctxOf(ap10)),
			store.ApplyStats{Skipped: 1}, eu20, nil, ctxOf(ap10, eu20)},
		{"newer put replaces a tombstone", remoteDelete("t", key, eu10, conflict.Version{}, ctxOf(eu10)),
			remotePut("t", item("2"), ap20, eu10, ctxOf(eu10, ap20)),
			store.ApplyStats{Applied: 1}, ap20, item("2"), ctxOf(eu10, ap20)},
		{"two concurrent deletes are no conflict", remoteDelete("t", key, eu10, conflict.Version{}, ctxOf(eu10)),
			remoteDelete("t", key, ap20, conflict.Version{}, ctxOf(ap20)),
			store.ApplyStats{Applied: 1}, ap20, nil, ctxOf(eu10, ap20)},
		{"a change without context takes its prev as history", remotePut("t", item("1"), eu10, conflict.Version{}, ctxOf(eu10)),
			remotePut("t", item("2"), ap20, eu10, nil),
			store.ApplyStats{Applied: 1}, ap20, item("2"), ctxOf(eu10, ap20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := storetest.Open(t)
			tbl := hashTable(t, db)
			storetest.Apply(t, db, "x", 0, tt.first)
			before := db.ConflictCount()
			got := storetest.Apply(t, db, tt.second.Version.Region, 0, tt.second)
			if got != tt.want {
				t.Errorf("stats %+v, want %+v", got, tt.want)
			}
			if n := db.ConflictCount() - before; n != int64(tt.want.Conflicts) {
				t.Errorf("%d conflicts logged, want %d", n, tt.want.Conflicts)
			}
			rec, err := db.Get(tbl, key)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Version != tt.wantVersion || rec.Deleted != (tt.wantItem == nil) || !itemsEqual(rec.Item, tt.wantItem) {
				t.Errorf("row %+v, want version %v item %v", rec, tt.wantVersion, tt.wantItem)
			}
			if !rec.Context.Equal(tt.wantCtx) {
				t.Errorf("context %v, want %v", rec.Context, tt.wantCtx)
			}
			// Applying both again, in either order, changes nothing.
			storetest.Apply(t, db, "x", 0, tt.second, tt.first)
			if again, _ := db.Get(tbl, key); again.Version != rec.Version || !again.Context.Equal(rec.Context) {
				t.Errorf("re-applying changed the row to %+v", again)
			}
		})
	}
}

func TestDB_ApplyOlderPutNeverResurrectsALocalDelete(t *testing.T) {
	db := storetest.Open(t)
	tbl := hashTable(t, db)
	key := attr.Item{"pk": s("a")}
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "x": s("local")})
	storetest.Delete(t, db, tbl, key)
	tomb, _ := db.Get(tbl, key)
	// A put made elsewhere a minute before the delete, unseen by it.
	old := ver(tomb.Version.Wall-int64(time.Minute), "eu")
	st := storetest.Apply(t, db, "eu", 0, remotePut("t", attr.Item{"pk": s("a"), "x": s("remote")}, old, conflict.Version{}, ctxOf(old)))
	if st.Skipped != 1 || st.Conflicts != 1 {
		t.Errorf("stats %+v", st)
	}
	if rec, _ := db.Get(tbl, key); !rec.Deleted || rec.Version != tomb.Version {
		t.Fatalf("row %+v after an older put, want the tombstone %v", rec, tomb.Version)
	}
	if c, _ := db.Stats("t"); c != 0 {
		t.Errorf("Stats count %d", c)
	}
}

func TestDB_ApplyCursorIsDurableWithTheItems(t *testing.T) {
	dir := t.TempDir()
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Region = dir, "us"
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tbl := hashTable(t, db)
	v := ver(time.Now().UnixNano(), "eu")
	storetest.Apply(t, db, "eu", 42, remotePut("t", attr.Item{"pk": s("a")}, v, conflict.Version{}, ctxOf(v)))
	storetest.Apply(t, db, "ap", 7) // a cursor alone
	if err := db.SetCursor("sa", 3); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.Cursor("eu"); err != nil || c != 42 {
		t.Errorf("Cursor(eu) = %d, %v; want 42", c, err)
	}
	if c, err := db.Cursor("nowhere"); err != nil || c != 0 {
		t.Errorf("Cursor(nowhere) = %d, %v; want 0", c, err)
	}
	all, err := db.Cursors()
	if err != nil || fmt.Sprint(all) != "map[ap:7 eu:42 sa:3]" {
		t.Errorf("Cursors = %v, %v", all, err)
	}
	if rec, _ := db.Get(tbl, attr.Item{"pk": s("a")}); rec.Version != v {
		t.Errorf("row %+v", rec)
	}
}

// TestDB_ApplyFailureWritesNoCursor applies a batch whose only change cannot
// fit a transaction (its row and its index entry exceed the limit): nothing,
// cursor included, may be written.
func TestDB_ApplyFailureWritesNoCursor(t *testing.T) {
	db := storetest.Open(t, func(c *store.Config) { c.MemTableSize = 1 << 20 }) // ~150 KB per transaction
	def := storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid)
	def.GSIs = []store.Index{{Name: "g", Hash: store.KeyElement{Name: "g", Type: attr.TypeS}}}
	storetest.CreateTable(t, db, def)
	v := ver(time.Now().UnixNano(), "eu")
	big := attr.Item{"pk": s("a"), "g": s("g"), "pad": s(strings.Repeat("x", 100<<10))}
	_, err := db.Apply(t.Context(), "eu", 9, []*store.Change{remotePut("t", big, v, conflict.Version{}, ctxOf(v))})
	if !errors.Is(err, store.ErrTxTooBig) {
		t.Fatalf("Apply = %v, want ErrTxTooBig", err)
	}
	if c, _ := db.Cursor("eu"); c != 0 {
		t.Errorf("cursor %d written by a failed Apply", c)
	}
}

func TestDB_ApplySplitsBatchesTooBigForOneTransaction(t *testing.T) {
	db := storetest.Open(t, func(c *store.Config) { c.MemTableSize = 1 << 20 })
	tbl := hashTable(t, db)
	pad := s(strings.Repeat("y", 400))
	var changes []*store.Change
	base := time.Now().UnixNano()
	for i := range 2000 {
		v := ver(base+int64(i), "eu")
		changes = append(changes, remotePut("t", attr.Item{"pk": s(fmt.Sprint(i)), "pad": pad}, v, conflict.Version{}, ctxOf(v)))
	}
	st := storetest.Apply(t, db, "eu", 2000, changes...)
	if st.Applied != 2000 {
		t.Errorf("stats %+v", st)
	}
	if c, _ := db.Cursor("eu"); c != 2000 {
		t.Errorf("cursor %d", c)
	}
	if c, _ := db.Stats("t"); c != 2000 {
		t.Errorf("Stats count %d", c)
	}
	if got := storetest.Scan(t, db, store.ScanInput{Table: tbl}); len(got.Items) != 2000 {
		t.Errorf("%d items", len(got.Items))
	}
}

// fakeClock mints versions from a counter and records what it observes.
type fakeClock struct {
	mu       sync.Mutex
	wall     int64
	observed []conflict.Version
}

func (c *fakeClock) Next(after conflict.Version) conflict.Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = max(c.wall, after.Wall) + 1
	return ver(c.wall, storetest.Region)
}

func (c *fakeClock) Observe(v conflict.Version) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observed = append(c.observed, v)
}

func TestDB_ApplyObservesEveryVersion(t *testing.T) {
	clock := &fakeClock{}
	db := storetest.Open(t, func(c *store.Config) { c.Clock = clock })
	hashTable(t, db)
	v1, v2, v3 := ver(5, "eu"), ver(6, "eu"), ver(7, "eu")
	storetest.Apply(t, db, "eu", 0,
		remotePut("t", attr.Item{"pk": s("a")}, v1, conflict.Version{}, nil),
		remotePut("nope", attr.Item{"pk": s("a")}, v2, conflict.Version{}, nil),
		&store.Change{Kind: store.ChangeControl, Table: "t", Control: []byte("{}"), Version: v3},
	)
	if fmt.Sprint(clock.observed) != fmt.Sprint([]conflict.Version{v1, v2, v3}) {
		t.Errorf("observed %v", clock.observed)
	}
}

func TestDB_LocalWriteAfterApplyWinsDespiteASlowClock(t *testing.T) {
	// This region's clock is an hour behind the writer of the remote item.
	now := time.Now()
	db := storetest.Open(t, func(c *store.Config) {
		c.Clock = conflict.NewHLC(c.Region, func() time.Time { return now.Add(-time.Hour) })
	})
	tbl := hashTable(t, db)
	remote := ver(now.UnixNano(), "eu")
	storetest.Apply(t, db, "eu", 0, remotePut("t", attr.Item{"pk": s("a"), "x": s("eu")}, remote, conflict.Version{}, ctxOf(remote)))
	// A write of another item still mints a version after the one seen.
	storetest.Put(t, db, tbl, attr.Item{"pk": s("b")})
	if rec, _ := db.Get(tbl, attr.Item{"pk": s("b")}); !remote.Less(rec.Version) {
		t.Errorf("unrelated local write %v not after observed %v", rec.Version, remote)
	}
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a"), "x": s("local")})
	rec, _ := db.Get(tbl, attr.Item{"pk": s("a")})
	if !remote.Less(rec.Version) || rec.Prev != remote || rec.Item["x"].S != "local" {
		t.Fatalf("local write %+v does not supersede %v", rec, remote)
	}
	if !rec.Context.Equal(ctxOf(remote, rec.Version)) {
		t.Errorf("context %v", rec.Context)
	}
	changes, err := db.Changes(0, 0)
	if err != nil || len(changes) != 2 {
		t.Fatalf("Changes = %d, %v", len(changes), err)
	}
	if c := changes[1]; !c.Context.Equal(rec.Context) || c.Prev != remote {
		t.Errorf("change record context %v prev %v", c.Context, c.Prev)
	}
	// In the origin region, the local write is succession: no conflict.
	other := storetest.Open(t)
	hashTable(t, other)
	storetest.Apply(t, other, "eu", 0, remotePut("t", attr.Item{"pk": s("a"), "x": s("eu")}, remote, conflict.Version{}, ctxOf(remote)))
	st := storetest.Apply(t, other, storetest.Region, 0, changes[1])
	if st.Applied != 1 || st.Conflicts != 0 {
		t.Errorf("the local write applied elsewhere: %+v", st)
	}
}

func TestDB_ApplyKeepsIndexesAndStats(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, indexedTable())
	r := rand.New(rand.NewPCG(3, 4))
	wall := time.Now().UnixNano()
	for step := range 400 {
		var batch []*store.Change
		for range 1 + r.IntN(8) {
			it := randomItem(t, r)
			key := attr.Item{"pk": it["pk"], "sk": it["sk"]}
			wall++
			v := ver(wall, []string{"eu", "ap"}[r.IntN(2)])
			c := &store.Change{Table: tbl.Name, Key: key, New: it, Version: v, Context: ctxOf(v)}
			if r.IntN(4) == 0 {
				c.New, c.Deleted = nil, true
			}
			if r.IntN(5) == 0 {
				c.Version.Wall -= 50 // often older than the row: a no-op
				c.Context = ctxOf(c.Version)
			}
			batch = append(batch, c)
		}
		storetest.Apply(t, db, "eu", uint64(step+1), batch...)
		if step%100 == 99 {
			checkIndexes(t, db, tbl)
			live := storetest.Scan(t, db, store.ScanInput{Table: tbl}).Items
			var size int64
			for _, it := range live {
				size += int64(attr.ItemSize(it))
			}
			if c, sz := db.Stats(tbl.Name); c != int64(len(live)) || sz != size {
				t.Fatalf("Stats = %d, %d; want %d, %d", c, sz, len(live), size)
			}
		}
	}
	if changes, _ := db.Changes(0, 0); len(changes) != 0 {
		t.Fatalf("Apply logged %d change records", len(changes))
	}
}

func TestDB_ApplyRecordsConflicts(t *testing.T) {
	db := storetest.Open(t)
	tbl := hashTable(t, db)
	a := func(x string) attr.Item { return attr.Item{"pk": s("a"), "x": s(x)} }
	eu1, ap2 := ver(100, "eu"), ver(200, "ap")
	storetest.Apply(t, db, "eu", 0, remotePut("t", a("eu"), eu1, conflict.Version{}, ctxOf(eu1)))
	storetest.Apply(t, db, "ap", 0, remotePut("t", a("ap"), ap2, conflict.Version{}, ctxOf(ap2)))

	// The out-of-order chain of conflict/context_test.go, on key b: us
	// wrote v1, eu replaced it with v2, ap replaced v2 with v3; v3 arrives
	// before v2. Succession throughout: no conflict.
	b := func(x string) attr.Item { return attr.Item{"pk": s("b"), "x": s(x)} }
	v1, v2, v3 := ver(10, "us"), ver(12, "eu"), ver(14, "ap")
	storetest.Apply(t, db, "us", 0, remotePut("t", b("1"), v1, conflict.Version{}, ctxOf(v1)))
	storetest.Apply(t, db, "ap", 0, remotePut("t", b("3"), v3, v2, ctxOf(v1, v2, v3)))
	storetest.Apply(t, db, "eu", 0, remotePut("t", b("2"), v2, v1, ctxOf(v1, v2)))
	if rec, _ := db.Get(tbl, attr.Item{"pk": s("b")}); rec.Version != v3 {
		t.Errorf("chain ended on %v", rec.Version)
	}

	// A local put concurrent with a remote delete that wins.
	storetest.Put(t, db, tbl, attr.Item{"pk": s("c"), "x": s("local")})
	local, _ := db.Get(tbl, attr.Item{"pk": s("c")})
	del := ver(local.Version.Wall+1, "eu")
	storetest.Apply(t, db, "eu", 0, remoteDelete("t", attr.Item{"pk": s("c")}, del, conflict.Version{}, ctxOf(del)))

	got, err := db.Conflicts(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || db.ConflictCount() != 2 {
		t.Fatalf("%d conflicts (count %d), want 2: %+v", len(got), db.ConflictCount(), got)
	}
	c := got[0]
	if c.Table != "t" || !itemsEqual(c.Key, attr.Item{"pk": s("a")}) || c.Winner != ap2 || c.Loser != eu1 ||
		!itemsEqual(c.WinnerItem, a("ap")) || !itemsEqual(c.LoserItem, a("eu")) ||
		c.Region != storetest.Region || c.Source != "ap" || time.Since(c.DetectedAt) > time.Minute {
		t.Errorf("conflict 1: %+v", c)
	}
	c = got[1]
	if c.Winner != del || c.WinnerItem != nil || c.Loser != local.Version || !itemsEqual(c.LoserItem, local.Item) || c.Source != "eu" || c.Seq <= got[0].Seq {
		t.Errorf("conflict 2: %+v", c)
	}
	if rest, _ := db.Conflicts(got[0].Seq, 10); len(rest) != 1 || rest[0].Seq != got[1].Seq {
		t.Errorf("Conflicts after the first: %+v", rest)
	}
}

func TestDB_ConflictLogSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Region = dir, "us"
	var last uint64
	for round := range 2 {
		db, err := store.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if round == 0 {
			hashTable(t, db)
		}
		if n := db.ConflictCount(); n != int64(round) {
			t.Errorf("round %d: ConflictCount %d", round, n)
		}
		k := fmt.Sprint("k", round)
		v1, v2 := ver(10, "eu"), ver(11, "ap")
		storetest.Apply(t, db, "eu", 0, remotePut("t", attr.Item{"pk": s(k)}, v1, conflict.Version{}, ctxOf(v1)))
		storetest.Apply(t, db, "ap", 0, remotePut("t", attr.Item{"pk": s(k)}, v2, conflict.Version{}, ctxOf(v2)))
		all, err := db.Conflicts(0, 0)
		if err != nil || len(all) != round+1 || all[round].Seq <= last {
			t.Fatalf("round %d: %+v, %v", round, all, err)
		}
		last = all[round].Seq
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDB_ApplyRacesLocalWrites applies remote changes while local writers
// update the same keys: Apply retries its conflicts, and every key ends on
// the greatest version either side wrote.
func TestDB_ApplyRacesLocalWrites(t *testing.T) {
	db := storetest.Open(t)
	tbl := hashTable(t, db)
	const keys = 8
	ctx := t.Context()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err := db.Update(ctx, func(tx *store.Tx) error {
					_, err := tx.Put(tbl, attr.Item{"pk": s(fmt.Sprint(i % keys)), "w": n(t, fmt.Sprint(w))})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	maxRemote := make(map[string]conflict.Version)
	for i := range 100 {
		var batch []*store.Change
		for j := range keys {
			v := ver(time.Now().UnixNano()+int64(j), "eu")
			k := fmt.Sprint(j)
			batch = append(batch, remotePut("t", attr.Item{"pk": s(k), "i": n(t, fmt.Sprint(i))}, v, conflict.Version{}, ctxOf(v)))
			maxRemote[k] = v
		}
		if _, err := db.Apply(ctx, "eu", uint64(i+1), batch); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	for k, v := range maxRemote {
		rec, _ := db.Get(tbl, attr.Item{"pk": s(k)})
		if rec.Version.Less(v) {
			t.Errorf("key %s at %v, below the applied %v", k, rec.Version, v)
		}
	}
	if c, _ := db.Stats("t"); c != keys {
		t.Errorf("Stats count %d", c)
	}
	if c, _ := db.Cursor("eu"); c != 100 {
		t.Errorf("cursor %d", c)
	}
}

// history generates the writes of a few regions to a few keys, each region
// seeing a random part of the others' writes, as real regions would: a
// region's write carries a version above everything it has seen and the
// merged context of what it has seen.
func history(r *rand.Rand, table string, regions []string, keys, writes int) []*store.Change {
	type state struct {
		seen map[int]bool // indexes into out
		ver  conflict.Version
		ctx  conflict.Context
	}
	states := make(map[string]*state) // by region + key
	var out []*store.Change
	var byKey [][]int
	byKey = make([][]int, keys)
	for range writes {
		region := regions[r.IntN(len(regions))]
		k := r.IntN(keys)
		st := states[fmt.Sprint(region, k)]
		if st == nil {
			st = &state{seen: map[int]bool{}}
			states[fmt.Sprint(region, k)] = st
		}
		// Learn some of the key's writes made elsewhere.
		for _, i := range byKey[k] {
			if !st.seen[i] && r.IntN(3) == 0 {
				st.seen[i] = true
				c := out[i]
				st.ctx = st.ctx.Merge(c.Context)
				if st.ver.Less(c.Version) {
					st.ver = c.Version
				}
			}
		}
		v := conflict.Version{Wall: st.ver.Wall + 1 + r.Int64N(3), Region: region}
		c := &store.Change{Table: table, Key: attr.Item{"pk": attr.String(fmt.Sprint("k", k))}, Version: v, Prev: st.ver, Context: st.ctx.With(v)}
		if r.IntN(4) == 0 {
			c.Deleted = true
		} else {
			c.New = attr.Item{"pk": c.Key["pk"], "by": attr.String(region), "n": attr.String(fmt.Sprint(len(out)))}
		}
		st.seen[len(out)] = true
		st.ver, st.ctx = v, c.Context
		byKey[k] = append(byKey[k], len(out))
		out = append(out, c)
	}
	return out
}

func TestDB_ApplyConverges(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	for round := range 10 {
		changes := history(r, "t", []string{"r1", "r2", "r3"}, 1+r.IntN(5), 20+r.IntN(100))
		want := make(map[string]*store.Change) // the greatest version per key
		for _, c := range changes {
			if w := want[c.Key["pk"].S]; w == nil || w.Version.Less(c.Version) {
				want[c.Key["pk"].S] = c
			}
		}
		var dbs []*store.DB
		for range 4 {
			db := storetest.Open(t)
			hashTable(t, db)
			order := append([]*store.Change(nil), changes...)
			for _, i := range r.Perm(len(changes))[:r.IntN(len(changes)/3+1)] {
				order = append(order, changes[i]) // duplicates
			}
			r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for len(order) > 0 {
				n := min(len(order), 1+r.IntN(20))
				storetest.Apply(t, db, "mix", 0, order[:n]...)
				order = order[n:]
			}
			dbs = append(dbs, db)
		}
		sum0, n0 := storetest.Digest(t, dbs[0], "t")
		rows0 := storetest.Export(t, dbs[0], "t")
		if len(rows0) != len(want) {
			t.Fatalf("seed %d round %d: %d rows, want %d", seed, round, len(rows0), len(want))
		}
		for _, row := range rows0 {
			w := want[row.Key["pk"].S]
			if row.Version != w.Version || row.Deleted != w.Deleted || !itemsEqual(row.New, w.New) {
				t.Fatalf("seed %d round %d: key %v at %v, want %v", seed, round, row.Key, row.Version, w.Version)
			}
		}
		for i, db := range dbs[1:] {
			if sum, n := storetest.Digest(t, db, "t"); sum != sum0 || n != n0 {
				t.Fatalf("seed %d round %d: store %d digest %x (%d items), store 0 %x (%d)", seed, round, i+1, sum, n, sum0, n0)
			}
			rows := storetest.Export(t, db, "t")
			for j, row := range rows {
				if row.Version != rows0[j].Version || row.Prev != rows0[j].Prev || !row.Context.Equal(rows0[j].Context) || !itemsEqual(row.New, rows0[j].New) {
					t.Fatalf("seed %d round %d: store %d row %d: %+v, store 0: %+v", seed, round, i+1, j, row, rows0[j])
				}
			}
		}
	}
}

func TestDB_ControlRecordsAreLoggedWithTheMetadata(t *testing.T) {
	db := storetest.Open(t)
	def := storetest.HashRangeTable("g", attr.TypeS, attr.TypeInvalid)
	if err := db.CreateTableLogged(def, []byte(`{"create":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTableLogged(storetest.HashRangeTable("g", attr.TypeS, attr.TypeInvalid), []byte("dup")); !errors.Is(err, store.ErrTableExists) {
		t.Fatalf("second create: %v", err)
	}
	errAbort := errors.New("abort")
	_, err := db.UpdateTableLogged("g", func(t *store.Table) ([]byte, error) {
		t.ReadCapacity = 99
		return []byte("aborted"), errAbort
	})
	if err != errAbort {
		t.Fatalf("aborted update: %v", err)
	}
	if tb, _ := db.Table("g"); tb.ReadCapacity == 99 {
		t.Fatal("aborted update changed the table")
	}
	if _, err := db.UpdateTableLogged("g", func(t *store.Table) ([]byte, error) { t.ReadCapacity = 5; return nil, nil }); err != nil {
		t.Fatal(err)
	}
	got, err := db.UpdateTableLogged("g", func(t *store.Table) ([]byte, error) { t.ReadCapacity = 6; return []byte(`{"update":1}`), nil })
	if err != nil || got.ReadCapacity != 6 {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if err := db.DeleteTableLogged("g", []byte(`{"delete":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTableLogged("g", []byte("gone")); !errors.Is(err, store.ErrTableNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	changes, err := db.Changes(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var payloads []string
	for _, c := range changes {
		if c.Kind != store.ChangeControl || c.Table != "g" || c.TableID != def.ID || c.Key != nil || c.Seq == 0 || c.CommittedAt.IsZero() {
			t.Errorf("control record %+v", c)
		}
		payloads = append(payloads, string(c.Control))
	}
	if fmt.Sprint(payloads) != `[{"create":1} {"update":1} {"delete":1}]` {
		t.Errorf("payloads %v", payloads)
	}
	// Apply skips control records.
	other := storetest.Open(t)
	if st := storetest.Apply(t, other, "us", 5, changes...); st.Skipped != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestDB_ExportTableCoversTheTableOnce(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	var items []attr.Item
	for i := range 60 {
		items = append(items, attr.Item{"pk": s(fmt.Sprint("p", i%7)), "sk": n(t, fmt.Sprint(i-30, ".25")), "v": s(fmt.Sprint(i))})
	}
	storetest.Put(t, db, tbl, items...)
	deleted := make(map[string]bool)
	for i := 0; i < len(items); i += 6 {
		it := items[i]
		key := attr.Item{"pk": it["pk"], "sk": it["sk"]}
		storetest.Delete(t, db, tbl, key)
		deleted[keyString(key)] = true
	}
	for _, limit := range []int{1, 7, 60, 1000} {
		seen := make(map[string]bool)
		var after []byte
		var last []byte
		for pages := 0; ; pages++ {
			rows, next, err := db.ExportTable("t", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) > limit || (next != nil && len(rows) != limit) {
				t.Fatalf("limit %d: page of %d rows, next %x", limit, len(rows), next)
			}
			for _, row := range rows {
				k := keyString(row.Key)
				if seen[k] {
					t.Fatalf("limit %d: %s twice", limit, k)
				}
				seen[k] = true
				rec, _ := db.Get(tbl, row.Key)
				if row.Deleted != deleted[k] || row.Version != rec.Version || row.Prev != rec.Prev || !row.Context.Equal(rec.Context) || !itemsEqual(row.New, rec.Item) || row.Seq != 0 || row.Kind != store.ChangeItem {
					t.Fatalf("limit %d: row %+v, stored %+v", limit, row, rec)
				}
			}
			if next == nil {
				break
			}
			if string(next) <= string(last) {
				t.Fatalf("position went back")
			}
			last, after = next, next
		}
		if len(seen) != 60 {
			t.Errorf("limit %d: %d rows exported, want 60", limit, len(seen))
		}
	}
	// A copy made from the export holds the same.
	copyDB := storetest.Open(t)
	storetest.CreateTable(t, copyDB, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	st := storetest.Apply(t, copyDB, storetest.Region, 0, storetest.Export(t, db, "t")...)
	if st.Applied != 60 {
		t.Errorf("stats %+v", st)
	}
	sum, cnt := storetest.Digest(t, db, "t")
	if sum2, cnt2 := storetest.Digest(t, copyDB, "t"); sum2 != sum || cnt2 != cnt || cnt != 50 {
		t.Errorf("digests %x/%d and %x/%d", sum, cnt, sum2, cnt2)
	}
	if _, _, err := db.ExportTable("nope", nil, 0); !errors.Is(err, store.ErrTableNotFound) {
		t.Errorf("export of a missing table: %v", err)
	}
}

func TestDB_DigestIgnoresTombstonesAndSeesVersions(t *testing.T) {
	db := storetest.Open(t)
	tbl := hashTable(t, db)
	empty, _ := storetest.Digest(t, db, "t")
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a")})
	one, n := storetest.Digest(t, db, "t")
	if one == empty || n != 1 {
		t.Fatal("digest did not change with an item")
	}
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("a")})
	if d, n := storetest.Digest(t, db, "t"); d != empty || n != 0 {
		t.Error("a tombstone changes the digest")
	}
	storetest.Put(t, db, tbl, attr.Item{"pk": s("a")})
	if d, _ := storetest.Digest(t, db, "t"); d == one {
		t.Error("the same item at another version gives the same digest")
	}
}

func TestDB_PurgeTombstonesRemovesOnlyOldOnes(t *testing.T) {
	db := storetest.Open(t, storetest.OnDisk(t.TempDir()))
	tbl := hashTable(t, db)
	old := time.Now().Add(-time.Hour).UnixNano()
	var changes []*store.Change
	for i := range 2500 { // several purge batches
		v := ver(old+int64(i), "eu")
		changes = append(changes, remoteDelete("t", attr.Item{"pk": s(fmt.Sprint("old", i))}, v, conflict.Version{}, ctxOf(v)))
	}
	storetest.Apply(t, db, "eu", 0, changes...)
	storetest.Put(t, db, tbl, attr.Item{"pk": s("new")}, attr.Item{"pk": s("live")},
		attr.Item{"pk": s("big"), "pad": s(strings.Repeat("z", 8<<10))})
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("new")})
	purged, err := db.PurgeTombstones(t.Context(), time.Now().Add(-30*time.Minute))
	if err != nil || purged != 2500 {
		t.Fatalf("PurgeTombstones = %d, %v; want 2500", purged, err)
	}
	rows := storetest.Export(t, db, "t")
	var left []string
	for _, r := range rows {
		left = append(left, fmt.Sprint(r.Key["pk"].S, r.Deleted))
	}
	if len(rows) != 3 {
		t.Fatalf("left %v", left)
	}
	if c, _ := db.Stats("t"); c != 2 {
		t.Errorf("Stats count %d", c)
	}
	if n, _ := db.PurgeTombstones(t.Context(), time.Now().Add(-30*time.Minute)); n != 0 {
		t.Errorf("second purge removed %d", n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.PurgeTombstones(ctx, time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("purge with a cancelled context: %v", err)
	}
}

// TestDB_PurgeTombstonesRacesLocalWrites purges while local writers put
// items over the tombstones: no put may be lost to the purge.
func TestDB_PurgeTombstonesRacesLocalWrites(t *testing.T) {
	db := storetest.Open(t)
	tbl := hashTable(t, db)
	old := time.Now().Add(-time.Hour).UnixNano()
	const keys = 3000
	var changes []*store.Change
	for i := range keys {
		v := ver(old+int64(i), "eu")
		changes = append(changes, remoteDelete("t", attr.Item{"pk": s(fmt.Sprint(i))}, v, conflict.Version{}, ctxOf(v)))
	}
	storetest.Apply(t, db, "eu", 0, changes...)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < keys; i += 3 {
			storetest.Put(t, db, tbl, attr.Item{"pk": s(fmt.Sprint(i))})
		}
	}()
	purged, err := db.PurgeTombstones(t.Context(), time.Now().Add(-time.Minute))
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < keys; i += 3 {
		if rec, _ := db.Get(tbl, attr.Item{"pk": s(fmt.Sprint(i))}); !rec.Exists() {
			t.Fatalf("put of %d lost to the purge: %+v", i, rec)
		}
	}
	if c, _ := db.Stats("t"); c != keys/3 {
		t.Errorf("Stats count %d", c)
	}
	// A put that came after the purge of its tombstone leaves the count
	// of purged rows above the tombstones left untouched.
	if rows := storetest.Export(t, db, "t"); len(rows) != keys/3 || purged < keys-keys/3 || purged > keys {
		t.Errorf("%d rows left, %d purged", len(rows), purged)
	}
}

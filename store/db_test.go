package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

func s(v string) attr.Value { return attr.String(v) }

func n(t testing.TB, v string) attr.Value {
	t.Helper()
	c, err := attr.ParseNumber(v)
	if err != nil {
		t.Fatalf("number %q: %v", v, err)
	}
	return attr.Number(c)
}

func b(v ...byte) attr.Value { return attr.Binary(v) }

func itemsEqual(a, b attr.Item) bool { return attr.ItemsEqual(a, b) }

func TestDB_PutGetDelete(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	key := attr.Item{"pk": s("a"), "sk": n(t, "1")}
	item := attr.Item{"pk": s("a"), "sk": n(t, "1"), "x": s("hello")}

	rec, err := db.Get(tbl, key)
	if err != nil || rec.Exists() || !rec.Version.IsZero() {
		t.Fatalf("Get absent = %+v, %v; want zero record", rec, err)
	}
	storetest.Put(t, db, tbl, item)
	rec, err = db.Get(tbl, key)
	if err != nil || !rec.Exists() || !itemsEqual(rec.Item, item) {
		t.Fatalf("Get after put = %+v, %v", rec, err)
	}
	if rec.Version.Region != storetest.Region || !rec.Prev.IsZero() {
		t.Fatalf("version %v prev %v: want region %s and no prev", rec.Version, rec.Prev, storetest.Region)
	}
	v1 := rec.Version

	storetest.Delete(t, db, tbl, key)
	rec, err = db.Get(tbl, key)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Deleted || rec.Exists() || rec.Item != nil || !v1.Less(rec.Version) || rec.Prev != v1 {
		t.Fatalf("Get after delete = %+v; want tombstone newer than %v with prev %v", rec, v1, v1)
	}
	if got := storetest.Scan(t, db, store.ScanInput{Table: tbl}); len(got.Items) != 0 {
		t.Errorf("Scan returned tombstone: %v", got.Items)
	}
	if got := storetest.Query(t, db, store.QueryInput{Table: tbl, Hash: s("a"), Forward: true}); len(got.Items) != 0 {
		t.Errorf("Query returned tombstone: %v", got.Items)
	}

	// Deleting the tombstone again writes nothing.
	tomb := rec.Version
	storetest.Delete(t, db, tbl, key)
	if rec, _ = db.Get(tbl, key); rec.Version != tomb {
		t.Errorf("second delete rewrote the tombstone: %v -> %v", tomb, rec.Version)
	}

	// A put over a tombstone replaces it.
	storetest.Put(t, db, tbl, item)
	rec, _ = db.Get(tbl, key)
	if !rec.Exists() || rec.Prev != tomb || !tomb.Less(rec.Version) {
		t.Errorf("put over tombstone = %+v", rec)
	}
}

func TestDB_PutRejectsBadKeys(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	cases := map[string]attr.Item{
		"missing range":  {"pk": s("a")},
		"missing hash":   {"sk": n(t, "1")},
		"wrong type":     {"pk": n(t, "1"), "sk": n(t, "1")},
		"invalid number": {"pk": s("a"), "sk": attr.Value{Type: attr.TypeN, N: "x"}},
	}
	for name, it := range cases {
		t.Run(name, func(t *testing.T) {
			err := db.Update(t.Context(), func(tx *store.Tx) error {
				_, err := tx.Put(tbl, it)
				return err
			})
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("Put = %v, want ErrInvalidKey", err)
			}
			if _, err := db.Get(tbl, it); !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("Get = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestDB_UpdateIsAllOrNothing(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	storetest.Put(t, db, tbl, attr.Item{"pk": s("keep"), "v": s("old")})
	errStop := errors.New("condition failed")

	err := db.Update(t.Context(), func(tx *store.Tx) error {
		if _, err := tx.Put(tbl, attr.Item{"pk": s("new")}); err != nil {
			return err
		}
		if _, err := tx.Put(tbl, attr.Item{"pk": s("keep"), "v": s("changed")}); err != nil {
			return err
		}
		if _, err := tx.Delete(tbl, attr.Item{"pk": s("keep")}); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errStop)
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if rec, _ := db.Get(tbl, attr.Item{"pk": s("new")}); rec.Exists() {
		t.Error("aborted put is visible")
	}
	if rec, _ := db.Get(tbl, attr.Item{"pk": s("keep")}); !rec.Exists() || rec.Item["v"].S != "old" {
		t.Errorf("aborted overwrite is visible: %+v", rec)
	}
	if ch, _ := db.Changes(0, 0); len(ch) != 1 {
		t.Errorf("%d change records, want 1 (the first put)", len(ch))
	}
	if c, _ := db.Stats("t"); c != 1 {
		t.Errorf("Stats count = %d, want 1", c)
	}
}

func TestDB_TxUsedAfterUpdateFails(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	var leaked *store.Tx
	if err := db.Update(t.Context(), func(tx *store.Tx) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := leaked.Put(tbl, attr.Item{"pk": s("a")}); !errors.Is(err, store.ErrTxDone) {
		t.Errorf("Put on finished Tx = %v, want ErrTxDone", err)
	}
}

func TestDB_UpdateRetriesConflicts(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	key := attr.Item{"pk": s("counter")}
	storetest.Put(t, db, tbl, attr.Item{"pk": s("counter"), "n": n(t, "0")})

	increment := func(tx *store.Tx) error {
		rec, err := tx.Get(tbl, key)
		if err != nil {
			return err
		}
		next, err := attr.AddNumbers(rec.Item["n"].N, "1")
		if err != nil {
			return err
		}
		_, err = tx.Put(tbl, attr.Item{"pk": s("counter"), "n": attr.Number(next)})
		return err
	}

	t.Run("deterministic conflict", func(t *testing.T) {
		calls := 0
		err := db.Update(t.Context(), func(tx *store.Tx) error {
			calls++
			if err := increment(tx); err != nil {
				return err
			}
			if calls == 1 {
				// A concurrent writer commits after this transaction read
				// the item: this commit must conflict and fn run again.
				return db.Update(t.Context(), increment)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 {
			t.Errorf("fn ran %d times, want 2", calls)
		}
		if rec, _ := db.Get(tbl, key); rec.Item["n"].N != "2" {
			t.Errorf("counter = %s, want 2", rec.Item["n"].N)
		}
	})

	t.Run("concurrent writers lose no update", func(t *testing.T) {
		const writers, each = 8, 25
		var attempts atomic.Int64
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range each {
					err := db.Update(context.Background(), func(tx *store.Tx) error {
						attempts.Add(1)
						return increment(tx)
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		want := fmt.Sprint(2 + writers*each)
		if rec, _ := db.Get(tbl, key); rec.Item["n"].N != want {
			t.Errorf("counter = %s, want %s", rec.Item["n"].N, want)
		}
		t.Logf("%d attempts for %d updates", attempts.Load(), writers*each)
	})
}

func TestDB_CloseIsIdempotentAndFinal(t *testing.T) {
	cfg := store.DefaultConfig()
	cfg.InMemory, cfg.Region = true, "r"
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := db.WaitChanges()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	select {
	case <-ch:
	default:
		t.Error("Close did not wake WaitChanges")
	}
	if err := db.Update(t.Context(), func(*store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v", err)
	}
	if _, err := db.Changes(0, 1); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Changes after Close = %v", err)
	}
	if _, err := db.Table("x"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Table after Close = %v", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	cases := map[string]struct {
		cfg func(*store.Config)
		ok  bool
	}{
		"in memory":      {func(c *store.Config) { c.InMemory, c.Region = true, "r" }, true},
		"on disk":        {func(c *store.Config) { c.Dir, c.Region = "/tmp/x", "r" }, true},
		"no dir":         {func(c *store.Config) { c.Region = "r" }, false},
		"no region":      {func(c *store.Config) { c.InMemory = true }, false},
		"tiny memtable":  {func(c *store.Config) { c.InMemory, c.Region, c.MemTableSize = true, "r", 10 }, false},
		"negative cache": {func(c *store.Config) { c.InMemory, c.Region, c.BlockCacheSize = true, "r", -1 }, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := store.DefaultConfig()
			tc.cfg(&cfg)
			err := cfg.Validate()
			if (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, store.ErrInvalidConfig) {
				t.Errorf("Validate = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestDB_OversizedTransactionFails(t *testing.T) {
	db := storetest.Open(t, func(c *store.Config) { c.MemTableSize = 1 << 20 }) // ~150 KB per transaction
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	pad := s(string(make([]byte, 10<<10)))
	err := db.Update(t.Context(), func(tx *store.Tx) error {
		for i := range 100 {
			if _, err := tx.Put(tbl, attr.Item{"pk": s(fmt.Sprint(i)), "pad": pad}); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, store.ErrTxTooBig) {
		t.Fatalf("Update = %v, want ErrTxTooBig", err)
	}
	if c, _ := db.Stats("t"); c != 0 {
		t.Errorf("Stats = %d after a failed transaction", c)
	}
}

// Package storetest holds helpers for tests that need a store.DB: an
// in-memory database closed at the end of the test, tables, and collectors
// for Query and Scan.
package storetest

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// Region is the region name of the databases Open creates.
const Region = "test-region"

// Open opens an in-memory DB for Region, after applying each option to the
// config, and closes it when the test ends.
func Open(tb testing.TB, opts ...func(*store.Config)) *store.DB {
	tb.Helper()
	cfg := store.DefaultConfig()
	cfg.InMemory = true
	cfg.Region = Region
	cfg.Logger = hclog.NewNullLogger()
	for _, o := range opts {
		o(&cfg)
	}
	db, err := store.Open(cfg)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return db
}

// OnDisk is an Open option that stores the database in dir with SyncWrites.
func OnDisk(dir string) func(*store.Config) {
	return func(c *store.Config) {
		c.InMemory = false
		c.Dir = dir
		c.SyncWrites = true
	}
}

// CreateTable creates t and returns the stored table (with its IDs).
func CreateTable(tb testing.TB, db *store.DB, t *store.Table) *store.Table {
	tb.Helper()
	if err := db.CreateTable(t); err != nil {
		tb.Fatalf("create table %s: %v", t.Name, err)
	}
	got, err := db.Table(t.Name)
	if err != nil {
		tb.Fatalf("table %s: %v", t.Name, err)
	}
	return got
}

// HashRangeTable returns the definition of a table keyed by hash (type ht)
// and, unless rt is attr.TypeInvalid, range (type rt).
func HashRangeTable(name string, ht, rt attr.Type) *store.Table {
	t := &store.Table{Name: name, Hash: store.KeyElement{Name: "pk", Type: ht}}
	if rt != attr.TypeInvalid {
		t.Range = &store.KeyElement{Name: "sk", Type: rt}
	}
	return t
}

// Put writes items in one transaction.
func Put(tb testing.TB, db *store.DB, t *store.Table, items ...attr.Item) {
	tb.Helper()
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		for _, it := range items {
			if _, err := tx.Put(t, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("put: %v", err)
	}
}

// Delete deletes the items with the given keys in one transaction.
func Delete(tb testing.TB, db *store.DB, t *store.Table, keys ...attr.Item) {
	tb.Helper()
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		for _, k := range keys {
			if _, err := tx.Delete(t, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("delete: %v", err)
	}
}

// Page is what Query or Scan returned: the items and their last keys.
type Page struct {
	Items    []attr.Item
	LastKeys []attr.Item
}

// Query runs in to the end and returns every item.
func Query(tb testing.TB, db *store.DB, in store.QueryInput) Page {
	tb.Helper()
	var p Page
	err := db.Query(in, func(it, lk attr.Item) bool {
		p.Items = append(p.Items, it)
		p.LastKeys = append(p.LastKeys, lk)
		return true
	})
	if err != nil {
		tb.Fatalf("query: %v", err)
	}
	return p
}

// Scan runs in to the end and returns every item.
func Scan(tb testing.TB, db *store.DB, in store.ScanInput) Page {
	tb.Helper()
	var p Page
	err := db.Scan(in, func(it, lk attr.Item) bool {
		p.Items = append(p.Items, it)
		p.LastKeys = append(p.LastKeys, lk)
		return true
	})
	if err != nil {
		tb.Fatalf("scan: %v", err)
	}
	return p
}

// Export returns every row of a table, tombstones included, read page by
// page through ExportTable.
func Export(tb testing.TB, db *store.DB, table string) []*store.Change {
	tb.Helper()
	var out []*store.Change
	var after []byte
	for {
		rows, next, err := db.ExportTable(table, after, 0)
		if err != nil {
			tb.Fatalf("export %s: %v", table, err)
		}
		out = append(out, rows...)
		if next == nil {
			return out
		}
		after = next
	}
}

// Digest returns db.Digest(table), failing the test on error.
func Digest(tb testing.TB, db *store.DB, table string) ([32]byte, int) {
	tb.Helper()
	sum, n, err := db.Digest(table)
	if err != nil {
		tb.Fatalf("digest %s: %v", table, err)
	}
	return sum, n
}

// Apply applies changes from source and fails the test on error.
func Apply(tb testing.TB, db *store.DB, source string, cursor uint64, changes ...*store.Change) store.ApplyStats {
	tb.Helper()
	st, err := db.Apply(context.Background(), source, cursor, changes)
	if err != nil {
		tb.Fatalf("apply from %s: %v", source, err)
	}
	return st
}

package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

func TestDB_TableMetadata(t *testing.T) {
	db := storetest.Open(t)
	def := indexedTable()
	def.Extra = map[string]string{"tags": "x"}
	if err := db.CreateTable(def); err != nil {
		t.Fatal(err)
	}
	if def.ID == 0 || def.GSIs[0].ID == 0 || def.LSIs[0].ID == 0 || def.Status != store.StatusActive || def.CreatedAt.IsZero() {
		t.Errorf("CreateTable did not fill IDs, status and time: %+v", def)
	}
	if err := db.CreateTable(indexedTable()); !errors.Is(err, store.ErrTableExists) {
		t.Errorf("second CreateTable = %v, want ErrTableExists", err)
	}
	storetest.CreateTable(t, db, storetest.HashRangeTable("a", attr.TypeS, attr.TypeInvalid))
	storetest.CreateTable(t, db, storetest.HashRangeTable("z", attr.TypeB, attr.TypeInvalid))
	tables, err := db.Tables()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	if fmt.Sprint(names) != "[a idx z]" {
		t.Errorf("Tables = %v", names)
	}
	if _, err := db.Table("nope"); !errors.Is(err, store.ErrTableNotFound) {
		t.Errorf("Table(nope) = %v", err)
	}

	got, err := db.UpdateTable("idx", func(t *store.Table) error {
		t.ReadCapacity = 7
		t.Extra["more"] = "y"
		return nil
	})
	if err != nil || got.ReadCapacity != 7 || got.Extra["more"] != "y" {
		t.Fatalf("UpdateTable = %+v, %v", got, err)
	}
	if cached, _ := db.Table("idx"); cached.ReadCapacity != 7 {
		t.Errorf("cache not refreshed: %d", cached.ReadCapacity)
	}
	if def.Extra["more"] != "" {
		t.Error("UpdateTable changed the caller's copy")
	}

	errNo := errors.New("no")
	if _, err := db.UpdateTable("idx", func(*store.Table) error { return errNo }); err != errNo {
		t.Errorf("UpdateTable with failing fn = %v", err)
	}
	for name, fn := range map[string]func(*store.Table){
		"rename":      func(t *store.Table) { t.Name = "other" },
		"change ID":   func(t *store.Table) { t.ID++ },
		"change hash": func(t *store.Table) { t.Hash.Type = attr.TypeN },
		"drop range":  func(t *store.Table) { t.Range = nil },
		"dup index":   func(t *store.Table) { t.GSIs = append(t.GSIs, store.Index{Name: "color", Hash: t.Hash}) },
		"bad key type": func(t *store.Table) {
			t.GSIs = append(t.GSIs, store.Index{Name: "new", Hash: store.KeyElement{Name: "b", Type: attr.TypeBOOL}})
		},
		"forged ID":      func(t *store.Table) { t.GSIs = append(t.GSIs, store.Index{Name: "new", ID: 999, Hash: t.Hash}) },
		"bad projection": func(t *store.Table) { t.GSIs[0].Projection.Type = "SOME" },
	} {
		if _, err := db.UpdateTable("idx", func(t *store.Table) error { fn(t); return nil }); !errors.Is(err, store.ErrInvalidTable) {
			t.Errorf("UpdateTable %s = %v, want ErrInvalidTable", name, err)
		}
	}
	if _, err := db.UpdateTable("nope", func(*store.Table) error { return nil }); !errors.Is(err, store.ErrTableNotFound) {
		t.Errorf("UpdateTable(nope) = %v", err)
	}
}

func TestDB_CreateTableRejectsBadDefinitions(t *testing.T) {
	db := storetest.Open(t)
	cases := map[string]*store.Table{
		"no name":        {Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}},
		"no hash":        {Name: "t"},
		"bool hash":      {Name: "t", Hash: store.KeyElement{Name: "pk", Type: attr.TypeBOOL}},
		"same keys":      {Name: "t", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}, Range: &store.KeyElement{Name: "pk", Type: attr.TypeS}},
		"lsi other hash": {Name: "t", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}, LSIs: []store.Index{{Name: "l", Local: true, Hash: store.KeyElement{Name: "x", Type: attr.TypeS}}}},
	}
	for name, def := range cases {
		t.Run(name, func(t *testing.T) {
			if err := db.CreateTable(def); !errors.Is(err, store.ErrInvalidTable) {
				t.Errorf("CreateTable = %v, want ErrInvalidTable", err)
			}
		})
	}
}

func TestDB_DeleteTableThenCreateSeesNothing(t *testing.T) {
	db := storetest.Open(t)
	old := storetest.CreateTable(t, db, indexedTable())
	for i := range 50 {
		storetest.Put(t, db, old, attr.Item{"pk": s("p"), "sk": n(t, fmt.Sprint(i)), "color": s("red"), "owner": s("o"), "price": n(t, "1")})
	}
	storetest.Delete(t, db, old, attr.Item{"pk": s("p"), "sk": n(t, "0")}) // a tombstone too
	if err := db.DeleteTable("idx"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTable("idx"); !errors.Is(err, store.ErrTableNotFound) {
		t.Errorf("second DeleteTable = %v", err)
	}
	// A request that looked the table up before the delete fails.
	err := db.Update(t.Context(), func(tx *store.Tx) error {
		_, err := tx.Put(old, attr.Item{"pk": s("p"), "sk": n(t, "100")})
		return err
	})
	if !errors.Is(err, store.ErrTableNotFound) {
		t.Errorf("Put to deleted table = %v", err)
	}

	fresh := storetest.CreateTable(t, db, indexedTable())
	if fresh.ID == old.ID {
		t.Fatalf("re-created table reuses ID %d", old.ID)
	}
	if got := storetest.Scan(t, db, store.ScanInput{Table: fresh}).Items; len(got) != 0 {
		t.Errorf("new table sees %d old items", len(got))
	}
	for _, ix := range []string{"color", "owner", "price"} {
		if got := storetest.Scan(t, db, store.ScanInput{Table: fresh, Index: ix}).Items; len(got) != 0 {
			t.Errorf("new index %s sees %d old entries", ix, len(got))
		}
	}
	if rec, _ := db.Get(fresh, attr.Item{"pk": s("p"), "sk": n(t, "0")}); !rec.Version.IsZero() {
		t.Errorf("new table sees the old tombstone: %+v", rec)
	}
	if c, sz := db.Stats("idx"); c != 0 || sz != 0 {
		t.Errorf("Stats of new table = %d, %d", c, sz)
	}
	// The old *Table no longer works for writes; the new one does.
	err = db.Update(t.Context(), func(tx *store.Tx) error {
		_, err := tx.Put(old, attr.Item{"pk": s("p"), "sk": n(t, "1")})
		return err
	})
	if !errors.Is(err, store.ErrTableNotFound) {
		t.Errorf("Put through the old table = %v", err)
	}
	storetest.Put(t, db, fresh, attr.Item{"pk": s("p"), "sk": n(t, "1")})
	if c, _ := db.Stats("idx"); c != 1 {
		t.Errorf("Stats = %d, want 1", c)
	}
}

func TestDB_Stats(t *testing.T) {
	dir := t.TempDir()
	db := storetest.Open(t, storetest.OnDisk(dir))
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeInvalid))
	other := storetest.CreateTable(t, db, storetest.HashRangeTable("o", attr.TypeS, attr.TypeInvalid))
	items := map[string]attr.Item{}
	put := func(it attr.Item) {
		storetest.Put(t, db, tbl, it)
		items[it["pk"].S] = it
	}
	for i := range 20 {
		put(attr.Item{"pk": s(fmt.Sprint("k", i)), "v": s("0123456789")})
	}
	put(attr.Item{"pk": s("k1"), "v": s("much longer than before")})
	storetest.Delete(t, db, tbl, attr.Item{"pk": s("k2")}, attr.Item{"pk": s("k3")}, attr.Item{"pk": s("absent")})
	delete(items, "k2")
	delete(items, "k3")
	storetest.Put(t, db, other, attr.Item{"pk": s("x")})

	want := func() (int64, int64) {
		var size int64
		for _, it := range items {
			size += int64(attr.ItemSize(it))
		}
		return int64(len(items)), size
	}
	wc, ws := want()
	if c, sz := db.Stats("t"); c != wc || sz != ws {
		t.Errorf("Stats = %d items %d bytes, want %d, %d", c, sz, wc, ws)
	}
	if c, _ := db.Stats("o"); c != 1 {
		t.Errorf("Stats(o) = %d", c)
	}
	if c, sz := db.Stats("nope"); c != 0 || sz != 0 {
		t.Errorf("Stats(nope) = %d, %d", c, sz)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = storetest.Open(t, storetest.OnDisk(dir))
	if c, sz := db.Stats("t"); c != wc || sz != ws {
		t.Errorf("Stats after reopen = %d, %d, want %d, %d", c, sz, wc, ws)
	}
}

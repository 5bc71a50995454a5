package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/globaltables/globaltables/store/attr"
)

// fakeDisk makes db's space guard measure free instead of the disk.
func fakeDisk(db *DB, free *atomic.Uint64) {
	db.space.mu.Lock()
	defer db.space.mu.Unlock()
	db.space.statfs = func(string) (uint64, error) { return free.Load(), nil }
	db.space.at = time.Time{}
}

func putOne(db *DB, tbl *Table, pk string) error {
	return db.Update(context.Background(), func(tx *Tx) error {
		_, err := tx.Put(tbl, attr.Item{"pk": attr.String(pk)})
		return err
	})
}

func TestDB_DiskFullRefusesWritesAndRecovers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir, cfg.Region, cfg.DiskReserve = t.TempDir(), "r", 64<<20
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	if err := db.CreateTable(tbl); err != nil {
		t.Fatal(err)
	}
	var free atomic.Uint64
	free.Store(100 << 20)
	fakeDisk(db, &free)
	if err := putOne(db, tbl, "before"); err != nil {
		t.Fatal(err)
	}

	free.Store(64<<20 - 1)
	err = putOne(db, tbl, "refused")
	var full *DiskFullError
	if !errors.As(err, &full) || !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want a *DiskFullError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "no space left on device: 64.0 MiB free, 64.0 MiB reserved") {
		t.Errorf("message %q does not name the cause and the figures", msg)
	}
	if _, err := db.Apply(context.Background(), "other", 1, []*Change{{Table: "t", Key: attr.Item{"pk": attr.String("remote")}}}); !errors.Is(err, ErrDiskFull) {
		t.Errorf("apply on a full disk: %v, want ErrDiskFull", err)
	}
	if st := db.Disk(); !st.Full || !st.Known || st.FreeBytes != 64<<20-1 || st.ReserveBytes != 64<<20 || st.LastError == "" {
		t.Errorf("Disk() = %+v, want full", st)
	}
	// Reads go on; nothing of the refused write is there.
	rec, err := db.Get(tbl, attr.Item{"pk": attr.String("before")})
	if err != nil || !rec.Exists() {
		t.Fatalf("read on a full disk: %v, %+v", err, rec)
	}
	if rec, err := db.Get(tbl, attr.Item{"pk": attr.String("refused")}); err != nil || rec.Exists() {
		t.Fatalf("refused write left a row: %v, %+v", err, rec)
	}
	// Maintenance (trimming the change log) may use half of the reserve.
	cs, err := db.Changes(0, 10)
	if err != nil || len(cs) == 0 {
		t.Fatalf("changes: %v, %d", err, len(cs))
	}
	if err := db.TrimChanges(cs[0].Seq); err != nil {
		t.Errorf("trim inside the reserve: %v", err)
	}
	free.Store(16 << 20)
	if err := db.TrimChanges(cs[len(cs)-1].Seq); !errors.Is(err, ErrDiskFull) {
		t.Errorf("trim below half the reserve: %v, want ErrDiskFull", err)
	}

	free.Store(100 << 20)
	if err := putOne(db, tbl, "after"); err != nil {
		t.Fatalf("write after space was freed: %v", err)
	}
	if st := db.Disk(); st.Full {
		t.Errorf("Disk() = %+v after recovery", st)
	}
}

// TestDB_OpensReadOnlyOnFullDisk opens a store with more reserve than the
// disk has free: it serves reads, refuses writes, and reopens read-write
// when the reserve fits.
func TestDB_OpensReadOnlyOnFullDisk(t *testing.T) {
	cfg, db, _ := openWithRow(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.DiskReserve = 1 << 60 // more than any disk has
	db, err := Open(cfg)
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	defer db.Close()
	tbl, err := db.Table("t")
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := db.Get(tbl, attr.Item{"pk": attr.String("a")}); err != nil || !rec.Exists() {
		t.Fatalf("read from a read-only store: %v, %+v", err, rec)
	}
	var full *DiskFullError
	if err := putOne(db, tbl, "b"); !errors.As(err, &full) || !full.ReadOnly {
		t.Fatalf("write to a read-only store: %v, want a read-only *DiskFullError", err)
	}
	if st := db.Disk(); !st.ReadOnly || !st.Full {
		t.Errorf("Disk() = %+v, want read-only and full", st)
	}

	db.space.mu.Lock()
	db.space.reserve = 1 << 20
	db.space.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := putOne(db, tbl, "b")
		if err == nil {
			break
		}
		if !errors.Is(err, ErrDiskFull) || time.Now().After(deadline) {
			t.Fatalf("write once the reserve fits: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the store polls every second
	}
	if rec, err := db.Get(tbl, attr.Item{"pk": attr.String("b")}); err != nil || !rec.Exists() {
		t.Fatalf("write after reopening: %v, %+v", err, rec)
	}
	if st := db.Disk(); st.ReadOnly || st.Full {
		t.Errorf("Disk() = %+v after reopening", st)
	}
}

// TestDB_OpensReadOnlyAfterACrash opens, read-only (the disk full), a copy
// of a store taken while it was open: what a crash leaves. Badger refuses
// its oversized write-ahead log read-only; the store trims it, as a
// read-write open would, and serves the data.
func TestDB_OpensReadOnlyAfterACrash(t *testing.T) {
	cfg, db, tbl := openWithRow(t)
	defer db.Close()
	img := t.TempDir()
	if out, err := exec.Command("cp", "-a", "--sparse=always", cfg.Dir+"/.", img).CombinedOutput(); err != nil {
		t.Fatalf("copy the store: %v: %s", err, out)
	}
	if err := os.Remove(filepath.Join(img, "LOCK")); err != nil {
		t.Fatal(err)
	}
	crashed := cfg
	crashed.Dir, crashed.DiskReserve = img, 1<<60
	db2, err := Open(crashed)
	if err != nil {
		t.Fatalf("open a crashed store read-only: %v", err)
	}
	defer db2.Close()
	if rec, err := db2.Get(tbl, attr.Item{"pk": attr.String("a")}); err != nil || !rec.Exists() {
		t.Fatalf("read from the crashed store: %v, %+v", err, rec)
	}
}

// openWithRow opens a store on disk holding table t with one item, "a".
func openWithRow(t *testing.T) (Config, *DB, *Table) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Dir, cfg.Region = t.TempDir(), "r"
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	if err := db.CreateTable(tbl); err != nil {
		t.Fatal(err)
	}
	if err := putOne(db, tbl, "a"); err != nil {
		t.Fatal(err)
	}
	return cfg, db, tbl
}

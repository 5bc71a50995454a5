package store

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// runningCompactors counts Badger's compactor goroutines.
func runningCompactors() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("levelsController).runCompactor("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// pollUntil polls cond every 20 ms until it holds, failing the test after
// 30 s (the machine may be busy).
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An idle store must not keep Badger's compactors polling (40 wake-ups a
// second, issue 12), and writes after an idle spell must get compacted.
// Before the store paused them, the first poll failed.
func TestDB_PausesCompactorsWhileIdle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir, cfg.Region = t.TempDir(), "r1"
	cfg.MemTableSize = 1 << 20 // a few MiB of writes fill level 0
	cfg.CompactorIdleAfter = time.Millisecond
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	pollUntil(t, "compactors paused on an idle store", func() bool { return runningCompactors() == 0 })

	// 8 MiB in 1 KiB values: several memtables, flushed to level 0.
	val := bytes.Repeat([]byte("v"), 1<<10)
	for b := range 64 {
		err := db.bdb.Update(func(txn *badger.Txn) error {
			for i := range 128 {
				if err := txn.Set(fmt.Appendf(nil, "z%03d-%03d", b, i), val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Without compaction level 0 would now hold about 8 tables.
	pollUntil(t, "level 0 compacted and compactors paused again", func() bool {
		return !needsCompaction(db.bdb) && runningCompactors() == 0
	})
	if l0 := db.bdb.Levels()[0].NumTables; l0 >= 4 {
		t.Fatalf("level 0 holds %d tables: not compacted", l0)
	}
	err = db.bdb.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte("z063-127"))
		return err
	})
	if err != nil {
		t.Fatalf("last write after compaction: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close with paused compactors: %v", err)
	}
}

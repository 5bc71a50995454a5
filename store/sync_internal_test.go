package store

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/globaltables/globaltables/store/attr"
)

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		runtime.Gosched()
	}
}

func TestGroupSync_WaitersShareARound(t *testing.T) {
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	g := newGroupSync(func() error {
		entered <- struct{}{}
		<-release
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	errs := make(chan error, 5)
	go func() { errs <- g.wait() }()
	<-entered // round 1 runs for the first waiter and is held
	for range 4 {
		go func() { errs <- g.wait() }()
	}
	// The four arrive while round 1 runs: none may be released by it, all
	// must share round 2.
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.pending != nil && g.pending.waiters == 4
	})
	release <- struct{}{}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	<-entered
	select {
	case <-errs:
		t.Fatal("a waiter returned before its round completed")
	default:
	}
	release <- struct{}{}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := g.rounds.Load(); n != 2 {
		t.Errorf("%d rounds, want 2", n)
	}
}

func TestGroupSync_WaitAfterStopFails(t *testing.T) {
	g := newGroupSync(func() error { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.run(ctx)
	if err := g.wait(); err != ErrClosed {
		t.Errorf("wait after stop = %v, want ErrClosed", err)
	}
}

func TestFileSyncer_SkipsRetiredFilesOnceSynced(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"00001.mem", "00002.mem", "000001.vlog", "000002.vlog", "MANIFEST", "x.mem"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := &fileSyncer{dir: dir, clean: make(map[string]bool)}
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	// Without value-log writes, only the memtable logs are synced.
	for name, want := range map[string]bool{"00001.mem": true, "00002.mem": false, "000001.vlog": false, "000002.vlog": false} {
		if s.clean[name] != want {
			t.Errorf("clean[%s] = %v, want %v", name, s.clean[name], want)
		}
	}
	s.vlogDirty.Store(true)
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	if !s.clean["000001.vlog"] || s.clean["000002.vlog"] || s.vlogDirty.Load() {
		t.Errorf("after a value-log write: clean = %v, dirty = %v", s.clean, s.vlogDirty.Load())
	}
	if err := os.Remove(filepath.Join(dir, "00001.mem")); err != nil {
		t.Fatal(err)
	}
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	if s.clean["00001.mem"] {
		t.Error("a deleted file stays in the clean set")
	}
	if err := fsyncFile(filepath.Join(dir, "gone.mem")); err != nil {
		t.Errorf("fsync of a vanished file = %v, want nil", err)
	}
}

func TestDB_SyncWritesUsesGroupCommit(t *testing.T) {
	for _, syncWrites := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.Dir, cfg.Region, cfg.SyncWrites = t.TempDir(), "r", syncWrites
		db, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
		if err := db.CreateTable(tbl); err != nil {
			t.Fatal(err)
		}
		before := SyncRounds(db)
		err = db.Update(t.Context(), func(tx *Tx) error {
			_, err := tx.Put(tbl, attr.Item{"pk": attr.String("a")})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := SyncRounds(db) - before; syncWrites && got < 1 || !syncWrites && got != 0 {
			t.Errorf("SyncWrites=%v: %d sync rounds for one commit", syncWrites, got)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDB_CloseStopsValueLogGC runs value-log GC every millisecond while
// writing, then closes: Close must stop the loop and not hang or race.
func TestDB_CloseStopsValueLogGC(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir, cfg.Region, cfg.GCInterval = t.TempDir(), "r", time.Millisecond
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	if err := db.CreateTable(tbl); err != nil {
		t.Fatal(err)
	}
	big := attr.String(string(make([]byte, 8<<10))) // above the value threshold: in the value log
	for i := range 50 {
		err := db.Update(t.Context(), func(tx *Tx) error {
			_, err := tx.Put(tbl, attr.Item{"pk": attr.String("k"), "v": big, "i": attr.Number(string(rune('0' + i%10)))})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

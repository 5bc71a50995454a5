package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/globaltables/globaltables/store/attr"
	"github.com/hashicorp/go-hclog"
)

// runGroup runs g's rounds until the test ends.
func runGroup(t *testing.T, g *groupSync) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

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
	}, hclog.NewNullLogger())
	runGroup(t, g)

	errs := make(chan error, 5)
	go func() { errs <- g.wait(announcement{}) }()
	<-entered // round 1 runs for the first waiter and is held
	for range 4 {
		go func() { errs <- g.wait(announcement{}) }()
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
	g := newGroupSync(func() error { return nil }, hclog.NewNullLogger())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.run(ctx)
	if err := g.wait(announcement{}); err != ErrClosed {
		t.Errorf("wait after stop = %v, want ErrClosed", err)
	}
}

// TestGroupSync_RoundGathersAnnouncedWrites: a write announced before a
// round starts joins that round, instead of arriving a moment after it
// started and waiting for the next one; a write announced while the round
// gathers does not hold it back; a withdrawn one does not either.
func TestGroupSync_RoundGathersAnnouncedWrites(t *testing.T) {
	entered := make(chan struct{}, 10)
	g := newGroupSync(func() error {
		entered <- struct{}{}
		return nil
	}, hclog.NewNullLogger())
	g.maxGather = time.Hour // only arrivals may start a round
	runGroup(t, g)
	gathering := func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.gathering
	}

	// Two writes under way; the first one done waits for the second.
	a1, a2 := g.announce(), g.announce()
	errs := make(chan error, 3)
	go func() { errs <- g.wait(a1) }()
	waitFor(t, gathering)
	a3 := g.announce() // during the gather: for the next round
	select {
	case <-entered:
		t.Fatal("the round started before the announced write joined it")
	default:
	}
	go func() { errs <- g.wait(a2) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := g.rounds.Load(); n != 1 {
		t.Errorf("%d rounds for two writes under way together, want 1", n)
	}

	// A write that needs no round (a failed condition) is withdrawn.
	a4 := g.announce()
	go func() { errs <- g.wait(a3) }()
	waitFor(t, gathering)
	g.withdraw(a4)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if n := g.rounds.Load(); n != 2 {
		t.Errorf("%d rounds, want 2", n)
	}
}

// flushCall is one flush a fileSyncer made.
type flushCall struct {
	name string
	full bool // fsync rather than fdatasync
}

// recordFlushes makes s record its flushes instead of making them.
func recordFlushes(s *fileSyncer) *[]flushCall {
	var calls []flushCall
	s.flush = func(f *os.File, full bool) error {
		calls = append(calls, flushCall{filepath.Base(f.Name()), full})
		return nil
	}
	return &calls
}

func TestFileSyncer_SkipsRetiredFilesOnceSynced(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"00001.mem", "00002.mem", "000001.vlog", "000002.vlog", "MANIFEST", "x.mem"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := newFileSyncer(dir)
	defer s.close()
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
	if isNew, err := s.syncLog("gone.mem"); err != nil || isNew {
		t.Errorf("sync of a vanished file = %v, %v; want false, nil", isNew, err)
	}
	// Only the live logs stay open.
	if len(s.open) != 2 || s.open["00002.mem"] == nil || s.open["000002.vlog"] == nil {
		t.Errorf("open files %v, want the newest .mem and .vlog", s.open)
	}
}

// TestFileSyncer_FlushesWhatACrashWouldLose checks each round's flushes: a
// live log is flushed every round, with fdatasync while its size stays as
// the last round saw it and fsync when it is new or its size changed; the
// folder is flushed when a log appears, so that the log's name survives a
// power cut. A missing flush here is a commit lost in a crash.
func TestFileSyncer_FlushesWhatACrashWouldLose(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := newFileSyncer(dir)
	defer s.close()
	calls := recordFlushes(s)
	round := func(want ...flushCall) {
		t.Helper()
		*calls = nil
		if err := s.sync(); err != nil {
			t.Fatal(err)
		}
		// The folder's listing is in no particular order.
		slices.SortFunc(*calls, func(a, b flushCall) int { return strings.Compare(a.name, b.name) })
		slices.SortFunc(want, func(a, b flushCall) int { return strings.Compare(a.name, b.name) })
		if fmt.Sprint(*calls) != fmt.Sprint(want) {
			t.Errorf("flushes %v, want %v", *calls, want)
		}
	}
	dirName := filepath.Base(dir)
	write("00001.mem", 4096)
	round(flushCall{"00001.mem", true}, flushCall{dirName, true})
	// The same size, written through the mmap: fdatasync.
	round(flushCall{"00001.mem", false})
	round(flushCall{"00001.mem", false})
	// Resized (as Badger truncates a value-log file it stops writing):
	// fsync once, then fdatasync again.
	write("00001.mem", 8192)
	round(flushCall{"00001.mem", true})
	round(flushCall{"00001.mem", false})
	// A memtable rotation: the retired log gets its last flush, the new
	// one a full one and the folder too.
	write("00002.mem", 4096)
	round(flushCall{"00001.mem", false}, flushCall{"00002.mem", true}, flushCall{dirName, true})
	round(flushCall{"00002.mem", false})
	// The value log only after a value went there.
	write("000001.vlog", 4096)
	round(flushCall{"00002.mem", false})
	s.vlogDirty.Store(true)
	round(flushCall{"00002.mem", false}, flushCall{"000001.vlog", true}, flushCall{dirName, true})
	s.vlogDirty.Store(true)
	round(flushCall{"00002.mem", false}, flushCall{"000001.vlog", false})
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

// TestFileSyncer_FailedRoundForgetsNothing: a round that fails part-way
// leaves the next round every flush it did not make. Found in review: a
// new log's folder entry was flushed only by the round that first saw the
// log, and the value log's dirty mark was consumed at a round's start, so
// after one failed round a later one succeeded without them and commits
// it acknowledged could be lost to a power cut. (The group commit runs no
// round after a failed flush any more, flushfail.go; this still matters
// after the other errors a round can meet: listing, opening, stat'ing.)
func TestFileSyncer_FailedRoundForgetsNothing(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 4096), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := newFileSyncer(dir)
	defer s.close()
	write("00001.mem")
	write("000001.vlog")
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	// A rotation and a value-log write, then a round whose flush of the
	// new log fails.
	write("00002.mem")
	s.vlogDirty.Store(true)
	var calls []flushCall
	failing := "00002.mem"
	s.flush = func(f *os.File, full bool) error {
		name := filepath.Base(f.Name())
		if name == failing {
			failing = ""
			return syscall.EIO
		}
		calls = append(calls, flushCall{name, full})
		return nil
	}
	if err := s.sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("round with a failing flush: %v, want EIO", err)
	}
	calls = nil
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	flushed := map[string]bool{}
	for _, c := range calls {
		flushed[c.name] = true
	}
	for _, want := range []string{"00002.mem", filepath.Base(dir), "000001.vlog"} {
		if !flushed[want] {
			t.Errorf("the round after a failed one did not flush %s (flushes %v)", want, calls)
		}
	}
}

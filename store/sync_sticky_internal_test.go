package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/globaltables/globaltables/store/attr"
	"github.com/hashicorp/go-hclog"
)

// TestGroupSync_FlushFailureSticks: once a round's flush failed, every
// later wait fails with that failure and no round runs again (a later
// flush on the same descriptor could succeed although the pages of the
// failed one never reached the disk); an error that is no flush failure
// (listing the folder, opening a file) fails only its own round.
func TestGroupSync_FlushFailureSticks(t *testing.T) {
	var syncs atomic.Int64
	fail := &FlushError{File: "00002.mem", Err: syscall.EIO, At: time.Now()}
	g := newGroupSync(func() error {
		if syncs.Add(1) == 2 {
			return fail
		}
		return nil
	}, hclog.NewNullLogger())
	runGroup(t, g)

	if err := g.wait(announcement{}); err != nil {
		t.Fatal(err)
	}
	if err := g.wait(announcement{}); !errors.Is(err, ErrFlushFailed) {
		t.Fatalf("round with a failed flush: %v, want ErrFlushFailed", err)
	}
	for range 3 {
		a := g.announce()
		err := g.wait(a)
		var fe *FlushError
		if !errors.As(err, &fe) || fe != fail {
			t.Fatalf("wait after a failed flush: %v, want the first failure", err)
		}
	}
	if n := syncs.Load(); n != 2 {
		t.Errorf("%d rounds ran, want none after the failed one", n)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.announced) != 0 {
		t.Errorf("announcements left counted: %v", g.announced)
	}
}

func TestGroupSync_OtherRoundErrorsDoNotStick(t *testing.T) {
	var syncs atomic.Int64
	g := newGroupSync(func() error {
		if syncs.Add(1) == 1 {
			return errors.New("sync: list: too many open files")
		}
		return nil
	}, hclog.NewNullLogger())
	runGroup(t, g)
	if err := g.wait(announcement{}); err == nil || errors.Is(err, ErrFlushFailed) {
		t.Fatalf("round that could not list the folder: %v, want its error", err)
	}
	if err := g.wait(announcement{}); err != nil {
		t.Fatalf("round after one that could not list the folder: %v", err)
	}
}

// TestDB_FlushErrorSticks injects one EIO into a group-commit flush of a
// real store: the commit waiting for it fails, and from then on, although
// flushes would succeed again, nothing is acknowledged as durable, every
// write is refused up front with a *FlushError, reads go on, the status
// says so, the failure is logged once; a reopened store takes writes.
func TestDB_FlushErrorSticks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reserve int64
	}{{"disk_reserve", 0}, {"no_disk_reserve", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			var logMu sync.Mutex // guards logs, which every logger writes under it
			var logs bytes.Buffer
			cfg := DefaultConfig()
			cfg.Dir, cfg.Region, cfg.DiskReserve = t.TempDir(), "r", tc.reserve
			cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: &logs, Mutex: &logMu, Level: hclog.Info})
			db, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { db.Close() }()
			tbl := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
			if err := db.CreateTable(tbl); err != nil {
				t.Fatal(err)
			}
			if err := putOne(db, tbl, "before"); err != nil {
				t.Fatal(err)
			}

			// The next flush fails with EIO, every later one succeeds.
			// Set while no round runs: the next starts on this
			// goroutine's kick.
			var flushes atomic.Int64
			db.files.flush = func(f *os.File, full bool) error {
				if flushes.Add(1) == 1 {
					return syscall.EIO
				}
				return flushFile(f, full)
			}
			err = putOne(db, tbl, "failed")
			var fe *FlushError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFlushFailed) || !errors.Is(err, syscall.EIO) {
				t.Errorf("commit whose flush failed: %v, want a *FlushError", err)
			} else if !strings.HasSuffix(fe.File, ".mem") || strings.Contains(err.Error(), cfg.Dir) ||
				!strings.Contains(err.Error(), "input/output error") || !strings.Contains(err.Error(), "refused until the region restarts") {
				t.Errorf("message %q does not name the file, the cause and what to do (or names the folder)", err)
			}

			// Flushes work again, but what the failed one lost stays
			// lost: nothing may be acknowledged as durable.
			if err := db.Durable(); !errors.Is(err, ErrFlushFailed) {
				t.Errorf("Durable after a failed flush, with flushes working again: %v, want ErrFlushFailed", err)
			}
			for i := range 3 {
				if err := putOne(db, tbl, "refused"); !errors.Is(err, ErrFlushFailed) {
					t.Errorf("write %d after a failed flush: %v, want ErrFlushFailed", i, err)
				}
			}
			err = db.CreateTable(&Table{Name: "t2", Hash: KeyElement{Name: "pk", Type: attr.TypeS}})
			if !errors.Is(err, ErrFlushFailed) {
				t.Errorf("CreateTable after a failed flush: %v, want ErrFlushFailed", err)
			}
			if err := db.CheckSpace(); err != nil {
				t.Errorf("CheckSpace (the publisher's disk check) after a failed flush: %v, want nil: the disk is not full", err)
			}

			// Reads go on; refused writes wrote nothing.
			if rec, err := db.Get(tbl, attr.Item{"pk": attr.String("before")}); err != nil || rec.Item == nil {
				t.Errorf("read after a failed flush: %v, %v", rec.Item, err)
			}
			if rec, err := db.Get(tbl, attr.Item{"pk": attr.String("refused")}); err != nil || rec.Item != nil {
				t.Errorf("a refused write was written: %v, %v", rec.Item, err)
			}
			st := db.Disk()
			if !st.FlushFailed || st.FlushFailedAt.IsZero() || !strings.Contains(st.FlushError, "input/output error") {
				t.Errorf("status does not report the failed flush: %+v", st)
			}
			logMu.Lock()
			logged := logs.String()
			logMu.Unlock()
			if n := strings.Count(logged, "[ERROR]"); n != 1 || !strings.Contains(logged, "flush") {
				t.Errorf("%d ERROR lines, want the failure logged once:\n%s", n, logged)
			}

			// A reopened store reads back what the disk holds and takes
			// writes again.
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			cfg.Logger = hclog.NewNullLogger()
			if db, err = Open(cfg); err != nil {
				t.Fatal(err)
			}
			if err := putOne(db, tbl, "after-reopen"); err != nil {
				t.Fatalf("write after reopening: %v", err)
			}
			for _, pk := range []string{"before", "after-reopen"} {
				if rec, err := db.Get(tbl, attr.Item{"pk": attr.String(pk)}); err != nil || rec.Item == nil {
					t.Errorf("read %s after reopening: %v, %v", pk, rec.Item, err)
				}
			}
			if st := db.Disk(); st.FlushFailed {
				t.Errorf("reopened store still reports a failed flush: %+v", st)
			}
		})
	}
}

// TestFileSyncer_FlushErrorIsAFlushError: a failed flush of a log, or of
// the folder, comes back as a *FlushError naming the file; an error
// listing the folder does not.
func TestFileSyncer_FlushErrorIsAFlushError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "00001.mem"), make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, failing := range []string{"00001.mem", filepath.Base(dir)} {
		s := newFileSyncer(dir)
		s.flush = func(f *os.File, full bool) error {
			if filepath.Base(f.Name()) == failing {
				return syscall.EIO
			}
			return nil
		}
		err := s.sync()
		var fe *FlushError
		if !errors.As(err, &fe) || fe.File != failing || !errors.Is(err, syscall.EIO) {
			t.Errorf("failed flush of %s: %v, want a *FlushError naming it", failing, err)
		}
		s.close()
	}
	s := newFileSyncer(filepath.Join(dir, "gone"))
	defer s.close()
	if err := s.sync(); err == nil || errors.Is(err, ErrFlushFailed) {
		t.Errorf("listing a missing folder: %v, want an error that is no flush failure", err)
	}
}

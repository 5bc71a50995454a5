package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/store/attr"
)

// handoffDB opens a store on disk in dir with SyncWrites, as a region runs.
func handoffDB(t *testing.T, dir string, mod func(db *DB)) (*DB, *Table) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Region, cfg.Dir, cfg.SyncWrites = "r", dir, true
	cfg.Logger = hclog.NewNullLogger()
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if mod != nil {
		mod(db)
	}
	def := &Table{Name: "t", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}
	if _, err := db.Table("t"); errors.Is(err, ErrTableNotFound) {
		if err := db.CreateTable(def); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := db.Table("t")
	if err != nil {
		t.Fatal(err)
	}
	return db, tbl
}

func putKey(db *DB, tbl *Table, key string) error {
	return db.Update(context.Background(), func(tx *Tx) error {
		_, err := tx.Put(tbl, attr.Item{"pk": attr.String(key), "v": attr.String("value of " + key)})
		return err
	})
}

// reader reads the log as the publisher does: EncodedChanges after the
// last Seq it has.
type reader struct {
	t     *testing.T
	db    *DB
	after uint64
	got   []EncodedChange
}

// read reads once and checks that the records follow the last one read,
// in order and at or below the durability watermark.
func (r *reader) read() int {
	r.t.Helper()
	cs, err := r.db.EncodedChanges(r.after, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	durable := r.db.durableSeq.Load()
	for _, c := range cs {
		if c.Seq <= r.after {
			r.t.Fatalf("record %d after %d: out of order", c.Seq, r.after)
		}
		if c.Seq > durable {
			r.t.Fatalf("record %d served beyond the durability watermark %d", c.Seq, durable)
		}
		r.after = c.Seq
	}
	r.got = append(r.got, cs...)
	return len(cs)
}

// fromBadger returns every record in the log as the publisher built its
// messages before the hand-off: Changes, then AppendChange.
func fromBadger(t *testing.T, db *DB) []EncodedChange {
	t.Helper()
	cs, err := db.Changes(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]EncodedChange, len(cs))
	for i, c := range cs {
		out[i] = EncodedChange{Seq: c.Seq, Kind: c.Kind, Table: c.Table, Data: AppendChange(nil, c)}
	}
	return out
}

// sameRecords fails t unless got and want are the same records, byte for
// byte.
func sameRecords(t *testing.T, got, want []EncodedChange) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, Badger holds %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Kind != w.Kind || g.Table != w.Table || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("record %d: read seq %d kind %d table %q data %x\nBadger: seq %d kind %d table %q data %x",
				i, g.Seq, g.Kind, g.Table, g.Data, w.Seq, w.Kind, w.Table, w.Data)
		}
	}
}

func counts(db *DB) (served, fallbacks uint64) {
	db.handoff.mu.Lock()
	defer db.handoff.mu.Unlock()
	return db.handoff.served, db.handoff.fallbacks
}

func buffered(db *DB) []uint64 {
	db.handoff.mu.Lock()
	defer db.handoff.mu.Unlock()
	var seqs []uint64
	for _, e := range db.handoff.recs {
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

// TestHandoff_ConcurrentCommitsInOrder: writers commit concurrently, so
// their commits become durable in any order; the reader still gets every
// record once, in Seq order, never beyond the watermark, and the same
// bytes as Badger holds.
func TestHandoff_ConcurrentCommitsInOrder(t *testing.T) {
	db, tbl := handoffDB(t, t.TempDir(), nil)
	r := &reader{t: t, db: db}
	r.read()
	const writers, each = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := putKey(db, tbl, fmt.Sprintf("w%d-%d", w, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deadline := time.After(time.Minute)
	for finished := false; ; {
		wake := db.WaitChanges()
		if r.read() > 0 {
			continue
		}
		if finished {
			break
		}
		select {
		case <-wake:
		case <-done:
			finished = true // read once more
		case <-deadline:
			t.Fatal("the writers did not finish within a minute")
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := fromBadger(t, db)
	if len(want) != writers*each {
		t.Fatalf("Badger holds %d records, want %d", len(want), writers*each)
	}
	sameRecords(t, r.got, want)
	served, fallbacks := counts(db)
	t.Logf("%d records served from memory, %d reads fell back to Badger", served, fallbacks)
	if served == 0 {
		t.Error("no record was served from memory")
	}
}

// holdRounds makes db's sync rounds wait until release is called (at the
// latest when the test ends, before db closes), and signal entered as
// they start.
func holdRounds(t *testing.T, db *DB) (entered chan struct{}, release func()) {
	entered, held := make(chan struct{}, 100), make(chan struct{})
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	flush := db.group.sync
	db.group.sync = func() error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-held
		return flush()
	}
	return entered, release
}

// TestHandoff_NothingBeforeItsSyncRound: a commit that Badger holds but
// whose sync round has not completed is not served, from memory or from
// Badger.
func TestHandoff_NothingBeforeItsSyncRound(t *testing.T) {
	db, tbl := handoffDB(t, t.TempDir(), nil)
	r := &reader{t: t, db: db}
	r.read()
	entered, release := holdRounds(t, db)
	errc := make(chan error, 1)
	go func() { errc <- putKey(db, tbl, "a") }()
	<-entered // committed in Badger, its round held
	if n := r.read(); n != 0 {
		t.Fatalf("%d records served before their sync round completed", n)
	}
	release()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	served0, fallbacks0 := counts(db)
	if n := r.read(); n != 1 {
		t.Fatalf("%d records after the round, want 1", n)
	}
	if served, fallbacks := counts(db); served != served0+1 || fallbacks != fallbacks0 {
		t.Errorf("the record was not served from memory (served %d, fallbacks %d)", served-served0, fallbacks-fallbacks0)
	}
	sameRecords(t, r.got, fromBadger(t, db))
}

// TestHandoff_FailedCommitsAreNeverHandedOver: neither a commit whose sync
// round failed nor one Badger refused (a conflict) hands its record over.
func TestHandoff_FailedCommitsAreNeverHandedOver(t *testing.T) {
	db, tbl := handoffDB(t, t.TempDir(), nil)
	r := &reader{t: t, db: db}
	r.read()

	// A sync round fails: the commit returns its error.
	var fail atomic.Bool
	sync := db.group.sync
	db.group.sync = func() error {
		if fail.Load() {
			return errors.New("injected flush error")
		}
		return sync()
	}
	fail.Store(true)
	if err := putKey(db, tbl, "sync-failed"); err == nil {
		t.Fatal("the put succeeded despite its failed sync round")
	}
	fail.Store(false)
	if seqs := buffered(db); len(seqs) != 0 {
		t.Fatalf("the commit whose round failed handed over %v", seqs)
	}

	// Badger refuses a commit: two transactions write the same row, the
	// second to commit conflicts. Its record had a sequence number.
	tx1 := &Tx{db: db, txn: db.bdb.NewTransaction(true)}
	tx2 := &Tx{db: db, txn: db.bdb.NewTransaction(true)}
	defer tx1.discard()
	defer tx2.discard()
	for i, tx := range []*Tx{tx1, tx2} {
		if _, err := tx.Put(tbl, attr.Item{"pk": attr.String("contended"), "n": attr.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx2.commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx1.commit(); err == nil {
		t.Fatal("the second commit did not conflict")
	}
	refused := tx1.changes[0].Seq
	for _, s := range buffered(db) {
		if s == refused {
			t.Fatalf("the refused commit's record %d was handed over", refused)
		}
	}
	if err := putKey(db, tbl, "after"); err != nil {
		t.Fatal(err)
	}
	for _, s := range buffered(db) {
		if s == refused {
			t.Fatalf("the refused commit's record %d was handed over", refused)
		}
	}
	r.read()
	for _, c := range r.got {
		if c.Seq == refused {
			t.Fatalf("the refused commit's record %d was read", refused)
		}
	}
	// What was read is what Badger holds: the record of the failed round
	// too, once a later round covered it (Changes always did so). The
	// round failed on something other than a flush (listing the folder,
	// say); after a failed flush no round succeeds again
	// (TestHandoff_NothingAfterAFailedFlush).
	sameRecords(t, r.got, fromBadger(t, db))
}

// TestHandoff_FallsBackAfterOverflow: a reader that let the bounded buffer
// overflow reads Badger, gets every record, then memory again.
func TestHandoff_FallsBackAfterOverflow(t *testing.T) {
	for _, bound := range []string{"records", "bytes"} {
		t.Run(bound, func(t *testing.T) {
			db, tbl := handoffDB(t, t.TempDir(), func(db *DB) {
				if bound == "records" {
					db.handoff.maxRecs, db.handoff.maxBytes = 4, 1<<20
				} else {
					db.handoff.maxRecs, db.handoff.maxBytes = 1000, 600
				}
			})
			r := &reader{t: t, db: db}
			r.read()
			for i := range 20 {
				if err := putKey(db, tbl, fmt.Sprint("k", i)); err != nil {
					t.Fatal(err)
				}
			}
			db.handoff.mu.Lock()
			n, size := len(db.handoff.recs), db.handoff.bytes
			db.handoff.mu.Unlock()
			if n > 4 || (bound == "bytes" && size > 600) {
				t.Fatalf("the buffer holds %d records, %d bytes", n, size)
			}
			_, fallbacks0 := counts(db)
			if got := r.read(); got != 20 {
				t.Fatalf("read %d records, want 20", got)
			}
			served0, fallbacks := counts(db)
			if fallbacks != fallbacks0+1 {
				t.Errorf("%d reads fell back to Badger, want 1", fallbacks-fallbacks0)
			}
			if err := putKey(db, tbl, "next"); err != nil {
				t.Fatal(err)
			}
			if got := r.read(); got != 1 {
				t.Fatalf("read %d records, want 1", got)
			}
			if served, _ := counts(db); served != served0+1 {
				t.Error("the record after the fallback was not served from memory")
			}
			sameRecords(t, r.got, fromBadger(t, db))
		})
	}
}

// TestHandoff_FallsBackAfterRestart: after a restart the buffer is empty
// and the log on disk; the reader gets it from Badger, then what commits
// hand over.
func TestHandoff_FallsBackAfterRestart(t *testing.T) {
	dir := t.TempDir()
	db, tbl := handoffDB(t, dir, nil)
	r := &reader{t: t, db: db}
	r.read()
	for i := range 3 {
		if err := putKey(db, tbl, fmt.Sprint("k", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, tbl = handoffDB(t, dir, nil)
	r = &reader{t: t, db: db}
	if got := r.read(); got != 3 {
		t.Fatalf("read %d records after the restart, want 3", got)
	}
	if err := putKey(db, tbl, "after"); err != nil {
		t.Fatal(err)
	}
	if got := r.read(); got != 1 {
		t.Fatalf("read %d records, want 1", got)
	}
	if served, fallbacks := counts(db); served != 1 || fallbacks != 1 {
		t.Errorf("served %d from memory, %d reads from Badger; want 1 and 1", served, fallbacks)
	}
	sameRecords(t, r.got, fromBadger(t, db))
}

// TestHandoff_ServesTheBytesBadgerHolds: over the same commits (puts new
// and replacing, deletes, a transaction of several records, control
// records), with a gap that forces the fallback in the middle, what the
// reader gets is byte for byte what the publisher built from Badger.
func TestHandoff_ServesTheBytesBadgerHolds(t *testing.T) {
	db, tbl := handoffDB(t, t.TempDir(), nil)
	r := &reader{t: t, db: db}
	r.read()
	step := func(fn func(tx *Tx) error) {
		t.Helper()
		if err := db.Update(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
		r.read()
	}
	item := func(k, v string) attr.Item {
		return attr.Item{"pk": attr.String(k), "v": attr.String(v), "n": attr.Number("12.5"), "b": attr.Binary([]byte{0, 1})}
	}
	step(func(tx *Tx) error { _, err := tx.Put(tbl, item("a", "1")); return err })
	step(func(tx *Tx) error { _, err := tx.Put(tbl, item("a", "2")); return err })
	step(func(tx *Tx) error {
		for _, k := range []string{"b", "c", "d"} {
			if _, err := tx.Put(tbl, item(k, k)); err != nil {
				return err
			}
		}
		return nil
	})
	step(func(tx *Tx) error { _, err := tx.Delete(tbl, attr.Item{"pk": attr.String("a")}); return err })
	if err := db.CreateTableLogged(&Table{Name: "u", Hash: KeyElement{Name: "pk", Type: attr.TypeS}}, []byte(`{"replicas":["r"]}`)); err != nil {
		t.Fatal(err)
	}
	r.read()
	// A gap: a record numbered and never committed.
	tx := &Tx{db: db, txn: db.bdb.NewTransaction(true)}
	if _, err := tx.Put(tbl, item("gap", "x")); err != nil {
		t.Fatal(err)
	}
	db.commitMu.Lock()
	err := tx.logRecords(time.Now())
	db.commitMu.Unlock()
	tx.discard()
	if err != nil {
		t.Fatal(err)
	}
	_, fallbacks0 := counts(db)
	step(func(tx *Tx) error { _, err := tx.Put(tbl, item("e", "after the gap")); return err })
	step(func(tx *Tx) error { _, err := tx.Put(tbl, item("e", "and again")); return err })
	served, fallbacks := counts(db)
	if fallbacks != fallbacks0+1 {
		t.Errorf("the gap made %d reads fall back to Badger, want 1", fallbacks-fallbacks0)
	}
	if served == 0 {
		t.Error("nothing was served from memory")
	}
	sameRecords(t, r.got, fromBadger(t, db))
}

// TestHandoff_NothingAfterAFailedFlush: a commit whose round failed to
// flush is not handed over, and since the failure sticks (flushfail.go)
// nothing after it is served either.
func TestHandoff_NothingAfterAFailedFlush(t *testing.T) {
	db, tbl := handoffDB(t, t.TempDir(), nil)
	r := &reader{t: t, db: db}
	if err := putKey(db, tbl, "before"); err != nil {
		t.Fatal(err)
	}
	r.read()
	db.group.sync = func() error {
		return &FlushError{File: "00001.mem", Err: errors.New("injected EIO"), At: time.Now()}
	}
	if err := putKey(db, tbl, "lost"); !errors.Is(err, ErrFlushFailed) {
		t.Fatalf("put after a failed flush = %v, want ErrFlushFailed", err)
	}
	if seqs := buffered(db); len(seqs) != 0 {
		t.Fatalf("the commit whose flush failed handed over %v", seqs)
	}
	if n := r.read(); n != 0 {
		t.Fatalf("%d records served after the failed flush", n)
	}
	if len(r.got) != 1 {
		t.Fatalf("read %d records, want the one before the failure", len(r.got))
	}
}

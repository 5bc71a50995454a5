package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Group commit.
//
// Badger's SyncWrites does not group fsyncs: its single writer goroutine
// batches the waiting commits into one write, but then msyncs the write-ahead
// log once per commit in the batch (writeToLSM calls memTable.SyncWAL per
// request, badger v4.9.6 db.go). Concurrent writers still pay one device
// flush each: on the 2-core test machine 8 writers gained 1.6x over one with
// Badger's SyncWrites, 3.5x with the group commit below.
//
// So with Config.SyncWrites the store opens Badger without SyncWrites and
// makes commits durable itself: a committed transaction joins the next sync
// round and waits for it; one goroutine runs rounds back to back, each
// fsyncing the files that can hold data written before the round began. All
// the commits that finished while a round ran share the next one.
//
// A round flushes, through file descriptors of its own that stay open
// while the files exist (on Linux, fsync and fdatasync write back pages
// dirtied through Badger's shared mmaps too: both go through
// vfs_fsync_range, which writes back the file's page cache whoever dirtied
// it):
//   - every *.mem file: the active memtable's write-ahead log, and those of
//     immutable memtables not yet flushed (Badger's DB.Sync covers only the
//     active one, so a commit that landed just before a memtable rotation
//     would be missed). A file that is no longer the newest cannot receive
//     writes any more; once flushed it is skipped.
//   - the *.vlog files the same way, but only when a commit since the last
//     round wrote a value of valueThreshold bytes or more (the others never
//     touch the value log), or value-log GC moved values. A clean flush
//     still costs a device flush.
//
// fdatasync, not fsync. fdatasync(2) writes the file's data and the
// metadata needed to read it back (its size, the blocks allocated to it);
// it leaves out only the timestamps, which every write through the mmap
// bumps and which fsync would also write. Badger creates each .mem file at
// its full size with ftruncate (z.OpenMmapFile) and writes it only through
// the mapping, so its size never changes while it is live; blocks that a
// write allocates in the sparse file are metadata fdatasync writes. As a
// second line, a round compares each file's size with the one it saw in
// the previous round (fstat) and uses fsync for a file that is new to it
// or whose size changed (a value-log file that Badger truncated when it
// rotated). A file the syncer sees for the first time also has its
// directory entry flushed (an fsync of the folder): Badger does not sync
// the folder when it creates a memtable's log, and a commit in a log that
// the folder does not name after a power cut would be lost with it.
//
// A flush error sticks (flushfail.go). After fdatasync reports EIO, Linux
// marks the failed pages clean and reports the error once per descriptor,
// so a later round on the same kept-open descriptor could succeed although
// the data never reached the disk, and Badger's replay after a crash stops
// at the hole, losing what follows it. So after the first failed flush no
// round runs again: every commit waiting or to come fails with the
// *FlushError, the space guard refuses new writes with it, and only a
// reopen of the store (which replays what is on disk) takes writes again.
// A round that fails otherwise (listing the folder, opening or stat'ing a
// log) leaves what it did not finish to the next one (the folder flush of
// a new log, the value log's dirty mark).
//
// On the 2-core test VM (ext4, virtio disk) a flush costs 350–400 µs of
// CPU and about 1 ms of wall time, almost all of it in the kernel and
// the hypervisor, whether fsync or fdatasync; fdatasync saves about 10 %
// of the CPU and a third of the wall time. So the larger saving is fewer
// rounds per commit: see gather below.
//
// Value-log GC moves live values to the newest value-log file, then deletes
// the old file, without an fsync in between when Badger runs without
// SyncWrites. gcLoop runs a round right after each GC pass; a power cut in
// that window of milliseconds could lose the moved values (items of 4 KiB
// and more only).
//
// A file that disappears between listing and fsync was flushed into an
// msynced SSTable and is skipped. WAL order gives the rest: anything written
// before a synced commit (a sequence lease, a backfill batch) is synced with
// it.
//
// Commits become visible to readers when Badger has applied them, before
// their round completes. Changes therefore waits for a round before handing
// records to the publisher, so no other region ever sees a change this
// region could lose.

// Gathering. Under load the writes waiting for a round are those that
// finished while the previous round ran; a write that finishes a few
// microseconds after a round started (it was still reading the old row or
// encoding the new one, or Badger's writer goroutine handed its batch back
// a moment later than the first commit of the batch) waits for that whole
// round and the next one, and needs a round of its own. A round costs far
// more than a write: on the 2-core test VM about 400 µs of CPU (the flush
// write-protects the mapped log pages, which takes a TLB shootdown across
// CPUs, and the next write faults them back in) and 1–2 ms of wall time.
//
// So a write announces itself (announce) when its Update starts, and a
// round about to start first waits until every write announced before
// that moment has joined it (wait) or finished without needing it
// (withdraw), for at most maxGather. Writes announced during the wait
// belong to the next round, so that a steady stream of writes cannot hold
// a round back. The first writer of a round pays at most the time the
// others need to finish, and each of those saves a round. Before that the
// round goroutine yields once (runtime.Gosched), so that goroutines
// already runnable, which the scheduler would otherwise run beside or
// after the round, get to announce themselves or join first.
//
// Store BenchmarkPut (8 writers, sync) on the 2-core VM: sync rounds per
// put 0.26-0.27 before, 0.21 with the announcements, 0.15 with the yield
// as well, and CPU per put down by about a third in all (figures in
// docs/performance.md, goal 1).

// maxGather bounds how long a round waits for announced writes.
const maxGather = 500 * time.Microsecond

// syncRound is one sync pass and the commits waiting for it.
type syncRound struct {
	done    chan struct{}
	err     error
	waiters int
}

// groupSync runs sync rounds for the commits that ask for one.
type groupSync struct {
	// sync makes everything written so far durable; a field so that tests
	// can observe and hold rounds.
	sync func() error

	mu      sync.Mutex // guards pending and the announcement fields
	pending *syncRound // the next round, collecting waiters; nil if none
	// epoch numbers the announcements: those made since the last gather
	// began carry the current one. announced counts the writes of each
	// epoch that have neither waited nor withdrawn.
	epoch     uint64
	announced map[uint64]int
	// gathering is set while run waits for the writes of epoch
	// gatherEpoch; arrived wakes it when the last one arrives.
	gathering   bool
	gatherEpoch uint64
	arrived     chan struct{}
	// maxGather bounds that wait; a field so that tests can make it long.
	maxGather time.Duration
	kick      chan struct{}
	stopped   chan struct{} // closed when run returns
	rounds    atomic.Int64
	// failed holds the first flush failure: once set, no round runs and
	// every wait fails with it (flushfail.go).
	failed flushLatch
}

func newGroupSync(sync func() error, log hclog.Logger) *groupSync {
	return &groupSync{
		failed:    flushLatch{log: log},
		sync:      sync,
		announced: make(map[uint64]int),
		maxGather: maxGather,
		kick:      make(chan struct{}, 1),
		arrived:   make(chan struct{}, 1),
		stopped:   make(chan struct{}),
	}
}

// announcement is a write announced to the group commit; the zero value is
// no announcement.
type announcement struct {
	on    bool
	epoch uint64
}

// announce announces a write that will call wait or withdraw.
func (g *groupSync) announce() announcement {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.announced[g.epoch]++
	return announcement{on: true, epoch: g.epoch}
}

// withdraw counts off an announced write that will not wait for a round.
func (g *groupSync) withdraw(a announcement) {
	if !a.on {
		return
	}
	g.mu.Lock()
	g.arrive(a)
	g.mu.Unlock()
}

// arrive counts off one announced write; the caller holds mu.
func (g *groupSync) arrive(a announcement) {
	if !a.on {
		return
	}
	n := g.announced[a.epoch] - 1
	if n > 0 {
		g.announced[a.epoch] = n
		return
	}
	delete(g.announced, a.epoch)
	if g.gathering && a.epoch == g.gatherEpoch {
		select {
		case g.arrived <- struct{}{}:
		default:
		}
	}
}

// wait returns once a sync round that started after the call has completed.
// a is the caller's announcement, if it made one. After a flush failed it
// fails at once with that failure.
func (g *groupSync) wait(a announcement) error {
	if err := g.failed.failure(); err != nil {
		g.withdraw(a)
		return err
	}
	g.mu.Lock()
	r := g.pending
	if r == nil {
		r = &syncRound{done: make(chan struct{})}
		g.pending = r
	}
	r.waiters++
	g.arrive(a)
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default: // a kick is already queued
	}
	select {
	case <-r.done:
		return r.err
	case <-g.stopped:
		return ErrClosed
	}
}

// run performs rounds until ctx is cancelled.
func (g *groupSync) run(ctx context.Context) {
	defer close(g.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.kick:
		}
		// Let the goroutines that are runnable now (writes about to
		// commit, requests about to reach Update) run before the round
		// starts, so that they can join it: a yield of microseconds.
		runtime.Gosched()
		if !g.gather(ctx, timer) {
			continue
		}
		g.mu.Lock()
		r := g.pending
		g.pending = nil
		g.mu.Unlock()
		if r == nil {
			continue
		}
		r.err = g.round()
		close(r.done)
	}
}

// round runs one sync round, unless a flush failed before: then, and if
// this round's flush fails, it returns the first failure (see
// flushfail.go). Other errors (listing the folder, opening a file) fail
// only this round; the next one retries what it did not finish.
func (g *groupSync) round() error {
	if err := g.failed.failure(); err != nil {
		return err
	}
	err := g.sync()
	g.rounds.Add(1)
	var fe *FlushError
	if errors.As(err, &fe) {
		return g.failed.set(fe)
	}
	return err
}

// gather waits, up to maxGather, for the writes announced so far to join
// the pending round. It reports whether a round is pending; when none is,
// the caller runs none (even if one becomes pending just after: that
// round's kick is queued, and it gathers then).
func (g *groupSync) gather(ctx context.Context, timer *time.Timer) bool {
	g.mu.Lock()
	if g.pending == nil {
		// A kick left over from a write that joined the last round: no
		// round starts, so the writes announced so far stay in the
		// epoch that the next round gathers. A waiter that makes a
		// round pending after this look queues a kick of its own.
		g.mu.Unlock()
		return false
	}
	e := g.epoch
	g.epoch++
	if g.announced[e] == 0 {
		g.mu.Unlock()
		return true
	}
	g.gathering, g.gatherEpoch = true, e
	g.mu.Unlock()
	timer.Reset(g.maxGather)
	select {
	case <-g.arrived:
	case <-timer.C:
	case <-ctx.Done():
	}
	timer.Stop()
	g.mu.Lock()
	g.gathering = false
	select {
	case <-g.arrived: // a wake-up sent after the timer fired
	default:
	}
	g.mu.Unlock()
	return true
}

// fileSyncer flushes Badger's log files; see the comment at the top of the
// file. sync and close are called by one goroutine at a time.
type fileSyncer struct {
	dir string
	// vlogDirty is set by writers of values that went to the value log,
	// after they were written; the next sync consumes it.
	vlogDirty atomic.Bool
	// vlogWriters counts the commits with values for the value log that
	// Badger has been handed and that have not marked vlogDirty yet: every
	// round flushes the value log while one is under way. Without it, a
	// round started by a later small commit in the gap between a big
	// commit's write and its mark flushed only the write-ahead logs, yet
	// made the later commit durable, and with it the durability watermark
	// past the big one's change record: the publisher sent a write whose
	// value a power cut could take (found in review).
	vlogWriters atomic.Int64
	clean       map[string]bool // files flushed after they stopped receiving writes
	// open are the log files flushed so far, by name, with the size each
	// had then; dirf is the folder, read and flushed through one
	// descriptor.
	open map[string]*syncedFile
	dirf *os.File
	// dirOwed is set when a log appeared whose folder entry no round has
	// flushed yet; cleared only by a successful flush of the folder.
	dirOwed bool
	// flush flushes one file: fdatasync, or fsync when full (a test can
	// record the calls).
	flush func(f *os.File, full bool) error
}

// syncedFile is a log file the syncer holds open.
type syncedFile struct {
	f    *os.File
	size int64
}

func newFileSyncer(dir string) *fileSyncer {
	return &fileSyncer{dir: dir, clean: make(map[string]bool), open: make(map[string]*syncedFile), flush: flushFile}
}

// flushFile makes f's data durable: fdatasync, or fsync when full.
func flushFile(f *os.File, full bool) error {
	if full {
		return f.Sync()
	}
	return ignoringEINTR(func() error { return syscall.Fdatasync(int(f.Fd())) })
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func (s *fileSyncer) sync() (err error) {
	// What a failed round did not finish stays owed to the next one: the
	// value log's dirty mark (consumed here, so that writes marking it
	// during the round are kept for the next) and the folder's flush for
	// the logs that appeared (a later round no longer sees them as new).
	vlog := s.vlogDirty.Swap(false)
	if s.vlogWriters.Load() > 0 {
		vlog = true
	}
	defer func() {
		if err != nil && vlog {
			s.vlogDirty.Store(true)
		}
	}()
	names, err := s.list()
	if err != nil {
		return fmt.Errorf("sync: list %s: %w", s.dir, err)
	}
	exts := []string{".mem"}
	if vlog {
		exts = append(exts, ".vlog")
	}
	for _, ext := range exts {
		var logs []string
		newest, newestID := "", int64(-1)
		for _, name := range names {
			if !strings.HasSuffix(name, ext) {
				continue
			}
			id, err := strconv.ParseInt(strings.TrimSuffix(name, ext), 10, 64)
			if err != nil {
				continue
			}
			logs = append(logs, name)
			if id > newestID {
				newest, newestID = name, id
			}
		}
		for _, name := range logs {
			if s.clean[name] {
				continue
			}
			isNew, err := s.syncLog(name)
			if err != nil {
				return err
			}
			s.dirOwed = s.dirOwed || isNew
			if name != newest {
				s.clean[name] = true
				s.release(name)
			}
		}
	}
	if s.dirOwed {
		if err := s.flush(s.dirf, true); err != nil {
			return flushFailed(s.dir, err)
		}
		s.dirOwed = false
	}
	// Forget files that are gone, so that the maps stay small and deleted
	// files are not held open.
	present := make(map[string]bool, len(names))
	for _, name := range names {
		present[name] = true
	}
	for name := range s.open {
		if !present[name] {
			s.release(name)
		}
	}
	for name := range s.clean {
		if !present[name] {
			delete(s.clean, name)
		}
	}
	return nil
}

// list returns the names in the folder, read through the folder's
// descriptor, which it opens on first use.
func (s *fileSyncer) list() ([]string, error) {
	if s.dirf == nil {
		f, err := os.Open(s.dir)
		if err != nil {
			return nil, err
		}
		s.dirf = f
	} else if _, err := s.dirf.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.dirf.Readdirnames(-1)
}

// syncLog flushes one log file, opening it if the syncer does not hold it
// yet (isNew: the folder must be flushed too). A file that disappeared was
// flushed into an SSTable and deleted meanwhile: nothing to do.
func (s *fileSyncer) syncLog(name string) (isNew bool, err error) {
	path := filepath.Join(s.dir, name)
	sf := s.open[name]
	if sf == nil {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("sync: %w", err)
		}
		sf = &syncedFile{f: f, size: -1}
		s.open[name] = sf
		isNew = true
	}
	fi, err := sf.f.Stat()
	if err != nil {
		return false, fmt.Errorf("sync: %w", err)
	}
	full := fi.Size() != sf.size
	if err := s.flush(sf.f, full); err != nil {
		return false, flushFailed(path, err)
	}
	sf.size = fi.Size()
	return isNew, nil
}

// flushFailed is the error of a failed flush of path.
func flushFailed(path string, err error) *FlushError {
	return &FlushError{File: filepath.Base(path), Err: err, At: time.Now(), path: path}
}

// release closes the descriptor of a file that needs no more flushes.
func (s *fileSyncer) release(name string) {
	if sf := s.open[name]; sf != nil {
		sf.f.Close()
		delete(s.open, name)
	}
}

// close releases the descriptors the syncer holds.
func (s *fileSyncer) close() {
	for name := range s.open {
		s.release(name)
	}
	if s.dirf != nil {
		s.dirf.Close()
		s.dirf = nil
	}
}

// vlogWriteBegins is called before a commit that writes values to the value
// log (vlog) is handed to Badger: until vlogWriteEnds, every round flushes
// the value log, and after it the next round does (also for a lazy commit,
// which waits for no round itself).
func (db *DB) vlogWriteBegins(vlog bool) {
	if vlog && db.files != nil {
		db.files.vlogWriters.Add(1)
	}
}

// vlogWriteEnds marks the value log dirty for the next round and ends the
// write vlogWriteBegins began (see fileSyncer.vlogWriters).
func (db *DB) vlogWriteEnds(vlog bool) {
	if vlog && db.files != nil {
		db.files.vlogDirty.Store(true)
		db.files.vlogWriters.Add(-1)
	}
}

// durable returns once everything committed before the call is on disk: at
// once without SyncWrites, after a sync round with it. vlog says that the
// caller's writes (or a GC pass) touched the value log; metadata changes
// always pass true (a table's JSON may exceed valueThreshold, and they are
// rare).
func (db *DB) durable(vlog bool) error { return db.durableAs(vlog, announcement{}) }

// durableAs is durable for a write announced as a (see gather).
func (db *DB) durableAs(vlog bool, a announcement) error {
	if db.group == nil {
		return nil
	}
	if vlog {
		db.files.vlogDirty.Store(true)
	}
	return db.group.wait(a)
}

// announceWrite announces a write to the group commit (see gather); the
// caller passes the announcement to durableAs, or to withdrawWrite if it
// does not wait for durability after all.
func (db *DB) announceWrite() announcement {
	if db.group == nil {
		return announcement{}
	}
	return db.group.announce()
}

// withdrawWrite withdraws an announcement that will not reach durable.
func (db *DB) withdrawWrite(a announcement) {
	if db.group != nil {
		db.group.withdraw(a)
	}
}

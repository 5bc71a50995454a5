package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

// reopenInterval is how often a store opened read-only on a full disk
// measures the free space again.
const reopenInterval = time.Second

// openSpace sets up the space guard for cfg and says whether Badger must
// open read-only: with less than the reserve free, a read-write open could
// fault (see space.go). free is the space measured.
func openSpace(cfg Config, log hclog.Logger) (g *spaceGuard, readOnly bool, free uint64, err error) {
	if cfg.InMemory || cfg.DiskReserve < 0 {
		return nil, false, 0, nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, false, 0, fmt.Errorf("create %s: %w", cfg.Dir, err)
	}
	g = newSpaceGuard(cfg.Dir, uint64(cfg.DiskReserve), log)
	free, err = g.statfs(cfg.Dir)
	if err != nil {
		log.Warn("free disk space unknown: writes are not checked against the reserve", "error", err)
		return g, false, 0, nil
	}
	if free < uint64(cfg.DiskReserve) {
		if _, err := os.Stat(cfg.Dir + "/MANIFEST"); err != nil {
			return nil, false, 0, fmt.Errorf("create the store at %s: %w", cfg.Dir,
				&DiskFullError{Dir: cfg.Dir, Free: free, Reserve: uint64(cfg.DiskReserve)})
		}
		log.Error("disk full: opening read-only; writes resume once space is freed", "dir", cfg.Dir,
			"free", mib(free), "reserve", mib(uint64(cfg.DiskReserve)))
		return g, true, free, nil
	}
	return g, false, free, nil
}

// openReadOnly opens Badger read-only. After a crash, the newest memtable's
// write-ahead log is longer than its records (Badger sizes it ahead and
// trims it on a read-write open), and a read-only open refuses it with
// ErrTruncateNeeded. Trimming it to its last record is what the read-write
// open would do, and needs no space (ftruncate shrinks): so the store does
// it, for the file and offset named in Badger's error ("while opening fid:
// N ... end offset: X < size: Y", badger v4.9.6 memtable.go), and tries
// again. If the error does not name them, it is returned as it is.
func openReadOnly(cfg Config, log hclog.Logger) (*badger.DB, error) {
	for range 16 { // a few memtables at most
		bdb, err := badger.Open(cfg.badgerOptions(log, true))
		if err == nil {
			return bdb, nil
		}
		// Badger's y.Wrapf formats its causes instead of wrapping them:
		// errors.Is(err, badger.ErrTruncateNeeded) does not hold.
		m := truncateNeededRE.FindStringSubmatch(err.Error())
		if m == nil || !strings.Contains(err.Error(), badger.ErrTruncateNeeded.Error()) {
			return nil, err
		}
		fid, _ := strconv.Atoi(m[1])
		end, _ := strconv.ParseInt(m[2], 10, 64)
		path := filepath.Join(cfg.Dir, fmt.Sprintf("%05d.mem", fid))
		log.Info("trimming the write-ahead log left by a crash, to open read-only", "file", path, "size", end)
		if terr := os.Truncate(path, end); terr != nil {
			return nil, fmt.Errorf("%w (trimming %s: %w)", err, path, terr)
		}
	}
	return nil, errors.New("open read-only: write-ahead logs keep needing a trim")
}

var truncateNeededRE = regexp.MustCompile(`opening fid: (\d+) .*end offset: (\d+) < size: \d+`)

// Disk reports the free space of the store's disk and whether writes are
// refused for lack of it.
func (db *DB) Disk() DiskStatus { return db.space.status() }

// reopenWhenSpace polls the free space of a store opened read-only and
// reopens it read-write once the reserve is free, then starts value-log GC.
func (db *DB) reopenWhenSpace(ctx context.Context) {
	t := time.NewTicker(reopenInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		free, ok := db.space.roomToReopen()
		if !ok {
			continue
		}
		if err := db.reopenWritable(); err != nil {
			db.log.Error("reopening read-write failed; staying read-only", "error", err)
			continue
		}
		db.space.setReadOnly(false, free)
		db.log.Info("disk space recovered: reopened read-write", "free", mib(free))
		db.startGC(ctx)
		return
	}
}

// reopenWritable swaps the read-only Badger for a read-write one. New calls
// wait (enter) and calls in progress finish first, so nothing uses bdb
// while it changes. Should the read-write open fail, Badger is opened
// read-only again.
func (db *DB) reopenWritable() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.reopening = true
	db.mu.Unlock()
	defer func() {
		db.mu.Lock()
		db.reopening = false
		db.reopened.Broadcast()
		db.mu.Unlock()
	}()
	db.inflight.Wait()

	if err := db.bdb.Close(); err != nil {
		return fmt.Errorf("close read-only badger: %w", err)
	}
	bdb, err := badger.Open(db.cfg.badgerOptions(db.log.Named("badger"), false))
	if err != nil {
		ro, rerr := openReadOnly(db.cfg, db.log.Named("badger"))
		if rerr != nil {
			// Nothing left to read from: every call fails from now on.
			db.mu.Lock()
			db.closed = true
			db.mu.Unlock()
			db.bdb = nil
			return fmt.Errorf("open badger read-write: %w; and read-only again: %w", err, rerr)
		}
		db.bdb = ro
		return fmt.Errorf("open badger read-write: %w", err)
	}
	db.bdb, db.readOnly = bdb, false
	err = db.initWrites()
	if err == nil {
		err = db.consumeStatsSnapshot()
	}
	if err != nil {
		// Writes stay refused (the guard is still read-only); the next
		// attempt reopens again.
		db.readOnly = true
		return err
	}
	return nil
}

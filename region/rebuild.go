package region

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/store"
)

// maxRebuildReports is how many rebuild reports the status keeps.
const maxRebuildReports = 20

// RebuildReport says what a re-sync from a peer's snapshot did to one
// table (docs/replication.md, "Back after longer than the tombstone
// horizon").
type RebuildReport struct {
	Table  string    `json:"table"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
	// AwayMs is how long ago this region last applied a write of the
	// source from its stream; absent if it never did.
	AwayMs *float64 `json:"away_ms,omitempty"`
	// HorizonMs is the tombstone horizon.
	HorizonMs float64 `json:"tombstone_horizon_ms"`
	// Applied counts the source's rows applied; Skipped the source's
	// items this region had received and deleted (its tombstone purged).
	Applied int `json:"applied"`
	Skipped int `json:"skipped"`
	// Dropped counts the items this region held that the source had
	// received and deleted (its tombstone purged), removed here without
	// replicating; Kept the items it held that the source never received,
	// KeptLocal those of them written here.
	Dropped   int `json:"dropped"`
	Kept      int `json:"kept"`
	KeptLocal int `json:"kept_local"`
	// TookMs is how long the rebuild took: fetching and applying the
	// source's snapshot, then comparing this region's copy with it. Nil
	// from a region that does not report it (older builds): unknown, not 0.
	TookMs *float64 `json:"took_ms,omitempty"`
	// Note explains a rebuild that could not tell deletes apart (a source
	// that sends no provenance): then it only applied by last-writer-wins.
	Note string `json:"note,omitempty"`
}

// Provenance is what this region had received, served with its snapshots.
func (s *replicatedStore) Provenance(table string) (*replicator.Provenance, error) {
	p := &replicator.Provenance{Region: s.region, PurgedBefore: time.Now().Add(-s.horizon)}
	t, err := s.DB.Table(table)
	if err != nil {
		return nil, err
	}
	p.TableCreated = t.CreatedAt
	if p.Cursors, err = s.DB.Cursors(); err != nil {
		return nil, err
	}
	if p.Watermarks, err = s.DB.Watermarks(); err != nil {
		return nil, err
	}
	return p, nil
}

// received reports whether a region named holder, whose copy of the table
// was created at created and whose watermarks are marks, had received v:
// its own write, or one below the floor of what it applied from v's writer
// (store.DB.Watermarks), made while its copy existed.
func received(holder string, created time.Time, marks map[string]conflict.Version, v conflict.Version) bool {
	if v.Wall < created.UnixNano() {
		return false // it could only have had it copied in
	}
	if v.Region == holder {
		return true
	}
	w, ok := marks[v.Region]
	return ok && v.Compare(w) < 0
}

// rebuildTable re-syncs table from source's snapshot (conn is a
// connection to source's NATS). Rows are applied by last-writer-wins, but a
// row only one side holds, older than the tombstone horizon, is a delete
// the other side no longer remembers if the other side had received it:
// the source's such rows are not applied, and this region's are removed
// locally (store.DropStale), without replicating. Rows the other side never
// received are kept on both sides; this region's own writes among them
// reach the source through the source's re-sync from this region, or
// through this region's stream.
//
// Pages come in key order, so each is compared with the local rows of its
// own key range before it is applied (the rows it replaces are not
// looked at, nor its keys kept), and is applied while the next is
// compared (pageCopier).
func (r *replication) rebuildTable(ctx context.Context, conn *nats.Conn, source, table string) (RebuildReport, error) {
	rep := RebuildReport{Table: table, Source: source, HorizonMs: ms(r.cfg.TombstoneHorizon)}
	began := time.Now()
	var sp rebuildSpans
	defer func() { r.log.Debug("rebuild timings", sp.args(table, began)...) }()
	mine, err := r.db.Watermarks()
	if err != nil {
		return rep, err
	}
	if w, ok := mine[source]; ok {
		away := ms(time.Since(time.Unix(0, w.Wall)))
		rep.AwayMs = &away
	}
	purgedHere := time.Now().Add(-r.cfg.TombstoneHorizon).UnixNano()
	t, err := r.db.Table(table)
	if err != nil {
		return rep, err
	}
	var (
		drop  []*store.Change // local rows the source had received and deleted
		after string          // the last key compared with the local rows
	)
	cp := newPageCopier(ctx, r.db, source)
	last := began
	prov, err := replicator.FetchSnapshotProvenance(ctx, conn, source, table, func(p *replicator.Provenance, rows []*store.Change) error {
		t0 := time.Now()
		sp.wait += t0.Sub(last)
		sp.pages++
		defer func() { last = time.Now(); sp.apply += last.Sub(t0) }()
		if p != nil && len(rows) > 0 {
			keys, err := r.db.RowKeys(table, rows)
			if err != nil {
				return err
			}
			if !slices.IsSorted(keys) || keys[0] <= after {
				return fmt.Errorf("%w: rows of %s from %s out of key order", replicator.ErrBadPage, table, source)
			}
			through := keys[len(keys)-1]
			got, err := r.selectDeletedThere(table, p, after, through, keys, &rep)
			if err != nil {
				return err
			}
			drop = append(drop, got...)
			after = through
			if rows, err = r.skipDeletedHere(table, rows, purgedHere, t.CreatedAt, mine, &rep); err != nil {
				return err
			}
		}
		return cp.apply(rows)
	})
	applied, cerr := cp.wait()
	rep.Applied, sp.copy = applied, cp.busy
	if err == nil {
		err = cerr
	}
	if err != nil {
		return rep, err
	}
	sp.tail = time.Since(last)
	// The pages were applied without waiting for the disk: make them
	// durable before the re-sync counts as done (store.DB.ApplyCopy).
	t0 := time.Now()
	if err := r.db.Durable(); err != nil {
		return rep, err
	}
	sp.durable = time.Since(t0)
	rep.At = time.Now()
	if prov == nil {
		rep.Note = source + " sends no provenance with its snapshots: applied by last-writer-wins only"
		took := ms(rep.At.Sub(began))
		rep.TookMs = &took
		return rep, nil
	}
	// The local rows after the source's last key.
	t0 = time.Now()
	got, err := r.selectDeletedThere(table, prov, after, "", nil, &rep)
	if err != nil {
		return rep, err
	}
	drop = append(drop, got...)
	sp.pass = time.Since(t0)
	t0 = time.Now()
	rep.Dropped, err = r.db.DropStale(ctx, table, drop)
	sp.drop = time.Since(t0)
	rep.At = time.Now()
	took := ms(rep.At.Sub(began))
	rep.TookMs = &took
	return rep, err
}

// selectDeletedThere returns the live local rows of table with keys after
// after and at most through ("": to the end) that the source's snapshot
// lacks (keys, sorted, are the keys it sent for that range) and that the
// source had received and deleted since, its tombstone purged (prov): the
// rows to drop. Other live rows the snapshot lacks are counted as kept.
func (r *replication) selectDeletedThere(table string, prov *replicator.Provenance, after, through string, keys []string, rep *RebuildReport) ([]*store.Change, error) {
	cutThere := prov.PurgedBefore.UnixNano()
	return r.db.SelectRowsBetween(table, after, through, func(key string, deleted bool, v conflict.Version) bool {
		// Rows come in key order: skip the sent keys below this one.
		for len(keys) > 0 && keys[0] < key {
			keys = keys[1:]
		}
		if deleted || (len(keys) > 0 && keys[0] == key) {
			return false
		}
		if v.Wall < cutThere && received(prov.Region, prov.TableCreated, prov.Watermarks, v) {
			return true
		}
		rep.Kept++
		if v.Region == r.self {
			rep.KeptLocal++
		}
		return false
	})
}

// copyInFlight is how many snapshot pages a rebuild applies at once: one
// being built while Badger writes the other, so that the two use both
// cores. Pages hold disjoint keys, so their rows never conflict; on a
// table with a stream both may write its shard bookkeeping, and such a
// conflict is retried (store.DB.ApplyCopy).
const copyInFlight = 2

// pageCopier applies a re-sync's pages with store.DB.ApplyCopy, up to
// copyInFlight at once, each in a goroutine it owns until wait returns.
type pageCopier struct {
	ctx    context.Context
	db     *store.DB
	source string
	slots  chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex // guards the rest
	applied int
	busy    time.Duration // summed over the pages
	err     error
}

func newPageCopier(ctx context.Context, db *store.DB, source string) *pageCopier {
	return &pageCopier{ctx: ctx, db: db, source: source, slots: make(chan struct{}, copyInFlight)}
}

// apply starts applying rows once a slot is free, and returns the failure
// of an earlier page if there was one.
func (c *pageCopier) apply(rows []*store.Change) error {
	select {
	case c.slots <- struct{}{}:
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		<-c.slots
		return err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t0 := time.Now()
		st, err := c.db.ApplyCopy(c.ctx, c.source, rows)
		c.mu.Lock()
		c.applied += st.Applied
		c.busy += time.Since(t0)
		if err != nil && c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
		<-c.slots
	}()
	return nil
}

// wait returns once every page started is applied, with the rows applied
// and the first failure.
func (c *pageCopier) wait() (int, error) {
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied, c.err
}

// rebuildSpans is where a rebuild's time went, for its DEBUG log line:
// waiting for pages (the first included), comparing and handing them on
// (apply), the copy's ApplyCopy calls (summed, they overlap), after the
// last page until the copy was applied, the final sync round, the pass
// over the local rows after the last page and the drops.
type rebuildSpans struct {
	pages                                        int
	wait, apply, copy, tail, durable, pass, drop time.Duration
}

func (sp *rebuildSpans) args(table string, began time.Time) []any {
	return []any{"table", table, "pages", sp.pages, "total", time.Since(began), "wait_pages", sp.wait,
		"compare", sp.apply, "apply_copy", sp.copy, "after_last_page", sp.tail, "durable", sp.durable,
		"local_pass_tail", sp.pass, "drop", sp.drop}
}

// skipDeletedHere returns rows less those this region had received and
// deleted since, its tombstone purged (counted in rep.Skipped): live,
// older than purgedHere, received here, and for a key this region holds
// nothing of. Only rows old enough are looked up.
func (r *replication) skipDeletedHere(table string, rows []*store.Change, purgedHere int64, created time.Time, mine map[string]conflict.Version, rep *RebuildReport) ([]*store.Change, error) {
	var old []*store.Change
	for _, c := range rows {
		if !c.Deleted && c.Version.Wall < purgedHere && received(r.self, created, mine, c.Version) {
			old = append(old, c)
		}
	}
	if len(old) == 0 {
		return rows, nil
	}
	lacking, err := r.db.Lacking(table, old)
	if err != nil {
		return nil, err
	}
	gone := make(map[*store.Change]bool)
	for i, c := range old {
		if lacking[i] {
			gone[c] = true
		}
	}
	if len(gone) == 0 {
		return rows, nil
	}
	kept := rows[:0:0]
	for _, c := range rows {
		if gone[c] {
			rep.Skipped++ // received here and deleted since: the tombstone is gone
			continue
		}
		kept = append(kept, c)
	}
	return kept, nil
}

// logRebuild logs a rebuild report and keeps it for the status.
func (r *replication) logRebuild(rep RebuildReport) {
	away := "never applied a change from it"
	if rep.AwayMs != nil {
		away = fmt.Sprintf("last applied a change written there %s ago", time.Duration(*rep.AwayMs*float64(time.Millisecond)).Round(time.Second))
	}
	why := fmt.Sprintf("tombstone_horizon %s", r.cfg.TombstoneHorizon)
	if rep.AwayMs != nil && *rep.AwayMs > rep.HorizonMs {
		why = "away longer than " + why
	}
	args := []any{"table", rep.Table, "source", rep.Source, "away", away, "why", why,
		"applied", rep.Applied, "skipped_deleted_here", rep.Skipped,
		"dropped_deleted_there", rep.Dropped, "kept_not_received_there", rep.Kept, "kept_local_writes", rep.KeptLocal,
		"took", msDuration(rep.TookMs)}
	if rep.Note != "" {
		r.log.Warn("re-synced table without telling deletes apart: "+rep.Note, args...)
	} else {
		r.log.Info(fmt.Sprintf("rebuilt table %s from %s's snapshot (%s, %s): dropped %d items deleted elsewhere, skipped %d deleted here, kept %d items %s never received (%d local writes, which reach it through its stream or re-sync)",
			rep.Table, rep.Source, away, why, rep.Dropped, rep.Skipped, rep.Kept, rep.Source, rep.KeptLocal), args...)
	}
	r.mu.Lock()
	r.rebuilds = append(r.rebuilds, rep)
	if n := len(r.rebuilds); n > maxRebuildReports {
		r.rebuilds = r.rebuilds[n-maxRebuildReports:]
	}
	r.mu.Unlock()
}

// dropForgotten removes from changes, item writes from source arriving on a
// link, those that would resurrect an item this region deleted long ago:
// older than the tombstone horizon, for a key it holds nothing of, and
// received here before (below its watermark of source). A source that
// restarts republishes what its change log still holds, which may be that
// old. It returns the changes kept and how many it dropped.
func (s *replicatedStore) dropForgotten(source string, changes []*store.Change) ([]*store.Change, int, error) {
	cut := time.Now().Add(-s.horizon).UnixNano()
	var marks map[string]conflict.Version
	kept := changes[:0:0]
	for _, ch := range changes {
		if ch.Deleted || ch.Version.Wall >= cut {
			kept = append(kept, ch)
			continue
		}
		if marks == nil {
			var err error
			if marks, err = s.DB.Watermarks(); err != nil {
				return nil, 0, err
			}
		}
		t, err := s.DB.Table(ch.Table)
		if err != nil {
			return nil, 0, err
		}
		if !received(s.region, t.CreatedAt, marks, ch.Version) {
			kept = append(kept, ch)
			continue
		}
		lacking, err := s.DB.Lacking(ch.Table, []*store.Change{ch})
		if err != nil {
			return nil, 0, err
		}
		if !lacking[0] {
			kept = append(kept, ch)
		}
	}
	return kept, len(changes) - len(kept), nil
}

// msDuration is a report's milliseconds as a duration for the log, or
// "unknown".
func msDuration(ms *float64) any {
	if ms == nil {
		return "unknown"
	}
	return time.Duration(*ms * float64(time.Millisecond)).Round(time.Millisecond)
}

package api

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/globaltables/globaltables/store"
)

// Background work that outlives a request: index backfills and replica
// joins. Both are recorded in the table's metadata as they start (an index
// CREATING, this region's replica entry CREATING), and nothing but their
// completion changes that record; so a region that stops (crash or clean
// stop) in the middle finds, on its next start, exactly the work left to
// do, and starts it again (issue 7). Neither keeps a position: a backfill
// and a replica's copy are both idempotent (rows are indexed as they are;
// copied rows are applied by last-writer-wins), so doing one again from
// the start is correct, only slower.

// extraJoinSource is the local (never replicated) metadata key naming the
// region a joining replica copies its snapshot from.
const extraJoinSource = "gt.joinSource"

// BackfillProgress is a running index backfill, for the region's status.
type BackfillProgress struct {
	Table string
	Index string
	// Rows is how many of the table's rows (items and tombstones) the
	// backfill has read so far in this run.
	Rows int64
	// Started is when this run began.
	Started time.Time
	// Resumed is true for a backfill that an earlier run of the region left
	// unfinished.
	Resumed bool
}

// backfills tracks the running backfills.
type backfills struct {
	mu      sync.Mutex // guards running
	running map[[2]string]*backfillRun
}

type backfillRun struct {
	started time.Time
	resumed bool
	rows    atomic.Int64
}

// start registers the backfill of table's index; false if it is running.
func (b *backfills) start(table, index string, resumed bool) (*backfillRun, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running == nil {
		b.running = map[[2]string]*backfillRun{}
	}
	k := [2]string{table, index}
	if _, ok := b.running[k]; ok {
		return nil, false
	}
	r := &backfillRun{started: time.Now(), resumed: resumed}
	b.running[k] = r
	return r, true
}

func (b *backfills) done(table, index string) {
	b.mu.Lock()
	delete(b.running, [2]string{table, index})
	b.mu.Unlock()
}

// Backfills lists the index backfills running now, by table and index.
func (s *Server) Backfills() []BackfillProgress {
	s.backfills.mu.Lock()
	out := make([]BackfillProgress, 0, len(s.backfills.running))
	for k, r := range s.backfills.running {
		out = append(out, BackfillProgress{Table: k[0], Index: k[1], Rows: r.rows.Load(), Started: r.started, Resumed: r.resumed})
	}
	s.backfills.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Index < out[j].Index
	})
	return out
}

// startBackfill fills a new global secondary index with the table's items:
// through the region's hook if it has one, or in a goroutine of the server.
func (s *Server) startBackfill(table, index string) { s.runBackfill(table, index, false) }

func (s *Server) runBackfill(table, index string, resumed bool) {
	if s.cfg.Hooks.IndexAdded != nil {
		s.cfg.Hooks.IndexAdded(table, index)
		return
	}
	run, ok := s.backfills.start(table, index, resumed)
	if !ok {
		return
	}
	s.goBackground(func(ctx context.Context) {
		defer s.backfills.done(table, index)
		err := s.db.BackfillIndexProgress(ctx, table, index, func(rows int) error {
			run.rows.Store(int64(rows))
			return s.pace(ctx, run.started, rows)
		})
		switch {
		case err == nil:
		case ctx.Err() != nil, errors.Is(err, store.ErrClosed):
			s.log.Info("index backfill interrupted; it starts again when the region does", "table", table, "index", index, "rows", run.rows.Load())
		case errors.Is(err, store.ErrTableNotFound), errors.Is(err, store.ErrIndexNotFound):
			// The table or index was dropped meanwhile: nothing to build.
		default:
			s.log.Error("index backfill failed; it starts again when the region does", "table", table, "index", index, "error", err)
		}
	})
}

// pace holds a backfill to Config.BackfillRate rows per second: it returns
// once rows are due, or with ctx's error.
func (s *Server) pace(ctx context.Context, started time.Time, rows int) error {
	if s.cfg.BackfillRate <= 0 {
		return nil
	}
	due := started.Add(time.Duration(float64(rows) / float64(s.cfg.BackfillRate) * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// resumeBackfills starts again every backfill an earlier run of the region
// left unfinished: the indexes still CREATING.
func (s *Server) resumeBackfills() error {
	tables, err := s.db.Tables()
	if err != nil {
		return err
	}
	for _, t := range tables {
		for _, ix := range t.GSIs {
			if ix.Status == store.StatusCreating {
				s.log.Info("resuming an interrupted index backfill", "table", t.Name, "index", ix.Name)
				s.runBackfill(t.Name, ix.Name, true)
			}
		}
	}
	return nil
}

// PendingJoins returns the tables whose replica in this region is still
// CREATING (its copy has not finished), each with the region its snapshot
// was to come from ("" if unknown). The region calls it on start to resume
// the copies an earlier run left unfinished.
func (s *Server) PendingJoins() (map[string]string, error) {
	tables, err := s.db.Tables()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, t := range tables {
		if self, ok := replicas(t)[s.cfg.Region]; ok && self.Status == replicaCreating {
			out[t.Name] = t.Extra[extraJoinSource]
		}
	}
	return out, nil
}

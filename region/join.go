package region

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/store"
)

// Filling a new replica ("joining" a global table). The table's metadata
// says CREATING for this region's replica entry from the moment the table
// is created here until the copy is done (api.Server.ReplicaReady); a copy
// that a crash or a stop interrupts is started again, from the start, by
// the region's next run (resumeJoins). See docs/replication.md, "Joins and
// backfills that survive a restart".

// Phases of a join, for the status.
const (
	joinStarting = "starting"
	joinReplay   = "replaying streams"
	joinSnapshot = "copying snapshot"
)

// join is one new replica being filled in this region.
type join struct {
	table   string
	started time.Time
	resumed bool

	mu          sync.Mutex // guards the fields below
	source      string     // the region the snapshot comes from
	phase       string
	sourceItems int64 // the source's live items; valid if known
	known       bool
}

func (j *join) set(fn func(j *join)) {
	j.mu.Lock()
	fn(j)
	j.mu.Unlock()
}

// replicaJoined is the API's hook for a table this region was just added
// to: copy what the other replicas hold, then declare the replica ACTIVE.
func (r *replication) replicaJoined(table, source string) { r.startJoin(table, source, false) }

// resumeJoins starts again the copies an earlier run of the region left
// unfinished: every table whose replica here is still CREATING.
func (r *replication) resumeJoins() {
	pending, err := r.api.PendingJoins()
	if err != nil {
		r.log.Error("cannot list unfinished replica copies; they resume on the next start", "error", err)
		return
	}
	for table, source := range pending {
		r.log.Info("resuming the interrupted copy of a new replica", "table", table, "source", source)
		r.startJoin(table, source, true)
	}
}

// startJoin runs the copy of table in a goroutine owned by run, unless one
// is running already.
func (r *replication) startJoin(table, source string, resumed bool) {
	j := &join{table: table, source: source, started: time.Now(), resumed: resumed, phase: joinStarting}
	r.mu.Lock()
	if _, running := r.joins[table]; running {
		r.mu.Unlock()
		return
	}
	r.joins[table] = j
	r.mu.Unlock()
	done := func() {
		r.mu.Lock()
		delete(r.joins, table)
		r.mu.Unlock()
	}
	ok := r.spawn(func(ctx context.Context) {
		defer done()
		retry(ctx, r.log, "catch up "+table, func() error { return r.catchUp(ctx, j) })
	})
	if !ok {
		done() // not running: the next start resumes it
	}
}

// catchUp fills a new replica: the changes to the table still in every
// other replica's stream, then a snapshot from the region that added this
// one (or, if that region no longer holds a replica, from another one).
// Everything goes through last-writer-wins, so the order in which live
// changes, replayed changes and snapshot rows arrive does not matter, and
// neither does doing it all again after an interruption.
func (r *replication) catchUp(ctx context.Context, j *join) error {
	table := j.table
	start := time.Now()
	pending, err := r.api.PendingJoins()
	if err != nil {
		return err
	}
	if _, ok := pending[table]; !ok {
		// Removed (or dropped and re-made elsewhere) since: nothing to fill.
		r.log.Info("new replica gone before its copy finished", "table", table)
		return nil
	}
	source, err := r.snapshotSource(j)
	if err != nil {
		return err
	}
	r.countSource(ctx, j, source)
	apply := func(from string) func([]*store.Change) error {
		return func(chs []*store.Change) error {
			_, err := r.db.Apply(ctx, from, 0, chs)
			return err
		}
	}
	j.set(func(j *join) { j.phase = joinReplay })
	for _, peer := range r.peersOf(table) {
		conn := r.rep.Conn(peer)
		if conn == nil {
			continue
		}
		if err := replicator.CatchUp(ctx, conn, peer, table, r.ownRecordsOnly(peer, apply(peer))); err != nil {
			return fmt.Errorf("replay %s's stream: %w", peer, err)
		}
	}
	conn := r.rep.Conn(source)
	if conn == nil {
		return fmt.Errorf("no connection to %s", source)
	}
	r.countSource(ctx, j, source)
	j.set(func(j *join) { j.phase = joinSnapshot })
	if err := replicator.FetchSnapshot(ctx, conn, source, table, apply(source)); err != nil {
		return fmt.Errorf("snapshot from %s: %w", source, err)
	}
	if err := r.api.ReplicaReady(table); err != nil {
		if errors.Is(err, store.ErrTableNotFound) {
			r.log.Info("new replica gone before its copy finished", "table", table)
			return nil
		}
		return fmt.Errorf("mark replica active: %w", err)
	}
	r.log.Info("new replica caught up", "table", table, "snapshot_from", source, "resumed", j.resumed,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// snapshotSource picks the region to copy j's table from: the one that
// added this region, while it holds a replica, or else the first other
// replica.
func (r *replication) snapshotSource(j *join) (string, error) {
	j.mu.Lock()
	source := j.source
	j.mu.Unlock()
	if source != "" && r.api.ReplicatesFrom(j.table, source) {
		return source, nil
	}
	peers := r.peersOf(j.table)
	if len(peers) == 0 {
		return "", fmt.Errorf("no other region holds a replica of %s to copy from", j.table)
	}
	j.set(func(j *join) { j.source = peers[0] })
	return peers[0], nil
}

// countSource asks source for its item count, the measure of j's progress.
// A failure leaves the progress unknown; the copy goes on regardless.
func (r *replication) countSource(ctx context.Context, j *join, source string) {
	conn := r.rep.Conn(source)
	if conn == nil {
		return
	}
	n, known, err := replicator.FetchItemCount(ctx, conn, source, j.table)
	if err != nil {
		r.log.Debug("item count of the source unknown", "table", j.table, "source", source, "error", err)
		return
	}
	if known {
		j.set(func(j *join) { j.sourceItems, j.known = n, true })
	}
}

// joinProgress is the API's hook for ReplicaStatusPercentProgress: the
// share of the source's items this region holds, capped at 99 until the
// copy is done (the source may have grown meanwhile; the items here are
// not all the source's yet). Unknown before the source said its count.
func (r *replication) joinProgress(table string) (int, bool) {
	r.mu.Lock()
	j := r.joins[table]
	r.mu.Unlock()
	if j == nil {
		return 0, false
	}
	p, ok := r.progressOf(j)
	return p, ok
}

func (r *replication) progressOf(j *join) (int, bool) {
	j.mu.Lock()
	total, known := j.sourceItems, j.known
	j.mu.Unlock()
	if !known {
		return 0, false
	}
	have, _ := r.db.Stats(j.table)
	if total <= 0 {
		return 0, true
	}
	return int(min(have*100/total, 99)), true
}

// joinStatus adds the joins running now to st.
func (r *replication) joinStatus(st *Status) {
	r.mu.Lock()
	joins := make([]*join, 0, len(r.joins))
	for _, j := range r.joins {
		joins = append(joins, j)
	}
	r.mu.Unlock()
	sort.Slice(joins, func(a, b int) bool { return joins[a].table < joins[b].table })
	for _, j := range joins {
		st.CatchingUp = append(st.CatchingUp, j.table)
		items, _ := r.db.Stats(j.table)
		js := JoinStatus{Table: j.table, Items: items, Started: j.started, Resumed: j.resumed}
		j.mu.Lock()
		js.Source, js.Phase = j.source, j.phase
		if j.known {
			n := j.sourceItems
			js.SourceItems = &n
		}
		j.mu.Unlock()
		if p, ok := r.progressOf(j); ok {
			js.Percent = &p
		}
		st.Joins = append(st.Joins, js)
	}
}

package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/region/api/streamid"
	"github.com/globaltables/globaltables/store"
)

// maxBatchBytes bounds a batch by the records' SizeBytes, under Lambda's
// 6 MB payload limit for a synchronous invocation.
const maxBatchBytes = 5 << 20

// worker runs one trigger: one goroutine, started by start and stopped by
// stop.
type worker struct {
	m    *Manager
	log  hclog.Logger
	spec Spec // immutable
	dst  deliverer

	mu sync.Mutex // guards st and the fields below
	st state
	// phase is what the trigger is doing, for status.
	phase     string
	attempts  int64 // failed delivery attempts since the region started
	lastErr   string
	lastErrAt time.Time
	failing   bool // a failure is being reported; the next success logs "recovered"

	cancel context.CancelFunc
	done   chan struct{}
}

func (m *Manager) newWorker(st *state) *worker {
	return &worker{m: m, spec: st.Spec, st: *st, phase: "starting",
		log: m.log.With("trigger", st.Spec.Name, "table", st.Spec.Table),
		dst: newDeliverer(&st.Spec, m.cfg.Region, m.cfg.HTTP)}
}

func (w *worker) start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go w.run(ctx)
}

// stop cancels the worker and waits for it; a worker never started
// returns at once.
func (w *worker) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	<-w.done
}

func (w *worker) setPhase(p string) {
	w.mu.Lock()
	w.phase = p
	w.mu.Unlock()
}

// run loops until ctx is cancelled: each step settles one batch or finds
// nothing to do and waits a poll interval. An error of the store or of
// the position's file is retried with backoff.
func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	w.log.Info("trigger running", "target", w.spec.Target())
	errs := 0
	for ctx.Err() == nil {
		busy, err := w.step(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			errs++
			w.noteError(err)
			sleep(ctx, w.backoff(errs))
			continue
		}
		errs = 0
		if !busy {
			sleep(ctx, w.m.cfg.PollInterval)
		}
	}
}

// step does one unit of work; busy says there may be more at once.
func (w *worker) step(ctx context.Context) (busy bool, err error) {
	w.mu.Lock()
	pos := w.st.Position
	w.mu.Unlock()
	if !pos.Set {
		return w.locate()
	}
	src := w.m.cfg.Source
	page, err := src.StreamRecords(pos.Stream, pos.Shard, pos.After, w.spec.BatchSize, maxBatchBytes)
	switch {
	case errors.Is(err, store.ErrTrimmed):
		return true, w.trimmed(pos, "")
	case errors.Is(err, store.ErrStreamNotFound):
		// The shard (or the whole stream, disabled long ago) outlived its
		// retention before the trigger reached its end.
		return true, w.trimmed(pos, "stream or shard expired")
	case err != nil:
		return false, fmt.Errorf("read stream: %w", err)
	}
	if len(page.Records) == 0 {
		if page.Exhausted {
			return w.nextShard(pos)
		}
		w.setPhase("idle")
		return false, nil
	}
	recs := w.gather(ctx, pos, page)
	info, _, err := src.Stream(pos.Stream)
	if err != nil {
		return false, fmt.Errorf("read stream: %w", err)
	}
	w.setPhase("delivering")
	return true, w.settle(ctx, info, page.Shard, recs, 0)
}

// gather waits up to the batching window for more records, until the
// batch is full or its shard closed.
func (w *worker) gather(ctx context.Context, pos Position, page *store.StreamPage) []*store.StreamRecord {
	recs := page.Records
	window := time.Duration(w.spec.BatchingWindow)
	if window <= 0 || len(recs) >= w.spec.BatchSize || page.Exhausted {
		return recs
	}
	w.setPhase("batching")
	deadline := time.Now().Add(window)
	for len(recs) < w.spec.BatchSize {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		sleep(ctx, min(left, w.m.cfg.PollInterval))
		more, err := w.m.cfg.Source.StreamRecords(pos.Stream, pos.Shard, recs[len(recs)-1].Seq, w.spec.BatchSize-len(recs), maxBatchBytes)
		if err != nil {
			break // delivered as is; the next step meets the error again
		}
		recs = append(recs, more.Records...)
		if more.Exhausted {
			break
		}
	}
	return recs
}

// settle delivers recs, retrying, then bisecting, then logging what still
// fails, and moves the position past each part as it is settled.
func (w *worker) settle(ctx context.Context, info *store.StreamInfo, sh store.Shard, recs []*store.StreamRecord, depth int) error {
	event := Event{Records: make([]Record, len(recs))}
	for i, r := range recs {
		event.Records[i] = record(w.m.cfg.Region, w.m.cfg.AccountID, info, r)
	}
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	tries := 1 + *w.spec.MaxRetries
	for i := 0; i < tries; i++ {
		if i > 0 {
			w.setPhase(fmt.Sprintf("retrying (attempt %d of %d)", i+1, tries))
			sleep(ctx, w.backoff(i))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err = w.dst.deliver(ctx, body); err == nil {
			return w.advance(sh, recs, true)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.noteError(err)
	}
	if *w.spec.Bisect && len(recs) > 1 {
		half := len(recs) / 2
		w.log.Debug("bisecting a failing batch", "records", len(recs), "depth", depth+1)
		if err := w.settle(ctx, info, sh, recs[:half], depth+1); err != nil {
			return err
		}
		return w.settle(ctx, info, sh, recs[half:], depth+1)
	}
	f := &Failure{Time: time.Now().UTC(), Trigger: w.spec.Name, Table: w.spec.Table, Reason: err.Error(),
		Attempts: tries, StreamArn: streamid.ARN(w.m.cfg.Region, w.m.cfg.AccountID, info),
		ShardID: streamid.ShardID(sh), StartSequence: streamid.SequenceNumber(recs[0].Seq), EndSequence: streamid.SequenceNumber(recs[len(recs)-1].Seq),
		BatchSize: len(recs), Records: event.Records}
	if err := appendFailure(w.m.cfg.Dir, f); err != nil {
		return err
	}
	w.log.Warn("records undeliverable: written to the on-failure log", "records", len(recs),
		"first_seq", recs[0].Seq, "error", err, "log", failurePath(w.m.cfg.Dir, w.spec.Name))
	return w.advance(sh, recs, false)
}

// advance moves the position past recs, settled, and saves it.
func (w *worker) advance(sh store.Shard, recs []*store.StreamRecord, delivered bool) error {
	w.mu.Lock()
	st := w.st
	st.Position.After = recs[len(recs)-1].Seq
	if delivered {
		st.Delivered += int64(len(recs))
	} else {
		st.Failed += int64(len(recs))
	}
	recovered := delivered && w.failing
	w.mu.Unlock()
	if err := writeState(w.m.cfg.Dir, &st); err != nil {
		return err
	}
	w.mu.Lock()
	w.st = st
	if recovered {
		w.failing = false
	}
	w.mu.Unlock()
	if recovered {
		w.log.Info("trigger recovered: a delivery succeeded")
	}
	return nil
}

// save replaces the position.
func (w *worker) save(pos Position) error {
	w.mu.Lock()
	st := w.st
	w.mu.Unlock()
	st.Position = pos
	if err := writeState(w.m.cfg.Dir, &st); err != nil {
		return err
	}
	w.mu.Lock()
	w.st.Position = pos
	w.mu.Unlock()
	return nil
}

// locate finds the table's stream and sets the starting position.
func (w *worker) locate() (bool, error) {
	src := w.m.cfg.Source
	t, err := src.Table(w.spec.Table)
	if errors.Is(err, store.ErrTableNotFound) {
		w.setPhase("waiting: no table " + w.spec.Table)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read table: %w", err)
	}
	if t.Stream == nil {
		w.setPhase("waiting: the table's stream is not enabled")
		return false, nil
	}
	pos, err := w.startOf(t.Stream.ID, w.spec.StartingPosition)
	if err != nil {
		return false, err
	}
	w.log.Info("trigger found its stream", "stream", t.Stream.Label, "starting_position", w.spec.StartingPosition)
	return true, w.save(pos)
}

// startOf is the position of a reader starting a stream at TRIM_HORIZON
// or LATEST.
func (w *worker) startOf(id uint64, where string) (Position, error) {
	src := w.m.cfg.Source
	_, shards, err := src.Stream(id)
	if err != nil {
		return Position{}, fmt.Errorf("read stream: %w", err)
	}
	if len(shards) == 0 {
		return Position{}, fmt.Errorf("read stream %d: it has no shard", id)
	}
	if where == Latest {
		sh := shards[len(shards)-1]
		last, err := src.StreamLatest(id)
		if err != nil {
			return Position{}, fmt.Errorf("read stream: %w", err)
		}
		return Position{Set: true, Stream: id, Shard: sh.Index, After: max(sh.Start-1, last)}, nil
	}
	sh := shards[0]
	h, err := w.horizon(id, sh.Index)
	if err != nil {
		return Position{}, err
	}
	return Position{Set: true, Stream: id, Shard: sh.Index, After: max(sh.Start-1, h)}, nil
}

// horizon returns the stream's trim horizon: records at or below it are
// gone.
func (w *worker) horizon(id uint64, _ uint32) (uint64, error) {
	h, err := w.m.cfg.Source.StreamTrimHorizon(id)
	if err != nil {
		return 0, fmt.Errorf("read stream: %w", err)
	}
	return h, nil
}

// nextShard moves from an exhausted shard to its child, or, when the
// stream has ended (disabled), to the table's newer stream if any.
func (w *worker) nextShard(pos Position) (bool, error) {
	src := w.m.cfg.Source
	_, shards, err := src.Stream(pos.Stream)
	if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
		return false, fmt.Errorf("read stream: %w", err)
	}
	for _, sh := range shards {
		if sh.Parent == int64(pos.Shard) {
			return true, w.save(Position{Set: true, Stream: pos.Stream, Shard: sh.Index, After: max(sh.Start-1, pos.After)})
		}
	}
	t, err := src.Table(w.spec.Table)
	if errors.Is(err, store.ErrTableNotFound) {
		w.setPhase("done: the table was deleted")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read table: %w", err)
	}
	if t.Stream == nil || t.Stream.ID == pos.Stream {
		w.setPhase("idle: the stream is disabled")
		return false, nil
	}
	next, err := w.startOf(t.Stream.ID, TrimHorizon)
	if err != nil {
		return false, err
	}
	w.log.Info("trigger follows the table's new stream", "stream", t.Stream.Label)
	return true, w.save(next)
}

// trimmed records in the on-failure log that records expired before the
// trigger delivered them, and moves to the oldest record kept.
func (w *worker) trimmed(pos Position, why string) error {
	src := w.m.cfg.Source
	next := Position{}
	if _, shards, err := src.Stream(pos.Stream); err == nil && len(shards) > 0 {
		sh := shards[0]
		for _, s := range shards {
			if s.Index >= pos.Shard {
				sh = s
				break
			}
		}
		h, err := w.horizon(pos.Stream, sh.Index)
		if err != nil {
			return err
		}
		next = Position{Set: true, Stream: pos.Stream, Shard: sh.Index, After: max(sh.Start-1, h, pos.After)}
	} else if t, err := src.Table(w.spec.Table); err == nil && t.Stream != nil && t.Stream.ID != pos.Stream {
		// The stream is gone: the table's newer one, from its start.
		if next, err = w.startOf(t.Stream.ID, TrimHorizon); err != nil {
			return err
		}
	}
	if why == "" {
		why = "trimmed: records passed the stream's retention before delivery"
	}
	f := &Failure{Time: time.Now().UTC(), Trigger: w.spec.Name, Table: w.spec.Table, Reason: why,
		StartSequence: streamid.SequenceNumber(pos.After + 1), EndSequence: streamid.SequenceNumber(next.After)}
	if err := appendFailure(w.m.cfg.Dir, f); err != nil {
		return err
	}
	w.log.Warn("stream records expired before the trigger delivered them", "after", pos.After)
	// An unset position makes the next step locate the table's stream
	// afresh.
	return w.save(next)
}

// noteError records a failure for status, and logs it once while it
// lasts.
func (w *worker) noteError(err error) {
	w.mu.Lock()
	w.attempts++
	w.lastErr, w.lastErrAt = err.Error(), time.Now().UTC()
	first := !w.failing
	w.failing = true
	w.mu.Unlock()
	if first {
		w.log.Warn("trigger delivery failed; retrying", "error", err)
	}
}

// backoff is the wait before attempt n (1, 2, ...): capped exponential,
// with jitter (half to all of it).
func (w *worker) backoff(n int) time.Duration {
	d := w.m.cfg.RetryBase << min(n-1, 20)
	if d <= 0 || d > w.m.cfg.RetryMax {
		d = w.m.cfg.RetryMax
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx is cancelled.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

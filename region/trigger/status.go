package trigger

import (
	"errors"
	"time"

	"github.com/globaltables/globaltables/region/api/streamid"
	"github.com/globaltables/globaltables/store"
)

// pendingCap bounds how many records Status counts behind a trigger: past
// it, Pending says "at least".
const pendingCap = 10000

// Status is what a trigger reports: where it delivers, how far behind it
// is, and how its deliveries went. Unknown figures are absent, not zero.
type Status struct {
	Name             string `json:"name"`
	Table            string `json:"table"`
	Target           string `json:"target"`
	Source           string `json:"source"`
	BatchSize        int    `json:"batch_size"`
	StartingPosition string `json:"starting_position"`
	// State is what it is doing: idle, batching, delivering, retrying, or
	// waiting for its table or stream.
	State string `json:"state"`
	// Position is the sequence number of the last record settled.
	Position string `json:"position,omitempty"`
	// Pending counts the records written and not settled yet (at least
	// that many when PendingCapped); absent when unknown.
	Pending       *int64 `json:"pending,omitempty"`
	PendingCapped bool   `json:"pending_capped,omitempty"`
	// LagMs is the age of the oldest pending record (Lambda's
	// IteratorAge); 0 when nothing is pending, absent when unknown.
	LagMs *float64 `json:"lag_ms,omitempty"`
	// Delivered and Failed count the records delivered and those written
	// to the on-failure log, over the trigger's life.
	Delivered int64 `json:"delivered"`
	Failed    int64 `json:"failed"`
	// Errors counts the failed delivery attempts since the region
	// started; LastError is the latest one's message.
	Errors      int64      `json:"errors"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// FailureLog is the on-failure log's path.
	FailureLog string `json:"failure_log"`
}

// status reports the worker; it reads the store to count what is
// pending, outside the worker's lock.
func (w *worker) status() Status {
	w.mu.Lock()
	st := Status{Name: w.spec.Name, Table: w.spec.Table, Target: w.spec.Target(), Source: w.spec.Source,
		BatchSize: w.spec.BatchSize, StartingPosition: w.spec.StartingPosition, State: w.phase,
		Delivered: w.st.Delivered, Failed: w.st.Failed, Errors: w.attempts, LastError: w.lastErr,
		FailureLog: failurePath(w.m.cfg.Dir, w.spec.Name)}
	if !w.lastErrAt.IsZero() {
		at := w.lastErrAt
		st.LastErrorAt = &at
	}
	pos := w.st.Position
	w.mu.Unlock()
	if !pos.Set {
		return st
	}
	st.Position = streamid.SequenceNumber(pos.After)
	n, capped, oldest, err := w.pending(pos)
	if err != nil {
		return st
	}
	st.Pending, st.PendingCapped = &n, capped
	lag := 0.0
	if !oldest.IsZero() {
		lag = float64(time.Since(oldest)) / float64(time.Millisecond)
	}
	st.LagMs = &lag
	return st
}

// pending counts the records after pos, following shard lineage, up to
// pendingCap, and returns the creation time of the first.
func (w *worker) pending(pos Position) (n int64, capped bool, oldest time.Time, err error) {
	src := w.m.cfg.Source
	_, shards, err := src.Stream(pos.Stream)
	if err != nil {
		return 0, false, oldest, err
	}
	after := pos.After
	for _, sh := range shards {
		if sh.Index < pos.Shard {
			continue
		}
		for {
			page, err := src.StreamRecords(pos.Stream, sh.Index, after, 1000, 1<<30)
			if errors.Is(err, store.ErrTrimmed) || errors.Is(err, store.ErrStreamNotFound) {
				return 0, false, oldest, err
			}
			if err != nil {
				return 0, false, oldest, err
			}
			if len(page.Records) > 0 && oldest.IsZero() {
				oldest = page.Records[0].CreatedAt
			}
			n += int64(len(page.Records))
			if n >= pendingCap {
				return n, true, oldest, nil
			}
			if len(page.Records) == 0 {
				break
			}
			after = page.Next
		}
	}
	return n, false, oldest, nil
}

package replicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/store"
)

// catchUpWait is how long CatchUp waits for the next message before it
// gives up (the stream said more was pending).
const catchUpWait = 10 * time.Second

// UndecodableError is returned by CatchUp, after it replayed everything
// else, when some messages did not decode and were skipped.
type UndecodableError struct {
	Source, Table string
	// Count is how many messages were skipped; First the stream sequence
	// of the first of them.
	Count int
	First uint64
}

func (e *UndecodableError) Error() string {
	return fmt.Sprintf("catch-up of %s from %s skipped %d undecodable messages (first at stream sequence %d)", e.Table, e.Source, e.Count, e.First)
}

// CatchUp replays every change of table still in source's stream (item
// changes and control records), from its first message to its last at the
// time of the call, calling apply per batch in stream order. It reads with
// an ordered, ephemeral consumer filtered to the table's subjects, over
// conn (a connection to source's NATS). Apply the item changes by
// last-writer-wins (store.Apply with cursor 0; it skips control records).
//
// Messages that do not decode are skipped; CatchUp then returns an
// *UndecodableError after replaying the rest.
func CatchUp(ctx context.Context, conn *nats.Conn, source, table string, apply func([]*store.Change) error) error {
	return catchUp(ctx, conn, source, table, DefaultBatch, apply)
}

func catchUp(ctx context.Context, conn *nats.Conn, source, table string, batch int, apply func([]*store.Change) error) error {
	js, err := jetstream.New(conn)
	if err != nil {
		return fmt.Errorf("catch-up: jetstream: %w", err)
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	stream, err := js.Stream(actx, StreamName(source))
	if err != nil {
		return fmt.Errorf("catch-up of %s: stream %s: %w", table, StreamName(source), err)
	}
	subjects := []string{ItemSubject(source, table), ControlSubject(source, table)}
	// The end is the last message of either subject now.
	var end uint64
	for _, subj := range subjects {
		m, err := stream.GetLastMsgForSubject(actx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("catch-up of %s: last message on %s: %w", table, subj, err)
		}
		end = max(end, m.Sequence)
	}
	if end == 0 {
		return nil // nothing of this table in the stream
	}
	cons, err := stream.OrderedConsumer(actx, jetstream.OrderedConsumerConfig{
		FilterSubjects:    subjects,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return fmt.Errorf("catch-up of %s: consumer: %w", table, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(batch))
	if err != nil {
		return fmt.Errorf("catch-up of %s: consume: %w", table, err)
	}
	defer func() {
		it.Stop()
		// Delete the ephemeral consumer now rather than when it expires.
		if ci := cons.CachedInfo(); ci != nil {
			dctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
			_ = js.DeleteConsumer(dctx, StreamName(source), ci.Name)
			cancel()
		}
	}()

	var (
		bad     *UndecodableError
		changes []*store.Change
		done    bool
	)
	for !done {
		// Take what arrives until a batch is full or the end is reached.
		changes = changes[:0]
		for len(changes) < batch && !done {
			wait := catchUpWait
			if len(changes) > 0 {
				wait = time.Millisecond // flush what we hold unless more is right there
			}
			nctx, cancel := context.WithTimeout(ctx, wait)
			m, err := it.Next(jetstream.NextContext(nctx))
			cancel()
			if err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) && len(changes) > 0 {
				break
			}
			if err != nil {
				return fmt.Errorf("catch-up of %s: next message: %w", table, err)
			}
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("catch-up of %s: message metadata: %w", table, err)
			}
			seq := md.Sequence.Stream
			// Past the end, or nothing more in the stream: done.
			done = seq >= end || md.NumPending == 0
			if seq > end {
				break // written after the call
			}
			c, err := store.DecodeChange(m.Data())
			if err != nil {
				if bad == nil {
					bad = &UndecodableError{Source: source, Table: table, First: seq}
				}
				bad.Count++
				continue
			}
			changes = append(changes, c)
		}
		if len(changes) > 0 {
			if err := apply(changes); err != nil {
				return fmt.Errorf("catch-up of %s: apply: %w", table, err)
			}
		}
	}
	if bad != nil {
		return bad
	}
	return nil
}

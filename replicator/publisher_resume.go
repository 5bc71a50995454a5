package replicator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// resumeTimeout bounds learning what the stream holds on start.
const resumeTimeout = time.Minute

// resume learns, once per Run, which of the records still in the change log
// the stream already holds, so that a restart sends none of them again. The
// log keeps a record for TrimGrace after its acknowledgement (minutes with
// an external server), far longer than the stream's duplicate window: sent
// again, those records would be stored twice and delivered again.
//
// It asks the stream rather than trusting a number: a record is skipped
// only if a message with its ID is in the stream now, so a record the
// server lost (a crash before its fsync, a failed publish followed by a
// successful one) is sent again. On any failure resume gives up quietly
// and everything is sent, as before: duplicates are harmless, losses not.
func (r *pubRun) resume(ctx context.Context, stream jetstream.Stream) {
	if r.resumed {
		return
	}
	r.resumed = true
	ctx, cancel := context.WithTimeout(ctx, resumeTimeout)
	defer cancel()
	held, err := r.heldRecords(ctx, stream)
	if err != nil {
		r.p.log.Warn("could not learn what the stream holds; sending every record still in the log", "error", err)
		return
	}
	if len(held) > 0 {
		r.held = held
		r.p.log.Info("stream already holds records still in the log; they will not be sent again", "records", len(held))
	}
}

// heldRecords returns the change sequences of this region's records that
// the stream holds, among those at or after the first record in the log.
func (r *pubRun) heldRecords(ctx context.Context, stream jetstream.Stream) (map[uint64]struct{}, error) {
	cs, err := r.p.cfg.Log.Changes(0, 1)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	from := cs[0].Seq
	state := stream.CachedInfo().State
	if state.Msgs == 0 {
		return nil, nil
	}
	// Local sequences grow with stream sequences, except for records sent
	// again after a failure (at most a window's worth out of order): find
	// the first stream message at or after from by bisection, then read
	// from a window before it to the end.
	lo, hi := state.FirstSeq, state.LastSeq
	if s, err := r.localSeq(ctx, stream, hi); err != nil || s < from {
		return nil, err
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		s, err := r.localSeq(ctx, stream, mid)
		if err != nil {
			return nil, err
		}
		if s < from {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	start := max(state.FirstSeq, lo-min(lo, 2*uint64(r.p.cfg.Window)))
	return r.scanHeld(ctx, stream, start, state.LastSeq, from)
}

// localSeq returns the change sequence in the message ID of the stream
// message at seq (0 for a message without one, or deleted).
func (r *pubRun) localSeq(ctx context.Context, stream jetstream.Stream, seq uint64) (uint64, error) {
	m, err := stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get stream message %d: %w", seq, err)
	}
	s, _ := r.parseMsgID(m.Header.Get(jetstream.MsgIDHeader))
	return s, nil
}

// parseMsgID returns the change sequence of a message ID of this region.
func (r *pubRun) parseMsgID(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, r.p.cfg.Region+"/")
	if !ok {
		return 0, false
	}
	s, err := strconv.ParseUint(rest, 10, 64)
	return s, err == nil
}

// scanHeld reads the headers of the stream's messages start..last and
// collects the change sequences at or after from.
func (r *pubRun) scanHeld(ctx context.Context, stream jetstream.Stream, start, last, from uint64) (map[uint64]struct{}, error) {
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   start,
		HeadersOnly:   true,
	})
	if err != nil {
		return nil, fmt.Errorf("read stream from %d: %w", start, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("read stream from %d: %w", start, err)
	}
	defer it.Stop()
	held := map[uint64]struct{}{}
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("read stream from %d: %w", start, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("read stream from %d: %w", start, err)
		}
		if s, ok := r.parseMsgID(m.Headers().Get(jetstream.MsgIDHeader)); ok && s >= from {
			held[s] = struct{}{}
		}
		if md.Sequence.Stream >= last {
			return held, nil
		}
	}
}

// skipHeld treats e as acknowledged if the stream was found to hold it on
// start, and reports whether it did. Its trim waits TrimGrace like any
// other, in case the server has not synced it yet.
func (r *pubRun) skipHeld(e *pubEntry) bool {
	if r.held == nil {
		return false
	}
	if _, ok := r.held[e.seq]; !ok {
		return false
	}
	delete(r.held, e.seq)
	if len(r.held) == 0 {
		r.held = nil
	}
	e.acked = true
	r.scanMore = true // the window has room again: read on at once
	r.trimQ = append(r.trimQ, trimEntry{seq: e.seq, due: time.Now().Add(r.p.cfg.TrimGrace)})
	r.p.update(func(st *PublisherStatus) {
		st.Held++
		st.LastSeq = max(st.LastSeq, e.seq)
	})
	return true
}

// ensureStream returns the region's stream, creating or updating it only
// if it is missing or its configuration differs. Looking first matters on
// a NATS supercluster: a stream's info is answered by its own leader,
// while a create or update needs the JetStream meta group, which is gone
// while most servers of the other regions are down; a restarted region
// could then not publish to its own healthy stream.
func (r *pubRun) ensureStream(ctx context.Context) (jetstream.Stream, error) {
	want := r.p.StreamConfig()
	s, err := r.js.Stream(ctx, want.Name)
	if err == nil && sameStreamConfig(s.CachedInfo().Config, want) {
		return s, nil
	}
	return r.js.CreateOrUpdateStream(ctx, want)
}

// sameStreamConfig reports whether the stream has every setting the
// publisher asks for (the server fills in the others).
func sameStreamConfig(got, want jetstream.StreamConfig) bool {
	return got.Name == want.Name && slices.Equal(got.Subjects, want.Subjects) &&
		got.Storage == want.Storage && got.Retention == want.Retention && got.Discard == want.Discard &&
		got.MaxAge == want.MaxAge && got.MaxBytes == want.MaxBytes && got.MaxMsgs == want.MaxMsgs &&
		got.Duplicates == want.Duplicates && got.Replicas == want.Replicas &&
		got.AllowDirect == want.AllowDirect && got.Description == want.Description
}

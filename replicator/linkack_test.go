package replicator

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
)

// ackCounter records the acknowledgements of countedMsgs.
type ackCounter struct{ acked []uint64 }

// countedMsg is a delivered message whose Ack is recorded.
type countedMsg struct {
	benchMsg
	acks *ackCounter
}

func (m *countedMsg) Ack() error {
	m.acks.acked = append(m.acks.acked, m.md.Sequence.Stream)
	return nil
}

func deliveries(acks *ackCounter, from, n int) []jetstream.Msg {
	out := make([]jetstream.Msg, n)
	for i := range out {
		seq := uint64(from + i)
		c := itemChange("t", fmt.Sprintf("k%d", seq), time.Now())
		out[i] = &countedMsg{acks: acks, benchMsg: benchMsg{
			md:      &jetstream.MsgMetadata{Sequence: jetstream.SequencePair{Stream: seq, Consumer: seq}},
			subject: ChangeSubject("src", c),
			data:    store.AppendChange(nil, c),
		}}
	}
	return out
}

// Issue 12: a link acknowledged every batch it applied, so at a few
// hundred messages a second (each its own batch) it sent as many
// acknowledgements as it received messages. Batches applied within ackEvery
// of the last acknowledgement are acknowledged together, and the last one
// still is once the timer fires; nothing is acknowledged before it is
// applied.
func TestLink_DefersAcknowledgementsOfQuickBatches(t *testing.T) {
	st := newNullStore()
	l, err := NewLink(LinkConfig{Source: "src", Dest: "dst", URL: "nats://127.0.0.1:1", Store: st, Control: st})
	if err != nil {
		t.Fatal(err)
	}
	acks := &ackCounter{}
	s := &session{l: l}
	s.acks.sent = s.ackSent
	defer s.acks.stop()
	msgs := deliveries(acks, 1, 10)
	for _, m := range msgs {
		if err := s.process(context.Background(), []delivery{deliver(m)}); err != nil {
			t.Fatal(err)
		}
		for _, a := range acks.acked {
			if a > st.cursor {
				t.Fatalf("message %d acknowledged before it was applied (cursor %d)", a, st.cursor)
			}
		}
	}
	// Ten batches in far less than 10 × ackEvery: the first is
	// acknowledged at once, the others wait (unless the machine stalled
	// the loop for longer than ackEvery, which only means more).
	if len(acks.acked) >= len(msgs) {
		t.Fatalf("%d acknowledgements for %d single-message batches, want them deferred: %v", len(acks.acked), len(msgs), acks.acked)
	}
	due := s.acks.due()
	if due == nil {
		if got := acks.acked[len(acks.acked)-1]; got != 10 {
			t.Fatalf("nothing deferred, yet the last acknowledgement is of %d, want 10", got)
		}
		return
	}
	select {
	case <-due:
		s.acks.flush(time.Now())
	case <-time.After(waitLong):
		t.Fatal("the deferred acknowledgement never fell due")
	}
	if got := acks.acked[len(acks.acked)-1]; got != 10 {
		t.Fatalf("last acknowledgement of %d, want 10: %v", got, acks.acked)
	}
	if s.acks.due() != nil {
		t.Fatal("still something to acknowledge after the flush")
	}
}

var errRefused = errors.New("refused")

// A link that stops at a change it may not apply yet sends the deferred
// acknowledgement of what it applied before, even when the stopped change
// is the first of its batch.
func TestLink_StallSendsTheDeferredAcknowledgement(t *testing.T) {
	st := newNullStore()
	acks := &ackCounter{}
	msgs := deliveries(acks, 1, 3)
	refused, err := store.DecodeChange(msgs[2].Data())
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLink(LinkConfig{Source: "src", Dest: "dst", URL: "nats://127.0.0.1:1", Store: st, Control: st,
		Admit: func(v conflict.Version) error {
			if v == refused.Version {
				return errRefused
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{l: l}
	s.acks.sent = s.ackSent
	defer s.acks.stop()
	for _, m := range msgs[:2] {
		if err := s.process(context.Background(), []delivery{deliver(m)}); err != nil {
			t.Fatal(err)
		}
	}
	// Any refusal takes the same path as a stall (an AheadError would
	// also ask the source's stream whether its clock is back).
	if err := s.process(context.Background(), deliverAll(msgs[2:])); !errors.Is(err, errRefused) {
		t.Fatalf("process of the refused change = %v, want the refusal", err)
	}
	if n := len(acks.acked); n == 0 || acks.acked[n-1] != 2 {
		t.Fatalf("acknowledged %v, want the last to be 2 (applied before the stall)", acks.acked)
	}
	if st.cursor != 2 {
		t.Fatalf("cursor %d, want 2", st.cursor)
	}
}

// The deferred acknowledgement reaches the source: once the link is
// quiet, the consumer's ack floor is the link's cursor (the source's
// measure of the backlog falls to zero).
func TestLink_AckFloorReachesTheCursorOnceQuiet(t *testing.T) {
	srv := natstest.StartServer(t, "src", t.TempDir())
	nc := natstest.Connect(t, srv.ClientURL())
	js := jsFor(t, nc)
	createStream(t, js, "src", nil)
	st := newFakeStore()
	l, err := NewLink(LinkConfig{Source: "src", Dest: "dst", URL: srv.ClientURL(), Store: st, Control: st, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, l.Run)
	const n = 50
	for i := range n {
		publish(t, js, "src", items("t", i, 1)...)
	}
	natstest.WaitFor(t, waitLong, func() error {
		if c := st.cursor("src"); c != n {
			return fmt.Errorf("cursor %d, want %d", c, n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cons, err := js.Consumer(ctx, StreamName("src"), ConsumerName("dst"))
		if err != nil {
			return err
		}
		if f := cons.CachedInfo().AckFloor.Stream; f != n {
			return fmt.Errorf("ack floor %d, want %d", f, n)
		}
		return nil
	})
}

func deliverAll(msgs []jetstream.Msg) []delivery {
	ds := make([]delivery, len(msgs))
	for i, m := range msgs {
		ds[i] = deliver(m)
	}
	return ds
}

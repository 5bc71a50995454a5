package replicator

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
)

func newTestPublisher(t *testing.T, log ChangeLog, url string, mod func(*PublisherConfig)) *Publisher {
	t.Helper()
	cfg := PublisherConfig{Region: "src", Log: log, Conn: natstest.Connect(t, url), Logger: testLogger(t)}
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// streamMsgs returns the stream's messages 1..n.
func streamMsgs(t *testing.T, js jetstream.JetStream, region string, n uint64) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, StreamName(region))
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := uint64(1); seq <= n; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get message %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

// waitStreamLen waits until region's stream holds n messages.
func waitStreamLen(t *testing.T, js jetstream.JetStream, region string, n uint64) {
	t.Helper()
	natstest.WaitFor(t, waitLong, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, StreamName(region))
		if err != nil {
			return err
		}
		if got := s.CachedInfo().State.Msgs; got != n {
			return fmt.Errorf("stream holds %d messages, want %d", got, n)
		}
		return nil
	})
}

func TestPublisher_PublishesEveryRecordOnceInOrder(t *testing.T) {
	srv := natstest.StartServer(t, "src", t.TempDir())
	log := newFakeLog()
	log.add(items("t.1", 0, 300)...)
	log.add(controlChange("t.1"))
	log.add(items("t2", 300, 200)...)
	p := newTestPublisher(t, log, srv.ClientURL(), func(c *PublisherConfig) {
		c.TrimGrace = time.Hour // keep the records to compare
		c.Window = 64
	})
	run(t, p.Run)

	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	waitStreamLen(t, js, "src", 501)
	for i, m := range streamMsgs(t, js, "src", 501) {
		seq := uint64(i + 1)
		want, _ := log.Changes(seq-1, 1)
		if got := m.Header.Get(jetstream.MsgIDHeader); got != MsgID("src", seq) {
			t.Fatalf("message %d: Nats-Msg-Id %q, want %q", seq, got, MsgID("src", seq))
		}
		if m.Subject != ChangeSubject("src", want[0]) {
			t.Fatalf("message %d: subject %q, want %q", seq, m.Subject, ChangeSubject("src", want[0]))
		}
		c, err := store.DecodeChange(m.Data)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		if c.Seq != seq || c.Table != want[0].Table || c.Kind != want[0].Kind {
			t.Fatalf("message %d holds change %d of %s (kind %d)", seq, c.Seq, c.Table, c.Kind)
		}
	}
	if m := streamMsgs(t, js, "src", 301)[300]; m.Subject != "gt.src.c.742e31" {
		t.Fatalf("control record on %q", m.Subject)
	}
	natstest.WaitFor(t, waitLong, func() error {
		st := p.Status()
		if st.Published != 501 || st.Backlog != 0 || st.InFlight != 0 || !st.Connected || st.LastSeq != 501 || st.StreamSeq != 501 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
}

func TestPublisher_TrimsOnlyAfterGrace(t *testing.T) {
	srv := natstest.StartServer(t, "src", t.TempDir())
	log := newFakeLog()
	const grace = 400 * time.Millisecond
	p := newTestPublisher(t, log, srv.ClientURL(), func(c *PublisherConfig) { c.TrimGrace = grace })
	run(t, p.Run)
	for i := range 5 {
		log.add(items("t", i*20, 20)...)
		time.Sleep(50 * time.Millisecond) // spread the acknowledgements over time, not synchronisation
	}
	natstest.WaitFor(t, waitLong, func() error {
		if n := log.size(); n != 0 {
			return fmt.Errorf("%d records left", n)
		}
		return nil
	})
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	msgs := streamMsgs(t, js, "src", 100)
	trimmed := log.trimTimes()
	for i, m := range msgs {
		at, ok := trimmed[uint64(i+1)]
		if !ok {
			t.Fatalf("record %d not trimmed", i+1)
		}
		// The stream stored the message before it acknowledged it.
		if held := at.Sub(m.Time); held < grace {
			t.Fatalf("record %d trimmed %s after the stream stored it, before the grace of %s", i+1, held, grace)
		}
	}
	if st := p.Status(); st.Trimmed != 100 || st.AwaitingTrim != 0 {
		t.Fatalf("status %+v", st)
	}
}

// A restart sends nothing the stream holds, even records acknowledged
// longer ago than the duplicate window (with an external server, TrimGrace
// keeps them in the log for minutes). Before the publisher asked the
// stream, all 100 were stored a second time.
func TestPublisher_RestartResendsNothingTheStreamHolds(t *testing.T) {
	const dups = 200 * time.Millisecond
	srv := natstest.StartServer(t, "src", t.TempDir())
	log := newFakeLog()
	log.add(items("t", 0, 100)...)
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	cfg := func(c *PublisherConfig) { c.TrimGrace, c.Duplicates, c.Window = time.Hour, dups, 16 }

	p := newTestPublisher(t, log, srv.ClientURL(), cfg)
	stop := run(t, p.Run)
	waitStreamLen(t, js, "src", 100)
	natstest.WaitFor(t, waitLong, func() error {
		if st := p.Status(); st.Published != 100 {
			return fmt.Errorf("published %d", st.Published)
		}
		return nil
	})
	stop()
	time.Sleep(2 * dups) // the duplicate window passes: the stream would store a resend

	// A new run (the region restarted) sends only the new records.
	log.add(items("t", 100, 10)...)
	p2 := newTestPublisher(t, log, srv.ClientURL(), cfg)
	run(t, p2.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if st := p2.Status(); st.Published != 10 || st.Held != 100 || st.Backlog != 0 {
			return fmt.Errorf("published %d, held %d, backlog %d", st.Published, st.Held, st.Backlog)
		}
		return nil
	})
	waitStreamLen(t, js, "src", 110)
}

// A record the stream does not hold (the server lost it, say) is sent
// again on restart; those it holds are not.
func TestPublisher_RestartResendsWhatTheStreamLost(t *testing.T) {
	srv := natstest.StartServer(t, "src", t.TempDir())
	log := newFakeLog()
	log.add(items("t", 0, 50)...)
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	cfg := func(c *PublisherConfig) { c.TrimGrace, c.Duplicates = time.Hour, 200*time.Millisecond }
	p := newTestPublisher(t, log, srv.ClientURL(), cfg)
	stop := run(t, p.Run)
	waitStreamLen(t, js, "src", 50)
	stop()
	// The stream loses the message of one record (stream sequence 20).
	ctx := context.Background()
	st, err := js.Stream(ctx, StreamName("src"))
	if err != nil {
		t.Fatal(err)
	}
	lost, err := st.GetMsg(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, 20); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // past the duplicate window, which remembers the deleted ID

	p2 := newTestPublisher(t, log, srv.ClientURL(), cfg)
	run(t, p2.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if st := p2.Status(); st.Published != 1 || st.Held != 49 || st.Backlog != 0 {
			return fmt.Errorf("published %d, held %d, backlog %d", st.Published, st.Held, st.Backlog)
		}
		return nil
	})
	waitStreamLen(t, js, "src", 50)
	m, err := st.GetLastMsgForSubject(ctx, StreamSubjects("src"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Header.Get(jetstream.MsgIDHeader), lost.Header.Get(jetstream.MsgIDHeader); got != want {
		t.Fatalf("resent %s, want %s", got, want)
	}
}

func TestPublisher_BacklogDrainsWhenNATSReturns(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.StartServer(t, "src", dir)
	log := newFakeLog()
	p := newTestPublisher(t, log, srv.ClientURL(), func(c *PublisherConfig) {
		c.TrimGrace = 200 * time.Millisecond
		c.Window = 16 // smaller than the backlog: the rest is counted ahead
	})
	run(t, p.Run)
	log.add(items("t", 0, 10)...)
	natstest.WaitFor(t, waitLong, func() error {
		if st := p.Status(); st.Published != 10 {
			return fmt.Errorf("published %d", st.Published)
		}
		return nil
	})

	addr := srv.Addr()
	srv.Shutdown()
	// The region keeps writing while its NATS is down.
	for i := range 5 {
		log.add(items("t", 10+i*20, 20)...)
	}
	natstest.WaitFor(t, waitLong, func() error {
		st := p.Status()
		if st.Connected || st.Backlog != 100 || st.LastError == "" {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})

	srv = natstest.StartServerAt(t, "src", dir, addr)
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	waitStreamLen(t, js, "src", 110)
	natstest.WaitFor(t, waitLong, func() error {
		st := p.Status()
		if !st.Connected || st.Backlog != 0 || log.size() != 0 {
			return fmt.Errorf("status %+v, %d records in the log", st, log.size())
		}
		return nil
	})
	for i, m := range streamMsgs(t, js, "src", 110) {
		if got := m.Header.Get(jetstream.MsgIDHeader); got != MsgID("src", uint64(i+1)) {
			t.Fatalf("message %d is %s", i+1, got)
		}
	}
}

func TestPublisher_RunTwiceFails(t *testing.T) {
	srv := natstest.StartServer(t, "src", t.TempDir())
	p := newTestPublisher(t, newFakeLog(), srv.ClientURL(), nil)
	run(t, p.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if !p.Status().Connected {
			return errors.New("not connected")
		}
		return nil
	})
	if err := p.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: %v", err)
	}
}

func TestPublisherConfig_Validate(t *testing.T) {
	for name, cfg := range map[string]PublisherConfig{
		"no region":      {Log: newFakeLog()},
		"dotted region":  {Region: "a.b", Log: newFakeLog()},
		"no log":         {Region: "a"},
		"dups past age":  {Region: "a", Log: newFakeLog(), StreamMaxAge: time.Minute, Duplicates: time.Hour},
		"negative grace": {Region: "a", Log: newFakeLog(), TrimGrace: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestStreamConfig_DuplicateWindowWithinRetention(t *testing.T) {
	cfg := PublisherConfig{Region: "r", StreamMaxAge: 2 * time.Second, Duplicates: 2 * time.Minute}
	if got := streamConfig(cfg).Duplicates; got != 2*time.Second {
		t.Fatalf("duplicate window %v with a 2s retention", got)
	}
	cfg.StreamMaxAge = time.Hour
	if got := streamConfig(cfg).Duplicates; got != 2*time.Minute {
		t.Fatalf("duplicate window %v with a 1h retention", got)
	}
}

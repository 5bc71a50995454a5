package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
)

// newTestLink returns a link from "src" to "dst" on url.
func newTestLink(t *testing.T, url string, st *fakeStore, mod func(*LinkConfig)) *Link {
	t.Helper()
	cfg := LinkConfig{Source: "src", Dest: "dst", URL: url, Store: st, Control: st, Batch: 64, FetchWait: time.Second, Logger: testLogger(t)}
	if mod != nil {
		mod(&cfg)
	}
	l, err := NewLink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// sourceStream starts the source's NATS with its stream.
func sourceStream(t *testing.T, mod func(*jetstream.StreamConfig)) (url, dir string, js jetstream.JetStream) {
	t.Helper()
	dir = t.TempDir()
	srv := natstest.StartServer(t, "src", dir)
	js = jsFor(t, natstest.Connect(t, srv.ClientURL()))
	createStream(t, js, "src", mod)
	return srv.ClientURL(), dir, js
}

// checkAppliedOnce checks that every seq of want was applied exactly once,
// in order.
func checkAppliedOnce(t *testing.T, st *fakeStore, want []uint64) {
	t.Helper()
	if got := st.appliedSeqs(); !slices.Equal(got, want) {
		t.Fatalf("applied %d changes %v..., want %d", len(got), head(got), len(want))
	}
}

func head(s []uint64) []uint64 { return s[:min(len(s), 20)] }

func TestLink_AppliesBatchesWithTheirCursors(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 500)...)
	st := newFakeStore()
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 500)
	publish(t, js, "src", items("t", 500, 100)...)
	waitCursor(t, st, "src", 600)

	checkAppliedOnce(t, st, seqRange(1, 600))
	// Each Apply carries the stream sequence of its last change as cursor,
	// and no more than Batch changes.
	for _, e := range st.eventLog() {
		var cursor uint64
		var list string
		if _, err := fmt.Sscanf(e, "apply %d %s", &cursor, &list); err != nil {
			t.Fatalf("event %q", e)
		}
		fields := strings.Fields(strings.Trim(e[strings.Index(e, "["):], "[]"))
		if len(fields) > 64 || fields[len(fields)-1] != fmt.Sprint(cursor) {
			t.Fatalf("event %q: more than a batch, or cursor not its last change", e)
		}
	}
	s := l.Status()
	if s.Applied != 600 || s.Cursor != 600 || !s.Connected || s.Redelivered != 0 {
		t.Fatalf("status %+v", s)
	}
}

func TestLink_SkipsMessagesAtOrBelowTheCursor(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 100)...)
	// A consumer that will deliver from the start, as after a crash between
	// apply and ack: its ack floor is behind the cursor.
	ctx := context.Background()
	_, err := js.CreateOrUpdateConsumer(ctx, StreamName("src"), jetstream.ConsumerConfig{
		Durable: ConsumerName("dst"), AckPolicy: jetstream.AckAllPolicy, FilterSubject: StreamSubjects("src"),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := newFakeStore()
	st.cursors["src"] = 60
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 100)
	checkAppliedOnce(t, st, seqRange(61, 100))
	if s := l.Status(); s.Redelivered != 60 {
		t.Fatalf("redelivered %d, want 60", s.Redelivered)
	}
}

func TestLink_ControlRecordSplitsTheBatch(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	cs := items("t", 0, 3)
	cs = append(cs, controlChange("t"))
	cs = append(cs, items("t", 3, 2)...)
	publish(t, js, "src", cs...)
	st := newFakeStore()
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 6)

	calls := st.callLog()
	ctl := slices.IndexFunc(calls, func(c call) bool { return c.kind == "control" })
	if ctl < 0 || calls[ctl].cursor != 4 || ctl+1 >= len(calls) || calls[ctl+1].kind != "cursor" || calls[ctl+1].cursor != 4 {
		t.Fatalf("calls %v: want control 4, then cursor 4", st.eventLog())
	}
	// Items 1-3 were applied before the control record, the last apply
	// with cursor 3; items 5-6 after it.
	var before []uint64
	lastCursor := uint64(0)
	for _, c := range calls[:ctl] {
		if c.kind == "apply" {
			before = append(before, c.seqs...)
			lastCursor = c.cursor
		}
	}
	if !slices.Equal(before, []uint64{1, 2, 3}) || lastCursor != 3 {
		t.Fatalf("calls %v: items 1-3 not applied with cursor 3 before the control record", st.eventLog())
	}
	for _, c := range calls[ctl+2:] {
		if c.kind == "apply" && c.seqs[0] < 5 {
			t.Fatalf("calls %v: an item before the control record applied after it", st.eventLog())
		}
	}
	checkAppliedOnce(t, st, []uint64{1, 2, 3, 5, 6})
	if s := l.Status(); s.Applied != 6 {
		t.Fatalf("applied %d, want 6 (5 items, 1 control)", s.Applied)
	}
}

func TestLink_ResumesAfterLinkRestart(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 200)...)
	st := newFakeStore()
	stop := run(t, newTestLink(t, url, st, nil).Run)
	waitCursor(t, st, "src", 200)
	stop()

	publish(t, js, "src", items("t", 200, 200)...)
	run(t, newTestLink(t, url, st, nil).Run)
	waitCursor(t, st, "src", 400)
	checkAppliedOnce(t, st, seqRange(1, 400))
}

func TestLink_ResumesAfterSourceNATSRestart(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.StartServer(t, "src", dir)
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	createStream(t, js, "src", nil)
	publish(t, js, "src", items("t", 0, 100)...)
	st := newFakeStore()
	l := newTestLink(t, srv.ClientURL(), st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 100)

	srv = natstest.RestartServer(t, srv)
	natstest.WaitFor(t, waitLong, func() error {
		if !l.Status().Connected {
			return errors.New("link not reconnected")
		}
		return nil
	})
	js = jsFor(t, natstest.Connect(t, srv.ClientURL()))
	publish(t, js, "src", items("t", 100, 100)...)
	waitCursor(t, st, "src", 200)
	checkAppliedOnce(t, st, seqRange(1, 200))
}

func TestLink_RecreatesAMissingConsumer(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 50)...)
	st := newFakeStore()
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 50)

	if err := js.DeleteConsumer(context.Background(), StreamName("src"), ConsumerName("dst")); err != nil {
		t.Fatal(err)
	}
	publish(t, js, "src", items("t", 50, 50)...)
	waitCursor(t, st, "src", 100)
	checkAppliedOnce(t, st, seqRange(1, 100))
	if _, err := js.Consumer(context.Background(), StreamName("src"), ConsumerName("dst")); err != nil {
		t.Fatalf("consumer: %v", err)
	}
}

func TestLink_RecreatesAConsumerAheadOfTheCursor(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 50)...)
	st := newFakeStore()
	stop := run(t, newTestLink(t, url, st, nil).Run)
	waitCursor(t, st, "src", 50)
	stop()

	// This region lost what it had applied (restored from an old backup):
	// the consumer's ack floor is ahead of the cursor.
	st.SetCursor("src", 20)
	st.mu.Lock()
	st.applied = nil
	st.mu.Unlock()
	run(t, newTestLink(t, url, st, nil).Run)
	waitCursor(t, st, "src", 50)
	checkAppliedOnce(t, st, seqRange(21, 50))
}

func TestLink_GapCallsResync(t *testing.T) {
	url, _, js := sourceStream(t, func(c *jetstream.StreamConfig) { c.MaxMsgs = 10 })
	publish(t, js, "src", items("t", 0, 30)...) // the stream keeps 21..30
	st := newFakeStore()
	st.cursors["src"] = 5
	var mu sync.Mutex
	var resyncs []string
	l := newTestLink(t, url, st, func(c *LinkConfig) {
		c.Resync = func(ctx context.Context, source string) error {
			mu.Lock()
			defer mu.Unlock()
			resyncs = append(resyncs, source)
			return nil
		}
	})
	run(t, l.Run)
	waitCursor(t, st, "src", 30)
	checkAppliedOnce(t, st, seqRange(21, 30))
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(resyncs, []string{"src"}) {
		t.Fatalf("resyncs %q", resyncs)
	}
	if s := l.Status(); s.Resyncs != 1 || s.LastResync.IsZero() {
		t.Fatalf("status %+v", s)
	}
}

func TestLink_GapWithoutResyncStalls(t *testing.T) {
	url, _, js := sourceStream(t, func(c *jetstream.StreamConfig) { c.MaxMsgs = 10 })
	publish(t, js, "src", items("t", 0, 30)...)
	st := newFakeStore()
	st.cursors["src"] = 5
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); !strings.Contains(s.LastError, ErrGap.Error()) {
			return fmt.Errorf("last error %q", s.LastError)
		}
		return nil
	})
	if got := st.appliedSeqs(); len(got) != 0 || st.cursor("src") != 5 {
		t.Fatalf("applied %v, cursor %d", got, st.cursor("src"))
	}
}

func TestLink_SkipsUndecodableMessages(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 3)...)
	bad := publishRaw(t, js, ItemSubject("src", "t"), []byte("not a change record"))
	publish(t, js, "src", items("t", 3, 3)...)
	st := newFakeStore()
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 7)
	if bad != 4 {
		t.Fatalf("bad message at %d", bad)
	}
	checkAppliedOnce(t, st, []uint64{1, 2, 3, 5, 6, 7})
	// The status is updated after the batch's cursor is stored.
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); s.Undecodable != 1 {
			return fmt.Errorf("undecodable %d", s.Undecodable)
		}
		return nil
	})
}

func TestLink_RetriesAFailedApply(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 20)...)
	st := newFakeStore()
	var mu sync.Mutex
	failures := 2
	st.apply = func(ctx context.Context, cursor uint64, changes []*store.Change) error {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return errors.New("disk full")
		}
		return nil
	}
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 20)
	checkAppliedOnce(t, st, seqRange(1, 20))
	if s := l.Status(); !strings.Contains(s.LastError, "disk full") {
		t.Fatalf("last error %q", s.LastError)
	}
}

func TestLink_StatusShowsLatencyAndPending(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	cs := items("t", 0, 100)
	for _, c := range cs {
		c.CommittedAt = time.Now().Add(-200 * time.Millisecond)
	}
	publish(t, js, "src", cs...)
	st := newFakeStore()
	release := make(chan struct{})
	st.apply = func(ctx context.Context, cursor uint64, changes []*store.Change) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l := newTestLink(t, url, st, func(c *LinkConfig) { c.Batch = 10 })
	run(t, l.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); s.Pending < 90 {
			return fmt.Errorf("pending %d", s.Pending)
		}
		return nil
	})
	close(release)
	waitCursor(t, st, "src", 100)
	natstest.WaitFor(t, waitLong, func() error {
		s := l.Status()
		if s.Pending != 0 || s.Samples != 100 {
			return fmt.Errorf("pending %d, samples %d", s.Pending, s.Samples)
		}
		if s.P50 < 200*time.Millisecond || s.P99 < s.P50 || s.Max < s.P99 || s.P50All != s.P50 || s.MaxAll < s.Max {
			return fmt.Errorf("latencies %+v", s)
		}
		return nil
	})
	b, err := json.Marshal(l.Status())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if p50, ok := m["p50_ms"].(float64); !ok || p50 < 200 {
		t.Fatalf("JSON %s", b)
	}
}

func TestLink_DownSourceOnlyStalls(t *testing.T) {
	st := newFakeStore()
	// Nothing listens there.
	l := newTestLink(t, "nats://127.0.0.1:1", st, nil)
	stop := run(t, l.Run)
	// A source never reached is waited for: not an error before a minute
	// (TestLink_LongWaitBecomesAnError).
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); s.Connected || s.Waiting == "" || s.LastError != "" {
			return fmt.Errorf("status %+v", s)
		}
		return nil
	})
	stop() // returns promptly, with nil
}

func TestLinkConfig_Validate(t *testing.T) {
	st := newFakeStore()
	for name, cfg := range map[string]LinkConfig{
		"same region":  {Source: "a", Dest: "a", URL: "nats://x", Store: st, Control: st},
		"no url":       {Source: "a", Dest: "b", Store: st, Control: st},
		"no store":     {Source: "a", Dest: "b", URL: "nats://x", Control: st},
		"no control":   {Source: "a", Dest: "b", URL: "nats://x", Store: st},
		"short wait":   {Source: "a", Dest: "b", URL: "nats://x", Store: st, Control: st, FetchWait: 200 * time.Millisecond},
		"bad dest":     {Source: "a", Dest: "b>", URL: "nats://x", Store: st, Control: st},
		"negative ack": {Source: "a", Dest: "b", URL: "nats://x", Store: st, Control: st, AckWait: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

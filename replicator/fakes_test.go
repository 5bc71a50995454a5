package replicator

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

const waitLong = 20 * time.Second

// testLogger logs to the test's output when -v is given.
func testLogger(t testing.TB) hclog.Logger {
	if !testing.Verbose() {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Debug, Output: tWriter{t}})
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// run runs f in a goroutine until the returned stop is called (or the test
// ends); stop cancels it, waits, and fails the test if f returned an error.
func run(t *testing.T, f func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run returned %v", err)
				}
			case <-time.After(waitLong):
				t.Errorf("run did not return within %s of cancel", waitLong)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// itemChange returns a put of key in table, committed at committed.
func itemChange(table, key string, committed time.Time) *store.Change {
	k := attr.Item{"pk": attr.String(key)}
	v := conflict.Version{Wall: committed.UnixNano(), Region: "src"}
	return &store.Change{
		Table: table, TableID: 1, Key: k,
		New:         attr.Item{"pk": attr.String(key), "v": attr.String("value of " + key)},
		Version:     v,
		Context:     conflict.Context{}.With(v),
		CommittedAt: committed,
	}
}

func controlChange(table string) *store.Change {
	return &store.Change{Kind: store.ChangeControl, Table: table, Control: []byte(`{"table":"` + table + `"}`), CommittedAt: time.Now()}
}

// fakeLog is an in-memory ChangeLog.
type fakeLog struct {
	mu      sync.Mutex // guards the fields below
	recs    map[uint64]*store.Change
	seqs    []uint64 // ascending; may hold trimmed seqs
	next    uint64
	changed chan struct{}
	trimmed map[uint64]time.Time
}

func newFakeLog() *fakeLog {
	return &fakeLog{recs: map[uint64]*store.Change{}, changed: make(chan struct{}), trimmed: map[uint64]time.Time{}}
}

// add logs cs, assigning their Seq, and returns the last Seq.
func (f *fakeLog) add(cs ...*store.Change) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		f.next++
		c.Seq = f.next
		f.recs[c.Seq] = c
		f.seqs = append(f.seqs, c.Seq)
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return f.next
}

func (f *fakeLog) Changes(after uint64, max int) ([]*store.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, _ := slices.BinarySearch(f.seqs, after+1)
	var out []*store.Change
	for ; i < len(f.seqs) && len(out) < max; i++ {
		if c, ok := f.recs[f.seqs[i]]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeLog) EncodedChanges(after uint64, max int) ([]store.EncodedChange, error) {
	cs, err := f.Changes(after, max)
	out := make([]store.EncodedChange, len(cs))
	for i, c := range cs {
		out[i] = store.EncodeChange(c)
	}
	return out, err
}

func (f *fakeLog) TrimChanges(seqs ...uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for _, s := range seqs {
		if _, ok := f.recs[s]; ok {
			delete(f.recs, s)
			f.trimmed[s] = now
		}
	}
	if len(f.seqs) > 2*len(f.recs)+64 {
		f.seqs = slices.DeleteFunc(f.seqs, func(s uint64) bool { _, ok := f.recs[s]; return !ok })
	}
	return nil
}

func (f *fakeLog) WaitChanges() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeLog) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.recs)
}

func (f *fakeLog) trimTimes() map[uint64]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.trimmed)
}

// fakeStore is an in-memory Applier and ControlApplier that records what
// it is asked to do. Changes are identified by their Seq (the tests set it
// to the stream sequence they expect).
type fakeStore struct {
	// apply, if set, is called first by Apply; a non-nil error fails it.
	apply func(ctx context.Context, cursor uint64, changes []*store.Change) error

	mu      sync.Mutex // guards the fields below
	cursors map[string]uint64
	events  []string // "apply <cursor> [seqs]", "control <seq>", "cursor <cursor>"
	calls   []call
	applied []uint64 // Seq of every change applied, in order
	control []uint64 // Seq of every control record applied
}

// call is one call to a fakeStore.
type call struct {
	kind   string // apply, control, cursor
	cursor uint64 // apply, cursor; the record's Seq for control
	seqs   []uint64
}

func newFakeStore() *fakeStore { return &fakeStore{cursors: map[string]uint64{}} }

func (f *fakeStore) Apply(ctx context.Context, source string, cursor uint64, changes []*store.Change) (store.ApplyStats, error) {
	if f.apply != nil {
		if err := f.apply(ctx, cursor, changes); err != nil {
			return store.ApplyStats{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	seqs := make([]uint64, len(changes))
	for i, c := range changes {
		seqs[i] = c.Seq
		if c.Kind == store.ChangeControl {
			panic("control record given to Apply")
		}
	}
	f.applied = append(f.applied, seqs...)
	f.events = append(f.events, fmt.Sprintf("apply %d %v", cursor, seqs))
	f.calls = append(f.calls, call{"apply", cursor, seqs})
	if cursor > 0 {
		f.cursors[source] = cursor
	}
	return store.ApplyStats{Applied: len(changes)}, nil
}

func (f *fakeStore) Cursor(source string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursors[source], nil
}

func (f *fakeStore) SetCursor(source string, cursor uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cursors[source] = cursor
	f.events = append(f.events, fmt.Sprintf("cursor %d", cursor))
	f.calls = append(f.calls, call{kind: "cursor", cursor: cursor})
	return nil
}

func (f *fakeStore) ApplyControl(ctx context.Context, source string, ch *store.Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.control = append(f.control, ch.Seq)
	f.events = append(f.events, fmt.Sprintf("control %d", ch.Seq))
	f.calls = append(f.calls, call{kind: "control", cursor: ch.Seq})
	return nil
}

func (f *fakeStore) cursor(source string) uint64 {
	c, _ := f.Cursor(source)
	return c
}

func (f *fakeStore) appliedSeqs() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied)
}

func (f *fakeStore) callLog() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeStore) eventLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// jsFor returns a JetStream context on nc.
func jsFor(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// createStream creates region's stream as the publisher would, modified by
// mod.
func createStream(t testing.TB, js jetstream.JetStream, region string, mod func(*jetstream.StreamConfig)) {
	t.Helper()
	cfg := streamConfig(PublisherConfig{Region: region}.withDefaults())
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		t.Fatalf("create stream: %v", err)
	}
}

// publish publishes cs to region's stream synchronously, setting each Seq
// to the stream sequence it gets.
func publish(t testing.TB, js jetstream.JetStream, region string, cs ...*store.Change) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range cs {
		// The stream sequence is known only after the publish; the tests
		// publish in order on a fresh stream, so predict it.
		info, err := js.Stream(ctx, StreamName(region))
		if err != nil {
			t.Fatal(err)
		}
		c.Seq = info.CachedInfo().State.LastSeq + 1
		ack, err := js.Publish(ctx, ChangeSubject(region, c), store.AppendChange(nil, c))
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		if ack.Sequence != c.Seq {
			t.Fatalf("published at %d, predicted %d", ack.Sequence, c.Seq)
		}
	}
}

// publishRaw publishes data on subj and returns its stream sequence.
func publishRaw(t testing.TB, js jetstream.JetStream, subj string, data []byte) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := js.Publish(ctx, subj, data)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return ack.Sequence
}

// items returns n item changes of table, keys k<from>.. .
func items(table string, from, n int) []*store.Change {
	out := make([]*store.Change, n)
	for i := range out {
		out[i] = itemChange(table, fmt.Sprintf("k%06d", from+i), time.Now())
	}
	return out
}

// seqRange returns from..to.
func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// waitCursor waits until st's cursor of src is want.
func waitCursor(t *testing.T, st *fakeStore, src string, want uint64) {
	t.Helper()
	natstest.WaitFor(t, waitLong, func() error {
		if got := st.cursor(src); got != want {
			return fmt.Errorf("cursor %d, want %d", got, want)
		}
		return nil
	})
}

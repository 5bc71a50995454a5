package replicator

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
)

// The CPU a replicated change costs in this package's path: publisher,
// embedded JetStream server and link, in one process, the store faked.
// Changes are logged one at a time at a fixed pace, as a region's writes
// arrive at 1,000 writes/s spread over three regions (one every 3 ms per
// link), so that nothing is batched by a backlog: the per-message costs
// (wake-ups, acknowledgements, transactions) are what is measured.
//
//	go test -run '^$' -bench 'LinkCPU' -benchtime 2000x -count 6 ./replicator/
//
// cpu-µs/msg is the process's user + system CPU time over the run divided
// by the changes: compare builds side by side (benchstat), the machine's
// load inflates it.
func BenchmarkLinkCPU(b *testing.B) {
	for _, every := range []time.Duration{time.Millisecond, 3 * time.Millisecond} {
		b.Run("every="+every.String()+"/tcp", func(b *testing.B) { benchLinkCPU(b, every, false) })
		b.Run("every="+every.String()+"/inprocess", func(b *testing.B) { benchLinkCPU(b, every, true) })
	}
}

func benchLinkCPU(b *testing.B, every time.Duration, inProcess bool) {
	srv := natstest.StartServer(b, "src", b.TempDir())
	log := newFakeLog()
	var opts []nats.Option
	if inProcess {
		opts = append(opts, nats.InProcessServer(srv.NATS()))
	}
	p, err := NewPublisher(PublisherConfig{Region: "src", Log: log, Conn: natstest.Connect(b, srv.ClientURL(), opts...)})
	if err != nil {
		b.Fatal(err)
	}
	st := newFakeStore()
	l, stop := startBenchLink(b, p, log, st, srv.ClientURL())

	cpu0, csw0 := processCPU(b), contextSwitches()
	b.ResetTimer()
	feedLink(log, l, b.N, every)
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
	b.ReportMetric(float64(contextSwitches()-csw0)/float64(b.N), "csw/msg")
	st2 := l.Status()
	b.ReportMetric(float64(st2.P50.Microseconds()), "p50-µs")
	stop()
}

// processCPU returns the user + system CPU time of the process so far.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// contextSwitches returns the voluntary context switches of the process's
// threads so far (each is a thread going to sleep: a wake-up to come).
func contextSwitches() int {
	dirs, _ := os.ReadDir("/proc/self/task")
	n := 0
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/self/task/" + d.Name() + "/status")
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				k, _ := strconv.Atoi(strings.TrimSpace(v))
				n += k
			}
		}
	}
	return n
}

// benchMsg is a delivered message as the link sees it, without a server:
// what process reads of it (metadata, subject, data) and an Ack that does
// nothing.
type benchMsg struct {
	jetstream.Msg // not called: a call panics
	md            *jetstream.MsgMetadata
	subject       string
	data          []byte
}

func (m *benchMsg) Metadata() (*jetstream.MsgMetadata, error) { return m.md, nil }
func (m *benchMsg) Subject() string                           { return m.subject }
func (m *benchMsg) Data() []byte                              { return m.data }
func (m *benchMsg) Ack() error                                { return nil }

// BenchmarkLinkProcess measures the link's handling of one delivered batch
// (decoding, checks, bookkeeping, the apply call, latency recording), the
// store faked: per batch of 1 (a link at low rates) and of 64.
//
//	go test -run '^$' -bench 'LinkProcess' -benchmem -count 6 ./replicator/
func BenchmarkLinkProcess(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run("batch="+strconv.Itoa(n), func(b *testing.B) {
			st := newNullStore()
			l, err := NewLink(LinkConfig{Source: "src", Dest: "dst", URL: "nats://127.0.0.1:1", Store: st, Control: st})
			if err != nil {
				b.Fatal(err)
			}
			s := &session{l: l}
			msgs := make([]jetstream.Msg, n)
			group := make([]delivery, n)
			now := time.Now()
			for i := range group {
				seq := uint64(i + 1)
				c := itemChange("bench", "k"+strconv.Itoa(i), now)
				c.Seq = seq
				msgs[i] = &benchMsg{
					md:      &jetstream.MsgMetadata{Sequence: jetstream.SequencePair{Stream: seq, Consumer: seq}},
					subject: ChangeSubject("src", c),
					data:    store.AppendChange(nil, c),
				}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				// The same batch again, as if new: the cursor and the
				// delivery sequence start over.
				s.cursor, s.consSeq = 0, 0
				for i, m := range msgs { // on the delivery goroutine, in a link
					group[i] = deliver(m)
				}
				if err := s.process(ctx, group); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// nullStore is an Applier and ControlApplier that keeps only the cursor.
type nullStore struct{ cursor uint64 }

func newNullStore() *nullStore { return &nullStore{} }

func (n *nullStore) Apply(_ context.Context, _ string, cursor uint64, cs []*store.Change) (store.ApplyStats, error) {
	n.cursor = cursor
	return store.ApplyStats{Applied: len(cs)}, nil
}
func (n *nullStore) Cursor(string) (uint64, error)                             { return n.cursor, nil }
func (n *nullStore) SetCursor(_ string, c uint64) error                        { n.cursor = c; return nil }
func (n *nullStore) ApplyControl(context.Context, string, *store.Change) error { return nil }

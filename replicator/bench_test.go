package replicator

import (
	"context"
	"encoding/binary"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
)

// The raw path, without this package's code: JetStream with file storage
// and the embedded server's sync interval (natsrv defaults), one async
// publisher with Nats-Msg-Id and a window of 256, one durable pull consumer
// (AckAll, acknowledging the last message of what it has in hand), all in
// one process over loopback TCP. The replication benchmark's figures are to
// be compared with these limits.
//
//	go test -run '^$' -bench RawJetStream -benchtime 20000x ./replicator/
//
// Each message is an encoded change record (a small item, ~150 bytes)
// behind an 8-byte publish timestamp; latency is publish call to delivery
// to the consumer's goroutine.

type rawPath struct {
	js   jetstream.JetStream
	cons jetstream.Consumer
	body []byte
}

func newRawPath(b *testing.B) *rawPath {
	b.Helper()
	srv := natstest.StartServer(b, "raw", b.TempDir())
	pubConn := natstest.Connect(b, srv.ClientURL())
	subConn := natstest.Connect(b, srv.ClientURL())
	js, err := jetstream.New(pubConn, jetstream.WithPublishAsyncMaxPending(DefaultWindow))
	if err != nil {
		b.Fatal(err)
	}
	createStream(b, js, "raw", nil)
	sjs, err := jetstream.New(subConn)
	if err != nil {
		b.Fatal(err)
	}
	cons, err := sjs.CreateOrUpdateConsumer(context.Background(), StreamName("raw"), jetstream.ConsumerConfig{
		Durable: "bench", AckPolicy: jetstream.AckAllPolicy, FilterSubject: StreamSubjects("raw"),
		MaxAckPending: 4 * DefaultBatch,
	})
	if err != nil {
		b.Fatal(err)
	}
	c := itemChange("bench", "k000001", time.Now())
	return &rawPath{js: js, cons: cons, body: store.AppendChange(nil, c)}
}

// consume starts the consumer; it records each message's latency into h
// and signals done after n messages.
func (r *rawPath) consume(b *testing.B, n int, h *hdrhistogram.Histogram) (done <-chan time.Time) {
	b.Helper()
	msgs := make(chan jetstream.Msg, DefaultBatch)
	cc, err := r.cons.Consume(func(m jetstream.Msg) { msgs <- m }, jetstream.PullMaxMessages(DefaultBatch))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cc.Stop)
	ch := make(chan time.Time, 1)
	go func() {
		got := 0
		for got < n {
			m := <-msgs
			last := m
			now := time.Now()
			record := func(m jetstream.Msg) {
				sent := int64(binary.BigEndian.Uint64(m.Data()))
				_ = h.RecordValue(max(now.UnixNano()-sent, 1) / 1000)
				got++
			}
			record(m)
		drain:
			for {
				select {
				case m := <-msgs:
					record(m)
					last = m
				default:
					break drain
				}
			}
			_ = last.Ack()
		}
		ch <- time.Now()
	}()
	return ch
}

// rawStallWait lets a publish wait for room in the window as long as the
// machine needs: the default 200 ms fails the benchmarks on a loaded one.
var rawStallWait = jetstream.WithStallWait(time.Minute)

func (r *rawPath) publish(b *testing.B, i int) {
	m := nats.NewMsg("gt.raw.i.62656e6368")
	m.Header.Set(jetstream.MsgIDHeader, "raw/"+strconv.Itoa(i))
	m.Data = binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(r.body)), uint64(time.Now().UnixNano()))
	m.Data = append(m.Data, r.body...)
	if _, err := r.js.PublishMsgAsync(m, rawStallWait); err != nil {
		b.Fatal(err)
	}
}

func report(b *testing.B, h *hdrhistogram.Histogram) {
	b.ReportMetric(float64(h.ValueAtQuantile(50)), "p50-µs")
	b.ReportMetric(float64(h.ValueAtQuantile(99)), "p99-µs")
	b.ReportMetric(float64(h.Max()), "max-µs")
}

// BenchmarkRawJetStream_Throughput publishes b.N messages as fast as the
// window allows; latencies include queueing.
func BenchmarkRawJetStream_Throughput(b *testing.B) {
	r := newRawPath(b)
	h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	done := r.consume(b, b.N, h)
	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	for i := range b.N {
		r.publish(b, i)
	}
	end := <-done
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/end.Sub(start).Seconds(), "msgs/s")
	// One publish and its delivery to one consumer, no store at either
	// end: BenchmarkRawPipeline adds the Badger write and applies.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	report(b, h)
}

// BenchmarkRawJetStream_Latency publishes b.N messages at a steady 2000
// per second, well below the throughput limit: the path's latency when it
// is not saturated.
func BenchmarkRawJetStream_Latency(b *testing.B) {
	r := newRawPath(b)
	h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	done := r.consume(b, b.N, h)
	const every = 500 * time.Microsecond
	b.ResetTimer()
	paced(b.N, every, func(i int) { r.publish(b, i) })
	<-done
	b.StopTimer()
	report(b, h)
}

// BenchmarkPublisherLink runs this package's path with fakes at both ends
// (an in-memory change log, a store whose Apply only records): log →
// Publisher → JetStream → Link → Apply, at a steady 2000 changes per
// second, after a warm-up change. Latency is commit (CommittedAt) to Apply:
// compare with BenchmarkRawJetStream_Latency.
func BenchmarkPublisherLink(b *testing.B) {
	benchPublisherLink(b, 500*time.Microsecond)
}

// BenchmarkPublisherLink_Throughput logs b.N changes at once and waits
// until all are applied.
func BenchmarkPublisherLink_Throughput(b *testing.B) {
	benchPublisherLink(b, 0)
}

func benchPublisherLink(b *testing.B, every time.Duration) {
	srv := natstest.StartServer(b, "src", b.TempDir())
	log := newFakeLog()
	p, err := NewPublisher(PublisherConfig{Region: "src", Log: log, Conn: natstest.Connect(b, srv.ClientURL())})
	if err != nil {
		b.Fatal(err)
	}
	st := newFakeStore()
	var mu sync.Mutex // guards h
	h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	st.apply = func(ctx context.Context, cursor uint64, changes []*store.Change) error {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range changes {
			_ = h.RecordValue(max(now.Sub(c.CommittedAt).Microseconds(), 1))
		}
		return nil
	}
	l, stop := startBenchLink(b, p, log, st, srv.ClientURL())
	mu.Lock()
	h.Reset()
	mu.Unlock()

	b.ResetTimer()
	start := time.Now()
	feedLink(log, l, b.N, every)
	b.StopTimer()
	if every == 0 {
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	}
	mu.Lock()
	report(b, h)
	mu.Unlock()
	stop()
}

// startBenchLink runs p and a link from the server at url into st, waits
// until a warm-up change has crossed, and returns the link and a function
// that stops both and fails b on their errors.
func startBenchLink(b *testing.B, p *Publisher, log *fakeLog, st *fakeStore, url string) (*Link, func()) {
	b.Helper()
	l, err := NewLink(LinkConfig{Source: "src", Dest: "dst", URL: url, Store: st, Control: st})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	errs := make(chan error, 2)
	go func() { errs <- p.Run(ctx) }()
	go func() { errs <- l.Run(ctx) }()
	log.add(itemChange("bench", "warm-up", time.Now()))
	for l.Status().Cursor < 1 {
		time.Sleep(time.Millisecond) // polling for the warm-up
	}
	return l, func() {
		cancel()
		for range 2 {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}
}

// feedLink adds n changes to log, one every every (all at once when 0),
// and returns once l has applied them (after startBenchLink's warm-up).
func feedLink(log *fakeLog, l *Link, n int, every time.Duration) {
	if every == 0 {
		cs := make([]*store.Change, n)
		now := time.Now()
		for i := range cs {
			cs[i] = itemChange("bench", "k"+strconv.Itoa(i), now)
		}
		log.add(cs...)
	} else {
		paced(n, every, func(i int) { log.add(itemChange("bench", "k"+strconv.Itoa(i), time.Now())) })
	}
	for l.Status().Cursor < uint64(n)+1 {
		time.Sleep(time.Millisecond) // polling for the end
	}
}

// paced calls fn(0) to fn(n-1), the i-th every·i after the first: a steady
// load whatever fn costs (a late call is made at once).
func paced(n int, every time.Duration, fn func(i int)) {
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d) // pacing the load, not synchronisation
		}
		fn(i)
	}
}

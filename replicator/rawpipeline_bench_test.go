package replicator

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natstest"
)

// BenchmarkRawPipeline is the raw pipeline of issue 12's goal 2 ("within
// 5× of the raw pipeline"): the same work as one replicated write, wired
// directly in one process, without this project's code on the path.
//
//	go test -run '^$' -bench RawPipeline -benchtime 50000x ./replicator/
//
// One replicated write here is: a Badger write of the item in the origin
// (transactions of up to rawGroup writes, then an fsync, as a loaded
// group commit does), its JetStream publish (file storage, async, with
// Nats-Msg-Id, window DefaultWindow), and for each of the N−1 destinations
// a durable pull consumer whose messages are applied last-writer-wins to
// that destination's own Badger (read the held version, write if the
// incoming is newer; one transaction per batch in hand, no fsync wait, as
// live applies do), acknowledged AckAll. That is what `bench replication`
// counts as one replicated write in N regions: one origin commit and N−1
// applies. What the raw path leaves out: the DynamoDB API (HTTP, request
// decoding), the change log and cursor records, the shaping proxies, and
// the separate processes (one embedded NATS server here, not N).
//
// cpu-µs/write is this process's user + system CPU (getrusage) over the
// timed part, divided by the origin writes: compare it with `bench
// replication`'s CPU per replicated write at saturation, same N.
func BenchmarkRawPipeline(b *testing.B) {
	for _, regions := range []int{2, 3, 7} {
		b.Run("regions="+strconv.Itoa(regions), func(b *testing.B) { benchRawPipeline(b, regions-1) })
	}
}

// rawGroup is how many origin writes share a transaction and an fsync.
const rawGroup = 64

// rawItem is an item's bytes in the raw pipeline: a 200-byte payload and
// a key, like `bench replication`'s.
var rawItem = bytes.Repeat([]byte("v"), 200)

func benchRawPipeline(b *testing.B, dests int) {
	srv := natstest.StartServer(b, "raw", b.TempDir())
	pubConn := natstest.Connect(b, srv.ClientURL())
	js, err := jetstream.New(pubConn, jetstream.WithPublishAsyncMaxPending(DefaultWindow))
	if err != nil {
		b.Fatal(err)
	}
	createStream(b, js, "raw", nil)
	origin := openRawBadger(b)

	var applied sync.WaitGroup
	applied.Add(dests)
	for d := 0; d < dests; d++ {
		startRawApplier(b, srv.ClientURL(), "dst"+strconv.Itoa(d), openRawBadger(b), b.N, applied.Done)
	}
	done := make(chan struct{})
	go func() {
		applied.Wait()
		close(done)
	}()

	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	for i := 0; i < b.N; i += rawGroup {
		n := min(rawGroup, b.N-i)
		msgs := make([]*nats.Msg, n)
		err := origin.Update(func(txn *badger.Txn) error {
			for j := range msgs {
				key := []byte(fmt.Sprintf("k%09d", i+j))
				val := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))
				val = append(val, rawItem...)
				if err := txn.Set(key, val); err != nil {
					return err
				}
				m := nats.NewMsg("gt.raw.i.62656e6368")
				m.Header.Set(jetstream.MsgIDHeader, "raw/"+strconv.Itoa(i+j))
				m.Data = append(append([]byte{byte(len(key))}, key...), val...)
				msgs[j] = m
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := origin.Sync(); err != nil {
			b.Fatal(err)
		}
		for _, m := range msgs {
			if _, err := js.PublishMsgAsync(m, rawStallWait); err != nil {
				b.Fatal(err)
			}
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		b.Fatal("the destinations did not apply every write within 10 minutes")
	}
	took := time.Since(start)
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "writes/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/write")
}

// startRawApplier applies the raw stream to db last-writer-wins through a
// durable consumer of its own, and calls done once n messages are in.
func startRawApplier(b *testing.B, url, name string, db *badger.DB, n int, done func()) {
	conn := natstest.Connect(b, url)
	js, err := jetstream.New(conn)
	if err != nil {
		b.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(context.Background(), StreamName("raw"), jetstream.ConsumerConfig{
		Durable: name, AckPolicy: jetstream.AckAllPolicy, FilterSubject: StreamSubjects("raw"),
		MaxAckPending: 4 * DefaultBatch,
	})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make(chan jetstream.Msg, DefaultBatch)
	cc, err := cons.Consume(func(m jetstream.Msg) { msgs <- m }, jetstream.PullMaxMessages(DefaultBatch))
	if err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		got := 0
		batch := make([]jetstream.Msg, 0, DefaultBatch)
		for got < n {
			select {
			case m := <-msgs:
				batch = append(batch[:0], m)
			case <-stop:
				return
			}
		drain:
			for len(batch) < DefaultBatch {
				select {
				case m := <-msgs:
					batch = append(batch, m)
				default:
					break drain
				}
			}
			if err := db.Update(func(txn *badger.Txn) error { return applyRaw(txn, batch) }); err != nil {
				b.Error(err)
				return
			}
			_ = batch[len(batch)-1].Ack()
			got += len(batch)
		}
		done()
	}()
	b.Cleanup(func() {
		close(stop)
		wg.Wait()
		cc.Stop()
	})
}

// applyRaw writes each message's item unless the held version is as new.
func applyRaw(txn *badger.Txn, batch []jetstream.Msg) error {
	for _, m := range batch {
		d := m.Data()
		key, val := d[1:1+int(d[0])], d[1+int(d[0]):]
		held, err := txn.Get(key)
		switch {
		case err == nil:
			var newer bool
			if err := held.Value(func(h []byte) error {
				newer = binary.BigEndian.Uint64(val) > binary.BigEndian.Uint64(h)
				return nil
			}); err != nil {
				return err
			}
			if !newer {
				continue
			}
		case err != badger.ErrKeyNotFound:
			return err
		}
		if err := txn.Set(bytes.Clone(key), bytes.Clone(val)); err != nil {
			return err
		}
	}
	return nil
}

func openRawBadger(b *testing.B) *badger.DB {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

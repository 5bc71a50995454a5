package shaper

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"testing"
	"time"
)

// echoThroughLink returns a shaper with the link src->dst, the link's
// address, and a connection through it to an echo server. The echo server stands for the
// source's NATS server; the connection for the destination's replicator,
// which dials it through the proxy.
func echoThroughLink(t *testing.T) (*Shaper, string, net.Conn) {
	t.Helper()
	s := New(nil)
	t.Cleanup(s.Close)
	addr, err := s.Add("src->dst", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, addr, conn
}

// fastestRoundTrip returns the fastest of n round trips over conn: one
// alone can be slow on a busy machine, but none can beat the shaping.
func fastestRoundTrip(t *testing.T, conn net.Conn, n int) time.Duration {
	t.Helper()
	fastest := time.Hour
	for range n {
		d, err := roundTrip(t, conn)
		if err != nil {
			t.Fatal(err)
		}
		fastest = min(fastest, d)
	}
	return fastest
}

// Issue 9: a link's latency delayed only the source's data; the
// destination's requests and acks reached the source at once, so a pair of
// regions shaped 80 ms each way had a round trip of 80 ms. The request now
// takes the reverse link's latency: the round trip is the sum of both.
func TestShaper_RoundTripIsBothDirections(t *testing.T) {
	s, _, conn := echoThroughLink(t)
	const there, back = 60 * time.Millisecond, 40 * time.Millisecond
	if err := s.Set("src->dst", Shape{Latency: there}); err != nil {
		t.Fatal(err)
	}
	// The reverse link's shape, as the CLI sets it in the source region
	// too: here, its cut is ignored (it belongs to the reverse link's own
	// connections).
	if err := s.SetReturn("src->dst", Shape{Latency: back, Cut: true}); err != nil {
		t.Fatal(err)
	}
	rtt := fastestRoundTrip(t, conn, 5)
	// At least both delays; at most twice their sum on a loaded machine.
	if rtt < there+back || rtt > 2*(there+back) {
		t.Fatalf("round trip %v through a link shaped %v there and %v back, want %v", rtt, there, back, there+back)
	}
	t.Logf("round trip %v for %v + %v", rtt, there, back)
	if sh, _ := s.Return("src->dst"); sh != (Shape{Latency: back}) {
		t.Fatalf("return shape %+v", sh)
	}

	// Reshaping the link keeps its return direction, and the other way
	// round.
	if err := s.Set("src->dst", Shape{Latency: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if rtt := fastestRoundTrip(t, conn, 5); rtt < 20*time.Millisecond+back || rtt > 2*(20*time.Millisecond+back) {
		t.Fatalf("round trip %v after reshaping the link to 20ms, return %v", rtt, back)
	}
	if err := s.SetReturn("src->dst", Shape{}); err != nil {
		t.Fatal(err)
	}
	if rtt := fastestRoundTrip(t, conn, 5); rtt < 20*time.Millisecond || rtt > 2*20*time.Millisecond+20*time.Millisecond {
		t.Fatalf("round trip %v with the return unshaped, want 20ms", rtt)
	}
	if err := s.SetReturn("nope", Shape{}); err == nil {
		t.Fatal("return shape of an unknown link accepted")
	}
}

// Loss holds a fraction of the segments back for an RTO, and the data
// behind them waits too, in order.
func TestShaper_LossHoldsSegmentsForAnRTO(t *testing.T) {
	s, _, conn := echoThroughLink(t)
	const loss = 20.0
	shape := Shape{Latency: 20 * time.Millisecond, LossPercent: loss}
	if err := s.Set("src->dst", shape); err != nil {
		t.Fatal(err)
	}
	// The way back is unshaped: the round trip is 20 ms and the RTO 220
	// ms. Each small message is one segment: a round trip either takes
	// the latency or, lost, the RTO on top of it (or more, if the
	// retransmission is lost too).
	rto := RTO(shape, Shape{})
	const n = 40
	held := 0
	r := bufio.NewReader(conn)
	for range n {
		// A segment lost four times in a row takes 3.5 s: no read
		// deadline of roundTrip's.
		start := time.Now()
		if _, err := conn.Write([]byte("ping\n")); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		if d < shape.Latency {
			t.Fatalf("a round trip of %v beat the latency", d)
		}
		if d >= shape.Latency+rto {
			held++
		}
	}
	// Expected 8 of 40; the bounds are over four standard deviations
	// (2.5) away, and allow a few slow round trips on a loaded machine.
	if held < 1 || held > 20 {
		t.Fatalf("%d of %d round trips held for an RTO with %v%% loss", held, n, loss)
	}
	t.Logf("%d of %d round trips held with %v%% loss", held, n, loss)

	// Order: many lines sent back to back come back in order, however
	// many were held.
	w := bufio.NewWriter(conn)
	const lines = 200
	go func() {
		for i := range lines {
			fmt.Fprintf(w, "%d\n", i)
			if i%10 == 9 {
				w.Flush()
			}
		}
		w.Flush()
	}()
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for i := range lines {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if want := fmt.Sprintf("%d\n", i); line != want {
			t.Fatalf("line %d reads %q: out of order", i, line)
		}
	}
}

func TestRTO(t *testing.T) {
	for _, c := range []struct {
		fwd, back Shape
		want      time.Duration
	}{
		{Shape{}, Shape{}, 200 * time.Millisecond},
		{Shape{Latency: 80 * time.Millisecond}, Shape{Latency: 80 * time.Millisecond}, 360 * time.Millisecond},
		{Shape{Latency: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}, Shape{Latency: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}, 400 * time.Millisecond},
		{Shape{Latency: time.Minute}, Shape{Latency: time.Minute}, MaxRTO},
	} {
		if got := RTO(c.fwd, c.back); got != c.want {
			t.Errorf("RTO(%v, %v) = %v, want %v", c.fwd, c.back, got, c.want)
		}
	}
	if err := (Shape{LossPercent: 100}).Validate(); err == nil {
		t.Error("100% loss accepted")
	}
	if err := (Shape{LossPercent: -1}).Validate(); err == nil {
		t.Error("negative loss accepted")
	}
}

// TestShaper_HugeValuesAreRefused: a bandwidth so large that toxiproxy's
// arithmetic overflows (Rate*100) panicked its bandwidth toxic as soon as
// data flowed, ending the region's process; such values, and latencies or
// resets that long, are refused with an error instead, and a link given one
// keeps its old shape and carries data.
func TestShaper_HugeValuesAreRefused(t *testing.T) {
	for _, sh := range []Shape{
		{BandwidthKBps: math.MaxInt64/100 + 1},
		{BandwidthKBps: MaxBandwidthKBps + 1},
		{Latency: MaxDelay + time.Millisecond},
		{Latency: MaxDelay + time.Millisecond, Jitter: time.Millisecond},
		{ResetAfter: MaxDelay + time.Millisecond},
	} {
		if err := sh.Validate(); err == nil {
			t.Errorf("%+v accepted", sh)
		}
	}
	if err := (Shape{BandwidthKBps: MaxBandwidthKBps, Latency: MaxDelay, ResetAfter: MaxDelay}).Validate(); err != nil {
		t.Errorf("the largest values refused: %v", err)
	}
	s, _, conn := echoThroughLink(t)
	if err := s.Set("src->dst", Shape{BandwidthKBps: math.MaxInt64/100 + 1}); err == nil {
		t.Fatal("Set took a bandwidth that overflows")
	}
	if _, err := roundTrip(t, conn); err != nil {
		t.Fatalf("the link after the refused shape: %v", err)
	}
}

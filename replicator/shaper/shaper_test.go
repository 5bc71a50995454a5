package shaper

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echoServer accepts connections and echoes lines back until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through addr and times its echo.
func roundTrip(t *testing.T, conn net.Conn) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func TestShaper_LatencyStallCutHeal(t *testing.T) {
	s, addr, conn := echoThroughLink(t)
	base, err := roundTrip(t, conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("src->dst", Shape{Latency: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	slow, err := roundTrip(t, conn)
	if err != nil {
		t.Fatal(err)
	}
	if slow < 100*time.Millisecond || slow > base+400*time.Millisecond {
		t.Fatalf("round trip with 100ms latency on the link: %v (unshaped %v)", slow, base)
	}

	if err := s.Set("src->dst", Shape{Stall: true}); err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("held\n"))
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := bufio.NewReader(conn).ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a stalled link answered: %v", err)
	}

	if err := s.Set("src->dst", Shape{ResetAfter: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	flap, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	flap.Write([]byte("x\n")) // the toxic acts on the data that flows
	flap.SetReadDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(flap)
	var readErr error
	for readErr == nil {
		_, readErr = r.ReadString('\n')
	}
	if errors.Is(readErr, os.ErrDeadlineExceeded) {
		err = readErr
	} else {
		err = nil
	}
	if err != nil {
		t.Fatalf("a connection on a resetting link was not reset: %v", err)
	}
	flap.Close()

	if err := s.Set("src->dst", Shape{Cut: true}); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a cut link accepted a connection")
	}
	if err := s.Set("src->dst", Shape{}); err != nil {
		t.Fatal(err)
	}
	healed, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("the healed link does not listen on its old address: %v", err)
	}
	defer healed.Close()
	// The fastest of a few round trips: one alone can be slow on a busy
	// machine, but a link still shaped never gets below its latency.
	fastest := time.Hour
	for range 5 {
		d, err := roundTrip(t, healed)
		if err != nil {
			t.Fatalf("healed link: %v", err)
		}
		fastest = min(fastest, d)
	}
	if fastest > 100*time.Millisecond {
		t.Fatalf("healed link still slow: fastest round trip %v", fastest)
	}
	if sh, _ := s.Shape("src->dst"); sh != (Shape{}) {
		t.Fatalf("shape after heal: %+v", sh)
	}
	if err := s.Set("nope", Shape{}); !errors.Is(err, ErrUnknownLink) {
		t.Fatalf("unknown link: %v", err)
	}
	if err := s.Set("src->dst", Shape{Latency: time.Millisecond, Jitter: time.Second}); err == nil {
		t.Fatal("jitter above latency accepted")
	}
}

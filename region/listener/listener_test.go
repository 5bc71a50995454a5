package listener

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// failing is a listener whose Accept fails with err for the first n calls.
type failing struct {
	net.Listener
	mu    sync.Mutex
	n     int
	err   error
	calls int
}

func (f *failing) Accept() (net.Conn, error) {
	f.mu.Lock()
	f.calls++
	if f.calls <= f.n {
		f.mu.Unlock()
		return nil, f.err
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Issue 7: fasthttp's Serve returned on EMFILE and the region exited.
func TestRetrying_RetriesTransientErrors(t *testing.T) {
	inner := listen(t)
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	f := &failing{Listener: inner, n: 5, err: emfile}
	ln := Retrying(f, nil)
	client, err := net.Dial("tcp", inner.Addr().String()) // queued in the backlog
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept returned %v after transient failures", err)
	}
	c.Close()
	if f.calls != 6 {
		t.Fatalf("Accept tried %d times, want 6", f.calls)
	}
}

func TestRetrying_ReturnsWhenClosed(t *testing.T) {
	inner := listen(t)
	f := &failing{Listener: inner, n: 1 << 30, err: errors.New("always failing")}
	ln := Retrying(f, nil)
	done := make(chan error, 1)
	go func() { _, err := ln.Accept(); done <- err }()
	time.Sleep(50 * time.Millisecond) // let it fail a few times (not a synchronisation)
	ln.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Accept returned a connection from a closed listener")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
	ln2 := Retrying(listen(t), nil)
	ln2.Close()
	if _, err := ln2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on a closed listener: %v", err)
	}
}

func TestConnLimit(t *testing.T) {
	files, ok := FileLimit()
	if !ok {
		t.Skip("open-file limit unknown")
	}
	got, _, clamped := ConnLimit(0)
	if files/2 >= DefaultMaxConnections && (got != DefaultMaxConnections || clamped) {
		t.Fatalf("ConnLimit(0) = %d, %v with %d files", got, clamped, files)
	}
	if got, _, clamped := ConnLimit(int(files)); got != int(files/2) || !clamped {
		t.Fatalf("ConnLimit(%d) = %d, %v", files, got, clamped)
	}
}

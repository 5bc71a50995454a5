//go:build linux

package shaper

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/replicator/natstest"
)

// openFiles counts this process's open descriptors.
func openFiles(t *testing.T) uint64 {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return uint64(len(ents))
}

// Issue 7: a toxiproxy proxy whose accept fails (too many open files)
// stops accepting for good, its listener still open, and the link through
// it hangs. The shaper restarts it.
func TestShaper_ProxyRestartsAfterAcceptFailure(t *testing.T) {
	var logs natstest.LogBuffer
	s := New(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info}))
	t.Cleanup(s.Close)
	addr, err := s.Add("src->dst", patientEchoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(restore)
	// Descriptors held in reserve, each closed to make room for one more
	// dial once the limit is reached (see below).
	var spare []*os.File
	for range 32 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		spare = append(spare, f)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		for _, f := range spare {
			f.Close()
		}
	}()
	low := orig
	low.Cur = openFiles(t) + 12
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skipf("cannot lower the open-file limit: %v", err)
	}
	// Each connection through the proxy costs four descriptors here (the
	// client's, the proxy's two, the echo server's): the proxy's accept
	// runs out soon. The dialler may run out first, with every connection
	// it made already accepted: then nothing is left for the proxy to
	// fail on. So once a dial fails, a spare descriptor is closed and the
	// dial tried again, until the proxy's accept has failed: a dial that
	// gets the freed descriptor leaves a connection waiting in the
	// listener's backlog with none left for its accept.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "stopped accepting") {
		if time.Now().After(deadline) {
			restore()
			t.Fatalf("the proxy's accept did not fail; log:\n%s", logs.String())
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			conns = append(conns, c)
			continue
		}
		if len(spare) > 0 {
			spare[len(spare)-1].Close()
			spare = spare[:len(spare)-1]
		} else {
			time.Sleep(10 * time.Millisecond) // polling the log, with the deadline above
		}
	}
	restore()
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			last = err
			continue
		}
		_, last = roundTrip(t, c)
		c.Close()
		if last == nil {
			return
		}
	}
	t.Fatalf("the proxy does not carry connections after an accept failure: %v\nlog:\n%s", last, logs.String())
}

// patientEchoServer is echoServer with an accept loop that survives
// running out of descriptors.
func patientEchoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				time.Sleep(10 * time.Millisecond) // EMFILE: wait for descriptors
				continue
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

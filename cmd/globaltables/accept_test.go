package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/regiontest"
)

// startLimitedRegion runs a lone region whose open-file limit, soft and
// hard, is files (a shell's `ulimit -n`, so that Go cannot raise it), with
// extra region flags.
func startLimitedRegion(t *testing.T, files int, extra ...string) (*regionProc, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	args := append([]string{"--name", "solo", "--listen", addr, "--data", filepath.Join(t.TempDir(), "solo"), "--no-sync"}, extra...)
	sh := fmt.Sprintf(`ulimit -n %d && exec "$0" region "$@"`, files)
	cmd := exec.Command("/bin/sh", append([]string{"-c", sh, binary}, args...)...)
	return startRegionCmd(t, cmd, args), addr
}

// dialIdle opens n connections to addr that send nothing.
func dialIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	return conns
}

// serves reports whether the region answers its status endpoint.
func serves(addr string) error {
	var st region.Status
	return getJSON(context.Background(), "http://"+addr+region.StatusPath, &st)
}

func alive(t *testing.T, p *regionProc) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("region exited:\n%s", p.Log())
	default:
	}
}

// Issue 7, finding 5: 1,169 idle connections under `ulimit -n 1024` made
// accept fail with EMFILE, and the region exit. Here, with the default
// connection cap (half the limit), the connections over the cap are
// answered 503 and closed, and the region serves again once the idle ones
// close.
func TestRegion_IdleConnectionsOverTheCapAreRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region process")
	}
	const files = 256
	p, addr := startLimitedRegion(t, files)
	if !strings.Contains(p.Log(), "max_connections=128") {
		t.Fatalf("the cap was not lowered to half the limit:\n%s", p.Log())
	}
	conns := dialIdle(t, addr, files+150)
	// The last connection is over the cap: it gets a clear answer.
	last := conns[len(conns)-1]
	last.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := bufio.NewReader(last).ReadString('\n')
	if err != nil || !strings.Contains(line, "503") {
		t.Fatalf("a connection over the cap read %q, %v; want a 503 answer", line, err)
	}
	alive(t, p)
	for _, c := range conns {
		c.Close()
	}
	regiontest.WaitFor(t, 60*time.Second, func() error { return serves(addr) })
	alive(t, p)
}

// With a cap above the limit, accept itself fails with EMFILE: the region
// retries with backoff instead of exiting, and serves again once the idle
// connections close.
func TestRegion_AcceptFailuresAreRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region process")
	}
	const files = 256
	p, addr := startLimitedRegion(t, files, "--max-connections", "2000")
	conns := dialIdle(t, addr, files+150)
	regiontest.WaitFor(t, 60*time.Second, func() error {
		alive(t, p)
		if !strings.Contains(p.Log(), "accepting a connection failed") {
			return errors.New("no accept failure logged yet")
		}
		return nil
	})
	for _, c := range conns {
		c.Close()
	}
	regiontest.WaitFor(t, 60*time.Second, func() error { return serves(addr) })
	alive(t, p)
	regiontest.WaitFor(t, 30*time.Second, func() error {
		if !strings.Contains(p.Log(), "accepting connections again") {
			return errors.New("recovery not logged")
		}
		return nil
	})
}

// An idle keep-alive connection, or one that never sends a request, is
// closed after idle_timeout.
func TestRegion_IdleConnectionsAreClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region process")
	}
	p, addr := startLimitedRegion(t, 1024, "--idle-timeout", "1s")
	silent := dialIdle(t, addr, 1)[0]
	kept := dialIdle(t, addr, 1)[0]
	fmt.Fprintf(kept, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", region.StatusPath, addr)
	br := bufio.NewReader(kept)
	kept.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("keep-alive request: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for name, r := range map[string]io.Reader{"idle keep-alive": br, "silent": silent} {
		c := kept
		if name == "silent" {
			c = silent
		}
		// The server may answer 408 first (a request never sent), then
		// closes the connection.
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		got, err := io.ReadAll(r)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s connection still open after 30s with a 1s idle timeout", name)
		}
		if len(got) > 0 && !strings.HasPrefix(string(got), "HTTP/1.1 408") {
			t.Fatalf("%s connection: the server sent %q before closing", name, got)
		}
	}
	alive(t, p)
}

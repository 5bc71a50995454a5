// Package listener keeps a region's endpoint accepting connections through
// transient failures, and sizes its connection cap to the process's
// open-file limit.
//
// The region's HTTP server (fasthttp) returns from Serve on any accept
// error but a timeout, and the region then exits: 1,169 idle connections
// under `ulimit -n 1024` shut a region down (issue 7). Retrying wraps the
// listener so that Accept retries every error but the listener's own close,
// with the capped exponential backoff net/http uses (5 ms doubling to 1 s):
// an error such as EMFILE clears when connections close. The region also
// caps its connections well under the open-file limit (ConnLimit), so that
// the cap, not the limit, is what a flood of connections meets.
//
// Invariants: Accept returns an error only once the listener is closed;
// while accepting fails it logs once, at most every LogEvery after, and
// once more when it recovers.
package listener

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Backoff bounds between failed accepts, as net/http's Server.Serve.
const (
	MinBackoff = 5 * time.Millisecond
	MaxBackoff = time.Second
	// LogEvery is how often a lasting accept failure is logged again.
	LogEvery = 10 * time.Second
)

// Retrying returns ln with an Accept that retries transient failures (see
// the package doc). Closing it closes ln and ends a wait between retries.
func Retrying(ln net.Listener, log hclog.Logger) net.Listener {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &retrying{Listener: ln, log: log, done: make(chan struct{})}
}

type retrying struct {
	net.Listener
	log hclog.Logger

	closeOnce sync.Once
	done      chan struct{} // closed by Close

	// Owned by the goroutine calling Accept (the server's accept loop).
	failing  bool
	since    time.Time
	lastLog  time.Time
	failures int
}

// Accept waits for the next connection, retrying failures with backoff.
func (l *retrying) Accept() (net.Conn, error) {
	delay := time.Duration(0)
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			if l.failing {
				l.failing = false
				l.log.Info("accepting connections again", "after", time.Since(l.since).Round(time.Millisecond), "failures", l.failures)
			}
			return c, nil
		}
		if errors.Is(err, net.ErrClosed) || l.closed() {
			return nil, err
		}
		now := time.Now()
		l.failures++
		switch {
		case !l.failing:
			l.failing, l.since, l.lastLog, l.failures = true, now, now, 1
			l.log.Warn("accepting a connection failed; retrying with backoff (too many open connections?)", "error", err)
		case now.Sub(l.lastLog) >= LogEvery:
			l.lastLog = now
			l.log.Warn("accepting connections still failing", "error", err, "failures", l.failures, "since", l.since.Format(time.RFC3339))
		}
		delay = min(max(2*delay, MinBackoff), MaxBackoff)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-l.done:
			t.Stop()
			return nil, err
		}
	}
}

func (l *retrying) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// Close closes the listener; an Accept waiting to retry returns.
func (l *retrying) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// DefaultMaxConnections is the default cap on a region's concurrent
// connections, when the open-file limit allows it (see ConnLimit).
const DefaultMaxConnections = 4096

// ConnLimit returns the connection cap to use: want, or
// DefaultMaxConnections if want is 0, but never more than half of the
// open-file limit (the rest is for the store's files, NATS and the
// replication links) when that limit is known. clamped says it was
// lowered.
func ConnLimit(want int) (limit int, files uint64, clamped bool) {
	if want <= 0 {
		want = DefaultMaxConnections
	}
	files, ok := FileLimit()
	if !ok || files/2 >= uint64(want) {
		return want, files, false
	}
	return max(int(files/2), 1), files, true
}

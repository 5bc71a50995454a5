package replicator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
)

// Defaults for retries.
const (
	// DefaultBackoffMin is the first wait after a failure.
	DefaultBackoffMin = 100 * time.Millisecond
	// DefaultBackoffMax caps the wait between attempts.
	DefaultBackoffMax = 5 * time.Second
	// DefaultLogEvery is how often a lasting failure is logged again.
	DefaultLogEvery = time.Minute
)

// backoff computes capped exponential waits with jitter. It is owned by one
// goroutine.
type backoff struct {
	min, max time.Duration
	attempt  int
}

func newBackoff() *backoff { return &backoff{min: DefaultBackoffMin, max: DefaultBackoffMax} }

// next returns the wait before the next attempt: min·2^attempt capped at
// max, then a uniformly random point in its upper half, so that regions
// retrying the same peer spread out.
func (b *backoff) next() time.Duration {
	d := b.min << min(b.attempt, 30)
	if d <= 0 || d > b.max {
		d = b.max
	}
	b.attempt++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.attempt = 0 }

// failureLog logs a streak of failures: when it starts (or, with a grace,
// once it has lasted that long: a shorter one is logged at debug only), at
// most once per interval while it lasts (never again with interval 0), and
// one line when it clears, with its duration. A streak can also be a wait
// (wait): something expected to be missing for a while, such as a peer
// that is still starting, is announced at info, and at warning level only
// once it has lasted waitWarn. It is safe for concurrent use.
type failureLog struct {
	log      hclog.Logger
	interval time.Duration
	grace    time.Duration
	waitWarn time.Duration

	mu        sync.Mutex // guards the fields below
	failing   bool
	announced bool // the streak was logged above debug
	warned    bool // the streak was logged at warning level
	waiting   bool // the streak's last failure was a wait
	since     time.Time
	lastLog   time.Time
	count     int
	lastErr   error
	lastWhat  string
}

func newFailureLog(log hclog.Logger) *failureLog {
	return &failureLog{log: log, interval: DefaultLogEvery, waitWarn: DefaultLogEvery}
}

// fail records a failure of what (a short lower-case phrase).
func (f *failureLog) fail(what string, err error, kv ...any) {
	f.note(what+" failed", what, false, err, kv)
}

// wait records that what (a phrase such as "waiting for us-east-1") goes
// on, because of err.
func (f *failureLog) wait(what string, err error, kv ...any) {
	f.note(what, what, true, err, kv)
}

func (f *failureLog) note(msg, what string, waiting bool, err error, kv []any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if !f.failing {
		f.failing, f.announced, f.warned, f.since, f.count = true, false, false, now, 0
	}
	f.count++
	f.lastErr, f.lastWhat, f.waiting = err, what, waiting
	lasted := now.Sub(f.since)
	args := append([]any{"error", err}, kv...)
	if lasted > 0 {
		args = append(args, "for", lasted.Round(time.Millisecond))
	}
	warn := func(msg string) {
		f.announced, f.warned, f.lastLog = true, true, now
		f.log.Warn(msg, args...)
	}
	switch {
	case !f.announced && lasted >= f.grace && !waiting:
		warn(msg)
	case !f.announced && lasted >= f.grace:
		f.announced, f.lastLog = true, now
		f.log.Info(msg, args...)
	case f.announced && !f.warned && (!waiting || lasted >= f.waitWarn):
		if waiting {
			msg = "still " + msg
		}
		warn(msg)
	case f.warned && f.interval > 0 && now.Sub(f.lastLog) >= f.interval:
		args = append(args, "failures", f.count, "since", f.since.Format(time.RFC3339))
		warn(what + " still failing")
	default:
		f.log.Debug(msg, args...)
	}
}

// ok records a success; it logs the end of a streak that was announced,
// with its duration ("recovered", or "ready" after a wait).
func (f *failureLog) ok(kv ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failing {
		return
	}
	f.failing = false
	msg := "recovered"
	if !f.warned && f.waiting {
		msg = "ready"
	}
	args := append([]any{"after", time.Since(f.since).Round(time.Millisecond), "failures", f.count, "last_failure", f.lastWhat}, kv...)
	if f.announced {
		f.log.Info(msg, args...)
	} else {
		f.log.Debug(msg, args...)
	}
}

// connCtx returns a context cancelled when ctx is, or as soon as nc loses
// its connection (its cause then wraps nats.ErrDisconnected). A request
// sent just before a server went away gets no reply, and would otherwise
// wait for its whole timeout after the connection is back. Call stop to
// release the watcher.
func connCtx(ctx context.Context, nc *nats.Conn) (cctx context.Context, stop func()) {
	ch := nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	cctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case st := <-ch:
			cancel(fmt.Errorf("%w (%s)", nats.ErrDisconnected, st))
		case <-cctx.Done():
		}
	}()
	// A loss before the listener was registered.
	if !nc.IsConnected() {
		cancel(nats.ErrDisconnected)
	}
	return cctx, func() {
		cancel(nil)
		<-done
		nc.RemoveStatusListener(ch)
	}
}

// withCause returns err, or the reason cctx was cancelled if that is what
// made the call fail (and the parent ctx is still live).
func withCause(ctx, cctx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && cctx.Err() != nil {
		return fmt.Errorf("%w: %w", context.Cause(cctx), err)
	}
	return err
}

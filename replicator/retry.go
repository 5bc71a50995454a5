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

// failureLog logs a failure when it starts, at most once per interval while
// it lasts (with how many times it happened), and one "recovered" line when
// it clears. It is safe for concurrent use.
type failureLog struct {
	log      hclog.Logger
	interval time.Duration

	mu       sync.Mutex // guards the fields below
	failing  bool
	since    time.Time
	lastLog  time.Time
	count    int
	lastErr  error
	lastWhat string
}

func newFailureLog(log hclog.Logger) *failureLog {
	return &failureLog{log: log, interval: DefaultLogEvery}
}

// fail records a failure of what (a short lower-case phrase).
func (f *failureLog) fail(what string, err error, kv ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.count++
	f.lastErr, f.lastWhat = err, what
	if !f.failing {
		f.failing, f.since, f.lastLog, f.count = true, now, now, 1
		f.log.Warn(what+" failed", append([]any{"error", err}, kv...)...)
		return
	}
	if now.Sub(f.lastLog) >= f.interval {
		f.lastLog = now
		f.log.Warn(what+" still failing", append([]any{"error", err, "failures", f.count, "since", f.since.Format(time.RFC3339)}, kv...)...)
	}
}

// ok records a success; it logs "recovered" if a failure was ongoing.
func (f *failureLog) ok(kv ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failing {
		return
	}
	f.failing = false
	f.log.Info("recovered", append([]any{"after", time.Since(f.since).Round(time.Millisecond), "failures", f.count, "last_failure", f.lastWhat}, kv...)...)
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

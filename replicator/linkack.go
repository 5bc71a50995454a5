package replicator

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Acknowledgements.
//
// An acknowledgement costs as much as a small message: a publish on the
// link's connection, a trip through the shaping proxy, a read and the
// consumer's bookkeeping at the source. At 1,000 writes/s over three
// regions a link receives a message every 3 ms or so, each its own batch,
// and acknowledging each one doubled the messages on the wire (issue 12).
//
// So a link acknowledges at most once per ackEvery: a batch applied within
// ackEvery of the last acknowledgement is acknowledged later, by the next
// batch's acknowledgement (the consumer is AckAll: acknowledging a message
// acknowledges every one before it) or, if none comes, when the ack timer
// fires ackEvery after the last acknowledgement. A link that receives a
// message every ackEvery or less often acknowledges each batch at once, as
// before, and an idle link has nothing to acknowledge and arms no timer.
//
// Why this is safe: acknowledgements are not what makes replication
// correct or durable. The stream's retention is by limits (age, size), so
// an acknowledgement deletes nothing at the source; the cursor in the
// destination's store, written with the items it covers, decides what is
// applied, and a message at or below it is dropped when it comes again. A
// delayed acknowledgement can only make the source deliver again, after
// AckWait (30 s, far above ackEvery), messages the link already applied
// and then drops, as a lost acknowledgement always could. Acknowledging
// later never acknowledges a message before it is applied: only applied
// batches are deferred. What the delay does change is the source's
// measure of the link's backlog (Outbound: stream last sequence − ack
// floor), which may count up to ackEvery of applied messages, and
// MaxAckPending, which a link reaches only if it defers ackMaxDeferred
// messages (it acknowledges at once before that).
const (
	ackEvery       = 20 * time.Millisecond
	ackMaxDeferred = 256
)

// acker defers a session's acknowledgements; owned by the session's
// goroutine.
type acker struct {
	last     time.Time       // when the last acknowledgement was sent
	deferred jetstream.Msg   // the last applied message not acknowledged yet
	n        int             // messages applied since the last acknowledgement
	timer    *time.Timer     // fires when deferred is due; nil until needed
	sent     func(err error) // told of every acknowledgement sent
}

// applied notes that m and every message before it were applied (n of
// them since the last call), and acknowledges them now or defers that.
func (a *acker) applied(m jetstream.Msg, n int, now time.Time) {
	if m == nil {
		return
	}
	armed := a.deferred != nil // the timer is set for the same time
	a.deferred = m
	a.n += n
	if now.Sub(a.last) >= ackEvery || a.n >= ackMaxDeferred {
		a.flush(now)
		return
	}
	if armed {
		return
	}
	due := a.last.Add(ackEvery).Sub(now)
	if a.timer == nil {
		a.timer = time.NewTimer(due)
	} else {
		a.timer.Reset(due)
	}
}

// due returns the channel on which the deferred acknowledgement falls
// due, or nil if there is none.
func (a *acker) due() <-chan time.Time {
	if a.deferred == nil || a.timer == nil {
		return nil
	}
	return a.timer.C
}

// ackNow acknowledges m (which covers the deferred message: m comes after
// it), or the deferred message if m is nil.
func (a *acker) ackNow(m jetstream.Msg, now time.Time) {
	if m != nil {
		a.deferred = m
	}
	a.flush(now)
}

// flush sends the deferred acknowledgement, if any.
func (a *acker) flush(now time.Time) {
	m := a.deferred
	if m == nil {
		return
	}
	a.deferred, a.n, a.last = nil, 0, now
	if a.timer != nil {
		a.timer.Stop()
	}
	err := m.Ack()
	if a.sent != nil {
		a.sent(err)
	}
}

// stop sends what is deferred (best effort: the session is ending) and
// releases the timer.
func (a *acker) stop() {
	a.flush(time.Now())
	if a.timer != nil {
		a.timer.Stop()
	}
}

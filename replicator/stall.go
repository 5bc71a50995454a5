package replicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
)

// Stall describes a link stopped at a change whose version its region's
// clock refuses (LinkConfig.Admit): further ahead of the destination's clock
// than max_clock_skew. The change is neither applied nor acknowledged nor
// skipped; the link checks it again at every retry.
type Stall struct {
	// Seq is the change's sequence in the source's stream; Version its
	// version token.
	Seq     uint64 `json:"seq"`
	Version string `json:"version"`
	// Ahead is how far the version was ahead of the destination's clock
	// at the last check, in milliseconds; MaxMs the bound.
	AheadMs float64 `json:"ahead_ms"`
	MaxMs   float64 `json:"max_ms"`
	// Since is when the link stopped at this change.
	Since time.Time `json:"since"`
	// Reason is the refusal, for people.
	Reason string `json:"reason"`
}

// evidenceDepth is how many of the source stream's newest messages a
// stalled link reads, looking for one minted by the source's clock.
const evidenceDepth = 16

// admit says whether item change ch, at stream sequence seq, may be
// applied. A change is admitted when Admit accepts its version; when its
// version only succeeds its predecessor's (the write replaced a value that
// was already that far ahead, so the writer's clock is not to blame); or
// when it was published before evidence that the source's clock is back
// within the bound (see sourceClockBack). Otherwise the link stalls there
// and admit returns an error wrapping ErrStalled and the
// *conflict.AheadError.
func (s *session) admit(ctx context.Context, seq uint64, ch *store.Change) error {
	l := s.l
	if l.cfg.Admit == nil || ch.Kind != store.ChangeItem {
		return nil
	}
	err := l.cfg.Admit(ch.Version)
	var ae *conflict.AheadError
	if err == nil || inherited(ch) || seq <= l.admitThrough {
		l.unstall(seq)
		return nil
	}
	if !errors.As(err, &ae) {
		return fmt.Errorf("admit change %d: %w", seq, err)
	}
	through, back, eerr := s.sourceClockBack(ctx)
	if eerr != nil {
		l.log.Debug("reading the source stream's newest changes", "error", eerr)
	}
	if back && through >= seq {
		l.admitThrough = through
		l.log.Warn("the source's clock is back within max_clock_skew: applying the changes it published while it was ahead, without moving this region's clock to their versions",
			"from_seq", seq, "through_seq", through, "first_version", ch.Version.Token(), "ahead", ae.Ahead.Round(time.Millisecond))
		l.unstall(seq)
		return nil
	}
	l.stall(seq, ae)
	return fmt.Errorf("%w: change %d: %w", ErrStalled, seq, ae)
}

// inherited reports whether ch's version is the immediate successor of the
// version it replaced (conflict.HLC.Next after a version its clock could
// not reach): its distance from real time is its predecessor's, not its
// writer's clock's.
func inherited(ch *store.Change) bool {
	return !ch.Prev.IsZero() && ch.Version.Wall == ch.Prev.Wall
}

// sourceClockBack reads the newest messages of the source's stream for an
// item change minted by the source's own clock (not inherited). If Admit
// accepts that version, the source's clock is back within the bound, and
// every change up to the stream's last sequence (through) was published
// before that evidence: ok is true.
func (s *session) sourceClockBack(ctx context.Context) (through uint64, ok bool, err error) {
	_, last, err := s.streamState(ctx)
	if err != nil {
		return 0, false, err
	}
	for seq := last; seq > s.cursor && last-seq < evidenceDepth; seq-- {
		actx, cancel := s.apiCtx(ctx)
		raw, err := s.stream.GetMsg(actx, seq)
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("get message %d: %w", seq, err)
		}
		ch, err := store.DecodeChange(raw.Data)
		if err != nil || ch.Kind != store.ChangeItem || ch.Version.IsZero() || inherited(ch) {
			continue
		}
		return last, s.l.cfg.Admit(ch.Version) == nil, nil
	}
	return 0, false, nil
}

// stall records that the link stopped at seq, and logs it once per change.
func (l *Link) stall(seq uint64, ae *conflict.AheadError) {
	now := time.Now()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	first := false
	l.update(func(st *LinkStatus) {
		if st.Stall == nil || st.Stall.Seq != seq {
			first = true
			st.Stalls++
			st.Stall = &Stall{Seq: seq, Since: now}
		}
		sc := *st.Stall // a copy: Status hands the pointer out
		sc.Version, sc.AheadMs, sc.MaxMs, sc.Reason = ae.Version.Token(), ms(ae.Ahead), ms(ae.Max), ae.Error()
		st.Stall = &sc
	})
	if first {
		l.log.Error("link stopped: a change's version is beyond max_clock_skew; it is neither applied nor skipped, and the link waits at it until the clock at fault is fixed",
			"stream_seq", seq, "version", ae.Version.Token(), "ahead", ae.Ahead.Round(time.Millisecond), "max_clock_skew", ae.Max)
	}
}

// unstall clears a stall at or before seq, logging the resumption once.
func (l *Link) unstall(seq uint64) {
	var was *Stall
	l.update(func(st *LinkStatus) {
		if st.Stall != nil && st.Stall.Seq <= seq {
			was, st.Stall = st.Stall, nil
		}
	})
	if was != nil {
		l.log.Info("link resumed", "stream_seq", was.Seq, "stalled_for", time.Since(was.Since).Round(time.Millisecond))
	}
}

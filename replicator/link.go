package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/store"
)

// Defaults for LinkConfig.
const (
	// DefaultBatch is the most messages applied in one store transaction,
	// and the number of messages the link asks the source for at a time.
	DefaultBatch = 256
	// DefaultFetchWait is how long one pull request waits at the source
	// for messages. Messages are applied as soon as they arrive, so it is
	// not a latency knob: it bounds how often an idle link re-issues its
	// pull request (a round trip without a request outstanding). Long, so
	// that an idle link costs next to nothing (issue 12): the source's idle
	// heartbeats (every 15 s with it) tell a quiet link from a lost pull.
	DefaultFetchWait = 30 * time.Second
	// DefaultAckWait is how long the source waits for an acknowledgement
	// before delivering a message again.
	DefaultAckWait = 30 * time.Second
	// DefaultQuietFor is how long a link's failure lasts before it is
	// logged as a warning. Regions started or stopped together see each
	// other come and go for a moment; that is not worth a warning.
	DefaultQuietFor = 5 * time.Second
)

const (
	// idleInfoFirst is how soon after the consumer is in place an idle link
	// first asks for its info (pending count, and that it still exists),
	// and idleInfoEvery how often after that. Messages carry the pending
	// count and a deleted consumer ends the pull request, so the later
	// asks only catch what those miss, and are rare to keep an idle link
	// cheap.
	idleInfoFirst = time.Second
	idleInfoEvery = 30 * time.Second
)

var (
	// ErrGap is reported when the source's stream no longer holds changes
	// this region has not applied and no Resync function is configured.
	ErrGap = errors.New("replicator: source stream no longer holds unapplied changes")
	// ErrDeliveryGap is reported when a delivery was lost on the way (the
	// consumer's delivery sequence jumped): the link resumes from its
	// cursor.
	ErrDeliveryGap = errors.New("replicator: delivery sequence jumped")
	// ErrStreamNotFound is reported while the source's stream does not
	// exist (the source region has not published yet).
	ErrStreamNotFound = errors.New("replicator: source stream not found")
	// ErrStalled is reported while the link is stopped at a change that
	// LinkConfig.Admit refuses (a version beyond max_clock_skew): the
	// change is neither applied nor skipped, and nothing after it is
	// applied, until it is admitted. See stall.go.
	ErrStalled = errors.New("replicator: link stopped at a change it may not apply yet")
)

// Applier persists remote item changes by last-writer-wins, with the
// per-source cursor in the same transaction. *store.DB satisfies it.
type Applier interface {
	// Apply applies changes and, if cursor > 0, records cursor as the last
	// stream sequence applied from source, atomically.
	Apply(ctx context.Context, source string, cursor uint64, changes []*store.Change) (store.ApplyStats, error)
	// Cursor returns the last stream sequence applied from source (0 if
	// none).
	Cursor(source string) (uint64, error)
	// SetCursor records the cursor of source (even if lower).
	SetCursor(source string, cursor uint64) error
}

// ControlApplier applies a table control record (store.ChangeControl) from
// source. It is implemented by the region and must be idempotent: after a
// crash the same record may be applied again.
type ControlApplier interface {
	ApplyControl(ctx context.Context, source string, ch *store.Change) error
}

// ResyncFunc brings the destination up to date with source by other means
// than its stream (snapshots of every shared table) when the stream no
// longer holds changes the destination has not applied. The link then
// continues from the stream's first message.
type ResyncFunc func(ctx context.Context, source string) error

// LinkConfig configures a Link.
type LinkConfig struct {
	// Source and Dest are the names of the region whose stream is read and
	// of this region. Required.
	Source, Dest string
	// URL is the NATS URL of the source's server. Required unless Conn is
	// given.
	URL string
	// Conn, if not nil, is used instead of dialling URL; the link does not
	// close it.
	Conn *nats.Conn
	// Store applies item changes and keeps the cursor. Required.
	Store Applier
	// Control applies control records. Required.
	Control ControlApplier
	// Batch is the most messages applied in one transaction. Default 256.
	Batch int
	// FetchWait is how long a pull request waits at the source, at least
	// 1s. Default 30s. Not a latency knob: see DefaultFetchWait.
	FetchWait time.Duration
	// AckWait is the consumer's acknowledgement timeout. Default 30s.
	AckWait time.Duration
	// Resync is called when the stream no longer holds what this region
	// needs. Without it the link stops there, reporting ErrGap.
	Resync ResyncFunc
	// Admit says whether an item change's version may be applied now: the
	// region's clock refuses one too far ahead of it (a
	// *conflict.AheadError), and the link stops at that change (ErrStalled)
	// until it is admitted. Nil admits every change.
	Admit func(v conflict.Version) error
	// Latency, if set, receives every replication latency the link
	// measures, in seconds (a Prometheus histogram fits).
	Latency Observer
	// Logger receives the link's logs. Default: a null logger.
	Logger hclog.Logger
	// QuietFor is how long a failure lasts before the link logs it, once,
	// as a warning; its end is then logged once, with its duration. A
	// shorter one is logged at debug only. Before the link first works, a
	// source that is not reachable or has no stream yet is waited for, at
	// info level. Default DefaultQuietFor.
	QuietFor time.Duration
}

// Observer receives measurements as they happen; a Prometheus histogram or
// summary satisfies it.
type Observer interface{ Observe(float64) }

func (c LinkConfig) withDefaults() LinkConfig {
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.FetchWait == 0 {
		c.FetchWait = DefaultFetchWait
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.QuietFor == 0 {
		c.QuietFor = DefaultQuietFor
	}
	return c
}

// Validate reports whether c is usable. Zero fields that have a default are
// valid.
func (c LinkConfig) Validate() error {
	var problems []string
	if err := ValidRegion(c.Source); err != nil {
		problems = append(problems, "Source: "+err.Error())
	}
	if err := ValidRegion(c.Dest); err != nil {
		problems = append(problems, "Dest: "+err.Error())
	}
	if c.Source == c.Dest && c.Source != "" {
		problems = append(problems, "Source and Dest are the same region")
	}
	if c.URL == "" && c.Conn == nil {
		problems = append(problems, "URL or Conn is required")
	}
	if c.Store == nil {
		problems = append(problems, "Store is required")
	}
	if c.Control == nil {
		problems = append(problems, "Control is required")
	}
	if c.Batch < 0 {
		problems = append(problems, "Batch is negative")
	}
	if c.FetchWait < 0 || (c.FetchWait > 0 && c.FetchWait < time.Second) {
		problems = append(problems, fmt.Sprintf("FetchWait %s: want at least 1s (the client library's minimum)", c.FetchWait))
	}
	if c.AckWait < 0 {
		problems = append(problems, "AckWait is negative")
	}
	if c.QuietFor < 0 {
		problems = append(problems, "QuietFor is negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: link: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// LinkStatus is a snapshot of a Link's progress. Durations are
// time.Duration in Go; in JSON they are milliseconds (floats, fields with
// an _ms suffix).
type LinkStatus struct {
	Source, Dest string
	// Connected is true while the connection to the source's NATS is up.
	Connected bool
	// Cursor is the last source stream sequence applied here.
	Cursor uint64
	// Pending is how many of the source's messages are not delivered to
	// this region yet (the consumer's NumPending).
	Pending uint64
	// Applied, Duplicates, Skipped and Conflicts are the store's counts
	// (store.ApplyStats) summed since start, plus control records applied
	// (in Applied). Redelivered counts messages at or below the cursor,
	// dropped unapplied; Undecodable those that did not decode, skipped.
	Applied, Skipped, Duplicates, Conflicts uint64
	Redelivered, Undecodable                uint64
	// Rejected counts records whose origin did not match the stream
	// (CheckSubject): logged at Error, skipped, never applied.
	Rejected uint64
	// P50, P99 and Max are the replication latency (apply time minus the
	// origin's commit time) over the last minute; the All variants since
	// start. Samples counts the latencies recorded since start.
	P50, P99, Max          time.Duration
	P50All, P99All, MaxAll time.Duration
	Samples                int64
	// Resyncs counts re-syncs since start, the last at LastResync.
	Resyncs    int
	LastResync time.Time
	// LastError is the last failure and when it happened; it stays after
	// recovery. RecoveredAt is when the link last worked again after a
	// failure: the failure is over if it is not before LastErrorAt
	// (Recovered).
	LastError   string
	LastErrorAt time.Time
	RecoveredAt time.Time
	// Waiting ("waiting for us-east-1") is set, since WaitingSince, while
	// the link, which has not worked yet, waits for its source's server
	// or stream: regions started together find each other missing for a
	// moment. That is not a failure, so it is not LastError; it becomes
	// one only once it has lasted DefaultLogEvery, when the log warns
	// about it too (issue 9).
	Waiting      string
	WaitingSince time.Time
	// Stall is set while the link is stopped at a change Admit refuses.
	Stall *Stall
	// Stalls counts the stalls since start.
	Stalls uint64
}

// Recovered reports whether the link worked again after its last failure.
func (s LinkStatus) Recovered() bool {
	return !s.LastErrorAt.IsZero() && !s.RecoveredAt.Before(s.LastErrorAt)
}

// MarshalJSON renders durations as milliseconds.
func (s LinkStatus) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	type out struct {
		Source      string    `json:"source"`
		Dest        string    `json:"dest"`
		Connected   bool      `json:"connected"`
		Cursor      uint64    `json:"cursor"`
		Pending     uint64    `json:"pending"`
		Applied     uint64    `json:"applied"`
		Skipped     uint64    `json:"skipped"`
		Duplicates  uint64    `json:"duplicates"`
		Conflicts   uint64    `json:"conflicts"`
		Redelivered uint64    `json:"redelivered"`
		Undecodable uint64    `json:"undecodable"`
		Rejected    uint64    `json:"rejected"`
		P50         float64   `json:"p50_ms"`
		P99         float64   `json:"p99_ms"`
		Max         float64   `json:"max_ms"`
		P50All      float64   `json:"p50_all_ms"`
		P99All      float64   `json:"p99_all_ms"`
		MaxAll      float64   `json:"max_all_ms"`
		Samples     int64     `json:"samples"`
		Resyncs     int       `json:"resyncs"`
		LastResync  time.Time `json:"last_resync,omitzero"`
		LastError   string    `json:"last_error,omitempty"`
		LastErrorAt time.Time `json:"last_error_at,omitzero"`
		RecoveredAt time.Time `json:"recovered_at,omitzero"`
		Waiting     string    `json:"waiting,omitempty"`
		WaitingFrom time.Time `json:"waiting_since,omitzero"`
		Stall       *Stall    `json:"stall,omitempty"`
		Stalls      uint64    `json:"stalls"`
	}
	return json.Marshal(out{
		Source: s.Source, Dest: s.Dest, Connected: s.Connected, Cursor: s.Cursor, Pending: s.Pending,
		Applied: s.Applied, Skipped: s.Skipped, Duplicates: s.Duplicates, Conflicts: s.Conflicts,
		Redelivered: s.Redelivered, Undecodable: s.Undecodable, Rejected: s.Rejected,
		P50: ms(s.P50), P99: ms(s.P99), Max: ms(s.Max),
		P50All: ms(s.P50All), P99All: ms(s.P99All), MaxAll: ms(s.MaxAll), Samples: s.Samples,
		Resyncs: s.Resyncs, LastResync: s.LastResync, LastError: s.LastError, LastErrorAt: s.LastErrorAt,
		RecoveredAt: s.RecoveredAt, Waiting: s.Waiting, WaitingFrom: s.WaitingSince, Stall: s.Stall, Stalls: s.Stalls,
	})
}

// Link applies one source region's changes in this region: a durable pull
// consumer repl-<dest> on GT_<source>, read over a connection to the
// source's NATS.
type Link struct {
	cfg     LinkConfig
	log     hclog.Logger
	fails   *failureLog
	lat     *latencies
	running atomic.Bool
	// worked is set once a session has started (its source's server and
	// stream found, its consumer in place): until then, a source
	// that is not there yet is waited for rather than failing. Owned by
	// Run's goroutine.
	worked bool
	conn   atomic.Pointer[nats.Conn] // while Run runs
	// admitThrough is the last stream sequence admitted whatever its
	// version (see stall.go). Owned by Run's goroutine.
	admitThrough uint64

	mu sync.Mutex // guards st
	st LinkStatus
}

// NewLink returns a link; Run does the work.
func NewLink(cfg LinkConfig) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger.Named("link").With("source", cfg.Source, "dest", cfg.Dest)
	l := &Link{
		cfg: cfg,
		log: log,
		// An outage is logged once when it starts and once when it
		// ends: status shows it in between.
		fails: &failureLog{log: log, grace: cfg.QuietFor, waitWarn: DefaultLogEvery},
		lat:   newLatencies(time.Now()),
		st:    LinkStatus{Source: cfg.Source, Dest: cfg.Dest},
	}
	if cfg.Conn != nil {
		l.conn.Store(cfg.Conn)
	}
	return l, nil
}

// Conn returns the connection to the source's NATS: Config.Conn, or the
// one Run dialled (nil before Run and after it returned).
func (l *Link) Conn() *nats.Conn { return l.conn.Load() }

// Status returns a snapshot of the link's progress.
func (l *Link) Status() LinkStatus {
	l.mu.Lock()
	st := l.st
	l.mu.Unlock()
	if nc := l.conn.Load(); nc != nil {
		st.Connected = nc.IsConnected()
	}
	recent, all := l.lat.summary(time.Now())
	st.P50, st.P99, st.Max = recent.P50, recent.P99, recent.Max
	st.P50All, st.P99All, st.MaxAll, st.Samples = all.P50, all.P99, all.Max, all.Count
	return st
}

func (l *Link) update(f func(st *LinkStatus)) {
	l.mu.Lock()
	f(&l.st)
	l.mu.Unlock()
}

// dialSource connects to a source region's NATS. It does not wait for the
// server: the connection keeps trying in the background, forever.
func dialSource(url, source, dest string, log hclog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	opts := append(natsrv.ClientOptions("globaltables link "+source+"->"+dest), extra...)
	return nats.Connect(url, append(opts,
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		// Find a dead peer in ~15s rather than nats's default minutes.
		nats.PingInterval(5*time.Second),
		nats.MaxPingsOutstanding(3),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Debug("disconnected from source", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Debug("reconnected to source", "url", nc.ConnectedUrlRedacted()) }),
	)...)
}

// Run applies the source's changes until ctx ends, then returns nil. It
// returns an error only if the value is already running, URL is malformed,
// or the connection was closed under it. A source that is down or
// unreachable only stalls this link: Run retries forever with backoff.
func (l *Link) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer l.running.Store(false)
	nc := l.cfg.Conn
	if nc == nil {
		var err error
		if nc, err = dialSource(l.cfg.URL, l.cfg.Source, l.cfg.Dest, l.log); err != nil {
			return fmt.Errorf("link %s->%s: connect to %s: %w", l.cfg.Source, l.cfg.Dest, natsauth.Redact(l.cfg.URL), err)
		}
		l.conn.Store(nc)
		defer func() {
			nc.Close()
			l.conn.Store(nil)
		}()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("link %s->%s: jetstream: %w", l.cfg.Source, l.cfg.Dest, err)
	}
	connected := nc.StatusChanged(nats.CONNECTED)
	defer nc.RemoveStatusListener(connected)

	l.log.Info("link started", "url", natsauth.Redact(l.cfg.URL), "consumer", ConsumerName(l.cfg.Dest), "stream", StreamName(l.cfg.Source))
	defer l.log.Info("link stopped")
	bo := newBackoff()
	for {
		s := &session{l: l, js: js, nc: nc}
		err := s.run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if nc.IsClosed() {
			return fmt.Errorf("link %s->%s: %w", l.cfg.Source, l.cfg.Dest, nats.ErrConnectionClosed)
		}
		if s.progressed {
			bo.reset()
		}
		l.failed(err)
		wait := bo.next()
		if errors.Is(err, ErrStreamNotFound) {
			// The source has not published yet (regions starting
			// together): look again soon.
			wait = min(wait, time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-connected:
		}
		t.Stop()
	}
}

func (l *Link) failed(err error) {
	if err == nil {
		err = errors.New("session ended")
	}
	waitFor := ""
	switch {
	case errors.Is(err, ErrStalled): // a stall logs its own start and end
	case !l.worked && (errors.Is(err, ErrStreamNotFound) || errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrNoServers)):
		// Regions starting together: the source's server or stream is
		// not there yet.
		waitFor = "waiting for " + l.cfg.Source
		l.fails.wait(waitFor, err)
	default:
		l.fails.fail("replicating from "+l.cfg.Source, err)
	}
	l.log.Debug("session ended", "error", err)
	now := time.Now()
	l.update(func(st *LinkStatus) {
		switch {
		case waitFor == "":
			st.Waiting, st.WaitingSince = "", time.Time{}
		case st.Waiting == "":
			st.Waiting, st.WaitingSince = waitFor, now
		}
		// A wait is an error only once it lasted as long as the log
		// lets it before warning.
		if waitFor == "" || now.Sub(st.WaitingSince) >= l.fails.waitWarn {
			st.LastError, st.LastErrorAt = err.Error(), now
		}
	})
}

// session is one attempt at consuming: from checking the cursor against
// the stream to the first error. Its fields are owned by Run's goroutine.
type session struct {
	l          *Link
	js         jetstream.JetStream
	nc         *nats.Conn
	stream     jetstream.Stream
	cons       jetstream.Consumer
	cursor     uint64 // last stream sequence applied (as stored)
	consSeq    uint64 // last delivery sequence seen
	progressed bool   // something was applied or acknowledged
	ok         bool   // healthy was called
	acks       acker  // acknowledgements, deferred (linkack.go)
}

func (s *session) apiCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, apiTimeout)
}

// run runs the session until an error, or until the connection is lost.
func (s *session) run(ctx context.Context) error {
	l := s.l
	if !s.nc.IsConnected() {
		return fmt.Errorf("connect to %s: %w", natsauth.Redact(l.cfg.URL), nats.ErrDisconnected)
	}
	sctx, stop := connCtx(ctx, s.nc)
	defer stop()
	if err := s.start(sctx); err != nil {
		return withCause(ctx, sctx, err)
	}
	// The source's server and stream are there and the consumer is in
	// place: whatever fails from now on is a failure, not the start-up
	// wait for a source that has not started yet.
	l.worked = true
	return withCause(ctx, sctx, s.consume(sctx))
}

// healthy notes that the session works: it applied messages, or is idle
// with its consumer in place. A failure that was being logged ends here.
func (s *session) healthy() {
	if !s.ok {
		s.ok = true
		s.l.worked = true
		s.l.fails.ok("cursor", s.cursor)
		s.l.update(func(st *LinkStatus) {
			st.Waiting, st.WaitingSince = "", time.Time{}
			if !st.LastErrorAt.IsZero() {
				st.RecoveredAt = time.Now()
			}
		})
	}
}

// streamState returns the source stream's first and last sequences.
func (s *session) streamState(ctx context.Context) (first, last uint64, err error) {
	actx, cancel := s.apiCtx(ctx)
	defer cancel()
	name := StreamName(s.l.cfg.Source)
	if s.stream == nil {
		s.stream, err = s.js.Stream(actx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return 0, 0, fmt.Errorf("%w: %s", ErrStreamNotFound, name)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("stream %s: %w", name, err)
		}
		info := s.stream.CachedInfo()
		return info.State.FirstSeq, info.State.LastSeq, nil
	}
	info, err := s.stream.Info(actx)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, 0, fmt.Errorf("%w: %s", ErrStreamNotFound, name)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("stream %s info: %w", name, err)
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// start reads the cursor, re-syncs if the stream lost what the cursor
// needs, and makes sure the consumer delivers from cursor+1.
func (s *session) start(ctx context.Context) error {
	l := s.l
	cursor, err := l.cfg.Store.Cursor(l.cfg.Source)
	if err != nil {
		return fmt.Errorf("read cursor: %w", err)
	}
	s.setCursor(cursor)
	first, last, err := s.streamState(ctx)
	if err != nil {
		return err
	}
	recreate := false
	switch {
	case cursor > last:
		// The stream restarted its sequence: the source lost its NATS
		// data. What it held is gone; what the cursor says means nothing.
		l.log.Error("source stream is behind this region's cursor: it was re-created; re-syncing",
			"cursor", cursor, "first_seq", first, "last_seq", last)
		if err := s.resync(ctx, first); err != nil {
			return err
		}
		recreate = true
	case cursor+1 < first:
		l.log.Warn("source stream no longer holds changes this region has not applied; re-syncing",
			"cursor", cursor, "first_seq", first)
		if err := s.resync(ctx, first); err != nil {
			return err
		}
		recreate = true
	}
	return s.ensureConsumer(ctx, recreate)
}

// resync calls Resync, then moves the cursor to just before the stream's
// first message. Every message the stream dropped before the call is older
// than the snapshots Resync took, so nothing is lost.
func (s *session) resync(ctx context.Context, first uint64) error {
	l := s.l
	if l.cfg.Resync == nil {
		return fmt.Errorf("%w: cursor %d, stream first sequence %d (no resync configured)", ErrGap, s.cursor, first)
	}
	began := time.Now()
	if err := l.cfg.Resync(ctx, l.cfg.Source); err != nil {
		return fmt.Errorf("resync from %s: %w", l.cfg.Source, err)
	}
	first2, _, err := s.streamState(ctx)
	if err != nil {
		return err
	}
	first = max(first, first2, 1)
	if err := l.cfg.Store.SetCursor(l.cfg.Source, first-1); err != nil {
		return fmt.Errorf("set cursor after resync: %w", err)
	}
	s.setCursor(first - 1)
	s.progressed = true
	now := time.Now()
	l.update(func(st *LinkStatus) { st.Resyncs++; st.LastResync = now })
	l.log.Info("re-synced", "took", now.Sub(began).Round(time.Millisecond), "cursor", first-1)
	return nil
}

func (s *session) setCursor(c uint64) {
	s.cursor = c
	s.l.update(func(st *LinkStatus) { st.Cursor = c })
}

func (s *session) consumerConfig() jetstream.ConsumerConfig {
	cfg := s.l.cfg
	return jetstream.ConsumerConfig{
		Durable:       ConsumerName(cfg.Dest),
		Description:   "globaltables: region " + cfg.Dest + " applies the changes of region " + cfg.Source,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   s.cursor + 1,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		FilterSubject: StreamSubjects(cfg.Source),
		MaxAckPending: max(1000, 4*cfg.Batch),
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	}
}

// ensureConsumer makes sure the durable consumer exists and will deliver
// cursor+1 next: it (re)creates it if it is missing, if recreate is set,
// if its ack floor is ahead of the cursor (this region lost applied
// changes), or if it delivered messages past the cursor that were never
// applied (they would come back only after AckWait).
func (s *session) ensureConsumer(ctx context.Context, recreate bool) error {
	l := s.l
	name := ConsumerName(l.cfg.Dest)
	actx, cancel := s.apiCtx(ctx)
	defer cancel()
	cons, err := s.stream.Consumer(actx, name)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		l.log.Info("creating consumer", "consumer", name, "start_seq", s.cursor+1)
	case err != nil:
		return fmt.Errorf("consumer %s: %w", name, err)
	default:
		ci := cons.CachedInfo()
		why := ""
		switch {
		case recreate:
			why = "re-sync"
		case ci.AckFloor.Stream > s.cursor:
			why = "ack floor ahead of cursor"
		case ci.Delivered.Stream > s.cursor:
			why = "delivered past cursor"
		case ci.Config.AckPolicy != jetstream.AckAllPolicy || ci.Config.FilterSubject != StreamSubjects(l.cfg.Source) || len(ci.Config.FilterSubjects) > 0:
			why = "configuration differs"
		}
		if why == "" {
			s.cons, s.consSeq = cons, ci.Delivered.Consumer
			s.setPending(ci.NumPending)
			return nil
		}
		logf := l.log.Info
		if l.Status().Stall != nil {
			// Every retry at a stopped change re-creates the consumer;
			// the stall logged itself once.
			logf = l.log.Debug
		}
		logf("re-creating consumer", "consumer", name, "reason", why, "cursor", s.cursor,
			"ack_floor", ci.AckFloor.Stream, "delivered", ci.Delivered.Stream)
		if err := s.stream.DeleteConsumer(actx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("delete consumer %s: %w", name, err)
		}
	}
	cons, err = s.stream.CreateOrUpdateConsumer(actx, s.consumerConfig())
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", name, err)
	}
	s.cons, s.consSeq = cons, 0
	s.setPending(cons.CachedInfo().NumPending)
	return nil
}

func (s *session) setPending(n uint64) {
	s.l.update(func(st *LinkStatus) { st.Pending = n })
}

// consume receives messages and applies them in groups until an error.
// Messages are handed over by Consume's callback, so that the loop can
// take all that already arrived (up to Batch) without waiting for more.
func (s *session) consume(ctx context.Context) error {
	l := s.l
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan delivery, l.cfg.Batch)
	errs := make(chan error, 1)
	// Idle heartbeats from the source tell a quiet stream from a lost
	// pull request (the connection's pings find a dead peer, and a
	// reconnection re-issues the pull); the library accepts 500ms to half
	// the expiry. 15s with the default FetchWait.
	hb := min(max(l.cfg.FetchWait/2, 500*time.Millisecond), 15*time.Second)
	cc, err := s.cons.Consume(func(m jetstream.Msg) {
		d := deliver(m)
		select {
		case msgs <- d:
		case <-ctx.Done():
		}
	},
		jetstream.PullMaxMessages(l.cfg.Batch),
		jetstream.PullExpiry(l.cfg.FetchWait),
		jetstream.PullHeartbeat(hb),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			select {
			case errs <- err:
			default:
			}
		}),
	)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	defer cc.Stop()
	s.acks.sent = s.ackSent
	defer s.acks.stop()
	closed := cc.Closed()
	idle := time.NewTimer(idleInfoFirst)
	defer idle.Stop()
	group := make([]delivery, 0, l.cfg.Batch)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return fmt.Errorf("consume: %w", err)
		case <-closed:
			return errors.New("consume: stopped by the client library")
		case <-s.acks.due():
			s.acks.flush(time.Now())
		case <-idle.C:
			if err := s.refreshPending(ctx); err != nil {
				return err
			}
			s.healthy()
			idle.Reset(idleInfoEvery)
		case m := <-msgs:
			group = append(group[:0], m)
		drain:
			for len(group) < l.cfg.Batch {
				select {
				case m := <-msgs:
					group = append(group, m)
				default:
					break drain
				}
			}
			if err := s.process(ctx, group); err != nil {
				return err
			}
			s.healthy()
			clear(group)
			idle.Reset(idleInfoEvery)
		}
	}
}

// refreshPending asks for the consumer's info: its pending count, and
// whether it still exists.
func (s *session) refreshPending(ctx context.Context) error {
	actx, cancel := s.apiCtx(ctx)
	defer cancel()
	ci, err := s.cons.Info(actx)
	if err != nil {
		return fmt.Errorf("consumer info: %w", err)
	}
	s.setPending(ci.NumPending)
	return nil
}

// delivery is a message as the link's loop receives it: decoded already, on
// the client library's delivery goroutine, so that during a catch-up the
// next messages are decoded while this loop applies the previous ones
// (decoding was a ninth of the loop's time).
type delivery struct {
	msg jetstream.Msg
	ch  *store.Change // nil if err
	err error         // from DecodeChange
}

func deliver(m jetstream.Msg) delivery {
	ch, err := store.DecodeChange(m.Data())
	return delivery{msg: m, ch: ch, err: err}
}

// process applies a group of messages in order and acknowledges the last.
// Item changes are applied together, with the cursor; a control record
// splits the group: the items before it, then the record, then the cursor.
func (s *session) process(ctx context.Context, group []delivery) error {
	l := s.l
	var (
		items    []*store.Change
		pos      = s.cursor // stream sequence the group has reached
		pending  uint64
		redeliv  uint64
		undecode uint64
		rejected uint64
		last     jetstream.Msg
		prev     jetstream.Msg // the message before last
	)
	defer func() {
		l.update(func(st *LinkStatus) {
			st.Redelivered += redeliv
			st.Undecodable += undecode
			st.Rejected += rejected
		})
	}()
	for _, d := range group {
		m := d.msg
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("message metadata: %w", err)
		}
		if md.Sequence.Consumer != s.consSeq+1 {
			// A delivery was lost (a pull request's tail arrived after the
			// client gave up on it, say). Acknowledging past it would lose
			// it: apply what came before, and resume from the cursor.
			if err := s.flush(ctx, items, pos); err != nil {
				return err
			}
			s.acks.ackNow(last, time.Now())
			return fmt.Errorf("%w: delivery %d after %d (stream sequence %d)", ErrDeliveryGap, md.Sequence.Consumer, s.consSeq, md.Sequence.Stream)
		}
		s.consSeq = md.Sequence.Consumer
		pending = md.NumPending
		seq := md.Sequence.Stream
		prev, last = last, m
		if seq <= pos {
			redeliv++
			continue
		}
		if seq > pos+1 {
			// Missing sequences: deleted from the middle of the stream, or
			// dropped by its limits before we read them.
			first, _, err := s.streamState(ctx)
			if err != nil {
				return err
			}
			if first > pos+1 {
				if err := s.flush(ctx, items, pos); err != nil {
					return err
				}
				return fmt.Errorf("%w: next message is %d, cursor %d, stream starts at %d", ErrGap, seq, pos, first)
			}
			l.log.Debug("stream sequence gap (deleted messages)", "from", pos+1, "to", seq-1)
		}
		ch, err := d.ch, d.err
		if err != nil {
			undecode++
			l.log.Warn("skipping a message that does not decode", "subject", m.Subject(), "stream_seq", seq, "error", err)
			pos = seq
			continue
		}
		if err := CheckSubject(l.cfg.Source, m.Subject(), ch); err != nil {
			// A poison record: dead-lettered loudly (log, status), never
			// applied, and the link goes on with the source's own records.
			rejected++
			l.log.Error("refusing a record whose origin does not match the stream", "stream_seq", seq, "error", err)
			pos = seq
			continue
		}
		if ch.Kind == store.ChangeControl {
			if err := s.flush(ctx, items, pos); err != nil {
				return err
			}
			items = items[:0]
			if err := l.cfg.Control.ApplyControl(ctx, l.cfg.Source, ch); err != nil {
				return fmt.Errorf("apply control record %d (table %s): %w", seq, ch.Table, err)
			}
			if err := l.cfg.Store.SetCursor(l.cfg.Source, seq); err != nil {
				return fmt.Errorf("set cursor after control record: %w", err)
			}
			s.setCursor(seq)
			pos = seq
			l.recordLatency([]*store.Change{ch})
			l.update(func(st *LinkStatus) { st.Applied++ })
			continue
		}
		if err := s.admit(ctx, seq, ch); err != nil {
			// Stop at this change: apply and acknowledge what came
			// before it, neither apply nor acknowledge it.
			if ferr := s.flush(ctx, items, pos); ferr != nil {
				return ferr
			}
			s.acks.ackNow(prev, time.Now())
			return err
		}
		items = append(items, ch)
		pos = seq
	}
	if err := s.flush(ctx, items, pos); err != nil {
		return err
	}
	s.setPending(pending)
	s.acks.applied(last, len(group), time.Now())
	return nil
}

// flush applies items with the cursor pos (or only moves the cursor, if
// there are no items but skipped messages moved it).
func (s *session) flush(ctx context.Context, items []*store.Change, pos uint64) error {
	l := s.l
	if pos <= s.cursor {
		return nil
	}
	if len(items) == 0 {
		if err := l.cfg.Store.SetCursor(l.cfg.Source, pos); err != nil {
			return fmt.Errorf("set cursor: %w", err)
		}
		s.setCursor(pos)
		return nil
	}
	st, err := l.cfg.Store.Apply(ctx, l.cfg.Source, pos, injectFault(items))
	l.update(func(ls *LinkStatus) {
		ls.Applied += uint64(st.Applied)
		ls.Skipped += uint64(st.Skipped)
		ls.Duplicates += uint64(st.Duplicates)
		ls.Conflicts += uint64(st.Conflicts)
	})
	if err != nil {
		return fmt.Errorf("apply %d changes up to %d: %w", len(items), pos, err)
	}
	s.setCursor(pos)
	l.recordLatency(items)
	s.progressed = true
	return nil
}

// ackSent notes an acknowledgement sent (of a message and, the consumer
// being AckAll, every message before it). A lost one is harmless: the
// cursor decides what is applied.
func (s *session) ackSent(err error) {
	if err != nil {
		s.l.log.Debug("ack failed", "error", err)
		return
	}
	s.progressed = true
}

// recordLatency records now − CommittedAt for each change.
func (l *Link) recordLatency(cs []*store.Change) {
	now := time.Now()
	ds := make([]time.Duration, 0, len(cs))
	for _, c := range cs {
		if !c.CommittedAt.IsZero() {
			ds = append(ds, now.Sub(c.CommittedAt))
		}
	}
	if len(ds) > 0 {
		l.lat.record(now, ds...)
	}
	if o := l.cfg.Latency; o != nil {
		for _, d := range ds {
			o.Observe(d.Seconds())
		}
	}
}

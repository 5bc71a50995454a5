package replicator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/store"
)

// Defaults for PublisherConfig.
const (
	DefaultStreamMaxAge         = 24 * time.Hour
	DefaultStreamMaxBytes int64 = 1 << 30
	DefaultDuplicates           = 2 * time.Minute
	// DefaultTrimGrace is three sync intervals of the embedded server.
	DefaultTrimGrace = 3 * natsrv.DefaultSyncInterval
	// DefaultWindow is how many publishes may await their acknowledgement.
	DefaultWindow = 256
	// DefaultPublishTimeout is how long one publish waits for its
	// acknowledgement before it is retried.
	DefaultPublishTimeout = 10 * time.Second
	// DefaultRepairAfter is how long publishing fails before
	// PublisherConfig.Repair is called.
	DefaultRepairAfter = 30 * time.Second
)

const (
	// apiTimeout bounds one JetStream API request (stream and consumer
	// management, info).
	apiTimeout = 10 * time.Second
	// scanPage is how many records one backlog-counting read returns.
	scanPage = 1024
	// trimEvery spaces trims out, so that a busy publisher deletes records
	// in batches rather than one transaction per acknowledgement.
	trimEvery = 100 * time.Millisecond
	// harvestEvery is how long an acknowledgement of a publish may wait
	// before the publisher takes it, while the window has room. Waking up
	// for each one doubled the publisher's wake-ups (one per record, one
	// per acknowledgement); taken with the next record's wake-up instead,
	// they cost nothing at a steady rate, and at most one wake-up per
	// harvestEvery after the last record. Nothing waits for them but
	// trimming (TrimGrace later) and the status's Backlog and InFlight,
	// which may count them harvestEvery longer.
	harvestEvery = 20 * time.Millisecond
)

// ErrRunning is returned by Run when the same value is already running.
var ErrRunning = errors.New("replicator: already running")

// ChangeLog is the region's log of local change records, as the publisher
// drains it. *store.DB satisfies it.
type ChangeLog interface {
	// EncodedChanges is Changes as the publisher sends the records: the
	// store hands them over from memory when it can (store/handoff.go).
	EncodedChanges(afterSeq uint64, max int) ([]store.EncodedChange, error)
	// Changes returns up to max records with Seq > afterSeq, in Seq order,
	// only records already durable.
	Changes(afterSeq uint64, max int) ([]*store.Change, error)
	// TrimChanges deletes records; unknown seqs are ignored.
	TrimChanges(seqs ...uint64) error
	// WaitChanges returns a channel closed when records commit after the
	// call (take it before reading, wait on it only if nothing was new).
	WaitChanges() <-chan struct{}
}

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Region is the name of this region. Required.
	Region string
	// Log is the region's change log. Required.
	Log ChangeLog
	// Conn is a connection to the region's own NATS. Required. It should
	// reconnect forever (nats.MaxReconnects(-1)); the caller closes it,
	// after Run has returned.
	Conn *nats.Conn
	// StreamMaxAge is how long the stream keeps a record. Default 24h. A
	// region away for longer re-syncs from snapshots.
	StreamMaxAge time.Duration
	// StreamMaxBytes bounds the stream's size, in bytes; the oldest records
	// go first. Default 1 GiB.
	StreamMaxBytes int64
	// Duplicates is the stream's duplicate window: a republished record
	// with the same message ID inside it is dropped. Default 2m.
	Duplicates time.Duration
	// TrimGrace is how long after its publish was acknowledged a record is
	// deleted from the change log. Default 3s: three times the embedded
	// server's sync interval (natsrv.DefaultSyncInterval), so that a
	// trimmed record is on disk in the stream. With a server of another
	// sync interval (an external server's default is 2 minutes), set it to
	// three times that.
	TrimGrace time.Duration
	// Window is how many publishes may await their acknowledgement at once.
	// Default 256.
	Window int
	// PublishTimeout is how long a publish waits for its acknowledgement
	// before the publisher retries. Default 10s.
	PublishTimeout time.Duration
	// Replicas is how many servers of a NATS cluster hold the stream
	// (JetStream's R, 1 to 5). Default 1; 3 keeps a region publishing
	// while one server of a three-server cluster is down.
	Replicas int
	// Space, if set, says whether the disk holding the stream has room:
	// while it returns an error (a *store.DiskFullError) nothing is
	// published. The records wait in the change log, and the stream's
	// writes do not eat the space the store keeps free for Badger when both
	// share a disk (an embedded server). (*store.DB).CheckSpace fits.
	Space func() error
	// Repair, if set, is called when publishing has failed without a
	// break for RepairAfter while connected to NATS, and again at most
	// every RepairAfter while it goes on, provided Space (if set) sees
	// room. natsrv.Server.Restart fits: a stream whose file store met a
	// full disk refuses every write until it is reopened, even once space
	// is freed.
	Repair func() error
	// RepairAfter is how long publishing must fail before Repair is
	// called. Default 30s.
	RepairAfter time.Duration
	// Logger receives the publisher's logs. Default: a null logger.
	Logger hclog.Logger
}

// spaceRetry is how often a publisher paused for disk space asks again.
const spaceRetry = time.Second

func (c PublisherConfig) withDefaults() PublisherConfig {
	if c.StreamMaxAge == 0 {
		c.StreamMaxAge = DefaultStreamMaxAge
	}
	if c.StreamMaxBytes == 0 {
		c.StreamMaxBytes = DefaultStreamMaxBytes
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.TrimGrace == 0 {
		c.TrimGrace = DefaultTrimGrace
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	if c.RepairAfter == 0 {
		c.RepairAfter = DefaultRepairAfter
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	return c
}

// Validate reports whether c is usable. Zero fields that have a default are
// valid.
func (c PublisherConfig) Validate() error {
	var problems []string
	if err := ValidRegion(c.Region); err != nil {
		problems = append(problems, err.Error())
	}
	if c.Log == nil {
		problems = append(problems, "Log is required")
	}
	if c.Conn == nil {
		problems = append(problems, "Conn is required")
	}
	if c.StreamMaxAge < 0 || c.StreamMaxBytes < 0 || c.Duplicates < 0 || c.TrimGrace < 0 || c.Window < 0 || c.PublishTimeout < 0 || c.RepairAfter < 0 {
		problems = append(problems, "durations, sizes and Window must not be negative")
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		problems = append(problems, fmt.Sprintf("Replicas %d: JetStream allows 1 to 5", c.Replicas))
	}
	if c.StreamMaxAge > 0 && c.Duplicates > c.StreamMaxAge {
		problems = append(problems, fmt.Sprintf("Duplicates %s exceeds StreamMaxAge %s", c.Duplicates, c.StreamMaxAge))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: publisher: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// PublisherStatus is a snapshot of a Publisher's progress.
type PublisherStatus struct {
	Region string `json:"region"`
	// Connected is true while the stream is reachable and set up.
	Connected bool `json:"connected"`
	// Backlog counts the change records the publisher has seen in the log
	// and the stream has not acknowledged yet: read for publishing, or
	// counted ahead while the window is full or NATS is down.
	Backlog uint64 `json:"backlog"`
	// InFlight counts publishes awaiting their acknowledgement.
	InFlight int `json:"in_flight"`
	// Published counts acknowledged publishes since Run started,
	// Duplicates among them those the stream already held.
	Published  uint64 `json:"published"`
	Duplicates uint64 `json:"duplicates"`
	// Held counts records found in the stream on start and so not sent
	// again (see resume).
	Held uint64 `json:"held"`
	// Trimmed counts records deleted from the change log since Run
	// started; AwaitingTrim those acknowledged and waiting for TrimGrace.
	Trimmed      uint64 `json:"trimmed"`
	AwaitingTrim int    `json:"awaiting_trim"`
	// LastSeq is the change sequence of the last acknowledged record,
	// StreamSeq its stream sequence.
	LastSeq   uint64 `json:"last_seq"`
	StreamSeq uint64 `json:"stream_seq"`
	// LastError is the last failure (publishing, setting up the stream,
	// reading or trimming the log) and when it happened.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// StreamError is set while the stream cannot be set up or written
	// (or publishing waits for disk space), since StreamErrorSince; the
	// backlog waits in the change log and is published once it clears.
	StreamError      string    `json:"stream_error,omitempty"`
	StreamErrorSince time.Time `json:"stream_error_since,omitzero"`
	// DiskFull is true while publishing waits for disk space (see
	// PublisherConfig.Space).
	DiskFull bool `json:"disk_full,omitempty"`
}

// Publisher moves the region's change records to its stream GT_<region>,
// and trims them from the log once the stream holds them on disk.
type Publisher struct {
	cfg     PublisherConfig
	log     hclog.Logger
	fails   *failureLog
	running atomic.Bool

	mu sync.Mutex // guards st
	st PublisherStatus
}

// NewPublisher returns a publisher; Run does the work.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger.Named("publisher").With("region", cfg.Region)
	return &Publisher{
		cfg:   cfg,
		log:   log,
		fails: newFailureLog(log),
		st:    PublisherStatus{Region: cfg.Region},
	}, nil
}

// Status returns a snapshot of the publisher's progress.
func (p *Publisher) Status() PublisherStatus {
	p.mu.Lock()
	st := p.st
	p.mu.Unlock()
	st.Connected = st.Connected && p.cfg.Conn.IsConnected()
	return st
}

func (p *Publisher) update(f func(st *PublisherStatus)) {
	p.mu.Lock()
	f(&p.st)
	p.mu.Unlock()
}

// StreamConfig returns the configuration of the region's stream.
func (p *Publisher) StreamConfig() jetstream.StreamConfig { return streamConfig(p.cfg) }

func streamConfig(cfg PublisherConfig) jetstream.StreamConfig {
	// JetStream refuses a duplicate window longer than the retention; a
	// message older than the retention is gone anyway.
	dups := cfg.Duplicates
	if cfg.StreamMaxAge > 0 && dups > cfg.StreamMaxAge {
		dups = cfg.StreamMaxAge
	}
	return jetstream.StreamConfig{
		Name:        StreamName(cfg.Region),
		Description: "globaltables: change records of region " + cfg.Region,
		Subjects:    []string{StreamSubjects(cfg.Region)},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.StreamMaxAge,
		MaxBytes:    cfg.StreamMaxBytes,
		MaxMsgs:     -1,
		Duplicates:  dups,
		Replicas:    cfg.Replicas,
		AllowDirect: true,
	}
}

// Run publishes until ctx ends, then returns nil. It returns an error only
// if the value is already running or the connection was closed. While NATS
// is unreachable it retries with backoff and the region keeps writing: the
// log grows, and drains once the stream is back.
//
// On start every record still in the log is published again; the stream
// drops those it holds (same message ID inside the duplicate window).
func (p *Publisher) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)
	js, err := jetstream.New(p.cfg.Conn, jetstream.WithPublishAsyncTimeout(p.cfg.PublishTimeout))
	if err != nil {
		return fmt.Errorf("publisher %s: jetstream: %w", p.cfg.Region, err)
	}
	defer js.CleanupPublisher()
	connected := p.cfg.Conn.StatusChanged(nats.CONNECTED)
	defer p.cfg.Conn.RemoveStatusListener(connected)
	lost := p.cfg.Conn.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED)
	defer p.cfg.Conn.RemoveStatusListener(lost)

	r := &pubRun{p: p, js: js, bo: newBackoff(), timer: time.NewTimer(time.Hour)}
	defer r.timer.Stop()
	p.log.Info("publisher started", "stream", StreamName(p.cfg.Region), "window", p.cfg.Window, "trim_grace", p.cfg.TrimGrace)
	err = r.loop(ctx, connected, lost)
	p.update(func(st *PublisherStatus) { st.Connected, st.InFlight = false, 0 })
	p.log.Info("publisher stopped", "backlog", r.backlog())
	return err
}

// pubEntry is a record read from the log and not yet acknowledged.
type pubEntry struct {
	seq   uint64
	msg   *nats.Msg
	fut   jetstream.PubAckFuture // nil: not sent, or abandoned after a failure
	acked bool
}

// trimEntry is an acknowledged record waiting for its grace to pass.
type trimEntry struct {
	seq uint64
	due time.Time
}

// pubRun is the state of one Run, owned by its goroutine.
type pubRun struct {
	p  *Publisher
	js jetstream.JetStream

	// pending holds the records read from the log and not acknowledged, in
	// Seq order; at most Window of them.
	pending  []*pubEntry
	inflight int
	// readSeq is the last Seq read into pending. Records in (readSeq,
	// scanSeq] were seen by backlog-counting reads: ahead of them.
	readSeq, scanSeq, ahead uint64
	scanMore                bool // the last count read a full page

	trimQ       []trimEntry // in due order
	lastTrim    time.Time
	trimRetryAt time.Time

	ready       bool      // the stream is set up and nothing failed since
	failing     bool      // StreamError is set in the status
	failSince   time.Time // when the current failure began
	repairedAt  time.Time // when Repair was last called
	spaceWait   bool      // paused for disk space (PublisherConfig.Space)
	retryAt     time.Time // no publishing before this, after a failure
	readRetryAt time.Time // no reading the log before this, after a failure
	bo          *backoff
	timer       *time.Timer

	// resumed is set once the stream was asked what it holds; held are
	// the change sequences it held then, not sent yet (see resume).
	resumed bool
	held    map[uint64]struct{}
}

func (r *pubRun) backlog() uint64 { return uint64(len(r.pending)) + r.ahead }

func (r *pubRun) loop(ctx context.Context, connected, lost <-chan nats.Status) error {
	cfg := r.p.cfg
	for {
		if ctx.Err() != nil {
			r.trim(time.Now())
			return nil
		}
		if cfg.Conn.IsClosed() {
			return fmt.Errorf("publisher %s: %w", cfg.Region, nats.ErrConnectionClosed)
		}
		now := time.Now()
		r.harvest()
		r.trim(now)

		// Take the channel before reading, so that no commit slips
		// between the read and the wait.
		wake := cfg.Log.WaitChanges()
		if !now.Before(r.readRetryAt) {
			if err := r.read(); err != nil {
				r.readFailed(now, err)
			}
		}
		if !now.Before(r.retryAt) && r.checkSpace(now) {
			if err := r.publish(ctx); err != nil {
				if ctx.Err() == nil { // else stopping: not a failure
					r.failed(err)
				}
			} else if len(r.pending) == 0 {
				r.healthy() // else on the next acknowledgement
			}
		}
		r.publishStatus()

		// Acknowledgements are taken as they come only while the window
		// is full; otherwise on the next wake-up for new records, or
		// harvestEvery after this one (see harvestEvery).
		var okCh <-chan *jetstream.PubAck
		var errCh <-chan error
		head := r.head()
		if head != nil && len(r.pending) >= cfg.Window {
			okCh, errCh = head.fut.Ok(), head.fut.Err()
		}
		r.arm(time.Now())
		select {
		case <-ctx.Done():
		case <-wake:
		case ack := <-okCh:
			r.acked(head, ack)
		case err := <-errCh:
			r.failed(fmt.Errorf("publish %s: %w", head.msg.Header.Get(jetstream.MsgIDHeader), err))
		case <-r.timer.C:
		case <-connected:
			r.retryAt = time.Time{}
		case st := <-lost:
			// Publishes in flight will not be acknowledged; do not wait
			// for their timeout.
			if r.ready || r.inflight > 0 {
				r.failed(fmt.Errorf("connection to NATS lost (%s): %w", st, nats.ErrDisconnected))
			}
		}
	}
}

// arm sets the timer to the next trim or retry, or to now if the backlog
// count is not done.
func (r *pubRun) arm(now time.Time) {
	var next time.Time
	if len(r.trimQ) > 0 {
		next = r.trimQ[0].due
		next = later(next, r.lastTrim.Add(trimEvery))
		next = later(next, r.trimRetryAt)
	}
	for _, t := range []time.Time{r.retryAt, r.readRetryAt} {
		if now.Before(t) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	d := time.Hour
	if !next.IsZero() {
		d = max(next.Sub(now), time.Millisecond)
	}
	if r.inflight > 0 {
		d = min(d, harvestEvery)
	}
	if r.scanMore && !now.Before(r.readRetryAt) {
		// More backlog to count: go round again at once, taking any
		// acknowledgement that is ready first.
		d = 0
	}
	r.timer.Reset(d)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// publish sets up the stream if needed and sends what it can.
func (r *pubRun) publish(ctx context.Context) error {
	if !r.ready {
		if err := r.setup(ctx); err != nil {
			return err
		}
	}
	return r.send()
}

// setup creates or updates the stream.
func (r *pubRun) setup(ctx context.Context) error {
	cfg := r.p.cfg
	if !cfg.Conn.IsConnected() {
		return fmt.Errorf("set up stream %s: %w", StreamName(cfg.Region), nats.ErrDisconnected)
	}
	cctx, stop := connCtx(ctx, cfg.Conn)
	defer stop()
	actx, cancel := context.WithTimeout(cctx, apiTimeout)
	defer cancel()
	stream, err := r.ensureStream(actx)
	if err != nil {
		return fmt.Errorf("set up stream %s: %w", StreamName(cfg.Region), withCause(ctx, cctx, err))
	}
	r.resume(cctx, stream)
	r.ready = true
	r.p.update(func(st *PublisherStatus) { st.Connected = true })
	return nil
}

// read fills the window from the log and, when the window is full, counts
// the backlog further ahead.
func (r *pubRun) read() error {
	cfg := r.p.cfg
	if room := cfg.Window - len(r.pending); room > 0 {
		cs, err := cfg.Log.EncodedChanges(r.readSeq, room)
		if err != nil {
			return fmt.Errorf("read change log: %w", err)
		}
		for i := range cs {
			c := &cs[i]
			if c.Seq <= r.scanSeq {
				r.ahead--
			} else {
				r.scanSeq = c.Seq
			}
			r.pending = append(r.pending, &pubEntry{seq: c.Seq, msg: r.message(c)})
			r.readSeq = c.Seq
		}
	}
	r.scanMore = false
	if len(r.pending) >= cfg.Window {
		cs, err := cfg.Log.Changes(max(r.scanSeq, r.readSeq), scanPage)
		if err != nil {
			return fmt.Errorf("read change log: %w", err)
		}
		for _, c := range cs {
			r.ahead++
			r.scanSeq = c.Seq
		}
		r.scanMore = len(cs) == scanPage
	}
	return nil
}

// message builds the stream message of c. Its data is c's encoding as
// is: the store's, shared and never modified.
func (r *pubRun) message(c *store.EncodedChange) *nats.Msg {
	m := nats.NewMsg(ChangeSubject(r.p.cfg.Region, &store.Change{Kind: c.Kind, Table: c.Table}))
	m.Header.Set(jetstream.MsgIDHeader, MsgID(r.p.cfg.Region, c.Seq))
	m.Data = c.Data
	return m
}

// send publishes the pending records not in flight, in order. It does not
// publish while disconnected: the client would buffer the messages and
// their acknowledgements would only time out.
func (r *pubRun) send() error {
	if !r.p.cfg.Conn.IsConnected() {
		return fmt.Errorf("publish: %w", nats.ErrDisconnected)
	}
	defer r.dropAcked()
	for _, e := range r.pending {
		if e.acked || e.fut != nil || r.skipHeld(e) {
			continue
		}
		fut, err := r.js.PublishMsgAsync(e.msg)
		if err != nil {
			return fmt.Errorf("publish %s: %w", e.msg.Header.Get(jetstream.MsgIDHeader), err)
		}
		e.fut = fut
		r.inflight++
	}
	return nil
}

// head returns the oldest record in flight.
func (r *pubRun) head() *pubEntry {
	for _, e := range r.pending {
		if e.fut != nil {
			return e
		}
	}
	return nil
}

// healthy notes that publishing works; a failure that was being logged
// ends here.
func (r *pubRun) healthy() {
	r.bo.reset()
	r.p.fails.ok("stream", StreamName(r.p.cfg.Region))
	if r.failing {
		r.failing = false
		r.p.update(func(st *PublisherStatus) { st.StreamError, st.StreamErrorSince = "", time.Time{} })
	}
}

// streamFailing records err as the stream's current failure in the status,
// keeping the time it started.
func (r *pubRun) streamFailing(now time.Time, err error) {
	first := !r.failing
	r.failing = true
	if first {
		r.failSince = now
	}
	r.p.update(func(st *PublisherStatus) {
		st.StreamError = err.Error()
		if first {
			st.StreamErrorSince = now
		}
	})
}

// repair calls PublisherConfig.Repair once publishing has failed for
// RepairAfter while connected, and not more often than that.
func (r *pubRun) repair(now time.Time) {
	cfg := r.p.cfg
	if cfg.Repair == nil || r.spaceWait || !cfg.Conn.IsConnected() ||
		now.Sub(r.failSince) < cfg.RepairAfter || now.Sub(r.repairedAt) < cfg.RepairAfter {
		return
	}
	if cfg.Space != nil && cfg.Space() != nil {
		return // a restart on a full disk could fail to bring JetStream back
	}
	r.repairedAt = now
	r.p.log.Warn("publishing has kept failing: restarting the stream's store", "since", r.failSince, "backlog", r.backlog())
	if err := cfg.Repair(); err != nil {
		r.p.log.Error("restarting the stream's store failed", "error", err)
	}
}

// checkSpace asks PublisherConfig.Space whether publishing may go on. A
// pause is logged once when it starts and once when it ends, whatever the
// number of checks in between.
func (r *pubRun) checkSpace(now time.Time) bool {
	if r.p.cfg.Space == nil {
		return true
	}
	err := r.p.cfg.Space()
	if err == nil {
		if r.spaceWait {
			r.spaceWait = false
			r.p.log.Info("disk space recovered: publishing resumes", "backlog", r.backlog())
			r.p.update(func(st *PublisherStatus) { st.DiskFull = false })
			// The stream is set up again and the backlog published; the
			// failure clears with the first acknowledgement.
			r.ready = false
		}
		return true
	}
	if !r.spaceWait {
		r.spaceWait = true
		r.p.log.Error("disk full: publishing paused until space is freed; the backlog waits in the change log",
			"error", err, "backlog", r.backlog())
	}
	r.retryAt = now.Add(spaceRetry)
	r.streamFailing(now, fmt.Errorf("publishing paused: %w", err))
	r.p.update(func(st *PublisherStatus) {
		st.DiskFull, st.Connected = true, false
		st.LastError, st.LastErrorAt = err.Error(), now
	})
	return false
}

// acked records the acknowledgement of e.
func (r *pubRun) acked(e *pubEntry, ack *jetstream.PubAck) {
	r.healthy()
	now := time.Now()
	e.acked, e.fut = true, nil
	r.inflight--
	r.trimQ = append(r.trimQ, trimEntry{seq: e.seq, due: now.Add(r.p.cfg.TrimGrace)})
	r.p.update(func(st *PublisherStatus) {
		st.Published++
		if ack.Duplicate {
			st.Duplicates++
		}
		if e.seq > st.LastSeq {
			st.LastSeq, st.StreamSeq = e.seq, ack.Sequence
		}
	})
	r.dropAcked()
}

// dropAcked removes the acknowledged records at the head of pending.
func (r *pubRun) dropAcked() {
	n := 0
	for n < len(r.pending) && r.pending[n].acked {
		n++
	}
	if n > 0 {
		clear(r.pending[:n])
		r.pending = r.pending[n:]
	}
}

// harvest takes the acknowledgements that already arrived, in order,
// stopping at the first publish still waiting, or at a failed one (which
// fails the publisher: everything in flight is sent again).
func (r *pubRun) harvest() {
	for {
		e := r.head()
		if e == nil {
			return
		}
		select {
		case ack := <-e.fut.Ok():
			r.acked(e, ack)
		case err := <-e.fut.Err():
			r.failed(fmt.Errorf("publish %s: %w", e.msg.Header.Get(jetstream.MsgIDHeader), err))
			return
		default:
			return
		}
	}
}

// failed abandons every publish in flight (they are sent again, and
// deduplicated, once the stream is back), and backs off: the stream is set
// up again first, in case it was deleted.
func (r *pubRun) failed(err error) {
	for _, e := range r.pending {
		e.fut = nil
	}
	r.inflight = 0
	r.ready = false
	r.retryAt = time.Now().Add(r.bo.next())
	r.p.fails.fail("publishing", err, "backlog", r.backlog())
	now := time.Now()
	r.streamFailing(now, err)
	r.repair(now)
	r.p.update(func(st *PublisherStatus) {
		st.Connected = false
		st.LastError, st.LastErrorAt = err.Error(), time.Now()
	})
}

// readFailed backs reading off for a second.
func (r *pubRun) readFailed(now time.Time, err error) {
	r.readRetryAt = now.Add(time.Second)
	r.p.fails.fail("reading the change log", err)
	r.p.update(func(st *PublisherStatus) { st.LastError, st.LastErrorAt = err.Error(), now })
}

// trim deletes the records whose grace has passed.
func (r *pubRun) trim(now time.Time) {
	if len(r.trimQ) == 0 || now.Before(r.trimQ[0].due) || now.Before(r.lastTrim.Add(trimEvery)) || now.Before(r.trimRetryAt) {
		return
	}
	n := 0
	for n < len(r.trimQ) && !now.Before(r.trimQ[n].due) {
		n++
	}
	seqs := make([]uint64, n)
	for i, t := range r.trimQ[:n] {
		seqs[i] = t.seq
	}
	r.lastTrim = now
	if err := r.p.cfg.Log.TrimChanges(seqs...); err != nil {
		r.trimRetryAt = now.Add(time.Second)
		r.p.fails.fail("trimming the change log", err)
		r.p.update(func(st *PublisherStatus) { st.LastError, st.LastErrorAt = err.Error(), now })
		return
	}
	r.trimQ = r.trimQ[n:]
	r.p.update(func(st *PublisherStatus) { st.Trimmed += uint64(n) })
}

func (r *pubRun) publishStatus() {
	r.p.update(func(st *PublisherStatus) {
		st.Backlog = r.backlog()
		st.InFlight = r.inflight
		st.AwaitingTrim = len(r.trimQ)
		st.Connected = r.ready
	})
}

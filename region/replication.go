package region

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/replicator/shaper"
	"github.com/globaltables/globaltables/store"
)

// Defaults for ReplicationConfig.
const (
	DefaultSyncInterval     = time.Second
	DefaultStreamMaxAge     = 24 * time.Hour
	DefaultStreamMaxBytes   = 1 << 30
	DefaultTombstoneHorizon = 48 * time.Hour
)

// recentError is how long a link's last error stays in the status after
// the link recovered from it.
const recentError = time.Minute

// replication is the region's part in replication: the NATS server holding
// its stream (embedded, or a connection to an external one), the
// replicator, and the work that joins the region to global tables: filling a
// new replica, re-syncing after a long absence, purging old tombstones.
type replication struct {
	cfg ReplicationConfig
	log hclog.Logger
	db  *store.DB
	api *api.Server
	// clock is the region's clock; its Admit stops links at changes too
	// far ahead of it.
	clock *conflict.HLC

	srv   *natsrv.Server // nil with an external NATS
	nc    *nats.Conn
	rep   *replicator.Replicator
	shape *shaper.Shaper // nil with NoShaper
	self  string
	// latency, if set, gives each link its latency observer (metrics).
	latency func(source string) replicator.Observer

	// run and wg own the goroutines started by hooks (catch-ups,
	// re-syncs) while Run is running.
	mu        sync.Mutex // guards runCtx, joins, resyncing, rebuilds
	runCtx    context.Context
	wg        sync.WaitGroup
	joins     map[string]*join // by table: new replicas being filled
	resyncing map[string]bool
	rebuilds  []RebuildReport // the last maxRebuildReports, oldest first
}

func (c *ReplicationConfig) withDefaults() {
	if c.SyncInterval <= 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.StreamMaxAge <= 0 {
		c.StreamMaxAge = DefaultStreamMaxAge
	}
	if c.StreamMaxBytes <= 0 {
		c.StreamMaxBytes = DefaultStreamMaxBytes
	}
	if c.TombstoneHorizon <= 0 {
		c.TombstoneHorizon = DefaultTombstoneHorizon
	}
}

// startReplication starts the NATS server (or connects to the external one)
// and builds the replicator. Nothing runs until run.
func startReplication(name, dataDir string, cfg ReplicationConfig, db *store.DB, clk *conflict.HLC, log hclog.Logger) (*replication, error) {
	cfg.withDefaults()
	r := &replication{cfg: cfg, log: log.Named("replication"), db: db, self: name, clock: clk,
		joins: map[string]*join{}, resyncing: map[string]bool{}}
	if id := cfg.Client.Identity; id != nil {
		r.log.Info("NATS identity", "public_key", id.Public)
	}
	url := cfg.NATSURL
	if url == "" {
		scfg, missing := r.serverConfig(name, filepath.Join(dataDir, "nats"))
		if len(scfg.Users) == 0 {
			return nil, errNoUsers
		}
		if len(missing) > 0 {
			r.log.Warn("peers' NATS keys not known yet: they cannot read this region's stream until they are (give nats_nkey in their region blocks, or start them once on this host)",
				"peers", missing)
		}
		srv, err := natsrv.StartServer(scfg)
		if err != nil {
			return nil, fmt.Errorf("start embedded NATS on %s: %w", cfg.NATSListen, err)
		}
		r.srv = srv
		url = srv.ClientURL()
	}
	opts, err := r.ownOptions()
	if err != nil {
		r.stop()
		return nil, err
	}
	if r.srv != nil {
		opts = append(opts, nats.InProcessServer(inProcess{r.srv}))
	}
	nc, err := nats.Connect(url, append(natsrv.ClientOptions(name+"-publisher"), opts...)...)
	if err != nil {
		r.stop()
		return nil, fmt.Errorf("connect to NATS at %s: %w", natsauth.Redact(url), err)
	}
	r.nc = nc
	return r, nil
}

// inProcess connects the region's own connection to its embedded server
// in memory rather than over loopback TCP. Every record the region
// publishes crosses that connection twice (the publish, the stream's
// acknowledgement), and on a small VM each socket read, write and poll
// for it cost 10 µs or more: in memory they are none (issue 12). The
// server is asked for at every (re)connection, so a Restart (repair after
// a full disk) is followed.
type inProcess struct{ srv *natsrv.Server }

func (p inProcess) InProcessConn() (net.Conn, error) { return p.srv.NATS().InProcessConn() }

// wire builds the replicator once the API server exists (the API applies
// control records; the replication filters item changes with it).
func (r *replication) wire(name string, srv *api.Server) error {
	r.api = srv
	if !r.cfg.NoShaper {
		// Every inbound link goes through shaping proxies, unshaped unless
		// the topology or a later command says otherwise.
		r.shape = shaper.New(r.log.Named("shaper"))
	}
	peerOpts := map[string][]nats.Option{}
	for peer, url := range r.cfg.Peers {
		opts, err := r.peerOptions(peer, url)
		if err != nil {
			return err
		}
		peerOpts[peer] = opts
		if sh, ok := r.cfg.Links[peer]; ok && r.shape != nil {
			if err := r.shape.Set(linkName(peer, name), sh); err != nil {
				return fmt.Errorf("shape link from %s: %w", peer, err)
			}
		}
		if sh, ok := r.cfg.OutLinks[peer]; ok && r.shape != nil {
			if err := r.shape.SetReturn(linkName(peer, name), sh); err != nil {
				return fmt.Errorf("shape link to %s: %w", peer, err)
			}
		}
	}
	rep, err := replicator.New(replicator.Config{
		Region:         name,
		Conn:           r.nc,
		Peers:          r.cfg.Peers,
		PeerOptions:    peerOpts,
		StreamReplicas: r.cfg.StreamReplicas,
		Store:          &replicatedStore{DB: r.db, api: srv, region: name, horizon: r.cfg.TombstoneHorizon, log: r.log},
		Control:        srv,
		Resync:         r.resync,
		Admit:          r.clock.Admit,
		Latency:        r.latency,
		StreamMaxAge:   r.cfg.StreamMaxAge,
		StreamMaxBytes: r.cfg.StreamMaxBytes,
		TrimGrace:      r.trimGrace(),
		Space:          r.streamSpace(),
		Repair:         r.streamRepair(),
		Logger:         r.log,
	})
	if err != nil {
		return err
	}
	r.rep = rep
	return nil
}

// streamSpace is the publisher's disk check: an embedded server's stream
// shares the store's disk, so publishing waits while the store refuses
// writes, rather than eat the space the store keeps free for Badger. An
// external server's disk is its own business.
func (r *replication) streamSpace() func() error {
	if r.srv == nil {
		return nil
	}
	return r.db.CheckSpace
}

// streamRepair restarts an embedded server whose stream keeps failing: a
// JetStream file store that met a full disk refuses writes until reopened.
func (r *replication) streamRepair() func() error {
	if r.srv == nil {
		return nil
	}
	return r.srv.Restart
}

// externalSyncInterval is nats-server's default JetStream fsync interval,
// assumed for an external server.
const externalSyncInterval = 2 * time.Minute

// trimGrace is how long a change record stays in the log after the stream
// acknowledged it: three sync intervals of the server holding the stream,
// so that a record is only trimmed once the stream has it on disk.
func (r *replication) trimGrace() time.Duration {
	if r.cfg.NATSURL != "" {
		return 3 * externalSyncInterval
	}
	return 3 * r.cfg.SyncInterval
}

// url is the NATS URL of this region's stream.
func (r *replication) url() string {
	if r.srv != nil {
		return r.srv.ClientURL()
	}
	return r.cfg.NATSURL
}

// run runs the replicator and the tombstone purge until ctx ends, and waits
// for every goroutine started by hooks.
func (r *replication) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	r.runCtx = ctx
	r.mu.Unlock()
	r.spawn(r.purgeLoop)
	if r.srv != nil && len(r.srv.Config().Users) < len(r.cfg.Keys)+len(r.cfg.KeyDirs) {
		r.spawn(r.watchKeys)
	}
	r.resumeJoins()
	err := r.rep.Run(ctx)
	cancel()
	r.mu.Lock()
	r.runCtx = nil
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

// spawn runs fn in a goroutine owned by run, if run is running.
func (r *replication) spawn(fn func(ctx context.Context)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runCtx == nil || r.runCtx.Err() != nil {
		return false
	}
	ctx := r.runCtx
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn(ctx)
	}()
	return true
}

// linkName names the directed link from source to dest.
func linkName(source, dest string) string { return source + "->" + dest }

// setLink shapes the inbound link from source.
func (r *replication) setLink(source string, sh shaper.Shape) error {
	if r.shape == nil {
		return errors.New("this region runs without link shaping")
	}
	return r.shape.Set(linkName(source, r.self), sh)
}

// links returns the inbound links' shapes, by source.
func (r *replication) links() map[string]shaper.Shape {
	out := map[string]shaper.Shape{}
	if r.shape == nil {
		return out
	}
	for peer := range r.cfg.Peers {
		sh, err := r.shape.Shape(linkName(peer, r.self))
		if err == nil {
			out[peer] = sh
		}
	}
	return out
}

// stop closes the connection and shuts the embedded server down.
func (r *replication) stop() {
	if r.shape != nil {
		r.shape.Close()
	}
	if r.nc != nil {
		r.nc.Close()
	}
	if r.srv != nil {
		r.srv.Shutdown()
	}
}

// peersOf lists the other regions holding a replica of table.
func (r *replication) peersOf(table string) []string {
	var out []string
	for peer := range r.cfg.Peers {
		if r.api.ReplicatesFrom(table, peer) {
			out = append(out, peer)
		}
	}
	sort.Strings(out)
	return out
}

// resync is the links' hook for a source whose stream no longer holds the
// changes this region has not applied (it was away longer than the
// retention): copy every table shared with the source from its snapshot.
func (r *replication) resync(ctx context.Context, source string) error {
	r.mu.Lock()
	r.resyncing[source] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.resyncing, source)
		r.mu.Unlock()
	}()
	conn := r.rep.Conn(source)
	if conn == nil {
		return fmt.Errorf("no connection to %s", source)
	}
	r.log.Warn("re-syncing from a snapshot: the source's stream no longer holds changes this region has not applied",
		"source", source)
	// First the table definitions: the stream may have dropped the control
	// record that made this region a replica of a table, or changed its
	// settings. A table this region joins this way is filled by its own
	// catch-up.
	defs, err := replicator.FetchControls(ctx, conn, source)
	if err != nil {
		return err
	}
	for _, d := range defs {
		if err := r.api.ApplyControl(ctx, source, d); err != nil {
			return fmt.Errorf("apply %s's definition of %s: %w", source, d.Table, err)
		}
	}
	tables, err := r.db.Tables()
	if err != nil {
		return err
	}
	for _, t := range tables {
		if !r.api.ReplicatesFrom(t.Name, source) {
			continue
		}
		rep, err := r.rebuildTable(ctx, conn, source, t.Name)
		if err != nil {
			return fmt.Errorf("re-sync %s from %s: %w", t.Name, source, err)
		}
		r.logRebuild(rep)
	}
	return nil
}

// purgeEvery is how often purgeLoop runs: eight times per horizon, at most
// hourly, and at least a millisecond apart (validation takes any positive
// horizon, and a ticker's period must be positive).
func purgeEvery(horizon time.Duration) time.Duration {
	return max(min(horizon/8, time.Hour), time.Millisecond)
}

// purgeLoop deletes tombstones older than the horizon, a few times per
// horizon.
func (r *replication) purgeLoop(ctx context.Context) {
	t := time.NewTicker(purgeEvery(r.cfg.TombstoneHorizon))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := r.db.PurgeTombstones(ctx, time.Now().Add(-r.cfg.TombstoneHorizon))
		if err != nil && ctx.Err() == nil {
			r.log.Warn("tombstone purge failed", "error", err)
		} else if n > 0 {
			r.log.Debug("tombstones purged", "count", n)
		}
	}
}

// linkDown reports whether replication from peer is disconnected, and
// since when.
func (r *replication) linkDown(peer string) (time.Time, bool) {
	if r.rep == nil || r.rep.Link(peer) == nil {
		return time.Time{}, false
	}
	st := r.rep.Link(peer).Status()
	if st.Connected {
		return time.Time{}, false
	}
	if st.LastErrorAt.IsZero() {
		// Waiting for the source since start: not an error (yet).
		return st.WaitingSince, true
	}
	return st.LastErrorAt, true
}

// status fills the replication part of the region's status.
func (r *replication) status(st *Status) {
	rs := r.rep.Status()
	st.NATS = natsauth.Redact(r.url())
	st.Publisher = &PublisherStatus{Connected: rs.Publisher.Connected, Backlog: rs.Publisher.Backlog,
		Published: rs.Publisher.Published, Held: rs.Publisher.Held, LastError: rs.Publisher.LastError,
		StreamError: rs.Publisher.StreamError, StreamErrorSince: rs.Publisher.StreamErrorSince, DiskFull: rs.Publisher.DiskFull}
	shapes := r.links()
	for _, l := range rs.Links {
		ls := LinkStatus{
			Source: l.Source, Dest: l.Dest, Connected: l.Connected, Cursor: l.Cursor,
			Applied: l.Applied, Conflicts: l.Conflicts, Undecodable: l.Undecodable, Rejected: l.Rejected,
			P50Ms: ms(l.P50), P99Ms: ms(l.P99), MaxMs: ms(l.Max),
			P50AllMs: ms(l.P50All), P99AllMs: ms(l.P99All), MaxAllMs: ms(l.MaxAll),
			Resyncs: l.Resyncs, LastResync: l.LastResync, Waiting: l.Waiting, WaitingSince: l.WaitingSince,
			Shape: shapes[l.Source].String(), Stall: l.Stall, Stalls: l.Stalls,
		}
		if l.Connected {
			ls.Pending = &l.Pending
		}
		ls.setLastError(l, time.Now())
		st.Links = append(st.Links, ls)
	}
	for _, o := range r.rep.Outbound(context.Background()) {
		ob := OutboundStatus{Dest: o.Dest, LastSeq: o.LastSeq, AckFloor: o.AckFloor, Unknown: o.Unknown}
		if o.Known {
			ob.Pending = &o.Pending
		}
		st.Outbound = append(st.Outbound, ob)
	}
	r.mu.Lock()
	for s := range r.resyncing {
		st.Resyncing = append(st.Resyncing, s)
	}
	st.Rebuilds = append([]RebuildReport(nil), r.rebuilds...)
	r.mu.Unlock()
	sort.Strings(st.Resyncing)
	r.joinStatus(st)
}

// replicatedStore is the store as the replicator sees it: item changes of
// tables that this region and the source do not both replicate are dropped
// before they are applied, so two regions' unrelated tables that share a
// name stay separate.
type replicatedStore struct {
	*store.DB
	api     *api.Server
	region  string
	horizon time.Duration
	log     hclog.Logger
}

// ExportControls serves the API's table definitions to re-syncing peers.
func (s *replicatedStore) ExportControls() ([]*store.Change, error) { return s.api.ExportControls() }

// Apply applies the changes of replicated tables and records the cursor.
func (s *replicatedStore) Apply(ctx context.Context, source string, cursor uint64, changes []*store.Change) (store.ApplyStats, error) {
	kept := changes[:0:0]
	for _, ch := range changes {
		if ch.Kind == store.ChangeItem && s.api.ReplicatesFrom(ch.Table, source) {
			kept = append(kept, ch)
		}
	}
	kept, forgotten, err := s.dropForgotten(source, kept)
	if err != nil {
		return store.ApplyStats{}, err
	}
	if forgotten > 0 {
		s.log.Info("dropped old writes a peer republished: this region received them before and has deleted them since", "source", source, "count", forgotten)
	}
	stats, err := s.DB.Apply(ctx, source, cursor, kept)
	stats.Skipped += len(changes) - len(kept)
	return stats, err
}

// retry runs fn until it succeeds or ctx ends, with capped exponential
// backoff and jitter; a failure is logged once per streak, its end once.
func retry(ctx context.Context, log hclog.Logger, what string, fn func() error) {
	delay := 200 * time.Millisecond
	failing := false
	for {
		err := fn()
		if err == nil {
			if failing {
				log.Info("recovered", "task", what)
			}
			return
		}
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return
		}
		if !failing {
			log.Warn("failed; retrying", "task", what, "error", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay/2 + rand.N(delay)):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

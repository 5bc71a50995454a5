package region

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/api/sigv4"
	"github.com/globaltables/globaltables/region/clock"
	"github.com/globaltables/globaltables/region/listener"
	"github.com/globaltables/globaltables/region/metrics"
	"github.com/globaltables/globaltables/region/trigger"
	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/replicator/shaper"
	"github.com/globaltables/globaltables/store"
)

// Defaults for Config.
const (
	// DefaultTTLInterval is how often the TTL sweeper looks for expired
	// items. DynamoDB deletes them within a few days; a short interval makes
	// the behaviour observable in experiments.
	DefaultTTLInterval = 10 * time.Second
	// DefaultShutdownTimeout bounds how long Run waits for in-flight
	// requests when it stops.
	DefaultShutdownTimeout = 10 * time.Second
)

// Config configures a Region.
type Config struct {
	// Name is the region's name, e.g. "us-east-1". Required.
	Name string
	// Listen is the host:port the DynamoDB endpoint listens on. Required;
	// port 0 picks a free port (see Region.Addr).
	Listen string
	// DataDir is the region's data folder. Required.
	DataDir string
	// Logger is the parent logger; default: a null logger.
	Logger hclog.Logger
	// TTLInterval is how often expired items are swept. Default
	// DefaultTTLInterval; negative disables the sweeper.
	TTLInterval time.Duration
	// StreamShardPeriod and StreamRetention are the store's (DynamoDB
	// Streams shard roll-over and record retention); 0: its defaults.
	StreamShardPeriod, StreamRetention time.Duration
	// DiskReserve is the free disk space, in bytes, below which the
	// region refuses writes (500 InternalServerError naming the cause)
	// instead of letting Badger fault on a full disk, and opens read-only
	// at start. Default store.DefaultDiskReserve(MemTableSize); negative
	// disables the check.
	DiskReserve int64
	// MemTableSize is the size of one Badger memtable, in bytes; the
	// default reserve grows with it. Default store.DefaultMemTableSize.
	MemTableSize int64
	// BlockCacheSize is the size of Badger's block cache, in bytes.
	// Default store.DefaultBlockCacheSize.
	BlockCacheSize int64
	// NoSync turns off the fsync of every commit. Faster, and loses
	// acknowledged writes when the machine (not just the process) crashes.
	NoSync bool
	// Now is the region's wall clock. Default: the machine's clock, skewed
	// by ClockOffset and ClockDriftPPM (which then can change at run time).
	Now func() time.Time
	// ClockOffset and ClockDriftPPM skew the region's clock, for
	// experiments: it runs ClockOffset ahead (behind if negative) and gains
	// ClockDriftPPM microseconds per second. Both are bounded: see
	// clock.Check.
	ClockOffset   time.Duration
	ClockDriftPPM float64
	// MaxClockSkew bounds how far a version may be ahead of this region's
	// clock: a remote change further ahead stops its link (it is not
	// absorbed into the clock), and a skew beyond it is refused. Default
	// clock.DefaultMaxSkew (5m). See docs/replication.md, "Bounded clock".
	MaxClockSkew time.Duration
	// MaxConnections caps the endpoint's concurrent connections; a
	// connection over the cap is answered 503 and closed. Default
	// listener.DefaultMaxConnections, lowered to half the open-file limit
	// if that is less.
	MaxConnections int
	// IdleTimeout closes a connection that sends nothing for that long,
	// before its first request or between requests (it also bounds the
	// reading of one request). Default api.DefaultIdleTimeout (2m).
	IdleTimeout time.Duration
	// Pprof serves Go's profiling endpoints under /debug/pprof/ on the
	// DynamoDB endpoint.
	Pprof bool
	// OpenMetrics serves GET /metrics to anyone who reaches the endpoint,
	// without the control guard's Host check and credentials (for a
	// Prometheus in another container). By default /metrics is guarded like
	// /_globaltables/status: see docs/metrics.md.
	OpenMetrics bool
	// Replication connects the region to the other regions of its
	// topology; nil runs the region alone.
	Replication *ReplicationConfig
	// BackfillRate caps each index backfill, in rows read per second; 0
	// (the default) is unlimited.
	BackfillRate int
	// ClientListen, if set, is a second endpoint, host:port, in front of
	// the region's own through a shaping proxy: clients that use it see
	// the latency and cuts set on the link named "client", as an
	// application far from the region would.
	ClientListen string
	// Credentials, if any, are the access keys the region accepts: every
	// DynamoDB request must then be signed with one of them (SigV4), and
	// they authorize calls to the control endpoints. None: the API accepts
	// any request, signed or not.
	Credentials []sigv4.Credential
	// TLSCertFile and TLSKeyFile, if set, are the PEM certificate and key
	// the endpoint serves HTTPS with; unset, it serves plain HTTP.
	TLSCertFile string
	TLSKeyFile  string
	// TransientStatusDelay is how long tables and indexes show CREATING,
	// UPDATING or DELETING after a change, as DynamoDB Local's
	// -delayTransientStatuses; default 0, changes show at once.
	TransientStatusDelay time.Duration
	// Triggers are the local triggers the topology defines for this
	// region (see package trigger); more are added at run time through
	// TriggersPath.
	Triggers []trigger.Spec
}

// ReplicationConfig is how a region takes part in replication.
type ReplicationConfig struct {
	// Regions are all the regions of the topology, this one included.
	Regions []string
	// Peers maps every other region to the NATS URL its stream is read
	// from.
	Peers map[string]string
	// NATSListen is the host:port of this region's embedded NATS server.
	NATSListen string
	// NATSURL is an external NATS server holding this region's stream,
	// used instead of an embedded one.
	NATSURL string
	// GlobalByDefault makes every new table global across all regions.
	GlobalByDefault bool
	// SyncInterval is the embedded NATS server's fsync interval. Default 1s.
	SyncInterval time.Duration
	// StreamMaxAge and StreamMaxBytes bound the region's stream. Defaults
	// 24h and 1 GiB.
	StreamMaxAge   time.Duration
	StreamMaxBytes int64
	// TombstoneHorizon is how long tombstones are kept. Default 48h.
	TombstoneHorizon time.Duration
	// Links are the initial shapes of inbound links, by source region; a
	// missing source starts unshaped.
	Links map[string]shaper.Shape
	// OutLinks are the initial shapes of outbound links, by destination
	// region: this region's requests to the destination take their
	// latency, jitter, bandwidth and loss (OutLinksPath). A missing
	// destination starts unshaped.
	OutLinks map[string]shaper.Shape
	// NoShaper connects the inbound links to the sources directly instead
	// of through the shaping proxies, for measuring the shaper's cost.
	NoShaper bool
	// Client is how this region connects to its own NATS (identity, TLS);
	// PeerClients how it connects to each peer's.
	Client      natsauth.Client
	PeerClients map[string]natsauth.Client
	// Keys are the public nkeys of the regions whose key the topology
	// gives (this one's included), KeyDirs the data folders to read the
	// others' from (natsauth.ReadPublic) once they exist: together the
	// users of the embedded server. Unused with NATSURL.
	Keys    map[string]string
	KeyDirs map[string]string
	// StreamReplicas is how many servers of the region's NATS cluster
	// hold its stream. Default 1.
	StreamReplicas int
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("region name is required"))
	}
	if c.Listen == "" {
		errs = append(errs, errors.New("listen address is required"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data folder is required"))
	}
	if c.MaxClockSkew < 0 {
		errs = append(errs, errors.New("max clock skew must not be negative"))
	}
	if c.MaxConnections < 0 {
		errs = append(errs, errors.New("max connections must not be negative"))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, errors.New("idle timeout must not be negative"))
	}
	if err := clock.Check(c.ClockOffset, c.ClockDriftPPM, c.maxClockSkew()); err != nil {
		errs = append(errs, err)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("TLS needs both a certificate and a key file"))
	}
	return errors.Join(errs...)
}

// maxClockSkew returns MaxClockSkew or its default.
func (c Config) maxClockSkew() time.Duration {
	if c.MaxClockSkew == 0 {
		return clock.DefaultMaxSkew
	}
	return c.MaxClockSkew
}

// Region is one running region.
type Region struct {
	cfg   Config
	log   hclog.Logger
	clock *conflict.HLC
	db    *store.DB
	api   *api.Server
	ln    net.Listener
	tls   bool // the endpoint serves HTTPS
	// maxConns is the effective connection cap (Config.MaxConnections
	// after ConnLimit).
	maxConns int
	// guard protects the control endpoints; auth checks API requests'
	// signatures (nil without credentials).
	guard *controlGuard
	auth  *sigv4.Verifier
	repl  *replication  // nil without replication
	skew  *clock.Skewed // nil when Config.Now was given
	// metrics are the region's Prometheus metrics, served at /metrics.
	metrics *metrics.Metrics
	// client shapes the traffic of ClientListen; nil without it.
	client *shaper.Shaper
	// triggers runs the region's local triggers.
	triggers *trigger.Manager

	closeOnce sync.Once
	closeErr  error
}

// New opens the region's store and listening socket.
func New(cfg Config) (*Region, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("region config: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.TTLInterval == 0 {
		cfg.TTLInterval = DefaultTTLInterval
	}
	cfg.MaxClockSkew = cfg.maxClockSkew()
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = api.DefaultIdleTimeout
	}
	var skew *clock.Skewed
	if cfg.Now == nil {
		var err error
		if skew, err = clock.New(nil, cfg.ClockOffset, cfg.ClockDriftPPM, cfg.MaxClockSkew); err != nil {
			return nil, fmt.Errorf("region config: %w", err)
		}
		cfg.Now = skew.Now
	}
	r := &Region{cfg: cfg, log: cfg.Logger.Named("region").With("region", cfg.Name), skew: skew}
	r.clock = conflict.NewHLC(cfg.Name, cfg.Now)
	r.clock.SetMaxAhead(cfg.MaxClockSkew)
	maxConns, files, clamped := listener.ConnLimit(cfg.MaxConnections)
	if clamped && cfg.MaxConnections > 0 {
		// An explicit cap is kept, with a warning: accept errors are
		// retried, but clients may wait.
		maxConns = cfg.MaxConnections
		r.log.Warn("max_connections is more than half the open-file limit: the region may run out of descriptors under many connections (it keeps running, and retries)",
			"max_connections", cfg.MaxConnections, "open_files_limit", files)
	} else if clamped {
		r.log.Info("connection cap lowered to half the open-file limit", "max_connections", maxConns, "open_files_limit", files)
	}
	r.maxConns = maxConns

	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	token, err := loadControlToken(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if len(cfg.Credentials) > 0 {
		if r.auth, err = sigv4.New(cfg.Credentials, nil); err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
	}
	r.guard = newControlGuard(token, r.auth, cfg.Listen, cfg.ClientListen)
	var tlsCfg *tls.Config
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	scfg := store.DefaultConfig()
	scfg.Dir = filepath.Join(cfg.DataDir, "db")
	scfg.Region = cfg.Name
	scfg.Clock = r.clock
	scfg.SyncWrites = !cfg.NoSync
	if cfg.MemTableSize != 0 {
		scfg.MemTableSize = cfg.MemTableSize
	}
	if cfg.BlockCacheSize != 0 {
		scfg.BlockCacheSize = cfg.BlockCacheSize
	}
	scfg.DiskReserve = cfg.DiskReserve
	scfg.StreamShardPeriod, scfg.StreamRetention = cfg.StreamShardPeriod, cfg.StreamRetention
	scfg.Logger = cfg.Logger.Named("store")
	db, err := store.Open(scfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	r.db = db

	acfg := api.Config{
		Region: cfg.Name,
		DB:     db,
		Logger: cfg.Logger.Named("api"),
		Now:    cfg.Now,
		Clock:  r.clock,

		TransientStatusDelay: cfg.TransientStatusDelay,
		BackfillRate:         cfg.BackfillRate,
	}
	r.metrics = metrics.New(cfg.Name, metricsSource{r})
	acfg.Metrics = r.metrics
	if r.auth != nil {
		acfg.Auth = r.auth
	}
	if cfg.Replication != nil {
		repl, err := startReplication(cfg.Name, cfg.DataDir, *cfg.Replication, db, r.clock, cfg.Logger)
		if err != nil {
			db.Close()
			return nil, err
		}
		r.repl = repl
		acfg.Regions = cfg.Replication.Regions
		acfg.GlobalByDefault = cfg.Replication.GlobalByDefault
		acfg.Hooks.ReplicaJoined = repl.replicaJoined
		acfg.Hooks.LinkDown = repl.linkDown
		acfg.Hooks.JoinProgress = repl.joinProgress
	}
	srv, err := api.New(acfg)
	if err != nil {
		r.closeResources()
		return nil, err
	}
	r.api = srv
	if r.triggers, err = r.newTriggers(); err != nil {
		r.closeResources()
		return nil, err
	}
	if r.repl != nil {
		r.repl.latency = r.latencyObserver
		if err := r.repl.wire(cfg.Name, srv); err != nil {
			r.closeResources()
			return nil, fmt.Errorf("replication: %w", err)
		}
	}
	r.mountEndpoints()
	r.mountMetrics()
	if cfg.Pprof {
		srv.Handle("/debug/pprof/", http.HandlerFunc(pprof.Index))
		srv.Handle("/debug/pprof/cmdline", http.HandlerFunc(pprof.Cmdline))
		srv.Handle("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
		srv.Handle("/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
		srv.Handle("/debug/pprof/trace", http.HandlerFunc(pprof.Trace))
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		r.closeResources()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	// Failed accepts are retried below TLS, whose handshake happens on the
	// connection's first read.
	r.ln = listener.Retrying(ln, r.log.Named("listener"))
	if tlsCfg != nil {
		r.ln, r.tls = tls.NewListener(r.ln, tlsCfg), true
	}
	if cfg.ClientListen != "" {
		r.client = shaper.New(r.log.Named("client-shaper"))
		if _, err := r.client.AddAt(ClientLink, cfg.ClientListen, ln.Addr().String()); err != nil {
			r.Close()
			return nil, fmt.Errorf("client endpoint: %w", err)
		}
	}
	return r, nil
}

// ClientLink is the name of the shaped link between clients and a region's
// ClientListen endpoint.
const ClientLink = "client"

// Addr returns the address the endpoint listens on.
func (r *Region) Addr() net.Addr { return r.ln.Addr() }

// URL returns the endpoint URL clients use.
func (r *Region) URL() string {
	if r.tls {
		return "https://" + r.ln.Addr().String()
	}
	return "http://" + r.ln.Addr().String()
}

// AuthMode says how the region checks its callers, for its startup line.
func (r *Region) AuthMode() string {
	if r.auth == nil {
		return "off: any DynamoDB request is accepted"
	}
	return fmt.Sprintf("SigV4 required, %d access keys", r.auth.Keys())
}

// DB returns the region's store.
func (r *Region) DB() *store.DB { return r.db }

// DataDir returns the region's data folder (its control token is there).
func (r *Region) DataDir() string { return r.cfg.DataDir }

// Run serves the API and runs the background loops until ctx is cancelled.
// It returns nil after a clean stop.
func (r *Region) Run(ctx context.Context) error {
	hs := r.api.HTTPServer()
	// Over the cap, fasthttp answers 503 Service Unavailable (which SDKs
	// retry) and closes the connection.
	hs.Concurrency = r.maxConns
	hs.IdleTimeout, hs.ReadTimeout = r.cfg.IdleTimeout, r.cfg.IdleTimeout
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := hs.Serve(r.ln); err != nil {
			errc <- fmt.Errorf("serve: %w", err)
		}
	}()
	if r.repl != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.repl.run(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("replication: %w", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.triggers.Run(ctx)
	}()
	if r.cfg.TTLInterval > 0 {
		sw := &sweeper{db: r.db, log: r.log.Named("ttl"), now: r.cfg.Now, interval: r.cfg.TTLInterval}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sw.Run(ctx)
		}()
	}
	r.log.Info("region serving", "endpoint", r.URL(), "data", r.cfg.DataDir, "api_auth", r.AuthMode(),
		"max_connections", r.maxConns, "idle_timeout", r.cfg.IdleTimeout, "max_clock_skew", r.cfg.MaxClockSkew)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer scancel()
	if err := hs.ShutdownWithContext(sctx); err != nil {
		r.log.Warn("in-flight requests did not finish in time", "error", err)
	}
	// A shutdown that came before Serve registered the listener (a stop
	// right after the start) leaves Serve accepting for ever: closing the
	// listener ends it. Close closes it again, harmlessly.
	r.ln.Close()
	wg.Wait()
	r.api.Close()
	r.log.Info("region stopped")
	return runErr
}

// Close releases the listener, the NATS server and the store, in that
// order. Call it after Run has returned. It is idempotent.
func (r *Region) Close() error {
	r.closeOnce.Do(func() {
		r.ln.Close()
		r.closeErr = r.closeResources()
	})
	return r.closeErr
}

// closeResources releases what New acquired, the store last: nothing may
// write to a closed database.
func (r *Region) closeResources() error {
	if r.client != nil {
		r.client.Close()
	}
	if r.api != nil {
		r.api.Close()
	}
	if r.repl != nil {
		if r.repl.rep != nil {
			r.repl.rep.Close()
		}
		r.repl.stop()
	}
	return r.db.Close()
}

package replicator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator/natsauth"
)

// Store is what the replicator needs from the region's storage; *store.DB
// satisfies it.
type Store interface {
	ChangeLog
	Applier
	Exporter
}

// Config configures a Replicator. Zero tunables take the defaults of
// PublisherConfig and LinkConfig.
type Config struct {
	// Region is this region's name. Required.
	Region string
	// Conn is a connection to the region's own NATS (embedded or
	// external): the publisher and the snapshot service use it. Required;
	// it should reconnect forever. The caller closes it after Run returned.
	Conn *nats.Conn
	// Peers maps every other region's name to the NATS URL its stream is
	// read from: any form nats.go takes (a comma-separated list,
	// credentials, tls://).
	Peers map[string]string
	// PeerOptions are extra connection options per peer: its identity,
	// TLS, and in the lab the dialer through the shaping proxies.
	PeerOptions map[string][]nats.Option
	// Store is the region's storage. Required.
	Store Store
	// Control applies control records. Required.
	Control ControlApplier
	// Resync re-syncs from a source whose stream lost what this region
	// needs. See LinkConfig.Resync.
	Resync ResyncFunc
	// Admit refuses changes too far ahead of the region's clock. See
	// LinkConfig.Admit.
	Admit func(v conflict.Version) error

	// Publisher tunables: see PublisherConfig.
	StreamMaxAge   time.Duration
	StreamMaxBytes int64
	Duplicates     time.Duration
	TrimGrace      time.Duration
	Window         int
	PublishTimeout time.Duration
	StreamReplicas int
	// Space, Repair and RepairAfter: see PublisherConfig.
	Space       func() error
	Repair      func() error
	RepairAfter time.Duration

	// Link tunables: see LinkConfig.
	Batch     int
	FetchWait time.Duration
	AckWait   time.Duration
	// Latency, if set, returns the observer of the replication latencies
	// of the link from source (LinkConfig.Latency); it is called once per
	// link, in New.
	Latency func(source string) Observer

	// Logger receives the replicator's logs. Default: a null logger.
	Logger hclog.Logger
}

// Validate reports whether c is usable.
func (c Config) Validate() error {
	var problems []string
	if err := ValidRegion(c.Region); err != nil {
		problems = append(problems, err.Error())
	}
	if c.Conn == nil {
		problems = append(problems, "Conn is required")
	}
	if c.Store == nil {
		problems = append(problems, "Store is required")
	}
	if c.Control == nil {
		problems = append(problems, "Control is required")
	}
	for name, url := range c.Peers {
		if err := ValidRegion(name); err != nil {
			problems = append(problems, "peer: "+err.Error())
		}
		if name == c.Region {
			problems = append(problems, fmt.Sprintf("peer %q is this region", name))
		}
		if url == "" {
			problems = append(problems, fmt.Sprintf("peer %q has no URL", name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// Status is the replicator's state: the publisher's and every link's,
// sorted by source. In JSON, link latencies are in milliseconds (see
// LinkStatus).
type Status struct {
	Region    string          `json:"region"`
	Publisher PublisherStatus `json:"publisher"`
	Links     []LinkStatus    `json:"links"`
}

// Replicator runs a region's side of replication: the publisher of its
// changes, the snapshot service, and one link per peer.
type Replicator struct {
	cfg   Config
	log   hclog.Logger
	pub   *Publisher
	peers []string // sorted
	links map[string]*Link
	conns map[string]*nats.Conn // to the peers' NATS, owned

	closeOnce sync.Once
}

// New builds a replicator and dials the peers' NATS servers (without
// waiting for them: a peer that is down is retried in the background).
// Call Run, and Close if Run is never called.
func New(cfg Config) (*Replicator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	log := cfg.Logger.Named("replicator").With("region", cfg.Region)
	pub, err := NewPublisher(PublisherConfig{
		Region: cfg.Region, Log: cfg.Store, Conn: cfg.Conn,
		StreamMaxAge: cfg.StreamMaxAge, StreamMaxBytes: cfg.StreamMaxBytes, Duplicates: cfg.Duplicates,
		TrimGrace: cfg.TrimGrace, Window: cfg.Window, PublishTimeout: cfg.PublishTimeout,
		Replicas: cfg.StreamReplicas, Space: cfg.Space, Repair: cfg.Repair, RepairAfter: cfg.RepairAfter,
		Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	r := &Replicator{
		cfg:   cfg,
		log:   log,
		pub:   pub,
		links: make(map[string]*Link),
		conns: make(map[string]*nats.Conn),
	}
	for name := range cfg.Peers {
		r.peers = append(r.peers, name)
	}
	slices.Sort(r.peers)
	for _, name := range r.peers {
		lcfg := LinkConfig{
			Source: name, Dest: cfg.Region, URL: cfg.Peers[name],
			Store: cfg.Store, Control: cfg.Control, Resync: cfg.Resync, Admit: cfg.Admit,
			Batch: cfg.Batch, FetchWait: cfg.FetchWait, AckWait: cfg.AckWait,
			Logger: cfg.Logger,
		}
		if cfg.Latency != nil {
			lcfg.Latency = cfg.Latency(name)
		}
		if err := lcfg.Validate(); err != nil {
			_ = r.Close()
			return nil, err
		}
		nc, err := dialSource(lcfg.URL, name, cfg.Region, log.Named("link").With("source", name), cfg.PeerOptions[name]...)
		if err != nil {
			_ = r.Close()
			return nil, fmt.Errorf("connect to peer %s at %s: %w", name, natsauth.Redact(lcfg.URL), err)
		}
		r.conns[name] = nc
		lcfg.Conn = nc
		if r.links[name], err = NewLink(lcfg); err != nil {
			_ = r.Close()
			return nil, err
		}
	}
	return r, nil
}

// Run runs the publisher, the snapshot service and the links until ctx
// ends, and returns once all of them have stopped: nil on a clean stop. If
// one of them fails for good (a connection closed under it), Run stops the
// others and returns its error. Run closes the peers' connections when it
// returns; the region's own Conn is the caller's.
func (r *Replicator) Run(ctx context.Context) error {
	defer func() { _ = r.Close() }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards errs
		errs []error
	)
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
				cancel()
			}
		}()
	}
	r.log.Info("replicator started", "peers", r.peers)
	start("publisher", r.pub.Run)
	start("snapshot service", func(ctx context.Context) error {
		return ServeSnapshots(ctx, r.cfg.Conn, r.cfg.Region, r.cfg.Store, r.cfg.Logger)
	})
	for _, name := range r.peers {
		start("link from "+name, r.links[name].Run)
	}
	wg.Wait()
	r.log.Info("replicator stopped")
	return errors.Join(errs...)
}

// Close closes the connections to the peers. Run does it when it returns;
// call Close if Run is never called. It is idempotent.
func (r *Replicator) Close() error {
	r.closeOnce.Do(func() {
		for _, nc := range r.conns {
			nc.Close()
		}
	})
	return nil
}

// Conn returns the connection to peer's NATS, for snapshot fetches and
// catch-up, or nil for an unknown peer. It is usable until Run returns.
func (r *Replicator) Conn(peer string) *nats.Conn { return r.conns[peer] }

// Publisher returns the publisher.
func (r *Replicator) Publisher() *Publisher { return r.pub }

// Link returns the link from peer, or nil.
func (r *Replicator) Link(peer string) *Link { return r.links[peer] }

// Status returns the publisher's and the links' status.
func (r *Replicator) Status() Status {
	st := Status{Region: r.cfg.Region, Publisher: r.pub.Status(), Links: make([]LinkStatus, 0, len(r.peers))}
	for _, name := range r.peers {
		st.Links = append(st.Links, r.links[name].Status())
	}
	return st
}

// Package topology reads the topology file: which regions run, where they
// listen and keep their data, and the settings every region shares. The file
// is HCL, parsed with hashicorp/hcl's gohcl into one struct, validated once,
// and handed to the commands that start regions.
//
// Precedence is defaults < file < command-line flags; this package applies
// the first two and leaves flags to the commands.
package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/globaltables/globaltables/region/api/sigv4"
	"github.com/globaltables/globaltables/region/clock"
	"github.com/globaltables/globaltables/replicator/shaper"
)

// DefaultDataDir is the data folder when the file names none.
const DefaultDataDir = "data"

// Topology is a whole topology file.
type Topology struct {
	// DataDir is the parent of every region's data folder, relative to the
	// working directory. Default "data".
	DataDir string `hcl:"data_dir,optional"`
	// LogLevel is hclog's level name (trace, debug, info, warn, error).
	// Default "info".
	LogLevel string `hcl:"log_level,optional"`
	// TTLInterval is how often each region sweeps expired items, as a
	// duration string. Default "10s".
	TTLInterval string `hcl:"ttl_interval,optional"`
	// GlobalTables makes every new table global across all regions at
	// once, for experiments. Default false: tables are local until
	// UpdateTable adds replicas, as in DynamoDB.
	GlobalTables bool `hcl:"global_tables,optional"`
	// TransientStatusDelay, a duration string, makes tables and indexes
	// show CREATING, UPDATING and DELETING for that long after a change,
	// as DynamoDB Local's -delayTransientStatuses does, so that client
	// waiters are exercised. Default "" (changes show at once).
	TransientStatusDelay string `hcl:"transient_status_delay,optional"`
	// StreamsShardPeriod and StreamsRetention, duration strings, set how
	// long a DynamoDB Streams shard stays open before it rolls over to a
	// child, and how long stream records are kept. Defaults "" (4h and
	// 24h, as in DynamoDB); short values exercise shard lineage and
	// TrimmedDataAccessException.
	StreamsShardPeriod string `hcl:"streams_shard_period,optional"`
	StreamsRetention   string `hcl:"streams_retention,optional"`
	// OpenMetrics serves every region's GET /metrics to any scraper,
	// without the Host check and credentials that guard it by default,
	// as `region --open-metrics` does for one region: `up` starts its
	// regions with no flags, and a Prometheus in another container (the
	// compose file) names a region by a host name it does not know.
	// Default false.
	OpenMetrics bool `hcl:"open_metrics,optional"`
	// Replication holds the settings every region's replication shares.
	Replication *Replication `hcl:"replication,block"`
	// Regions are the regions, in file order.
	Regions []Region `hcl:"region,block"`
	// Links shape directed replication links from the start; the `link`
	// command changes them at run time.
	Links []Link `hcl:"link,block"`
	// Triggers are local triggers on tables' streams (trigger.go).
	Triggers []Trigger `hcl:"trigger,block"`
	// NoLinkShaping connects replication links directly instead of
	// through shaping proxies (to measure what the proxies cost).
	NoLinkShaping bool `hcl:"no_link_shaping,optional"`
	// MaxClockSkew is how far ahead of a region's clock a version may be:
	// a replicated change further ahead stops its link until the clock at
	// fault is fixed, and no region's clock may be skewed further (either
	// way). Default "5m". See docs/replication.md, "Bounded clock".
	MaxClockSkew string `hcl:"max_clock_skew,optional"`
	// MaxConnections caps each region endpoint's concurrent connections;
	// more are answered 503 and closed. Default 4096, lowered to half the
	// process's open-file limit if that is less.
	MaxConnections int `hcl:"max_connections,optional"`
	// IdleTimeout closes a client connection idle that long. Default "2m".
	IdleTimeout string `hcl:"idle_timeout,optional"`
	// Credentials are access keys every region accepts. When a region has
	// any (these or its own), every DynamoDB request to it must be signed
	// with one of them (SigV4), and they authorize the control endpoints.
	// None anywhere: the API accepts any request, as DynamoDB Local does.
	Credentials []Credential `hcl:"credentials,block"`
	// APITLSCA is a PEM file of the certificate authority (or the
	// self-signed certificate) the CLI trusts for regions serving HTTPS.
	// Default: the system's roots.
	APITLSCA string `hcl:"api_tls_ca,optional"`

	// Path is the file the topology was read from ("" if built in code).
	Path string
}

// Region is one region block.
type Region struct {
	// Name is the block label, e.g. "us-east-1".
	Name string `hcl:"name,label"`
	// Listen is the DynamoDB endpoint's host:port.
	Listen string `hcl:"listen"`
	// DataDir overrides the region's data folder. Default DataDir/Name.
	DataDir string `hcl:"data_dir,optional"`
	// NATSListen is the host:port of the region's embedded NATS server,
	// which holds the region's change stream. Default: the port of Listen
	// plus 1000 on the same host.
	NATSListen string `hcl:"nats_listen,optional"`
	// NATSURL is an external NATS server or cluster holding the region's
	// stream instead of an embedded one, in any form nats.go takes:
	// nats://host:port, a comma-separated seed list, tls://, credentials
	// in the URL (user:password@ or token@).
	NATSURL string `hcl:"nats_url,optional"`
	// NATSNkey is the public nkey ("U...") of the region's NATS identity,
	// for the embedded servers of regions on other hosts. Default: read
	// from the region's data folder (nats-identity.pub), where the region
	// writes it on first start.
	NATSNkey string `hcl:"nats_nkey,optional"`
	// NATSNkeySeedFile is the region's nkey seed file. Default: generated
	// on first start in its data folder (nats-identity.nk, mode 0600).
	NATSNkeySeedFile string `hcl:"nats_nkey_seed_file,optional"`
	// NATSCredentials is a NATS credentials file (JWT and seed) the region
	// authenticates with to external NATS servers.
	NATSCredentials string `hcl:"nats_credentials,optional"`
	// NATSTLS is TLS towards the region's external NATS: the CA and server
	// name every region uses to check it, and the certificate this region
	// shows to every server that speaks TLS (mutual TLS).
	NATSTLS *NATSTLS `hcl:"nats_tls,block"`
	// StreamReplicas overrides replication.stream_replicas for this
	// region's stream (a region whose NATS is a cluster). 0: the shared
	// setting.
	StreamReplicas int `hcl:"stream_replicas,optional"`
	// ClockOffset skews the region's clock ("-250ms"); ClockDrift makes
	// it drift ("50ppm"). For experiments.
	ClockOffset string `hcl:"clock_offset,optional"`
	ClockDrift  string `hcl:"clock_drift,optional"`
	// ClientListen is an optional second endpoint whose traffic can be
	// shaped (`globaltables link set client REGION --latency 120ms`), to
	// see what a far-away region costs an application.
	ClientListen string `hcl:"client_listen,optional"`
	// Credentials are access keys this region accepts besides the
	// topology's shared ones.
	Credentials []Credential `hcl:"credentials,block"`
	// APITLSCert and APITLSKey are PEM files of the certificate and key
	// the region's DynamoDB endpoint serves HTTPS with. Unset: plain HTTP.
	APITLSCert string `hcl:"api_tls_cert,optional"`
	APITLSKey  string `hcl:"api_tls_key,optional"`
}

// Credential is a credentials block: an access key id and its secret.
type Credential struct {
	AccessKeyID     string `hcl:"access_key_id"`
	SecretAccessKey string `hcl:"secret_access_key"`
}

// String shows the access key id only: a topology printed or logged never
// shows a secret.
func (c Credential) String() string { return c.AccessKeyID + ":<redacted>" }

// GoString is String, for %#v.
func (c Credential) GoString() string { return c.String() }

// MarshalJSON redacts the secret, for the same reason.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"access_key_id": c.AccessKeyID, "secret_access_key": "<redacted>"})
}

// Endpoint returns the URL of the region's DynamoDB endpoint.
func (r Region) Endpoint() string {
	if r.APITLSCert != "" {
		return "https://" + r.Listen
	}
	return "http://" + r.Listen
}

// CredentialsFor returns the access keys region name accepts: the shared
// ones and its own.
func (t *Topology) CredentialsFor(name string) []sigv4.Credential {
	var out []sigv4.Credential
	add := func(cs []Credential) {
		for _, c := range cs {
			out = append(out, sigv4.Credential{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey})
		}
	}
	add(t.Credentials)
	for _, r := range t.Regions {
		if r.Name == name {
			add(r.Credentials)
		}
	}
	return out
}

// NATSTLS is a nats_tls block. Files are paths on the host that reads
// them: the CA file on every host (every region checks this server), the
// certificate and key on the region's own host.
type NATSTLS struct {
	CAFile     string `hcl:"ca_file,optional"`
	CertFile   string `hcl:"cert_file,optional"`
	KeyFile    string `hcl:"key_file,optional"`
	ServerName string `hcl:"server_name,optional"`
}

func (t *NATSTLS) get() NATSTLS {
	if t == nil {
		return NATSTLS{}
	}
	return *t
}

// Clock parses the region's clock skew.
func (r Region) Clock() (time.Duration, float64, error) {
	var off time.Duration
	if r.ClockOffset != "" {
		d, err := time.ParseDuration(r.ClockOffset)
		if err != nil {
			return 0, 0, fmt.Errorf("region %q: clock_offset: %w", r.Name, err)
		}
		off = d
	}
	drift, err := clock.ParseDrift(r.ClockDrift)
	if err != nil {
		return 0, 0, fmt.Errorf("region %q: clock_drift: %w", r.Name, err)
	}
	return off, drift, nil
}

// Link is a link block: the shape of the replication link carrying the
// changes of region From to region To, which is also the shape of
// everything From sends To (docs/lab.md).
type Link struct {
	From          string `hcl:"from,label"`
	To            string `hcl:"to,label"`
	Latency       string `hcl:"latency,optional"`
	Jitter        string `hcl:"jitter,optional"`
	BandwidthKBps int64  `hcl:"bandwidth_kbps,optional"`
	// LossPercent is the chance that a TCP segment from From to To is
	// lost, 0 to 100 (not included): modelled as a retransmission delay.
	LossPercent float64 `hcl:"loss_percent,optional"`
	Cut         bool    `hcl:"cut,optional"`
}

// Shape parses the link block into a shape.
func (l Link) Shape() (shaper.Shape, error) {
	var sh shaper.Shape
	var err error
	if l.Latency != "" {
		if sh.Latency, err = time.ParseDuration(l.Latency); err != nil {
			return sh, fmt.Errorf("link %s -> %s: latency: %w", l.From, l.To, err)
		}
	}
	if l.Jitter != "" {
		if sh.Jitter, err = time.ParseDuration(l.Jitter); err != nil {
			return sh, fmt.Errorf("link %s -> %s: jitter: %w", l.From, l.To, err)
		}
	}
	sh.BandwidthKBps, sh.LossPercent, sh.Cut = l.BandwidthKBps, l.LossPercent, l.Cut
	if err := sh.Validate(); err != nil {
		return sh, fmt.Errorf("link %s -> %s: %w", l.From, l.To, err)
	}
	return sh, nil
}

// LinksTo returns the configured shapes of the links into region to, by
// source.
func (t *Topology) LinksTo(to string) map[string]shaper.Shape {
	return t.linkShapes(func(l Link) (string, bool) { return l.From, l.To == to })
}

// linkShapes returns the configured shapes of the links that pick selects,
// by the name it gives them.
func (t *Topology) linkShapes(pick func(Link) (string, bool)) map[string]shaper.Shape {
	out := map[string]shaper.Shape{}
	for _, l := range t.Links {
		if name, ok := pick(l); ok {
			if sh, err := l.Shape(); err == nil {
				out[name] = sh
			}
		}
	}
	return out
}

// LinksFrom returns the configured shapes of the links out of region from,
// by destination.
func (t *Topology) LinksFrom(from string) map[string]shaper.Shape {
	return t.linkShapes(func(l Link) (string, bool) { return l.To, l.From == from })
}

// Replication holds the replication settings shared by all regions.
type Replication struct {
	// StreamMaxAge is how long a region's stream keeps changes. A region
	// away for longer re-syncs from a snapshot. Default "24h".
	StreamMaxAge string `hcl:"stream_max_age,optional"`
	// StreamMaxMB caps a region's stream, in MiB. Default 1024.
	StreamMaxMB int64 `hcl:"stream_max_mb,optional"`
	// SyncInterval is how often the embedded NATS server fsyncs its
	// stream files. Default "1s".
	SyncInterval string `hcl:"sync_interval,optional"`
	// TombstoneHorizon is how long a delete's tombstone is kept before it
	// may be purged. Default "48h"; never less than StreamMaxAge.
	TombstoneHorizon string `hcl:"tombstone_horizon,optional"`
	// StreamReplicas is how many servers of a region's NATS cluster hold
	// its stream (1 to 5), unless its region block says otherwise. Default
	// 1; 3 on a three-server cluster keeps the region replicating while
	// one server is down.
	StreamReplicas int `hcl:"stream_replicas,optional"`
}

// URL returns the NATS URL other regions read this region's stream from.
func (r Region) URL() string {
	if r.NATSURL != "" {
		return r.NATSURL
	}
	return "nats://" + r.NATSListen
}

// Load reads and validates a topology file.
func Load(path string) (*Topology, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return Parse(src, path)
}

// Parse reads and validates a topology from HCL source; name is used in
// error messages. Its error is an *Error, which shows every problem with
// its place in the source.
func Parse(src []byte, name string) (*Topology, error) {
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, newError(name, src, diags, nil)
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, fmt.Errorf("read topology %s: not native HCL syntax", name)
	}
	var t Topology
	diags = gohcl.DecodeBody(body, nil, &t)
	t.Path = name
	t.applyDefaults()
	found, errs := diagnose(body, t.problems(), diags)
	if diags = append(diags, found...); diags.HasErrors() {
		return nil, newError(name, src, diags, errs)
	}
	return &t, nil
}

func (t *Topology) applyDefaults() {
	if t.DataDir == "" {
		t.DataDir = DefaultDataDir
	}
	if t.LogLevel == "" {
		t.LogLevel = "info"
	}
	if t.TTLInterval == "" {
		t.TTLInterval = "10s"
	}
	if t.MaxClockSkew == "" {
		t.MaxClockSkew = clock.DefaultMaxSkew.String()
	}
	if t.IdleTimeout == "" {
		t.IdleTimeout = "2m"
	}
	for i := range t.Regions {
		r := &t.Regions[i]
		if r.DataDir == "" {
			r.DataDir = filepath.Join(t.DataDir, r.Name)
		}
		if r.NATSListen == "" && r.NATSURL == "" {
			if host, port, err := net.SplitHostPort(r.Listen); err == nil {
				if p, err := strconv.Atoi(port); err == nil && p > 0 && p+1000 < 65536 {
					r.NATSListen = net.JoinHostPort(host, strconv.Itoa(p+1000))
				}
			}
		}
	}
	if t.Replication == nil {
		t.Replication = &Replication{}
	}
	rp := t.Replication
	if rp.StreamMaxAge == "" {
		rp.StreamMaxAge = "24h"
	}
	if rp.StreamMaxMB == 0 {
		rp.StreamMaxMB = 1024
	}
	if rp.SyncInterval == "" {
		rp.SyncInterval = "1s"
	}
	if rp.TombstoneHorizon == "" {
		rp.TombstoneHorizon = "48h"
	}
}

// Durations are the parsed durations of the replication block.
type Durations struct {
	StreamMaxAge, SyncInterval, TombstoneHorizon time.Duration
}

// ReplicationDurations parses the replication block's durations.
func (t *Topology) ReplicationDurations() (Durations, error) {
	d, errs := t.replicationDurations()
	return d, errors.Join(errs...)
}

func (t *Topology) replicationDurations() (Durations, []error) {
	var d Durations
	var errs []error
	parse := func(name, example, s string, dst *time.Duration) {
		v, err := positive(s)
		if err != nil {
			errs = append(errs, at("Invalid duration", name, fmt.Errorf("replication.%s: %w; write a positive duration such as %q", name, err, example), blockRef{typ: "replication"}))
		}
		*dst = v
	}
	parse("stream_max_age", "24h", t.Replication.StreamMaxAge, &d.StreamMaxAge)
	parse("sync_interval", "1s", t.Replication.SyncInterval, &d.SyncInterval)
	parse("tombstone_horizon", "48h", t.Replication.TombstoneHorizon, &d.TombstoneHorizon)
	if len(errs) == 0 && d.TombstoneHorizon < d.StreamMaxAge {
		errs = append(errs, at("Tombstone horizon too short", "tombstone_horizon", fmt.Errorf("replication.tombstone_horizon (%s) must be at least stream_max_age (%s): a purged tombstone must not be older than a change that can still arrive",
			d.TombstoneHorizon, d.StreamMaxAge), blockRef{typ: "replication"}))
	}
	return d, errs
}

// Peers returns, for region self, every other region's NATS URL.
func (t *Topology) Peers(self string) map[string]string {
	out := map[string]string{}
	for _, r := range t.Regions {
		if r.Name != self {
			out[r.Name] = r.URL()
		}
	}
	return out
}

// Names returns the region names in file order.
func (t *Topology) Names() []string {
	out := make([]string, len(t.Regions))
	for i, r := range t.Regions {
		out[i] = r.Name
	}
	return out
}

// Limits are the parsed top-level limits of the topology.
type Limits struct {
	MaxClockSkew, IdleTimeout time.Duration
	MaxConnections            int
}

// Limits parses max_clock_skew, idle_timeout and max_connections.
func (t *Topology) Limits() (Limits, error) {
	skew, err := positive(t.MaxClockSkew)
	if err != nil {
		return Limits{}, fmt.Errorf("max_clock_skew: %w", err)
	}
	idle, err := positive(t.IdleTimeout)
	if err != nil {
		return Limits{}, fmt.Errorf("idle_timeout: %w", err)
	}
	return Limits{MaxClockSkew: skew, IdleTimeout: idle, MaxConnections: t.MaxConnections}, nil
}

func positive(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s is not positive", s)
	}
	return d, nil
}

// TTL returns the parsed ttl_interval.
func (t *Topology) TTL() (time.Duration, error) {
	d, err := time.ParseDuration(t.TTLInterval)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s is not positive", t.TTLInterval)
	}
	return d, nil
}

// TransientDelay returns the parsed transient_status_delay, 0 when unset.
func (t *Topology) TransientDelay() (time.Duration, error) {
	if t.TransientStatusDelay == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(t.TransientStatusDelay)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative", t.TransientStatusDelay)
	}
	return d, nil
}

// Streams returns the parsed streams_shard_period and streams_retention,
// 0 for those unset (the store's defaults).
func (t *Topology) Streams() (shardPeriod, retention time.Duration, err error) {
	parse := func(name, s string) (time.Duration, error) {
		if s == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err == nil && d <= 0 {
			err = fmt.Errorf("%s is not positive", s)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	if shardPeriod, err = parse("streams_shard_period", t.StreamsShardPeriod); err != nil {
		return 0, 0, err
	}
	retention, err = parse("streams_retention", t.StreamsRetention)
	return shardPeriod, retention, err
}

// Region returns the region named name.
func (t *Topology) Region(name string) (Region, error) {
	for _, r := range t.Regions {
		if r.Name == name {
			return r, nil
		}
	}
	names := make([]string, len(t.Regions))
	for i, r := range t.Regions {
		names[i] = r.Name
	}
	sort.Strings(names)
	return Region{}, fmt.Errorf("no region %q in %s (it has %v)", name, t.Path, names)
}

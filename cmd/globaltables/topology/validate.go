package topology

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/globaltables/globaltables/region/api/sigv4"
	"github.com/globaltables/globaltables/region/clock"
	"github.com/globaltables/globaltables/replicator/shaper"
)

// Validate reports every problem in the topology at once.
func (t *Topology) Validate() error { return errors.Join(t.problems()...) }

// problems lists every problem in the topology, each with its place in
// the file where it can tell (see problem).
func (t *Topology) problems() []error {
	var errs []error
	top := func(summary, key string, err error) { errs = append(errs, at(summary, key, err)) }
	if len(t.Regions) == 0 {
		top("No regions", "", errors.New(`no regions: add at least one region "name" { listen = "127.0.0.1:8000" } block`))
	}
	if _, err := t.TTL(); err != nil {
		top("Invalid duration", "ttl_interval", fmt.Errorf("ttl_interval: %w; write a positive duration such as \"10s\"", err))
	}
	if _, err := t.TransientDelay(); err != nil {
		top("Invalid duration", "transient_status_delay", fmt.Errorf("transient_status_delay: %w; write a duration such as \"2s\", or leave it out", err))
	}
	for _, d := range [][2]string{{"streams_shard_period", t.StreamsShardPeriod}, {"streams_retention", t.StreamsRetention}} {
		if _, err := positive(d[1]); d[1] != "" && err != nil {
			top("Invalid duration", d[0], fmt.Errorf("%s: %w; write a positive duration such as \"4h\", or leave it out", d[0], err))
		}
	}
	maxSkew, err := positive(t.MaxClockSkew)
	if err != nil {
		top("Invalid duration", "max_clock_skew", fmt.Errorf("max_clock_skew: %w; write a positive duration such as \"5m\"", err))
	}
	if _, err := positive(t.IdleTimeout); err != nil {
		top("Invalid duration", "idle_timeout", fmt.Errorf("idle_timeout: %w; write a positive duration such as \"2m\"", err))
	}
	if t.MaxConnections < 0 {
		top("Invalid number", "max_connections", errors.New("max_connections must not be negative; leave it out for the default, 4096"))
	}
	if t.Replication != nil {
		errs = append(errs, t.replicationProblems()...)
	}
	known := map[string]bool{}
	for _, r := range t.Regions {
		known[r.Name] = true
	}
	seenLinks := map[[2]string]int{}
	for _, l := range t.Links {
		ref := blockRef{typ: "link", labels: []string{l.From, l.To}, nth: seenLinks[[2]string{l.From, l.To}]}
		seenLinks[[2]string{l.From, l.To}]++
		if !known[l.From] || !known[l.To] || l.From == l.To {
			errs = append(errs, at("Invalid link", "", fmt.Errorf("link %q -> %q: both ends must be different regions of this topology (it has %v)", l.From, l.To, t.Names()), ref))
		}
		if _, err := l.Shape(); err != nil {
			errs = append(errs, at("Invalid link shape", l.shapeKey(), err, ref))
		}
	}
	natsAddrs := map[string]string{}
	switch t.LogLevel {
	case "trace", "debug", "info", "warn", "error", "off":
	default:
		top("Invalid log level", "log_level", fmt.Errorf("log_level %q: use trace, debug, info, warn, error or off", t.LogLevel))
	}
	names := map[string]int{}
	listens := map[string]string{}
	dirs := map[string]string{}
	for _, r := range t.Regions {
		ref := inRegion(r.Name)
		ref.nth = names[r.Name]
		names[r.Name]++
		add := func(summary, key string, err error) { errs = append(errs, at(summary, key, err, ref)) }
		if !validName(r.Name) {
			add("Invalid region name", "", fmt.Errorf("region %q: a name is 1 to 64 letters, digits and dashes", r.Name))
		}
		if ref.nth > 0 {
			add("Duplicate region", "", fmt.Errorf("region %q is defined twice; rename or remove one of its blocks", r.Name))
			continue // its data folder and ports would clash with the first's, which says nothing new
		}
		if err := CheckAddress(r.Listen, "127.0.0.1:8000", false); err != nil {
			add("Invalid address", "listen", fmt.Errorf("region %q: listen %w", r.Name, err))
		} else if other, dup := listens[r.Listen]; dup {
			add("Duplicate address", "listen", fmt.Errorf("regions %q and %q both listen on %s; give each region its own port", other, r.Name, r.Listen))
		}
		listens[r.Listen] = r.Name
		if r.ClientListen != "" {
			if err := CheckAddress(r.ClientListen, "127.0.0.1:8100", false); err != nil {
				add("Invalid address", "client_listen", fmt.Errorf("region %q: client_listen %w", r.Name, err))
			}
		}
		if other, dup := dirs[filepath.Clean(r.DataDir)]; dup {
			add("Shared data folder", "data_dir", fmt.Errorf("regions %q and %q share the data folder %s; give each region its own", other, r.Name, r.DataDir))
		}
		dirs[filepath.Clean(r.DataDir)] = r.Name
		if off, drift, err := r.Clock(); err != nil {
			key := "clock_offset"
			if _, derr := clock.ParseDrift(r.ClockDrift); derr != nil {
				key = "clock_drift"
			}
			add("Invalid clock skew", key, err)
		} else if err := clock.Check(off, drift, maxSkew); err != nil {
			add("Invalid clock skew", "clock_offset", fmt.Errorf("region %q: clock_offset: %w", r.Name, err))
		}
		if (r.APITLSCert == "") != (r.APITLSKey == "") {
			key := "api_tls_cert"
			if r.APITLSCert == "" {
				key = "api_tls_key"
			}
			add("Incomplete TLS settings", key, fmt.Errorf("region %q: api_tls_cert and api_tls_key go together: set both, or neither for plain HTTP", r.Name))
		}
		if creds := t.CredentialsFor(r.Name); len(creds) > 0 {
			if _, err := sigv4.New(creds, nil); err != nil {
				add("Invalid credentials", "", fmt.Errorf("region %q: credentials: %w", r.Name, err))
			}
		}
		errs = append(errs, r.validateNATS()...)
		if r.NATSURL == "" {
			if r.NATSListen == "" && CheckAddress(r.Listen, "127.0.0.1:8000", false) == nil {
				add("Invalid address", "listen", fmt.Errorf("region %q: listen %s leaves no room for the default nats_listen (its port plus 1000 is over %d); set nats_listen, or give nats_url for an external server", r.Name, r.Listen, MaxPort))
			} else if r.NATSListen == "" {
				// listen is wrong, and said so.
			} else if err := CheckAddress(r.NATSListen, "127.0.0.1:9000", false); err != nil {
				add("Invalid address", "nats_listen", fmt.Errorf("region %q: nats_listen %w (or give nats_url for an external server)", r.Name, err))
			} else if other, dup := natsAddrs[r.NATSListen]; dup {
				add("Duplicate address", "nats_listen", fmt.Errorf("regions %q and %q both use NATS on %s; give each region its own nats_listen", other, r.Name, r.NATSListen))
			} else if other, dup := listens[r.NATSListen]; dup && other != "" {
				add("Duplicate address", "nats_listen", fmt.Errorf("region %q: nats_listen %s is region %q's DynamoDB endpoint; use another port", r.Name, r.NATSListen, other))
			}
			natsAddrs[r.NATSListen] = r.Name
		}
	}
	errs = append(errs, t.validateTriggers()...)
	return errs
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// replicationProblems lists the replication block's problems.
func (t *Topology) replicationProblems() []error {
	_, errs := t.replicationDurations()
	ref := blockRef{typ: "replication"}
	if t.Replication.StreamMaxMB < 1 {
		errs = append(errs, at("Invalid number", "stream_max_mb", errors.New("replication.stream_max_mb must be at least 1 (MiB); leave it out for the default, 1024"), ref))
	}
	if n := t.Replication.StreamReplicas; n < 0 || n > 5 {
		errs = append(errs, at("Invalid number", "stream_replicas", fmt.Errorf("replication.stream_replicas %d: JetStream allows 1 to 5", n), ref))
	}
	return errs
}

// shapeKey names the attribute that makes Shape fail, "" if none alone.
func (l Link) shapeKey() string {
	switch {
	case l.Latency != "" && !parses(l.Latency, shaper.MaxDelay):
		return "latency"
	case l.Jitter != "" && !parses(l.Jitter, shaper.MaxDelay):
		return "jitter"
	case l.BandwidthKBps < 0 || l.BandwidthKBps > shaper.MaxBandwidthKBps:
		return "bandwidth_kbps"
	}
	return ""
}

// parses reports whether d is a duration of at most most.
func parses(d string, most time.Duration) bool {
	v, err := time.ParseDuration(d)
	return err == nil && v <= most
}

package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/memtune"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/listener"
	"github.com/globaltables/globaltables/replicator/natsauth"
)

type regionFlags struct {
	config       string
	dataRoot     string
	name         string
	listen       string
	data         string
	logLevel     string
	ttlInterval  time.Duration
	noSync       bool
	checkConfig  bool
	pprof        bool
	openMetrics  bool
	maxSkew      time.Duration
	maxConns     int
	idleTimeout  time.Duration
	reserveMB    int64
	memTableMB   int64
	blockCacheMB int64
	backfillRate int
	gogc         int
	memLimitMB   int64
	releaseAfter time.Duration

	topo *topology.Topology // the file read by resolve, if any
}

func newRegionCmd() *cobra.Command {
	var f regionFlags
	cmd := &cobra.Command{
		Use:   "region",
		Short: "Run one region",
		Long: `Run one region: a DynamoDB endpoint backed by its own Badger database.

Either give everything with flags:
  globaltables region --name us-east-1 --listen 127.0.0.1:8000 --data ./data/us-east-1
or take the region from a topology file, where flags override the file:
  globaltables region --config configs/default.hcl --name eu-west-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, level, err := f.resolve(cmd)
			if err != nil {
				return err
			}
			mem, err := f.memory(cmd, os.Getenv)
			if err != nil {
				return err
			}
			if f.checkConfig {
				fmt.Fprintf(cmd.OutOrStdout(), "region %s: listen %s, data %s, API authentication %s: config ok\n",
					cfg.Name, cfg.Listen, cfg.DataDir, authMode(len(cfg.Credentials)))
				return nil
			}
			if err := f.attachNATS(&cfg); err != nil {
				return err
			}
			logger := newLogger(level, cmd.ErrOrStderr())
			cfg.Logger = logger
			r, err := region.New(cfg)
			if err != nil {
				return plainLockError(cfg.DataDir, err)
			}
			defer r.Close()
			files, _ := listener.FileLimit()
			// Access key secrets are not logged: only how many keys there are.
			logger.Info("effective config", "region", cfg.Name, "listen", cfg.Listen, "data", cfg.DataDir,
				"ttl_interval", cfg.TTLInterval, "sync_writes", !cfg.NoSync, "open_files_limit", files,
				"api_credentials", len(cfg.Credentials), "api_tls", cfg.TLSCertFile != "",
				"disk_reserve_mb", f.reserveMB, "memtable_mb", f.memTableMB, "block_cache_mb", f.blockCacheMB)
			mem.apply()
			logger.Info("go runtime memory", "gogc", mem.describeGC(), "memory_limit", mem.describeLimit(),
				"release_after", mem.describeRelease())
			ctx, stop := context.WithCancel(cmd.Context())
			released := make(chan struct{})
			go func() {
				defer close(released)
				_ = memtune.NewReleaser(mem.cfg.ReleaseAfter).Run(ctx)
			}()
			err = r.Run(ctx)
			stop()
			<-released
			if err != nil {
				return err
			}
			return r.Close()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "topology file to read the region from (HCL, e.g. globaltables.hcl, or "+BuiltinTopology+" for the built-in one)")
	fl.StringVar(&f.name, "name", "", "region name, e.g. us-east-1 (required)")
	fl.StringVar(&f.listen, "listen", "", "host:port of the DynamoDB endpoint, e.g. 127.0.0.1:8000")
	fl.StringVar(&f.data, "data", "", "data folder of the region")
	fl.StringVar(&f.dataRoot, "data-root", "", "data folder of the whole topology, as `up --data` gives it (each region in a sub-folder named after it)")
	fl.StringVar(&f.logLevel, "log-level", "", "trace, debug, info, warn or error (default info)")
	fl.DurationVar(&f.ttlInterval, "ttl-interval", 0, "how often expired TTL items are deleted (default 10s)")
	fl.BoolVar(&f.noSync, "no-sync", false, "do not fsync each write (faster; a machine crash can lose acknowledged writes)")
	fl.BoolVar(&f.checkConfig, "check-config", false, "validate the configuration and exit")
	fl.Int64Var(&f.reserveMB, "disk-reserve-mb", 0, "free disk space, in MiB, below which writes are refused (default: 9 memtables + 8 MiB, 296 MiB)")
	fl.Int64Var(&f.memTableMB, "memtable-mb", 0, "size of one Badger memtable, in MiB (default 32; 64 for regions that load more)")
	fl.Int64Var(&f.blockCacheMB, "block-cache-mb", 0, "size of Badger's block cache, in MiB (default 8; a few hundred for large tables read often)")
	fl.BoolVar(&f.pprof, "pprof", false, "serve Go profiling endpoints under /debug/pprof/ on the endpoint")
	fl.BoolVar(&f.openMetrics, "open-metrics", false, "serve /metrics to any scraper, without the Host check and credentials of the control endpoints (docs/metrics.md)")
	fl.DurationVar(&f.maxSkew, "max-clock-skew", 0, "how far ahead of this region's clock a replicated version may be (default: the topology's max_clock_skew, 5m)")
	fl.IntVar(&f.maxConns, "max-connections", 0, "cap on concurrent client connections (default 4096, at most half the open-file limit)")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", 0, "close client connections idle this long (default 2m)")
	fl.IntVar(&f.gogc, "gogc", memtune.DefaultGCPercent, "the Go collector's target heap growth, in percent (GOGC; default 50, or $GOGC; 100 for regions that load more)")
	fl.Int64Var(&f.memLimitMB, "memory-limit-mb", 0, "soft limit on the Go runtime's memory, in MiB (GOMEMLIMIT; default 0: none, or $GOMEMLIMIT); keep it well above two memtables")
	fl.DurationVar(&f.releaseAfter, "memory-release-after", memtune.DefaultReleaseAfter, "return the heap a load left behind to the system once the region has been quiet this long (0: never)")
	fl.IntVar(&f.backfillRate, "backfill-rate", 0, "cap each index backfill at this many rows per second (default 0: unlimited)")
	return cmd
}

// resolve merges defaults, the topology file and flags into a region
// config, and says what is missing in terms of the flags to add.
func (f *regionFlags) resolve(cmd *cobra.Command) (region.Config, string, error) {
	cfg := region.Config{Name: f.name, TTLInterval: region.DefaultTTLInterval}
	level := "info"
	if f.name == "" {
		return cfg, "", usagef("--name is required (e.g. --name us-east-1)")
	}
	if f.config != "" {
		t, err := openTopology(f.config, f.dataRoot)
		if err != nil {
			return cfg, "", err
		}
		f.topo = t
		r, err := t.Region(f.name)
		if err != nil {
			return cfg, "", err
		}
		cfg.Listen, cfg.DataDir, level = r.Listen, r.DataDir, t.LogLevel
		cfg.ClientListen = r.ClientListen
		lim, err := t.Limits()
		if err != nil {
			return cfg, "", err
		}
		cfg.MaxClockSkew, cfg.IdleTimeout, cfg.MaxConnections = lim.MaxClockSkew, lim.IdleTimeout, lim.MaxConnections
		cfg.Credentials = t.CredentialsFor(r.Name)
		cfg.TLSCertFile, cfg.TLSKeyFile = r.APITLSCert, r.APITLSKey
		if cfg.ClockOffset, cfg.ClockDriftPPM, err = r.Clock(); err != nil {
			return cfg, "", err
		}
		if cfg.TTLInterval, err = t.TTL(); err != nil {
			return cfg, "", err
		}
		if cfg.TransientStatusDelay, err = t.TransientDelay(); err != nil {
			return cfg, "", err
		}
		if cfg.Triggers, err = t.TriggersFor(r.Name); err != nil {
			return cfg, "", err
		}
		if cfg.StreamShardPeriod, cfg.StreamRetention, err = t.Streams(); err != nil {
			return cfg, "", err
		}
		if len(t.Regions) > 1 {
			d, err := t.ReplicationDurations()
			if err != nil {
				return cfg, "", err
			}
			cfg.Replication = &region.ReplicationConfig{
				Regions:          t.Names(),
				Peers:            t.Peers(r.Name),
				NATSListen:       r.NATSListen,
				NATSURL:          r.NATSURL,
				GlobalByDefault:  t.GlobalTables,
				SyncInterval:     d.SyncInterval,
				StreamMaxAge:     d.StreamMaxAge,
				StreamMaxBytes:   t.Replication.StreamMaxMB << 20,
				TombstoneHorizon: d.TombstoneHorizon,
				Links:            t.LinksTo(r.Name),
				OutLinks:         t.LinksFrom(r.Name),
				NoShaper:         t.NoLinkShaping,
				StreamReplicas:   t.StreamReplicas(r),
			}
		}
	}
	fl := cmd.Flags()
	if fl.Changed("listen") {
		// Port 0 (a free port, logged at start) only for a region alone:
		// in a topology the other regions and commands must find it.
		if err := topology.CheckAddress(f.listen, "127.0.0.1:8000", f.config == ""); err != nil {
			return cfg, "", usagef("--listen %v", err)
		}
		cfg.Listen = f.listen
	}
	if fl.Changed("data") {
		cfg.DataDir = f.data
	}
	if fl.Changed("log-level") {
		level = f.logLevel
	}
	for _, d := range []struct {
		flag, example string
		v             time.Duration
		dst           *time.Duration
	}{
		{"ttl-interval", "10s", f.ttlInterval, &cfg.TTLInterval},
		{"max-clock-skew", "5m", f.maxSkew, &cfg.MaxClockSkew},
		{"idle-timeout", "2m", f.idleTimeout, &cfg.IdleTimeout},
	} {
		if !fl.Changed(d.flag) {
			continue
		}
		if d.v <= 0 {
			return cfg, "", usagef("--%s must be positive, e.g. --%s %s", d.flag, d.flag, d.example)
		}
		*d.dst = d.v
	}
	if fl.Changed("max-connections") {
		if f.maxConns <= 0 {
			return cfg, "", usagef("--max-connections must be positive, e.g. --max-connections 1000")
		}
		cfg.MaxConnections = f.maxConns
	}
	cfg.NoSync = f.noSync
	cfg.Pprof = f.pprof
	if fl.Changed("open-metrics") || f.topo == nil {
		cfg.OpenMetrics = f.openMetrics
	} else {
		cfg.OpenMetrics = f.topo.OpenMetrics
	}
	if f.reserveMB < 0 || f.memTableMB < 0 || f.blockCacheMB < 0 {
		return cfg, "", usagef("--disk-reserve-mb, --memtable-mb and --block-cache-mb must not be negative")
	}
	cfg.DiskReserve, cfg.MemTableSize, cfg.BlockCacheSize = f.reserveMB<<20, f.memTableMB<<20, f.blockCacheMB<<20
	if f.backfillRate < 0 {
		return cfg, "", usagef("--backfill-rate must be 0 (unlimited) or a number of rows per second, e.g. --backfill-rate 5000")
	}
	cfg.BackfillRate = f.backfillRate
	if cfg.Listen == "" {
		return cfg, "", usagef("--listen is required without --config (e.g. --listen 127.0.0.1:8000)")
	}
	if cfg.DataDir == "" {
		return cfg, "", usagef("--data is required without --config (e.g. --data ./data/%s)", f.name)
	}
	if hclog.LevelFromString(level) == hclog.NoLevel {
		return cfg, "", usagef("--log-level %q: use trace, debug, info, warn or error", level)
	}
	return cfg, level, cfg.Validate()
}

// memorySettings is the Go runtime's memory settings of a region process,
// and which of them to set: GOGC and GOMEMLIMIT, read by the runtime at
// start, win over the defaults but not over the flags.
type memorySettings struct {
	cfg             memtune.Config
	setGC, setLimit bool
	envGC, envLimit string // $GOGC and $GOMEMLIMIT, for the log
}

// memory resolves the runtime's memory settings from the flags, the
// environment (getenv) and the defaults.
func (f *regionFlags) memory(cmd *cobra.Command, getenv func(string) string) (memorySettings, error) {
	fl := cmd.Flags()
	m := memorySettings{cfg: memtune.DefaultConfig(), envGC: getenv("GOGC"), envLimit: getenv("GOMEMLIMIT")}
	if f.gogc <= 0 {
		return m, usagef("--gogc must be a positive percent, e.g. --gogc 100")
	}
	if f.memLimitMB < 0 {
		return m, usagef("--memory-limit-mb must be 0 (none) or a number of MiB, e.g. --memory-limit-mb 512")
	}
	if f.releaseAfter < 0 {
		return m, usagef("--memory-release-after must be 0 (never) or a duration, e.g. --memory-release-after 30s")
	}
	m.cfg.GCPercent, m.cfg.LimitBytes, m.cfg.ReleaseAfter = f.gogc, f.memLimitMB<<20, f.releaseAfter
	if f.releaseAfter == 0 {
		m.cfg.ReleaseAfter = -1 // never
	}
	m.setGC = fl.Changed("gogc") || m.envGC == ""
	m.setLimit = fl.Changed("memory-limit-mb")
	return m, m.cfg.Validate()
}

// apply sets what m says to set.
func (m memorySettings) apply() {
	if m.setGC {
		memtune.SetGCPercent(m.cfg.GCPercent)
	}
	if m.setLimit {
		memtune.SetLimit(m.cfg.LimitBytes)
	}
}

// describeGC, describeLimit and describeRelease say what the runtime runs
// with, for the log.
func (m memorySettings) describeGC() string {
	if m.setGC {
		return fmt.Sprint(m.cfg.GCPercent)
	}
	return "$GOGC=" + m.envGC
}

func (m memorySettings) describeLimit() string {
	switch {
	case !m.setLimit && m.envLimit != "":
		return "$GOMEMLIMIT=" + m.envLimit
	case m.cfg.LimitBytes == 0:
		return "none"
	}
	return fmt.Sprintf("%d MiB", m.cfg.LimitBytes>>20)
}

func (m memorySettings) describeRelease() string {
	if m.cfg.ReleaseAfter < 0 {
		return "never"
	}
	return m.cfg.ReleaseAfter.String()
}

// attachNATS gives the region its NATS identity (created in its data
// folder on first start) and how it connects to each region's NATS. Not
// done by --check-config, which creates nothing.
func (f *regionFlags) attachNATS(cfg *region.Config) error {
	if cfg.Replication == nil || f.topo == nil {
		return nil
	}
	t := f.topo
	self, err := t.Region(cfg.Name)
	if err != nil {
		return err
	}
	self.DataDir = cfg.DataDir // --data wins
	if err := t.SetRegion(self); err != nil {
		return err
	}
	id, err := t.Identity(cfg.Name)
	if err != nil {
		return err
	}
	rc := cfg.Replication
	rc.Client = t.NATSClient(self, self, id)
	rc.PeerClients = map[string]natsauth.Client{}
	for _, p := range t.Regions {
		if p.Name != self.Name {
			rc.PeerClients[p.Name] = t.NATSClient(self, p, id)
		}
	}
	rc.Keys, rc.KeyDirs = t.NATSKeys(self.Name)
	if id != nil {
		rc.Keys[self.Name] = id.Public
	}
	return nil
}

// plainLockError says in plain words that another process holds the
// region's data folder, for Badger's directory lock error, which names
// neither the folder the user gave nor the likely cause; other errors pass
// unchanged.
func plainLockError(dataDir string, err error) error {
	if err == nil || !strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return err
	}
	return fmt.Errorf("data folder %s is in use by another process (another globaltables up?)", dataDir)
}

// newLogger returns the process's root logger, writing to w. The standard
// library's logger is redirected into it, so dependencies' output lands in
// the same stream.
func newLogger(level string, w io.Writer) hclog.Logger {
	l := hclog.New(&hclog.LoggerOptions{
		Name:   "globaltables",
		Level:  hclog.LevelFromString(level),
		Output: w,
	})
	log.SetFlags(0)
	log.SetOutput(l.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}))
	return l
}

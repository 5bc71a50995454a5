package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/conflict"
)

// Defaults for Config. Memory settings are sized for a laptop that runs a few
// regions side by side: Badger's own defaults (64 MiB memtables x5, 256 MiB
// block cache) would cost over half a gigabyte per region.
const (
	DefaultMemTableSize   = 32 << 20
	DefaultBlockCacheSize = 32 << 20
	DefaultGCInterval     = 5 * time.Minute
	// DefaultStreamShardPeriod is how long a stream shard stays open
	// before it rolls over to a child (DynamoDB's are roughly four hours).
	DefaultStreamShardPeriod = 4 * time.Hour
	// DefaultStreamRetention is how long stream records are kept, as in
	// DynamoDB.
	DefaultStreamRetention = 24 * time.Hour
	// DefaultGCDiscardRatio is the fraction of a value-log file that must be
	// garbage before value-log GC rewrites it (Badger's recommendation).
	DefaultGCDiscardRatio = 0.5
)

// DefaultDiskReserve returns the free space the store keeps on its disk
// with memtables of memTableSize bytes (see space.go): what Badger may still
// allocate through its mmaps once the store stops accepting writes. In
// memtables: 2 for flushing the memtables (the active one and the one being
// flushed), 5 for an L0→L1 compaction of the NumLevelZeroTables (4) tables
// that start one plus the L1 tables they overlap (its output is written
// before its input is deleted), 2 for a value-log GC rewrite (a value-log
// file is 2 memtables long), and 8 MiB for new files' headers, the discard
// statistics, the manifest and sequence leases. 296 MiB with the default
// 32 MiB memtables.
func DefaultDiskReserve(memTableSize int64) int64 {
	return 9*memTableSize + 8<<20
}

// valueThreshold is the value size from which Badger stores a value in the
// value log rather than in the LSM tree, on disk.
const valueThreshold = 4 << 10

// Clock mints the versions of local writes. conflict.HLC implements it.
type Clock interface {
	// Next returns a version greater than after and than every version
	// minted or observed before.
	Next(after conflict.Version) conflict.Version
	// Observe makes every later version greater than v.
	Observe(v conflict.Version)
}

// Config configures a DB.
type Config struct {
	// Dir is the data folder holding one Badger database. Required unless
	// InMemory.
	Dir string
	// InMemory keeps everything in memory, for tests. Dir is ignored.
	InMemory bool
	// SyncWrites makes a commit return only after it is fsynced. Default
	// true. Commits waiting at the same time share one fsync round (group
	// commit, see sync.go). Ignored when InMemory.
	SyncWrites bool
	// Region is this region's name: the Region of every version minted here.
	// Required.
	Region string
	// Clock mints versions. Default conflict.NewHLC(Region, nil).
	Clock Clock
	// Logger receives store and Badger logs. Default: a null logger. Badger's
	// INFO lines are logged at Debug, its DEBUG lines at Trace.
	Logger hclog.Logger
	// MemTableSize is the size of one Badger memtable, in bytes. Default
	// 32 MiB. It also bounds a transaction: Badger rejects a transaction whose
	// inline data exceeds 15% of it (ErrTxnTooBig).
	MemTableSize int64
	// BlockCacheSize is the size of Badger's block cache, in bytes. Default
	// 32 MiB.
	BlockCacheSize int64
	// GCInterval is how often value-log GC runs. Default 5m; negative
	// disables it. Ignored when InMemory.
	GCInterval time.Duration
	// DiskReserve is the free space, in bytes, below which the store
	// refuses writes (with a *DiskFullError) rather than let Badger fault
	// on a full disk; see space.go. Default
	// DefaultDiskReserve(MemTableSize); negative disables the check.
	// Ignored when InMemory.
	DiskReserve int64
	// StreamShardPeriod is how long a stream shard stays open before it
	// closes and a child continues it. Default DefaultStreamShardPeriod.
	StreamShardPeriod time.Duration
	// StreamRetention is how long stream records, closed shards and
	// disabled streams are kept. Default DefaultStreamRetention.
	StreamRetention time.Duration
}

// DefaultConfig returns a Config with every default filled in except Dir and
// Region.
func DefaultConfig() Config {
	return Config{
		SyncWrites:     true,
		Logger:         hclog.NewNullLogger(),
		MemTableSize:   DefaultMemTableSize,
		BlockCacheSize: DefaultBlockCacheSize,
		GCInterval:     DefaultGCInterval,
	}
}

// ErrInvalidConfig is returned by Validate and Open for a bad Config.
var ErrInvalidConfig = errors.New("store: invalid config")

// Validate reports whether c can be opened.
func (c Config) Validate() error {
	var problems []string
	if !c.InMemory && c.Dir == "" {
		problems = append(problems, "Dir is required unless InMemory")
	}
	if c.Region == "" {
		problems = append(problems, "Region is required")
	}
	if c.MemTableSize < 0 || (c.MemTableSize > 0 && c.MemTableSize < 1<<20) {
		problems = append(problems, fmt.Sprintf("MemTableSize %d: want at least 1 MiB", c.MemTableSize))
	}
	if c.BlockCacheSize < 0 {
		problems = append(problems, fmt.Sprintf("BlockCacheSize %d is negative", c.BlockCacheSize))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// withDefaults fills in zero fields.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Clock == nil {
		c.Clock = conflict.NewHLC(c.Region, nil)
	}
	if c.MemTableSize == 0 {
		c.MemTableSize = DefaultMemTableSize
	}
	if c.BlockCacheSize == 0 {
		c.BlockCacheSize = DefaultBlockCacheSize
	}
	if c.GCInterval == 0 {
		c.GCInterval = DefaultGCInterval
	}
	if c.StreamShardPeriod <= 0 {
		c.StreamShardPeriod = DefaultStreamShardPeriod
	}
	if c.StreamRetention <= 0 {
		c.StreamRetention = DefaultStreamRetention
	}
	if c.DiskReserve == 0 {
		c.DiskReserve = DefaultDiskReserve(c.MemTableSize)
	}
	return c
}

// badgerOptions translates c into Badger's options.
func (c Config) badgerOptions(logger hclog.Logger, readOnly bool) badger.Options {
	dir := c.Dir
	if c.InMemory {
		dir = ""
	}
	opts := badger.DefaultOptions(dir)
	if c.InMemory {
		// In memory, Badger rejects values above the threshold, so keep it
		// as high as Badger allows: 1 MiB (above DynamoDB's 400 KB item)
		// or the transaction limit, 15% of a memtable.
		opts = opts.WithValueThreshold(min(1<<20, 15*c.MemTableSize/100))
	} else {
		// Values of 4 KiB and more go to the value log, so large items
		// cost a pointer in the LSM tree and in the transaction size limit.
		opts = opts.WithValueThreshold(valueThreshold)
	}
	return opts.
		WithInMemory(c.InMemory).
		WithReadOnly(readOnly).
		// SyncWrites is the store's own group commit (see sync.go); Badger's
		// would fsync once per transaction.
		WithSyncWrites(false).
		WithLogger(badgerLogger{logger}).
		WithMemTableSize(c.MemTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(12).
		WithBlockCacheSize(c.BlockCacheSize).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		// Small value-log files let GC reclaim space from a laptop-sized
		// database at all; two memtables long (64 MiB by default), which
		// DefaultDiskReserve counts on.
		WithValueLogFileSize(min(2*c.MemTableSize, 1<<30)).
		// Badger's metrics are process-global expvars, shared by every DB in
		// the process; we don't use them.
		WithMetricsEnabled(false)
}

// badgerLogger adapts hclog to Badger's Logger. Badger logs routine events
// (compactions, flushes) at INFO, so they go to Debug here.
type badgerLogger struct{ l hclog.Logger }

func (b badgerLogger) Errorf(f string, args ...any) {
	b.l.Error(strings.TrimSpace(fmt.Sprintf(f, args...)))
}

func (b badgerLogger) Warningf(f string, args ...any) {
	b.l.Warn(strings.TrimSpace(fmt.Sprintf(f, args...)))
}

func (b badgerLogger) Infof(f string, args ...any) {
	if b.l.IsDebug() {
		b.l.Debug(strings.TrimSpace(fmt.Sprintf(f, args...)))
	}
}

func (b badgerLogger) Debugf(f string, args ...any) {
	if b.l.IsTrace() {
		b.l.Trace(strings.TrimSpace(fmt.Sprintf(f, args...)))
	}
}

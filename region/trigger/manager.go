package trigger

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/store"
)

// Defaults of Config.
const (
	// DefaultPollInterval is how often an idle trigger looks for new
	// records (the store has no notification; Lambda polls a shard four
	// times a second).
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultRetryBase and DefaultRetryMax bound the backoff between
	// delivery attempts: it doubles from the base up to the max, with
	// jitter.
	DefaultRetryBase = 200 * time.Millisecond
	DefaultRetryMax  = 10 * time.Second
)

// ErrExists is returned when adding a trigger whose name is taken.
var ErrExists = errors.New("trigger exists")

// ErrFromTopology is returned when removing a trigger that a topology
// block defines: the block would bring it back on the next start.
var ErrFromTopology = errors.New("trigger is defined in the topology")

// ErrStopped is returned by Add once the manager has stopped.
var ErrStopped = errors.New("triggers are stopped")

// Source is what triggers read: a table's stream, through the store's
// stream read API. *store.DB satisfies it.
type Source interface {
	Table(name string) (*store.Table, error)
	Stream(id uint64) (*store.StreamInfo, []store.Shard, error)
	StreamRecords(id uint64, shard uint32, after uint64, limit, maxBytes int) (*store.StreamPage, error)
	StreamLatest(id uint64) (uint64, error)
	StreamTrimHorizon(id uint64) (uint64, error)
}

// Config configures a Manager.
type Config struct {
	// Region and AccountID appear in the records (awsRegion,
	// eventSourceARN). Region is required; AccountID defaults to
	// "000000000000", the API's.
	Region    string
	AccountID string
	// Dir holds the triggers' files (the region's data folder's
	// "triggers"). Required.
	Dir string
	// Source is the region's store. Required.
	Source Source
	// Configured are the triggers the topology defines for this region.
	Configured []Spec
	// Logger; default a null logger.
	Logger hclog.Logger
	// PollInterval, RetryBase and RetryMax: see their defaults.
	PollInterval, RetryBase, RetryMax time.Duration
	// HTTP posts to URL triggers; default a plain client (each spec's
	// Timeout bounds a post).
	HTTP *http.Client
}

// Manager runs a region's triggers.
type Manager struct {
	cfg Config
	log hclog.Logger

	mu      sync.Mutex         // guards workers, ctx, stopped
	workers map[string]*worker // by name
	ctx     context.Context    // Run's; nil before Run
	stopped bool
}

// New reads the triggers kept in cfg.Dir and reconciles them with the
// configured ones: a topology trigger is created or updated (keeping its
// position when it reads the same table from the same starting position),
// and one whose block is gone is removed.
func New(cfg Config) (*Manager, error) {
	if cfg.Region == "" || cfg.Dir == "" || cfg.Source == nil {
		return nil, errors.New("triggers: region, folder and source are required")
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("triggers folder: %w", err)
	}
	m := &Manager{cfg: cfg, log: cfg.Logger.Named("trigger"), workers: map[string]*worker{}}
	states, err := readStates(cfg.Dir)
	if err != nil {
		return nil, err
	}
	kept := map[string]*state{}
	for _, st := range states {
		kept[st.Spec.Name] = st
	}
	want := map[string]bool{}
	for _, s := range cfg.Configured {
		s.Source = SourceTopology
		if err := s.Normalize(); err != nil {
			return nil, err
		}
		if want[s.Name] {
			return nil, fmt.Errorf("%w: two trigger blocks are named %q", ErrInvalid, s.Name)
		}
		want[s.Name] = true
		st := kept[s.Name]
		if st == nil || !st.Spec.sameSource(&s) {
			st = &state{Created: time.Now().UTC()}
		}
		st.Spec = s
		if err := writeState(cfg.Dir, st); err != nil {
			return nil, err
		}
		kept[s.Name] = st
	}
	for name, st := range kept {
		if st.Spec.Source == SourceTopology && !want[name] {
			if err := os.Remove(statePath(cfg.Dir, name)); err != nil {
				return nil, fmt.Errorf("remove trigger %s: %w", name, err)
			}
			m.log.Info("trigger removed: its topology block is gone", "trigger", name)
			continue
		}
		m.workers[name] = m.newWorker(st)
	}
	return m, nil
}

// Run runs the triggers until ctx is cancelled, then stops them and
// waits for them. A delivery in flight is cancelled (a command is killed):
// its batch is delivered again on the next start.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.stopped || m.ctx != nil {
		m.mu.Unlock()
		return errors.New("triggers: Run called twice")
	}
	m.ctx = ctx
	for _, w := range m.workers {
		w.start(ctx)
	}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	m.stopped = true
	ws := make([]*worker, 0, len(m.workers))
	for _, w := range m.workers {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
	return nil
}

// Add creates a trigger and starts it (once Run runs).
func (m *Manager) Add(s Spec) (Status, error) {
	if s.Source == "" {
		s.Source = SourceAPI
	}
	if err := s.Normalize(); err != nil {
		return Status{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return Status{}, ErrStopped
	}
	if _, ok := m.workers[s.Name]; ok {
		return Status{}, fmt.Errorf("%w: %q (remove it first)", ErrExists, s.Name)
	}
	st := &state{Spec: s, Created: time.Now().UTC()}
	if err := writeState(m.cfg.Dir, st); err != nil {
		return Status{}, err
	}
	w := m.newWorker(st)
	m.workers[s.Name] = w
	if m.ctx != nil {
		w.start(m.ctx)
	}
	m.log.Info("trigger added", "trigger", s.Name, "table", s.Table, "target", s.Target())
	return w.status(), nil
}

// Remove stops a trigger and deletes its position. Its on-failure log is
// kept.
func (m *Manager) Remove(name string) error {
	m.mu.Lock()
	w, ok := m.workers[name]
	switch {
	case !ok:
		m.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	case w.spec.Source == SourceTopology:
		m.mu.Unlock()
		return fmt.Errorf("%w: remove its trigger block and restart the region", ErrFromTopology)
	}
	delete(m.workers, name)
	m.mu.Unlock()
	w.stop()
	if err := os.Remove(statePath(m.cfg.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove trigger %s: %w", name, err)
	}
	m.log.Info("trigger removed", "trigger", name)
	return nil
}

// Status reports every trigger, by name.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	ws := make([]*worker, 0, len(m.workers))
	for _, w := range m.workers {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	out := make([]Status, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

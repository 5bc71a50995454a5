package natsrv

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats-server/v2/server"
)

// Defaults for ServerConfig.
const (
	// DefaultSyncInterval is how often JetStream's file store is fsynced.
	DefaultSyncInterval = time.Second
	// DefaultMaxPayload is the largest message the server accepts, in bytes.
	DefaultMaxPayload int32 = 8 << 20
	// DefaultMaxStore is JetStream's limit on file storage, in bytes:
	// 1 TiB, nats-server's own fallback. Left unset, nats-server fixes the
	// limit at 75% of the disk free when it starts, and refuses for good
	// (until a restart) a stream whose MaxBytes exceeds it: a region
	// started on a nearly full disk never got its stream, even after space
	// was freed (issue 7). The streams' own MaxBytes bound their size; a
	// full disk shows as write errors, which the publisher retries.
	DefaultMaxStore int64 = 1 << 40
	// DefaultListen is where clients connect when ServerConfig.Listen is
	// empty: the loopback interface, a random port.
	DefaultListen = "127.0.0.1:0"
	// readyTimeout bounds how long StartServer waits for the server.
	readyTimeout = 30 * time.Second
	// restartTimeout bounds how long Restart tries to bind the port again.
	restartTimeout = 10 * time.Second
)

// ErrInvalidConfig is returned by Validate and StartServer for a bad
// ServerConfig.
var ErrInvalidConfig = errors.New("natsrv: invalid config")

// ErrNotReady is returned by StartServer when the server did not become
// ready to accept clients in time.
var ErrNotReady = errors.New("natsrv: server not ready")

// ServerConfig configures an embedded server.
type ServerConfig struct {
	// Name is the server's name: the region's name. Required.
	Name string
	// Listen is the host:port clients connect to (other regions'
	// replicators among them). Port 0 picks a free port; ClientURL tells
	// which. Default DefaultListen.
	Listen string
	// StoreDir is the folder of JetStream's file storage, under the
	// region's data folder. Required.
	StoreDir string
	// SyncInterval is how often JetStream's file store is fsynced. Default
	// 1s. The publisher's TrimGrace must be a few times this.
	SyncInterval time.Duration
	// MaxPayload is the largest message the server accepts, in bytes.
	// Default 8 MiB.
	MaxPayload int32
	// MaxStore is JetStream's limit on file storage, in bytes. Default
	// DefaultMaxStore (see there for why it is not derived from the disk).
	MaxStore int64
	// Logger receives the server's log lines (its notices at Debug).
	// Default: a null logger.
	Logger hclog.Logger
}

// DefaultConfig returns a ServerConfig with every default filled in except
// Name and StoreDir.
func DefaultConfig() ServerConfig {
	return ServerConfig{
		Listen:       DefaultListen,
		SyncInterval: DefaultSyncInterval,
		MaxPayload:   DefaultMaxPayload,
		MaxStore:     DefaultMaxStore,
		Logger:       hclog.NewNullLogger(),
	}
}

func (c ServerConfig) withDefaults() ServerConfig {
	d := DefaultConfig()
	if c.Listen == "" {
		c.Listen = d.Listen
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = d.SyncInterval
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = d.MaxPayload
	}
	if c.MaxStore == 0 {
		c.MaxStore = d.MaxStore
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// Validate reports whether c can be started. Zero fields that have a
// default are valid.
func (c ServerConfig) Validate() error {
	var problems []string
	if c.Name == "" {
		problems = append(problems, "Name is required")
	} else if strings.ContainsAny(c.Name, " \t\r\n") {
		problems = append(problems, fmt.Sprintf("Name %q contains white space", c.Name))
	}
	if c.StoreDir == "" {
		problems = append(problems, "StoreDir is required")
	}
	if c.Listen != "" {
		if _, _, err := splitListen(c.Listen); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if c.SyncInterval < 0 {
		problems = append(problems, fmt.Sprintf("SyncInterval %s is negative", c.SyncInterval))
	}
	if c.MaxPayload < 0 {
		problems = append(problems, fmt.Sprintf("MaxPayload %d is negative", c.MaxPayload))
	}
	if c.MaxStore < 0 {
		problems = append(problems, fmt.Sprintf("MaxStore %d is negative", c.MaxStore))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// splitListen parses host:port. Port 0 becomes server.RANDOM_PORT: to
// nats-server, 0 means its default port 4222.
func splitListen(listen string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("Listen %q is not host:port: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("Listen %q: bad port", listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// Server is a running embedded NATS server.
type Server struct {
	mu  sync.RWMutex // guards ns, which Restart replaces
	ns  *server.Server
	cfg ServerConfig
}

// StartServer starts a server and waits until it accepts clients.
func StartServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ns, err := startNATS(cfg)
	if err != nil {
		return nil, err
	}
	return &Server{ns: ns, cfg: cfg}, nil
}

// startNATS starts a nats-server for cfg (defaults filled in) and waits
// until it accepts clients.
func startNATS(cfg ServerConfig) (*server.Server, error) {
	host, port, err := splitListen(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	opts := &server.Options{
		ServerName:        cfg.Name,
		Host:              host,
		Port:              port,
		JetStream:         true,
		StoreDir:          cfg.StoreDir,
		JetStreamMaxStore: cfg.MaxStore,
		SyncInterval:      cfg.SyncInterval,
		MaxPayload:        cfg.MaxPayload,
		NoSigs:            true,
		// The HTTP monitoring port, routes, gateways and leaf nodes stay
		// off: one server per region, reached by clients only.
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server %s: %w", cfg.Name, err)
	}
	log := cfg.Logger.Named("nats").With("server", cfg.Name)
	ns.SetLoggerV2(logAdapter{log}, log.IsDebug(), log.IsTrace(), false)
	go ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w: %s on %s after %s", ErrNotReady, cfg.Name, cfg.Listen, readyTimeout)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w: %s: JetStream is not enabled (store dir %s)", ErrNotReady, cfg.Name, cfg.StoreDir)
	}
	log.Info("nats server started", "client_url", ns.ClientURL(), "store_dir", cfg.StoreDir,
		"sync_interval", cfg.SyncInterval, "max_payload", cfg.MaxPayload)
	return ns, nil
}

// Restart shuts the server down and starts it again with the same
// configuration, on the same port and store: clients reconnect by
// themselves, and every stream reopens from disk. A JetStream file store
// that met a write error (a full disk: "no space left on device") refuses
// every later write with that error until it is reopened; this reopens it
// once the cause is gone. (nats-server's EnableJetStream after
// ShutdownJetStream would keep the server up, but races with JetStream API
// requests in flight, as the race detector shows.)
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.cfg
	cfg.Listen = strings.TrimPrefix(s.ns.ClientURL(), "nats://")
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	// The port was just released: binding it again can fail for a moment.
	deadline := time.Now().Add(restartTimeout)
	for {
		ns, err := startNATS(cfg)
		if err == nil {
			s.ns = ns
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("restart nats server %s: %w", cfg.Name, err)
		}
		time.Sleep(100 * time.Millisecond) // pacing of the retries
	}
}

// ClientURL returns the URL clients connect to (nats://host:port), with the
// port actually bound.
func (s *Server) ClientURL() string { return s.server().ClientURL() }

// Addr returns the host:port clients connect to, with the port actually
// bound: what to pass as Listen to restart the server on the same port.
func (s *Server) Addr() string {
	return strings.TrimPrefix(s.server().ClientURL(), "nats://")
}

// Config returns the configuration the server runs with, defaults filled
// in.
func (s *Server) Config() ServerConfig { return s.cfg }

// NATS returns the underlying nats-server, for tests and diagnostics.
func (s *Server) NATS() *server.Server { return s.server() }

func (s *Server) server() *server.Server {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ns
}

// Shutdown stops the server and waits until it has stopped. It is
// idempotent.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// logAdapter sends nats-server's log lines to hclog.
type logAdapter struct{ l hclog.Logger }

// Noticef logs at Debug: the server's notices are mostly its start-up
// banner, and StartServer logs the one line that matters at Info.
func (a logAdapter) Noticef(format string, v ...any) { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a logAdapter) Warnf(format string, v ...any)   { a.l.Warn(fmt.Sprintf(format, v...)) }
func (a logAdapter) Fatalf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a logAdapter) Errorf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a logAdapter) Debugf(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a logAdapter) Tracef(format string, v ...any)  { a.l.Trace(fmt.Sprintf(format, v...)) }

// ClientOptions are the options of every connection replication makes: it
// reconnects forever, and has no reconnect buffer. With a buffer, publishes
// made while disconnected would be flushed on reconnect behind the
// publisher's back, interleaved with its own resends; without one they fail
// at once and the publisher resends them in order once connected.
func ClientOptions(name string) []nats.Option {
	return []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(50*time.Millisecond, 50*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1),
	}
}

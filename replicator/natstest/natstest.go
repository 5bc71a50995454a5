package natstest

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/replicator/natsrv"
)

// StartServer starts an embedded server named name on 127.0.0.1 with a
// random port and JetStream in dir (use t.TempDir()), and shuts it down
// when the test ends.
func StartServer(t testing.TB, name, dir string) *natsrv.Server {
	t.Helper()
	return StartServerAt(t, name, dir, "127.0.0.1:0")
}

// StartServerAt is StartServer on a given host:port. Binding a port that
// was just released can fail for a moment, so it retries for a few seconds.
func StartServerAt(t testing.TB, name, dir, listen string) *natsrv.Server {
	t.Helper()
	cfg := natsrv.DefaultConfig()
	cfg.Name, cfg.StoreDir, cfg.Listen = name, dir, listen
	cfg.Anonymous = true
	if testing.Verbose() {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Warn})
	}
	var (
		s   *natsrv.Server
		err error
	)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err = natsrv.StartServer(cfg)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // retry pacing, not synchronisation
	}
	if err != nil {
		t.Fatalf("start nats server %s: %v", name, err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// RestartServer shuts s down and starts a server with the same name, port
// and store folder: what a crash and restart of a region's NATS looks like.
func RestartServer(t testing.TB, s *natsrv.Server) *natsrv.Server {
	t.Helper()
	cfg := s.Config()
	addr := s.Addr()
	s.Shutdown()
	return StartServerAt(t, cfg.Name, cfg.StoreDir, addr)
}

// Connect connects to url with options suited to tests: reconnect forever,
// quickly, and keep trying if the server is not up yet. The connection is
// closed when the test ends.
func Connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	base := append(natsrv.ClientOptions("test"),
		nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond))
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// WaitFor calls check until it returns nil, failing the test with check's
// last error if that does not happen within timeout.
func WaitFor(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

package natsrv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/replicator/natstest"
)

func TestStartServer_JetStreamSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := natstest.StartServer(t, "east", dir)
	if got := s.Config(); got.SyncInterval != natsrv.DefaultSyncInterval || got.MaxPayload != natsrv.DefaultMaxPayload {
		t.Fatalf("defaults not applied: %+v", got)
	}
	if got := s.NATS().JetStreamConfig().SyncInterval; got != time.Second {
		t.Fatalf("server's sync interval %s", got)
	}
	nc := natstest.Connect(t, s.ClientURL())
	if nc.MaxPayload() != int64(natsrv.DefaultMaxPayload) {
		t.Fatalf("max payload %d", nc.MaxPayload())
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s.1", []byte("x")); err != nil {
		t.Fatal(err)
	}

	s = natstest.RestartServer(t, s)
	js, err = jetstream.New(natstest.Connect(t, s.ClientURL()))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("stream holds %d messages after restart", n)
	}
}

func TestServerConfig_Validate(t *testing.T) {
	for name, cfg := range map[string]natsrv.ServerConfig{
		"no name":      {StoreDir: "x"},
		"no store dir": {Name: "a"},
		"bad listen":   {Name: "a", StoreDir: "x", Listen: "nowhere"},
		"bad port":     {Name: "a", StoreDir: "x", Listen: "127.0.0.1:99999"},
		"negative":     {Name: "a", StoreDir: "x", SyncInterval: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := natsrv.StartServer(cfg); !errors.Is(err, natsrv.ErrInvalidConfig) {
				t.Fatalf("StartServer: %v", err)
			}
		})
	}
}

package region

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/replicator/natstest"
)

// The region's own connection is in-process (issue 12); a Restart of the
// embedded server (the publisher's repair after a full disk) replaces the
// server, and the connection must follow it to the new one rather than
// keep dialling the old.
func TestInProcess_ConnectionFollowsARestart(t *testing.T) {
	srv := natstest.StartServer(t, "self", t.TempDir())
	nc, err := nats.Connect(srv.ClientURL(), append(natsrv.ClientOptions("self-publisher"), nats.InProcessServer(inProcess{srv}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	echo := func() error {
		sub, err := nc.SubscribeSync("echo")
		if err != nil {
			return err
		}
		defer func() { _ = sub.Unsubscribe() }()
		if err := nc.Publish("echo", []byte("x")); err != nil {
			return err
		}
		if _, err := sub.NextMsg(2 * time.Second); err != nil {
			return err
		}
		return nil
	}
	if err := echo(); err != nil {
		t.Fatalf("before the restart: %v", err)
	}
	old := srv.NATS()
	if n := old.NumClients(); n != 1 {
		t.Fatalf("server sees %d clients, want the in-process one", n)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.NATS() == old {
		t.Fatal("Restart kept the same server")
	}
	natstest.WaitFor(t, 20*time.Second, func() error {
		if !nc.IsConnected() {
			return errors.New("not reconnected")
		}
		if n := srv.NATS().NumClients(); n != 1 {
			return errors.New("the new server has no client yet")
		}
		return echo()
	})
}

package replicator

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/replicator/natstest"
)

// A publisher whose stream exists with its configuration does not ask to
// create or update it, so it publishes even when the JetStream meta group
// cannot answer (on a supercluster with most servers down). Here the
// publisher's user may not create or update streams at all.
func TestPublisher_ExistingStreamNeedsNoUpdate(t *testing.T) {
	admin, err := natsauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	owner, err := natsauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	perms := natsauth.OwnerPermissions("src")
	perms.Publish.Allow = slices.DeleteFunc(perms.Publish.Allow, func(s string) bool {
		return s == "$JS.API.STREAM.CREATE.GT_src" || s == "$JS.API.STREAM.UPDATE.GT_src"
	})
	cfg := natsrv.DefaultConfig()
	cfg.Name, cfg.StoreDir = "src", t.TempDir()
	cfg.Users = []*server.NkeyUser{{Nkey: admin.Public}, {Nkey: owner.Public, Permissions: perms}}
	srv, err := natsrv.StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	log := newFakeLog()
	log.add(items("t", 0, 10)...)
	adminJS := jsFor(t, natstest.Connect(t, srv.ClientURL(), admin.Option()))
	opts, err := natsauth.Client{Region: "src", Identity: &owner}.Options()
	if err != nil {
		t.Fatal(err)
	}
	conn := natstest.Connect(t, srv.ClientURL(), opts...)
	p, err := NewPublisher(PublisherConfig{Region: "src", Log: log, Conn: conn, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adminJS.CreateStream(context.Background(), p.StreamConfig()); err != nil {
		t.Fatal(err)
	}
	run(t, p.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if st := p.Status(); st.Published != 10 {
			return fmt.Errorf("published %d (%s)", st.Published, st.LastError)
		}
		return nil
	})
	waitStreamLen(t, adminJS, "src", 10)
}

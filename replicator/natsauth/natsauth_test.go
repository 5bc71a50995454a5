package natsauth_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/replicator/natsrv"
)

// identity creates region's identity in a fresh folder.
func identity(t *testing.T) natsauth.Identity {
	t.Helper()
	id, err := natsauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// server starts region owner's server admitting the given identities.
func server(t *testing.T, owner string, ids map[string]natsauth.Identity) *natsrv.Server {
	t.Helper()
	keys := map[string]string{}
	for name, id := range ids {
		keys[name] = id.Public
	}
	cfg := natsrv.DefaultConfig()
	cfg.Name, cfg.StoreDir, cfg.Users = owner, t.TempDir(), natsauth.ServerUsers(owner, keys)
	s, err := natsrv.StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// connect connects as region name with identity id (nil: anonymous).
func connect(t *testing.T, url, name string, id *natsauth.Identity) (*nats.Conn, error) {
	t.Helper()
	opts, err := natsauth.Client{Region: name, Identity: id}.Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second))...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

func TestLoadOrCreate_KeepsTheSeedPrivateAndStable(t *testing.T) {
	dir := t.TempDir()
	a, err := natsauth.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := natsauth.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Public != b.Public || !strings.HasPrefix(a.Public, "U") {
		t.Fatalf("identity changed: %s, %s", a.Public, b.Public)
	}
	fi, err := os.Stat(filepath.Join(dir, natsauth.SeedFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("seed file mode %o", fi.Mode().Perm())
	}
	if pub, err := natsauth.ReadPublic(dir); err != nil || pub != a.Public {
		t.Fatalf("ReadPublic: %q, %v", pub, err)
	}
	if _, err := natsauth.ReadPublic(t.TempDir()); !errors.Is(err, natsauth.ErrNoIdentity) {
		t.Fatalf("ReadPublic of an empty folder: %v", err)
	}
}

// The owner publishes and manages its stream; a peer reads it but cannot
// write into it, alter it, or pose as its snapshot service; strangers and
// anonymous clients are refused.
func TestServerUsers_OwnerWritesPeersRead(t *testing.T) {
	east, west, stranger := identity(t), identity(t), identity(t)
	srv := server(t, "east", map[string]natsauth.Identity{"east": east, "west": west})
	url := srv.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := connect(t, url, "anon", nil); err == nil {
		t.Fatal("anonymous client accepted")
	}
	if _, err := connect(t, url, "east", &stranger); err == nil {
		t.Fatal("unknown nkey accepted")
	}

	own, err := connect(t, url, "east", &east)
	if err != nil {
		t.Fatal(err)
	}
	ojs, _ := jetstream.New(own)
	stream, err := ojs.CreateStream(ctx, jetstream.StreamConfig{Name: "GT_east", Subjects: []string{"gt.east.>"}, AllowDirect: true})
	if err != nil {
		t.Fatalf("owner creates its stream: %v", err)
	}
	if _, err := ojs.Publish(ctx, "gt.east.i.74", []byte("record")); err != nil {
		t.Fatalf("owner publishes: %v", err)
	}

	peer, err := connect(t, url, "west", &west)
	if err != nil {
		t.Fatal(err)
	}
	pjs, _ := jetstream.New(peer)
	// Reading works: a durable consumer, a fetch, an ack, a direct get.
	ps, err := pjs.Stream(ctx, "GT_east")
	if err != nil {
		t.Fatalf("peer reads stream info: %v", err)
	}
	cons, err := ps.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "repl-west", AckPolicy: jetstream.AckAllPolicy})
	if err != nil {
		t.Fatalf("peer creates its consumer: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("peer acks: %v", err)
		}
	}
	if n != 1 {
		t.Fatalf("peer fetched %d messages (%v)", n, batch.Error())
	}
	if _, err := ps.GetMsg(ctx, 1); err != nil {
		t.Fatalf("peer gets a message: %v", err)
	}
	if _, err := ps.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{}); err != nil {
		t.Fatalf("peer creates an ordered consumer: %v", err)
	}

	// Writing does not. (A refused request gets no answer: each waits for
	// its own deadline.)
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		t.Cleanup(cancel)
		return c
	}
	if _, err := pjs.Publish(short(), "gt.east.i.74", []byte("forged")); err == nil {
		t.Fatal("peer published into the owner's stream")
	}
	if err := ps.Purge(short()); err == nil {
		t.Fatal("peer purged the owner's stream")
	}
	if err := pjs.DeleteStream(short(), "GT_east"); err == nil {
		t.Fatal("peer deleted the owner's stream")
	}
	if _, err := pjs.UpdateStream(short(), jetstream.StreamConfig{Name: "GT_east", Subjects: []string{"gt.>"}}); err == nil {
		t.Fatal("peer updated the owner's stream")
	}
	if err := ps.DeleteMsg(short(), 1); err == nil {
		t.Fatal("peer deleted a message")
	}
	// Nor can it answer for the owner's snapshot service, or read the
	// owner's replies.
	for _, subj := range []string{"gtsnap.east", "_INBOX_east.x"} {
		if err := subscribeDenied(peer, subj); err != nil {
			t.Fatal(err)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

// subscribeDenied reports an error unless the server refuses a
// subscription to subj.
func subscribeDenied(nc *nats.Conn, subj string) error {
	denied := make(chan error, 1)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case denied <- err:
		default:
		}
	})
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		return nil
	}
	defer sub.Unsubscribe()
	_ = nc.Flush()
	select {
	case err := <-denied:
		if errors.Is(err, nats.ErrPermissionViolation) || strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			return nil
		}
		return err
	case <-time.After(5 * time.Second):
		return errors.New("subscription to " + subj + " was not refused")
	}
}

func TestRedact_HidesPasswordsAndTokens(t *testing.T) {
	for in, want := range map[string]string{
		"nats://alice:s3cret@h1:4222,nats://h2:4222": "nats://alice:redacted@h1:4222,nats://h2:4222",
		"tls://tok3n@h:4443":                         "tls://redacted@h:4443",
		"alice:s3cret@h:4222":                        "redacted@h:4222",
		"nats://h:4222":                              "nats://h:4222",
	} {
		if got := natsauth.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseURLs_TakesWhatNatsGoTakes(t *testing.T) {
	seeds, err := natsauth.ParseURLs("nats://u:p@a:1, tls://b , c:3")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, s := range seeds {
		got = append(got, s.Scheme+" "+s.Host)
	}
	if strings.Join(got, ",") != "nats a:1,tls b:4222,nats c:3" {
		t.Fatalf("seeds %v", got)
	}
	if u := seeds[0].URL(); u != "nats://u:p@a:1" {
		t.Fatalf("URL %s", u)
	}
	for _, bad := range []string{"", "http://a:1", "nats://:4222", "nats://u:p@a:1,%zz"} {
		_, err := natsauth.ParseURLs(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("error shows a password: %v", err)
		}
	}
}

package regiontest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/replicator/natsauth"
)

// StartRegion runs a region in this process until the test ends.
func StartRegion(t testing.TB, cfg region.Config) *region.Region {
	t.Helper()
	r, err := region.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

// Node is a region started by StartReplicated.
type Node struct {
	*region.Region
	Config region.Config
}

// StartReplicated runs one region per name in this process, replicating
// through embedded NATS servers on free loopback ports, every table
// global. tweak, if not nil, adjusts each region's config before it
// starts.
func StartReplicated(t testing.TB, names []string, tweak func(*region.Config)) map[string]*Node {
	t.Helper()
	natsAddrs := FreeAddrs(t, len(names))
	keys, clients := Identities(t, names)
	out := map[string]*Node{}
	for i, n := range names {
		peers, peerClients := map[string]string{}, map[string]natsauth.Client{}
		for j, p := range names {
			peerClients[p] = clients[n]
			if p != n {
				peers[p] = "nats://" + natsAddrs[j]
			}
		}
		cfg := region.Config{
			Name: n, Listen: "127.0.0.1:0", DataDir: t.TempDir(), NoSync: true, TTLInterval: -1,
			Replication: &region.ReplicationConfig{
				Regions: names, Peers: peers, NATSListen: natsAddrs[i], GlobalByDefault: true,
				SyncInterval: 100 * time.Millisecond,
				Client:       clients[n], PeerClients: peerClients, Keys: keys,
			},
		}
		if tweak != nil {
			tweak(&cfg)
		}
		out[n] = &Node{Region: StartRegion(t, cfg), Config: cfg}
	}
	return out
}

// FreeAddrs returns n loopback addresses free at the time of the call.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// Identities makes every region's NATS identity: the public keys every
// embedded server knows, and each region's client settings.
func Identities(t testing.TB, names []string) (map[string]string, map[string]natsauth.Client) {
	t.Helper()
	keys, clients := map[string]string{}, map[string]natsauth.Client{}
	for _, n := range names {
		id, err := natsauth.LoadOrCreate(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		keys[n], clients[n] = id.Public, natsauth.Client{Region: n, Identity: &id}
	}
	return keys, clients
}

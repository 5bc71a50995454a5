package region_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/replicator/natstest"
)

// Issue 9: a normal start printed 6 WARN lines and a normal stop 9: the
// shaping proxy's own log as raw JSON, and regions starting together
// logging each other's absence as failures. Neither is worth a warning,
// and neither is an error for status to show afterwards.
func TestRegion_NormalStartAndStopLogNoWarning(t *testing.T) {
	names := []string{"us-east-1", "eu-west-1"}
	natsAddrs := regiontest.FreeAddrs(t, len(names))
	keys, clients := regiontest.Identities(t, names)
	var logs natstest.LogBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	type running struct {
		r    *region.Region
		stop context.CancelFunc
		done chan error
	}
	var regions []running
	stopAll := func() {
		for _, rr := range regions {
			rr.stop()
		}
		for _, rr := range regions {
			if err := <-rr.done; err != nil {
				t.Errorf("run: %v", err)
			}
			if err := rr.r.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		}
		regions = nil
	}
	t.Cleanup(stopAll)
	// Started one after the other, as `up` does: the first one's links
	// find no peer at first.
	for i, n := range names {
		peers, peerClients := map[string]string{}, map[string]natsauth.Client{}
		for j, p := range names {
			peerClients[p] = clients[n]
			if p != n {
				peers[p] = "nats://" + natsAddrs[j]
			}
		}
		r, err := region.New(region.Config{
			Name: n, Listen: "127.0.0.1:0", DataDir: t.TempDir(), NoSync: true, TTLInterval: -1,
			Logger: log.With("region", n),
			Replication: &region.ReplicationConfig{
				Regions: names, Peers: peers, NATSListen: natsAddrs[i],
				SyncInterval: 100 * time.Millisecond,
				Client:       clients[n], PeerClients: peerClients, Keys: keys,
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		regions = append(regions, running{r, cancel, done})
	}
	regiontest.WaitFor(t, 30*time.Second, func() error {
		for _, rr := range regions {
			st := rr.r.Status()
			if len(st.Links) != len(names)-1 {
				return fmt.Errorf("%s has %d links", st.Region, len(st.Links))
			}
			for _, l := range st.Links {
				if !l.Connected || l.Waiting != "" {
					return fmt.Errorf("link %s → %s not up (%s)", l.Source, l.Dest, l.Waiting)
				}
			}
		}
		return nil
	})
	// Issue 9: status kept the start-up waits ("source stream not
	// found") as each link's last error, "recovered", for a minute. A
	// peer that is not there yet before the link first worked is a wait,
	// not a failure.
	for _, rr := range regions {
		for _, l := range rr.r.Status().Links {
			if l.LastError != "" || l.Recovered {
				t.Errorf("link %s → %s: after a normal start, last error %q (recovered %v)", l.Source, l.Dest, l.LastError, l.Recovered)
			}
		}
	}
	stopAll()
	if bad := logs.Lines(`\[(WARN|ERROR)\]`); len(bad) > 0 {
		t.Fatalf("a normal start and stop logged %d warnings or errors:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

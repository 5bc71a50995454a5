//go:build scenario

package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/replicator/natsauth"
)

// TestScenario_ExternalNATSClusterCutAndFailover runs three regions, each on its
// own external NATS, with link shaping on: us-east on a TLS server with
// per-region nkeys, eu-west on a three-server cluster with stream_replicas
// = 3, ap-south on a server whose password is in the URL. It checks that
// the regions converge; that killing the server leading eu-west's stream
// does not stall replication; that a cut link stays cut whichever server
// of the cluster it could reach (before, it reconnected straight to
// another server: 25 of 25 writes crossed the cut), and heals; that a
// restart on the cluster re-sends nothing; that strangers are refused and
// no region can publish into another's stream; and that no secret reaches
// a log line.
func TestScenario_ExternalNATSClusterCutAndFailover(t *testing.T) {
	const password = "Pw-0a1b2c3d4e5f"
	dir := t.TempDir()
	p := newPKI(t)
	keys := identities(t, dir, "us-east", "eu-west", "ap-south")
	us := startExtNATS(t, "us-east", 1, extAuth{nkeys: natsauth.ServerUsers("us-east", keys), tls: p.serverTLS(t)})
	eu := startExtNATS(t, "eu-west", 3, extAuth{nkeys: natsauth.ServerUsers("eu-west", keys)})
	ap := startExtNATS(t, "ap-south", 1, extAuth{users: []*server.User{{Username: "gt", Password: password}}})
	ec := startExtCluster(t, dir, p, []extRegion{
		{name: "us-east", nats: us, tlsCA: true},
		// The URL lists two of the three servers; the third is
		// advertised by the cluster, and a link must not use it.
		{name: "eu-west", nats: eu, replicas: 3, seeds: 2},
		{name: "ap-south", nats: ap, userinfo: "gt:" + password + "@"},
	})
	createGlobalTable(t, ec.cluster, "us-east")
	for i := 0; i < 30; i++ {
		ec.put(t, ec.names[i%3], fmt.Sprintf("k%d", i))
	}
	ec.waitConverged("Conv", 60*time.Second)
	if _, r := ec.streamMsgs(t, "eu-west"); r != 3 {
		t.Fatalf("eu-west's stream has %d replicas, want 3", r)
	}
	ec.checkRefused(t, "eu-west", "us-east")
	ec.checkRefused(t, "us-east", "eu-west")

	// Kill the server leading eu-west's stream: eu-west keeps publishing
	// and the others keep receiving.
	leader := -1
	for i, s := range eu.servers {
		if s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, replicator.StreamName("eu-west")) {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no leader for eu-west's stream")
	}
	eu.stop(leader)
	start := time.Now()
	for i := 0; i < 20; i++ {
		ec.put(t, "eu-west", fmt.Sprintf("failover-%d", i))
	}
	ec.waitHas(t, "us-east", "failover-19", 60*time.Second)
	ec.waitHas(t, "ap-south", "failover-19", 60*time.Second)
	t.Logf("with eu-west's stream leader down, 20 writes reached every region in %s", time.Since(start).Round(time.Millisecond))

	// Cut eu-west → us-east: nothing crosses, whichever of the cluster's
	// servers the link tries, the one just killed back up included.
	ec.cli(t, "partition", "--one-way", "eu-west,us-east")
	regiontest.WaitFor(t, 30*time.Second, func() error {
		l, err := ec.linkStatus("eu-west", "us-east")
		if err != nil {
			return err
		}
		if l.Connected {
			return fmt.Errorf("cut link still connected: %w", errNotYet)
		}
		return nil
	})
	eu.start(t, leader)
	for i := 0; i < 25; i++ {
		ec.put(t, "eu-west", fmt.Sprintf("cut-%d", i))
	}
	ec.waitHas(t, "ap-south", "cut-24", 60*time.Second)
	// The link retries every few hundred milliseconds at most: give it a
	// few rounds against every server.
	ec.put(t, "ap-south", "marker")
	ec.waitHas(t, "us-east", "marker", 30*time.Second)
	if l, err := ec.linkStatus("eu-west", "us-east"); err != nil || l.Connected {
		t.Fatalf("the cut link eu-west → us-east: %+v, %v", l, err)
	}
	crossed := 0
	for i := 0; i < 25; i++ {
		if ec.has(t, "us-east", fmt.Sprintf("cut-%d", i)) {
			crossed++
		}
	}
	if crossed > 0 {
		t.Fatalf("%d of 25 writes crossed the cut", crossed)
	}
	ec.cli(t, "heal")
	ec.waitHas(t, "us-east", "cut-24", 60*time.Second)
	ec.waitConverged("Conv", 60*time.Second)

	// A restart on the cluster sends nothing again.
	ec.checkRestartResendsNothing(t, "eu-west")
	ec.checkNoSecrets(t, password)
}

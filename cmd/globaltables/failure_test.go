package main

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/replicator/natsrv"
)

// ackedCount returns how many acknowledged writes the workload has made.
func (w *workload) ackedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, wr := range w.writes {
		if wr.acked {
			n++
		}
	}
	return n
}

// waitAcked waits until the workload has made n more acknowledged writes.
func (w *workload) waitAcked(t *testing.T, n int) {
	t.Helper()
	target := w.ackedCount() + n
	regiontest.WaitFor(t, 2*time.Minute, func() error {
		if got := w.ackedCount(); got < target {
			return fmt.Errorf("%d of %d acknowledged writes", got, target)
		}
		return nil
	})
}

// TestReplication_SurvivesSIGKILL kills region processes with SIGKILL at
// random instants while every region takes writes, restarts them, and
// checks that the regions converge, no acknowledged write is lost (each key
// holds the greatest acknowledged version, or a write whose fate the client
// never learned), and every overwritten acknowledged write is accounted for.
func TestReplication_SurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end crash test: skipped in -short mode")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	c := startCluster(t, threeRegions, "global_tables = true")
	createGlobalTable(t, c, "us-east-1")
	w := &workload{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, c, threeRegions, 2, 1<<30, 40, seed)
	}()
	for round := 0; round < 3; round++ {
		w.waitAcked(t, 50+rng.Intn(200))
		victim := threeRegions[rng.Intn(len(threeRegions))]
		c.proc(victim).Kill(t)
		t.Logf("round %d: killed %s after %d acknowledged writes", round, victim, w.ackedCount())
		w.waitAcked(t, 30+rng.Intn(100)) // the others keep taking writes
		c.start(victim)
	}
	w.waitAcked(t, 100)
	cancel()
	<-done
	c.waitConverged("Conv", 90*time.Second)
	overwritten, conflicts := w.check(t, c, c.conflicts("Conv"), false)
	t.Logf("%d writes (%d acknowledged), %d overwritten, %d recorded as conflicts", len(w.writes), w.ackedCount(), overwritten, conflicts)
	// The kills lost and duplicated no stream record: every region's
	// stream is exactly the changes it applied.
	c.checkStreams(t, "Conv")
}

// TestReplication_NATSOutageBacklogDrains runs a region whose stream lives
// on an external NATS server, stops that server under load (the region
// keeps accepting writes, which pile up in its change log), starts it again
// on the same storage, and checks that the backlog drains and every region
// converges.
func TestReplication_NATSOutageBacklogDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end outage test: skipped in -short mode")
	}
	dir := t.TempDir()
	ports := freePorts(t, 1)
	natsAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	startNATS := func() *natsrv.Server {
		s, err := natsrv.StartServer(natsrv.ServerConfig{Name: "external", Listen: natsAddr, StoreDir: filepath.Join(dir, "js"), Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ns := startNATS()
	t.Cleanup(func() { ns.Shutdown() })
	// The first region's stream is on the external server; the others embed
	// theirs. nats_url makes startCluster's nats_listen irrelevant for it.
	c := startClusterWith(t, threeRegions, "global_tables = true", map[string]string{"us-east-1": "nats://" + natsAddr})
	createGlobalTable(t, c, "us-east-1")

	w := &workload{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.run(ctx, c, []string{"us-east-1"}, 3, 1<<30, 50, 1)
	}()
	w.waitAcked(t, 50)
	ns.Shutdown()
	before := w.ackedCount()
	w.waitAcked(t, 150) // writes keep being acknowledged with the stream down
	regiontest.WaitFor(t, 30*time.Second, func() error {
		st, err := c.status("us-east-1")
		if err != nil {
			return err
		}
		if st.Publisher == nil || st.Publisher.Connected || st.Publisher.Backlog == 0 {
			return fmt.Errorf("publisher %+v: want disconnected with a backlog", st.Publisher)
		}
		return nil
	})
	st, _ := c.status("us-east-1")
	t.Logf("stream down: %d writes acknowledged meanwhile, backlog %d", w.ackedCount()-before, st.Publisher.Backlog)
	ns = startNATS()
	cancel()
	wg.Wait()
	c.waitConverged("Conv", 90*time.Second)
	w.check(t, c, c.conflicts("Conv"), true)
}

// TestReplication_AddReplicaToTableWithData adds two replicas to a table
// holding thousands of items while writes to it continue, and checks that
// the new replicas end up identical to the original.
func TestReplication_AddReplicaToTableWithData(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end replica test: skipped in -short mode")
	}
	c := startCluster(t, threeRegions, "")
	client := c.client("us-east-1")
	ctx := context.Background()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Conv"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const items = 3000
	for i := 0; i < items; i += 25 {
		reqs := make([]types.WriteRequest, 0, 25)
		for j := i; j < i+25; j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%05d", j)},
				"w":  &types.AttributeValueMemberS{Value: "initial"}}}})
		}
		if _, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Conv": reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	// A local table is not replicated: the other regions do not have it.
	if _, err := c.client("eu-west-1").DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Conv")}); err == nil {
		t.Fatal("eu-west-1 has a table that was never made global")
	}
	w := &workload{}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.run(wctx, c, []string{"us-east-1"}, 2, 1<<30, items, 7)
	}()
	w.waitAcked(t, 50)
	_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Conv"), ReplicaUpdates: []types.ReplicationGroupUpdate{
		{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}},
		{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("ap-southeast-1")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c.waitReplicasActive("Conv", 60*time.Second)
	w.waitAcked(t, 100) // writes go on after the replicas are active
	cancel()
	wg.Wait()
	c.waitConverged("Conv", 60*time.Second)
	d, err := c.digest("ap-southeast-1", "Conv")
	if err != nil {
		t.Fatal(err)
	}
	if d.Items < items {
		t.Fatalf("the new replica holds %d items, want at least %d", d.Items, items)
	}
	w.check(t, c, c.conflicts("Conv"), true)
	t.Logf("replicas filled with %d items while %d writes went on", d.Items, w.ackedCount())
}

// TestReplication_ResyncAfterRetentionExpired stops a region for longer
// than the other regions' streams keep changes, while they keep writing and
// deleting; when it returns, it must notice that the streams no longer hold
// what it missed, re-sync from snapshots (and say so in its status), and
// converge with the others.
func TestReplication_ResyncAfterRetentionExpired(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end re-sync test: skipped in -short mode")
	}
	c := startCluster(t, threeRegions, `global_tables = true
replication {
  stream_max_age    = "2s"
  tombstone_horizon = "1h"
}`)
	createGlobalTable(t, c, "us-east-1")
	w := &workload{}
	w.run(context.Background(), c, threeRegions, 1, 40, 30, 3)
	c.waitConverged("Conv", 30*time.Second)

	c.proc("ap-southeast-1").Stop(t)
	w.run(context.Background(), c, []string{"us-east-1", "eu-west-1"}, 2, 60, 30, 4)
	// Wait until the changes it missed have aged out of the streams: the
	// first message still held is newer than everything written so far.
	regiontest.WaitFor(t, 30*time.Second, func() error {
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			st, err := c.status(r)
			if err != nil {
				return err
			}
			if st.Publisher == nil || st.Publisher.Backlog > 0 {
				return fmt.Errorf("%s still publishing", r)
			}
		}
		return nil
	})
	c.waitStreamsEmpty(30*time.Second, "us-east-1", "eu-west-1")

	c.start("ap-southeast-1")
	// The snapshot can make the digests equal a moment before the link
	// records its re-sync: wait for the record, then for convergence.
	regiontest.WaitFor(t, 60*time.Second, func() error {
		st, err := c.status("ap-southeast-1")
		if err != nil {
			return err
		}
		for _, l := range st.Links {
			if l.Resyncs == 0 {
				return fmt.Errorf("the link from %s has not re-synced (cursor %d)", l.Source, l.Cursor)
			}
		}
		return nil
	})
	c.waitConverged("Conv", 60*time.Second)
	if !strings.Contains(c.proc("ap-southeast-1").Log(), "re-sync") {
		t.Fatal("the re-sync is not in the region's log")
	}
	w.check(t, c, c.conflicts("Conv"), true)

	// A table created while the region is away, whose control record is
	// gone from the streams by the time it returns: the re-sync must bring
	// the table's definition too.
	c.proc("ap-southeast-1").Stop(t)
	if _, err := c.client("us-east-1").CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("Late"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := c.client("eu-west-1").PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("Late"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint(i)}}}); err != nil {
			// eu-west-1 may not have the table yet: retry once it has.
			i--
			time.Sleep(20 * time.Millisecond)
		}
	}
	c.waitStreamsEmpty(30*time.Second, "us-east-1", "eu-west-1")
	c.start("ap-southeast-1")
	c.waitReplicasActive("Late", 60*time.Second)
	c.waitConverged("Late", 60*time.Second)
	if d, err := c.digest("ap-southeast-1", "Late"); err != nil || d.Items != 20 {
		t.Fatalf("ap-southeast-1 holds %+v (%v), want 20 items", d, err)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/regiontest"
)

// longOutageSettings keep changes in the streams for 2 s and tombstones for
// 3 s, so that a region stopped for a few seconds is away longer than both.
const longOutageSettings = `global_tables = true
replication {
  stream_max_age    = "2s"
  tombstone_horizon = "3s"
}`

// longOutageHorizon is tombstone_horizon above.
const longOutageHorizon = 3 * time.Second

// batchWrite puts (value v) or, if v is "", deletes every key in table Conv
// through region name, 25 at a time.
func (c *cluster) batchWrite(t *testing.T, name string, keys []string, v string) {
	t.Helper()
	client := c.client(name)
	for len(keys) > 0 {
		n := min(len(keys), 25)
		reqs := make([]types.WriteRequest, 0, n)
		for _, k := range keys[:n] {
			pk := &types.AttributeValueMemberS{Value: k}
			if v == "" {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": pk}}})
			} else {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": pk, "v": &types.AttributeValueMemberS{Value: v}}}})
			}
		}
		out, err := client.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Conv": reqs}})
		if err != nil {
			t.Fatalf("batch write in %s: %v", name, err)
		}
		if len(out.UnprocessedItems) > 0 {
			t.Fatalf("batch write in %s left %d unprocessed", name, len(out.UnprocessedItems["Conv"]))
		}
		keys = keys[n:]
	}
}

// keyRange returns prefix-0000 ... prefix-(n-1).
func keyRange(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%04d", prefix, i))
	}
	return out
}

// checkContent checks, in every region, that table Conv holds exactly the
// keys of want (with their values) and none of gone.
func (c *cluster) checkContent(t *testing.T, want map[string]string, gone []string) {
	t.Helper()
	for _, n := range c.names {
		have := scanAll(t, c.client(n), "Conv")
		back := 0
		for _, k := range gone {
			if _, ok := have[k]; ok {
				back++
			}
		}
		if back > 0 {
			t.Errorf("%s holds %d of the %d items deleted while a region was away", n, back, len(gone))
		}
		for k, v := range want {
			if got, ok := have[k]; !ok || got != v {
				t.Errorf("%s: acknowledged write %s=%q missing (have %q, %v)", n, k, v, got, ok)
			}
		}
		if len(have) != len(want) {
			t.Errorf("%s holds %d items, want %d", n, len(have), len(want))
		}
	}
}

// waitResynced waits until the link from source to dest has re-synced at
// least once.
func (c *cluster) waitResynced(source, dest string, timeout time.Duration) {
	c.t.Helper()
	regiontest.WaitFor(c.t, timeout, func() error {
		l, err := c.linkStatus(source, dest)
		if err != nil {
			return err
		}
		if l.Resyncs == 0 {
			return fmt.Errorf("link %s→%s has not re-synced (cursor %d)", source, dest, l.Cursor)
		}
		return nil
	})
}

// waitPast waits until the tombstones of deletes made before the call have
// been purged everywhere: the horizon, plus a round of the purge (every
// horizon/8), plus room for a loaded machine.
func waitPast(t *testing.T, horizon time.Duration) {
	t.Helper()
	until := time.Now().Add(horizon + horizon/4 + time.Second)
	regiontest.WaitFor(t, horizon+time.Minute, func() error {
		if time.Now().Before(until) {
			return errors.New("tombstone horizon not over yet")
		}
		return nil
	})
}

// logRebuilds logs every region's rebuild reports and returns how many
// items each region dropped; a report must say how long its rebuild took.
func (c *cluster) logRebuilds(t *testing.T) map[string]int {
	t.Helper()
	dropped := map[string]int{}
	for _, n := range c.names {
		st, err := c.status(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range st.Rebuilds {
			dropped[n] += r.Dropped
			if r.TookMs == nil || *r.TookMs <= 0 {
				t.Errorf("%s's rebuild of %s reports no duration (took_ms): %+v", n, r.Table, r)
			}
			t.Logf("%s rebuilt %s from %s: applied %d, skipped %d deleted here, dropped %d deleted there, kept %d not received there (%d local)",
				n, r.Table, r.Source, r.Applied, r.Skipped, r.Dropped, r.Kept, r.KeptLocal)
		}
	}
	return dropped
}

// TestReplication_LongOutageNeverResurrectsDeletes is the fast variant of
// the scenario of issue 7, finding 3 (longOutageDeletes), with 200 deletes;
// the scenario build tag runs it with 1,000.
func TestReplication_LongOutageNeverResurrectsDeletes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end outage test: skipped in -short mode")
	}
	longOutageDeletes(t, 200)
}

// longOutageDeletes reproduces issue 7, finding 3, with n deletes:
// ap-southeast-1 is away longer than tombstone_horizon while eu-west-1
// deletes n items (half of them written by ap-southeast-1 itself), so that
// no region remembers those deletes when it returns. The
// other regions re-sync from ap-southeast-1's snapshot first (their
// streams from it aged out too), then ap-southeast-1 re-syncs from theirs;
// an update of a deleted item in ap-southeast-1 follows. No deleted item
// may exist anywhere afterwards, every acknowledged write must, the
// digests must agree, and ap-southeast-1's status and log must say what it
// dropped and why.
func longOutageDeletes(t *testing.T, n int) {
	const away = "ap-southeast-1"
	c := startCluster(t, threeRegions, longOutageSettings)
	createGlobalTable(t, c, "us-east-1")
	gone := append(keyRange("gone-us", 0, n/2), keyRange("gone-ap", n/2, n)...)
	c.batchWrite(t, "us-east-1", gone[:n/2], "x")
	c.batchWrite(t, away, gone[n/2:], "x")
	want := map[string]string{}
	for _, k := range keyRange("kept", 0, 50) {
		want[k] = "kept"
	}
	c.batchWrite(t, "eu-west-1", keyRange("kept", 0, 50), "kept")
	c.waitConverged("Conv", 60*time.Second)

	// A write of ap-southeast-1 that never leaves it: its outbound links
	// are cut, then it stops.
	c.cli(t, "partition", "--one-way", away+",us-east-1")
	c.cli(t, "partition", "--one-way", away+",eu-west-1")
	c.batchWrite(t, away, []string{"local-before-outage"}, "local")
	want["local-before-outage"] = "local"
	c.proc(away).Stop(t)

	c.batchWrite(t, "eu-west-1", gone, "")
	c.batchWrite(t, "us-east-1", keyRange("while-away", 0, 20), "new")
	for _, k := range keyRange("while-away", 0, 20) {
		want[k] = "new"
	}
	c.waitStreamsEmpty(30*time.Second, "us-east-1", "eu-west-1")
	waitPast(t, longOutageHorizon)

	// ap-southeast-1 returns with its inbound links cut (the topology file
	// says so, and only it reads the file again), so that the others
	// re-sync from it before it has rebuilt anything: the riskier order.
	f, err := os.OpenFile(c.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "link \"us-east-1\" %q {\n  cut = true\n}\nlink \"eu-west-1\" %q {\n  cut = true\n}\n", away, away)
	f.Close()
	c.start(away)
	c.waitStreamsEmpty(30*time.Second, away) // its own messages aged out too
	c.cli(t, "link", "set", away, "us-east-1")
	c.cli(t, "link", "set", away, "eu-west-1")
	c.waitResynced(away, "us-east-1", 60*time.Second)
	c.waitResynced(away, "eu-west-1", 60*time.Second)
	c.cli(t, "link", "set", "us-east-1", away)
	c.cli(t, "link", "set", "eu-west-1", away)
	c.waitResynced("us-east-1", away, 60*time.Second)
	c.waitResynced("eu-west-1", away, 60*time.Second)

	// An update of a deleted item in the returning region finds nothing.
	for _, k := range []string{gone[0], gone[n-1]} {
		_, err := c.client(away).UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String("Conv"),
			Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}},
			UpdateExpression:          aws.String("SET v = :v"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "touched"}}})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Errorf("update of deleted item %s in %s: %v, want ConditionalCheckFailedException", k, away, err)
		}
	}
	c.waitConverged("Conv", 60*time.Second)
	c.checkContent(t, want, gone)

	if dropped := c.logRebuilds(t)[away]; dropped < len(gone) {
		t.Errorf("%s's status reports %d items dropped, want at least %d", away, dropped, len(gone))
	}
	log := c.proc(away).Log()
	if !strings.Contains(log, "rebuilt table Conv") || !strings.Contains(log, "away longer than tombstone_horizon") {
		t.Errorf("%s's log does not say it rebuilt past the horizon", away)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "rebuilt table") {
			t.Log(line)
		}
	}
}

// TestReplication_LongOutageKeepsUnsentLocalWrite: a region writes an item
// and is killed before any other region received it (its outbound links
// cut), while the others delete items it wrote; it returns after longer
// than tombstone_horizon and re-syncs first. Its last write must reach
// every region, and the deletes must hold.
func TestReplication_LongOutageKeepsUnsentLocalWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end outage test: skipped in -short mode")
	}
	const away = "eu-west-1"
	c := startCluster(t, threeRegions, longOutageSettings)
	createGlobalTable(t, c, "us-east-1")
	gone := keyRange("gone-eu", 0, 100)
	c.batchWrite(t, away, gone, "x")
	// Received elsewhere, but (most likely) still in its change log when it
	// dies: records are trimmed 3 sync intervals after publication.
	regiontest.WaitFor(t, 30*time.Second, func() error {
		for _, n := range []string{"us-east-1", "ap-southeast-1"} {
			if !c.has(t, n, gone[len(gone)-1]) {
				return fmt.Errorf("%s does not have %s yet", n, gone[len(gone)-1])
			}
		}
		return nil
	})
	c.cli(t, "partition", "--one-way", away+",us-east-1")
	c.cli(t, "partition", "--one-way", away+",ap-southeast-1")
	c.batchWrite(t, away, []string{"last-write"}, "unsent")
	c.proc(away).Kill(t)
	if c.has(t, "us-east-1", "last-write") {
		t.Fatal("the write reached us-east-1 through a cut link")
	}
	c.batchWrite(t, "ap-southeast-1", gone, "")
	c.waitStreamsEmpty(30*time.Second, "us-east-1", "ap-southeast-1")
	waitPast(t, longOutageHorizon)

	// It returns and its links heal at once: what its change log still
	// held (its last write, perhaps writes already received elsewhere and
	// deleted since) is published again, and it re-syncs from
	// ap-southeast-1 (us-east-1 wrote nothing meanwhile).
	c.start(away)
	c.cli(t, "heal")
	c.waitResynced("ap-southeast-1", away, 60*time.Second)
	c.waitConverged("Conv", 60*time.Second)
	c.checkContent(t, map[string]string{"last-write": "unsent"}, gone)
	c.logRebuilds(t)
}

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/regiontest"
)

// Issue 7, findings 1 and 2: a replica copy or an index backfill that a
// SIGKILL or a SIGTERM interrupts resumes on the region's next start and
// ends ACTIVE with the complete content. The slow versions (tens of
// thousands of items) are in join_scenario_test.go.

var twoRegions = []string{"us-east-1", "eu-west-1"}

// stopper interrupts a region process: regionProc.Kill or regionProc.Stop.
type stopper func(p *regionProc, t *testing.T)

var (
	sigkill stopper = (*regionProc).Kill
	sigterm stopper = (*regionProc).Stop
)

// TestJoin_SIGKILLDuringCopyResumes: finding 1 with SIGKILL.
func TestJoin_SIGKILLDuringCopyResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end join test: skipped in -short mode")
	}
	testJoinInterrupted(t, 1000, 24, sigkill)
}

// TestJoin_SIGTERMDuringCopyResumes: finding 1 with a clean stop.
func TestJoin_SIGTERMDuringCopyResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end join test: skipped in -short mode")
	}
	testJoinInterrupted(t, 1000, 24, sigterm)
}

// TestBackfill_SIGKILLInOriginResumes: finding 2, in the region that added
// the index.
func TestBackfill_SIGKILLInOriginResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end backfill test: skipped in -short mode")
	}
	testBackfillInterrupted(t, 3000, 600, "us-east-1", sigkill)
}

// TestBackfill_SIGKILLInApplyingRegionResumes: finding 2, in a region
// applying the replicated index.
func TestBackfill_SIGKILLInApplyingRegionResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end backfill test: skipped in -short mode")
	}
	testBackfillInterrupted(t, 3000, 600, "eu-west-1", sigkill)
}

// testJoinInterrupted fills table Join in us-east-1 with items, adds a
// replica in eu-west-1 over a link capped at bandwidthKB KB/s (so that the
// copy takes seconds), interrupts eu-west-1 with stop once it holds a tenth
// of the items, restarts it, and checks that the copy resumes, is shown as
// such, and ends ACTIVE with every item and every acknowledged write made
// meanwhile in either region.
func testJoinInterrupted(t *testing.T, items, bandwidthKB int, stop stopper) {
	const table = "Join"
	long := waitFor(items)
	c := startCluster(t, twoRegions, fmt.Sprintf("link %q %q {\n  bandwidth_kbps = %d\n}", "us-east-1", "eu-west-1", bandwidthKB))
	origin, joiner := "us-east-1", "eu-west-1"
	ctx := context.Background()
	stage := stages(t)
	// The cap is for the copy: lifted while the table is loaded (the new
	// replica's link reads the whole stream, this table's changes included,
	// before it sees the control record that makes it join), and set again
	// once that backlog is through.
	c.cli(t, "link", "set", origin, joiner)
	createTable(t, c.client(origin), table, nil)
	loadItems(t, c.client(origin), table, items)
	regiontest.WaitFor(t, long, func() error {
		l, err := c.linkStatus(origin, joiner)
		if err != nil {
			return err
		}
		if l.Pending == nil || *l.Pending > 0 || !l.Connected {
			return fmt.Errorf("link %s→%s: %v pending, connected %v", origin, joiner, l.Pending, l.Connected)
		}
		return nil
	})
	c.cli(t, "link", "set", origin, joiner, "--bandwidth", strconv.Itoa(bandwidthKB))
	stage("table loaded")

	w := startWriter(c, table, twoRegions)
	defer w.stop()
	if _, err := c.client(origin).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(joiner)}}}}); err != nil {
		t.Fatal(err)
	}

	// Mid-copy: a tenth of the items there, the copy running, and both
	// DescribeTable and the status saying so.
	var copied int64
	regiontest.WaitFor(t, 60*time.Second, func() error {
		j, err := joinOf(c, joiner, table)
		if err != nil {
			return err
		}
		if j.Percent == nil || j.SourceItems == nil {
			return fmt.Errorf("progress not known yet: %+v", j)
		}
		if j.Items < int64(items/10) {
			return fmt.Errorf("%d items copied", j.Items)
		}
		copied = j.Items
		return nil
	})
	if copied >= int64(items) {
		t.Fatalf("the copy was over (%d items) before the interruption", copied)
	}
	checkReplicaCreating(t, c, joiner, table, progressKnown)
	checkReplicaCreating(t, c, origin, table, progressAbsent)
	stop(c.proc(joiner), t)
	stage(fmt.Sprintf("interrupted the copy at %d of %d items", copied, items))

	c.start(joiner)
	waitLog(t, c.proc(joiner), "resuming the interrupted copy")
	// The link is still capped (the topology says so): the resumed copy is
	// visible, then the cap is lifted for it to finish.
	regiontest.WaitFor(t, 30*time.Second, func() error {
		j, err := joinOf(c, joiner, table)
		if err != nil {
			return err
		}
		if !j.Resumed {
			return fmt.Errorf("the join is not marked resumed: %+v", j)
		}
		return nil
	})
	checkReplicaCreating(t, c, joiner, table, progressMaybe)
	checkReplicaCreating(t, c, origin, table, progressAbsent)
	out, _ := c.runStatus(t) // exit 1 while a link is down
	if !strings.Contains(out, "new replica") || !strings.Contains(out, "resumed after a restart") {
		t.Fatalf("status does not show the resumed copy:\n%s", out)
	}
	t.Logf("globaltables status:\n%s", out)
	stage("resumed copy seen")
	c.cli(t, "link", "set", origin, joiner)

	c.waitReplicasActive(table, long)
	for _, r := range twoRegions {
		out, err := c.client(r).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil || out.Table.TableStatus != types.TableStatusActive {
			t.Fatalf("%s: table status after the join: %+v (%v)", r, out, err)
		}
	}
	stage("replica active")
	w.stop()
	c.waitConverged(table, long)
	checkContent(t, c, table, items, w)
	stage("content checked")
	// The status no longer lists the copy.
	if st, err := c.status(joiner); err != nil || len(st.Joins) > 0 {
		t.Fatalf("status of %s after the copy: %+v (%v)", joiner, st, err)
	}
}

// testBackfillInterrupted fills global table Idx with items, adds an index
// in us-east-1 (both regions backfill it, at rate rows per second), kills
// victim once it has read a quarter of the rows, restarts it, and checks that the backfill resumes
// and the index ends ACTIVE in both regions holding every item, acknowledged
// writes made meanwhile included; and that it can then be deleted.
func testBackfillInterrupted(t *testing.T, items, rate int, victim string, stop stopper) {
	const table, index = "Idx", "byG"
	long := waitFor(items)
	c := startClusterArgs(t, twoRegions, "global_tables = true", nil, []string{"--backfill-rate", strconv.Itoa(rate)})
	ctx := context.Background()
	stage := stages(t)
	createTable(t, c.client("us-east-1"), table, nil)
	c.waitReplicasActive(table, 30*time.Second)
	loadItems(t, c.client("us-east-1"), table, items)
	c.waitConverged(table, long)
	stage("table loaded")

	w := startWriter(c, table, twoRegions)
	defer w.stop()
	if _, err := c.client("us-east-1").UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String(index),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}}}); err != nil {
		t.Fatal(err)
	}
	var rows int64
	regiontest.WaitFor(t, 60*time.Second, func() error {
		b, err := backfillOf(c, victim, table, index)
		if err != nil {
			return err
		}
		if b.Rows < int64(items/4) {
			return fmt.Errorf("%d rows read", b.Rows)
		}
		rows = b.Rows
		return nil
	})
	checkBackfilling(t, c, victim, table, index)
	stop(c.proc(victim), t)
	stage(fmt.Sprintf("interrupted the backfill in %s at %d of %d rows", victim, rows, items))

	c.start(victim)
	waitLog(t, c.proc(victim), "resuming an interrupted index backfill")
	regiontest.WaitFor(t, 30*time.Second, func() error {
		b, err := backfillOf(c, victim, table, index)
		if err != nil {
			return err
		}
		if !b.Resumed {
			return fmt.Errorf("the backfill is not marked resumed: %+v", b)
		}
		return nil
	})
	out, _ := c.runStatus(t) // exit 1 while a link is down
	if !strings.Contains(out, "index backfill") || !strings.Contains(out, "resumed after a restart") {
		t.Fatalf("status does not show the resumed backfill:\n%s", out)
	}
	t.Logf("globaltables status:\n%s", out)
	stage("resumed backfill seen")

	regiontest.WaitFor(t, long, func() error {
		for _, r := range twoRegions {
			out, err := c.client(r).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			if err != nil {
				return err
			}
			for _, g := range out.Table.GlobalSecondaryIndexes {
				if g.IndexStatus != types.IndexStatusActive || g.Backfilling != nil {
					return fmt.Errorf("%s: index %s is %s", r, aws.ToString(g.IndexName), g.IndexStatus)
				}
			}
		}
		return nil
	})
	stage("index active")
	w.stop()
	c.waitConverged(table, long)
	got := checkContent(t, c, table, items, w)
	for _, r := range twoRegions {
		inIndex := queryIndex(t, c.client(r), table, index)
		if len(inIndex) != len(got) {
			t.Fatalf("%s: the index holds %d items, the table %d", r, len(inIndex), len(got))
		}
		for pk := range got {
			if !inIndex[pk] {
				t.Fatalf("%s: item %s is missing from the index", r, pk)
			}
		}
	}
	// The index is an ordinary one now: it can be deleted.
	if _, err := c.client(victim).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String(index)}}}}); err != nil {
		t.Fatalf("delete the index after the backfill: %v", err)
	}
}

// waitFor is how long the tests wait for a copy, a backfill or a
// convergence of a table of items.
func waitFor(items int) time.Duration {
	return 90*time.Second + time.Duration(items)*5*time.Millisecond
}

// stages returns a function that logs a test's stage and the time since
// the previous one.
func stages(t *testing.T) func(string) {
	last := time.Now()
	return func(what string) {
		t.Logf("%s (%s)", what, time.Since(last).Round(100*time.Millisecond))
		last = time.Now()
	}
}

// waitLog waits until p has logged text.
func waitLog(t *testing.T, p *regionProc, text string) {
	t.Helper()
	regiontest.WaitFor(t, 30*time.Second, func() error {
		if !strings.Contains(p.Log(), text) {
			return fmt.Errorf("the region has not logged %q", text)
		}
		return nil
	})
}

// createTable creates a table keyed by pk (S) on demand.
func createTable(t *testing.T, client *dynamodb.Client, table string, gsis []types.GlobalSecondaryIndex) {
	t.Helper()
	if _, err := client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:              aws.String(table),
		BillingMode:            types.BillingModePayPerRequest,
		AttributeDefinitions:   []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:              []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: gsis,
	}); err != nil {
		t.Fatal(err)
	}
}

// itemOf is the item the tests write: key pk, value v,
// and g, one of ten index keys.
func itemOf(pk string, n int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"v":  &types.AttributeValueMemberS{Value: fmt.Sprintf("%s-%d", pk, n)},
		"g":  &types.AttributeValueMemberS{Value: fmt.Sprintf("g%d", n%10)},
	}
}

// loadItems writes items item-00000... to table in batches.
func loadItems(t *testing.T, client *dynamodb.Client, table string, items int) {
	t.Helper()
	for i := 0; i < items; i += 25 {
		reqs := make([]types.WriteRequest, 0, 25)
		for j := i; j < min(i+25, items); j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: itemOf(fmt.Sprintf("item-%06d", j), j)}})
		}
		for len(reqs) > 0 {
			out, err := client.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				t.Fatal(err)
			}
			reqs = out.UnprocessedItems[table]
		}
	}
}

// writer puts new items into a table in several regions while a test
// interrupts one of them, and remembers which puts were acknowledged.
type writer struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	mu     sync.Mutex        // guards acked, tried
	acked  map[string]string // pk -> v
	tried  map[string]string // every put made, acknowledged or not
}

// startWriter starts one writer per region, each putting about 40 items
// a second.
func startWriter(c *cluster, table string, regions []string) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{cancel: cancel, acked: map[string]string{}, tried: map[string]string{}}
	for _, r := range regions {
		w.wg.Add(1)
		go func(r string) {
			defer w.wg.Done()
			tick := time.NewTicker(25 * time.Millisecond)
			defer tick.Stop()
			client := c.client(r)
			for n := 0; ; n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				item := itemOf(fmt.Sprintf("live-%s-%d", r, n), n)
				pk, v := item["pk"].(*types.AttributeValueMemberS).Value, item["v"].(*types.AttributeValueMemberS).Value
				w.mu.Lock()
				w.tried[pk] = v
				w.mu.Unlock()
				if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err == nil {
					w.mu.Lock()
					w.acked[pk] = v
					w.mu.Unlock()
				}
			}
		}(r)
	}
	return w
}

// stop stops the writers and returns them.
func (w *writer) stop() *writer {
	w.once.Do(func() {
		w.cancel()
		w.wg.Wait()
	})
	return w
}

// checkContent checks that every region holds the loaded items and every
// write w acknowledged, and nothing but those and writes w tried (a put
// whose answer was lost may have landed), and returns one region's content.
func checkContent(t *testing.T, c *cluster, table string, items int, w *writer) map[string]string {
	t.Helper()
	var got map[string]string
	for _, r := range c.names {
		got = scanAll(t, c.client(r), table)
		for i := 0; i < items; i++ {
			pk := fmt.Sprintf("item-%06d", i)
			if want := itemOf(pk, i)["v"].(*types.AttributeValueMemberS).Value; got[pk] != want {
				t.Fatalf("%s: item %s is %q, want %q (%d items there)", r, pk, got[pk], want, len(got))
			}
		}
		for pk, v := range w.acked {
			if got[pk] != v {
				t.Fatalf("%s: acknowledged write %s lost (found %q)", r, pk, got[pk])
			}
		}
		for pk, v := range got {
			if strings.HasPrefix(pk, "item-") {
				continue
			}
			if w.tried[pk] != v {
				t.Fatalf("%s holds %s=%q, which nobody wrote", r, pk, v)
			}
		}
		if len(got) < items+len(w.acked) {
			t.Fatalf("%s holds %d items, want at least %d", r, len(got), items+len(w.acked))
		}
	}
	t.Logf("every region holds the %d items and the %d acknowledged writes (%d items in all)", items, len(w.acked), len(got))
	return got
}

// queryIndex reads every entry of a GSI keyed by g (g0..g9) and returns the
// items' keys.
func queryIndex(t *testing.T, client *dynamodb.Client, table, index string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for g := 0; g < 10; g++ {
		pg := dynamodb.NewQueryPaginator(client, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String(index),
			KeyConditionExpression:    aws.String("g = :g"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: fmt.Sprintf("g%d", g)}}})
		for pg.HasMorePages() {
			// This checks content, not errors: the SDK's own retries
			// (off in the tests' clients) take a keep-alive connection
			// that Go's transport closed under a read, as any SDK user's
			// client would ("use of closed network connection", which
			// the SDK's retryer treats as retryable; seen under load).
			page, err := pg.NextPage(context.Background(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 3 })
			if err != nil {
				t.Fatalf("query %s: %v", index, err)
			}
			for _, it := range page.Items {
				out[it["pk"].(*types.AttributeValueMemberS).Value] = true
			}
		}
	}
	return out
}

// joinOf returns the join of table in region's status.
func joinOf(c *cluster, name, table string) (region.JoinStatus, error) {
	st, err := c.status(name)
	if err != nil {
		return region.JoinStatus{}, err
	}
	for _, j := range st.Joins {
		if j.Table == table {
			return j, nil
		}
	}
	return region.JoinStatus{}, fmt.Errorf("%s shows no join of %s (catching up: %v)", name, table, st.CatchingUp)
}

// backfillOf returns the backfill of table's index in region's status.
func backfillOf(c *cluster, name, table, index string) (region.BackfillStatus, error) {
	st, err := c.status(name)
	if err != nil {
		return region.BackfillStatus{}, err
	}
	for _, b := range st.Backfills {
		if b.Table == table && b.Index == index {
			return b, nil
		}
	}
	return region.BackfillStatus{}, fmt.Errorf("%s shows no backfill of %s on %s", name, index, table)
}

// What DescribeTable must say of a new replica's progress.
const (
	progressKnown  = iota // a percentage below 100 (the joining region, once the source's count is in)
	progressAbsent        // nothing (the other regions cannot know it)
	progressMaybe         // a percentage below 100, or nothing yet
)

// checkReplicaCreating checks that region name describes the eu-west-1
// replica of table as CREATING, and the table as UPDATING, with the
// replica's progress as want says.
func checkReplicaCreating(t *testing.T, c *cluster, name, table string, want int) {
	t.Helper()
	out, err := c.client(name).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Table.Replicas {
		if aws.ToString(r.RegionName) != "eu-west-1" {
			continue
		}
		if r.ReplicaStatus != types.ReplicaStatusCreating {
			t.Fatalf("%s describes the new replica as %s", name, r.ReplicaStatus)
		}
		if out.Table.TableStatus != types.TableStatusUpdating {
			t.Fatalf("%s describes the table as %s while a replica is being created", name, out.Table.TableStatus)
		}
		pct := aws.ToString(r.ReplicaStatusPercentProgress)
		switch {
		case want == progressAbsent && pct != "":
			t.Fatalf("%s claims a progress of %s%% it cannot know", name, pct)
		case want == progressMaybe && pct == "", want == progressAbsent:
		default:
			if n, err := strconv.Atoi(pct); err != nil || n < 0 || n >= 100 {
				t.Fatalf("%s gives the new replica's progress as %q", name, pct)
			}
		}
		return
	}
	t.Fatalf("%s does not list the new replica: %+v", name, out.Table.Replicas)
}

// checkBackfilling checks that region name describes the index as being
// built, with no size or count claimed for it.
func checkBackfilling(t *testing.T, c *cluster, name, table, index string) {
	t.Helper()
	out, err := c.client(name).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) != index {
			continue
		}
		if g.IndexStatus != types.IndexStatusCreating || !aws.ToBool(g.Backfilling) {
			t.Fatalf("%s describes the index as %s, backfilling %v", name, g.IndexStatus, aws.ToBool(g.Backfilling))
		}
		if g.ItemCount != nil || g.IndexSizeBytes != nil {
			t.Fatalf("%s claims %d items, %d bytes in an index being built", name, aws.ToInt64(g.ItemCount), aws.ToInt64(g.IndexSizeBytes))
		}
		return
	}
	t.Fatalf("%s does not list index %s", name, index)
}

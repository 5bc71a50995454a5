package drill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/region"
)

// A fixture is a table a drill builds for itself, apart from the workload's
// table, so that a drill can fault the control plane: a table filled in one
// region, then replicated (add_replica) or indexed (add_index) while a
// region dies, or emptied in part (delete_items) while a region is away.
// The assert step checks each fixture: ACTIVE with every replica and index
// ACTIVE in every region that holds it, exactly the items it should hold
// (none lost, no deleted one back), and the same digest everywhere.
type fixture struct {
	name     string
	origin   string          // the region it was created in
	items    int             // items written, keys fixtureKey(0..items-1)
	deleted  int             // keys fixtureKey(0..deleted-1) were deleted
	replicas map[string]bool // regions asked to hold it
	indexes  []string        // global secondary indexes added
}

func fixtureKey(i int) string { return "item-" + strconv.Itoa(i) }

// fixtureGroups is how many distinct values the indexed attribute takes.
const fixtureGroups = 16

func (r *run) client(region string) *dynamodb.Client {
	return bench.Client(r.lab.Endpoint(region), 4)
}

// createFixture creates a table in one region only and fills it.
func (r *run) createFixture(ctx context.Context, s Step) error {
	if _, ok := r.fixtures[s.Table]; ok {
		return fmt.Errorf("table %s was already created by this drill", s.Table)
	}
	c := r.client(s.Region)
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(s.Table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		return fmt.Errorf("create table %s in %s: %w", s.Table, s.Region, err)
	}
	f := &fixture{name: s.Table, origin: s.Region, items: s.Items, replicas: map[string]bool{s.Region: true}}
	r.fixtures[s.Table] = f
	if err := r.fill(ctx, c, f); err != nil {
		return err
	}
	r.event("table %s: %d items written in %s", s.Table, s.Items, s.Region)
	return nil
}

// fill writes a fixture's items with a few concurrent batch writers.
func (r *run) fill(ctx context.Context, c *dynamodb.Client, f *fixture) error {
	pad := strings.Repeat("x", 150)
	const writers = 4
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for start := w * 25; start < f.items; start += writers * 25 {
				var reqs []types.WriteRequest
				for i := start; i < start+25 && i < f.items; i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
						"pk":  &types.AttributeValueMemberS{Value: fixtureKey(i)},
						"grp": &types.AttributeValueMemberS{Value: "g" + strconv.Itoa(i%fixtureGroups)},
						"pad": &types.AttributeValueMemberS{Value: pad},
					}}})
				}
				if err := batchWrite(ctx, c, f.name, reqs); err != nil {
					errs[w] = err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// batchWrite writes one batch, resending what comes back unprocessed.
func batchWrite(ctx context.Context, c *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return fmt.Errorf("write %s: %w", table, err)
		}
		reqs = out.UnprocessedItems[table]
	}
	return nil
}

func (r *run) fixture(name string) (*fixture, error) {
	f, ok := r.fixtures[name]
	if !ok {
		return nil, fmt.Errorf("no table %s: create it with a table step first", name)
	}
	return f, nil
}

// addReplica asks the fixture's origin region for a replica in s.Region.
func (r *run) addReplica(ctx context.Context, s Step) error {
	f, err := r.fixture(s.Table)
	if err != nil {
		return err
	}
	_, err = r.client(f.origin).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(f.name),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(s.Region)}}}})
	if err != nil {
		return fmt.Errorf("add a replica of %s in %s: %w", f.name, s.Region, err)
	}
	f.replicas[s.Region] = true
	r.event("table %s: replica in %s requested", f.name, s.Region)
	return nil
}

// addIndex adds a global secondary index on the fixture's group attribute,
// through the fixture's origin region.
func (r *run) addIndex(ctx context.Context, s Step) error {
	f, err := r.fixture(s.Table)
	if err != nil {
		return err
	}
	_, err = r.client(f.origin).UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String(f.name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("grp"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String(s.Index),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("grp"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("pk"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}}},
	})
	if err != nil {
		return fmt.Errorf("add index %s to %s: %w", s.Index, f.name, err)
	}
	f.indexes = append(f.indexes, s.Index)
	r.event("table %s: index %s requested", f.name, s.Index)
	return nil
}

// deleteItems deletes the fixture's first s.Items keys through s.Region.
func (r *run) deleteItems(ctx context.Context, s Step) error {
	f, err := r.fixture(s.Table)
	if err != nil {
		return err
	}
	if s.Items > f.items {
		return fmt.Errorf("table %s has %d items, cannot delete %d", f.name, f.items, s.Items)
	}
	c := r.client(s.Region)
	for start := f.deleted; start < s.Items; start += 25 {
		var reqs []types.WriteRequest
		for i := start; i < start+25 && i < s.Items; i++ {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: fixtureKey(i)}}}})
		}
		if err := batchWrite(ctx, c, f.name, reqs); err != nil {
			return err
		}
	}
	if s.Items > f.deleted {
		f.deleted = s.Items
	}
	r.event("table %s: first %d items deleted through %s", f.name, s.Items, s.Region)
	return nil
}

// await waits until s.Region holds at least s.Items items of the fixture:
// a way to act in the middle of a replica's copy without relying on timing.
func (r *run) await(ctx context.Context, s Step) error {
	f, err := r.fixture(s.Table)
	if err != nil {
		return err
	}
	within := 2 * time.Minute
	if s.For != "" {
		within, _ = time.ParseDuration(s.For)
	}
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var d region.Digest
		err := region.GetJSON(ctx, r.lab.Endpoint(s.Region)+region.DigestPath+"?table="+f.name, &d)
		if err == nil && d.Items >= s.Items {
			r.event("table %s: %s holds %d items", f.name, s.Region, d.Items)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not hold %d items of %s within %s (last: %d, %v)", s.Region, s.Items, f.name, within, d.Items, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// checkFixtures waits up to within for every fixture to be whole in every
// region that should hold it, and returns what is still wrong.
func (r *run) checkFixtures(ctx context.Context, within time.Duration) []string {
	if len(r.fixtures) == 0 {
		return nil
	}
	deadline := time.Now().Add(within)
	for {
		var problems []string
		for _, f := range r.fixtures {
			problems = append(problems, r.checkFixture(ctx, f)...)
		}
		if len(problems) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return problems
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkFixture returns what is wrong with one fixture now.
func (r *run) checkFixture(ctx context.Context, f *fixture) []string {
	var problems []string
	want := f.items - f.deleted
	digest := ""
	for name := range f.replicas {
		c := r.client(name)
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(f.name)})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s in %s: %v", f.name, name, err))
			continue
		}
		if d.Table.TableStatus != types.TableStatusActive {
			problems = append(problems, fmt.Sprintf("%s in %s is %s", f.name, name, d.Table.TableStatus))
		}
		for _, rp := range d.Table.Replicas {
			if rp.ReplicaStatus != types.ReplicaStatusActive {
				problems = append(problems, fmt.Sprintf("%s in %s: replica %s is %s", f.name, name, aws.ToString(rp.RegionName), rp.ReplicaStatus))
			}
		}
		for _, ix := range d.Table.GlobalSecondaryIndexes {
			if ix.IndexStatus != types.IndexStatusActive || aws.ToBool(ix.Backfilling) {
				problems = append(problems, fmt.Sprintf("%s in %s: index %s is %s", f.name, name, aws.ToString(ix.IndexName), ix.IndexStatus))
			}
		}
		var dg region.Digest
		if err := region.GetJSON(ctx, r.lab.Endpoint(name)+region.DigestPath+"?table="+f.name, &dg); err != nil {
			problems = append(problems, fmt.Sprintf("%s in %s: digest: %v", f.name, name, err))
			continue
		}
		if dg.Items != want {
			problems = append(problems, fmt.Sprintf("%s in %s holds %d items, want %d", f.name, name, dg.Items, want))
		}
		if digest == "" {
			digest = dg.Digest
		} else if dg.Digest != digest {
			problems = append(problems, fmt.Sprintf("%s differs between regions", f.name))
		}
		if back, err := r.resurrected(ctx, c, f); err != nil {
			problems = append(problems, fmt.Sprintf("%s in %s: read deleted keys: %v", f.name, name, err))
		} else if back > 0 {
			problems = append(problems, fmt.Sprintf("%s in %s: %d deleted items are back", f.name, name, back))
		}
		for _, ix := range f.indexes {
			if n := r.indexCount(ctx, c, f, ix); n != want {
				problems = append(problems, fmt.Sprintf("%s in %s: index %s holds %d items, want %d", f.name, name, ix, n, want))
			}
		}
	}
	return problems
}

// resurrected counts the deleted keys a region holds again.
func (r *run) resurrected(ctx context.Context, c *dynamodb.Client, f *fixture) (int, error) {
	back := 0
	for start := 0; start < f.deleted; start += 100 {
		var keys []map[string]types.AttributeValue
		for i := start; i < start+100 && i < f.deleted; i++ {
			keys = append(keys, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fixtureKey(i)}})
		}
		for len(keys) > 0 {
			out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				f.name: {Keys: keys, ConsistentRead: aws.Bool(true)}}})
			if err != nil {
				return back, err
			}
			back += len(out.Responses[f.name])
			keys = out.UnprocessedKeys[f.name].Keys
		}
	}
	return back, nil
}

// indexCount counts the items a global secondary index holds, or -1 when it
// cannot be read.
func (r *run) indexCount(ctx context.Context, c *dynamodb.Client, f *fixture, index string) int {
	n := 0
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(f.name), IndexName: aws.String(index), Select: types.SelectCount})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return -1
		}
		n += int(page.Count)
	}
	return n
}

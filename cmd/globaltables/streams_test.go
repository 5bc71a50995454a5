package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/regiontest"
)

// readStream reads every record of a region's stream of table, following
// shard lineage, in order.
func (c *cluster) readStream(t *testing.T, name, table string) []stypes.Record {
	t.Helper()
	ctx := context.Background()
	sc := regiontest.NewStreamsClient(c.url(name))
	desc, err := c.client(name).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	arn := desc.Table.LatestStreamArn
	if arn == nil || !strings.Contains(*arn, ":"+name+":") {
		t.Fatalf("%s: stream ARN %v", name, arn)
	}
	var shards []stypes.Shard
	var start *string
	for {
		d, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn, ExclusiveStartShardId: start})
		if err != nil {
			t.Fatalf("%s: DescribeStream: %v", name, err)
		}
		shards = append(shards, d.StreamDescription.Shards...)
		if start = d.StreamDescription.LastEvaluatedShardId; start == nil {
			break
		}
	}
	var out []stypes.Record
	for _, sh := range shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sh.ShardId,
			ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("%s: GetShardIterator: %v", name, err)
		}
		for iter := it.ShardIterator; iter != nil; {
			res, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("%s: GetRecords: %v", name, err)
			}
			out = append(out, res.Records...)
			iter = res.NextShardIterator
			if len(res.Records) == 0 {
				break
			}
		}
	}
	return out
}

// image renders an item as a comparable string.
func image[V any](m map[string]V, str func(V) string) string {
	if m == nil {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, str(m[k]))
	}
	return b.String()
}

func streamValue(v stypes.AttributeValue) string {
	switch x := v.(type) {
	case *stypes.AttributeValueMemberS:
		return "S:" + x.Value
	case *stypes.AttributeValueMemberN:
		return "N:" + x.Value
	}
	return fmt.Sprintf("%T", v)
}

func itemValue(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + x.Value
	case *types.AttributeValueMemberN:
		return "N:" + x.Value
	}
	return fmt.Sprintf("%T", v)
}

// checkStreams checks, once the regions converged, that every region's
// stream of table is exactly the changes that region applied: for each key,
// the records chain (each OldImage is the previous NewImage, INSERT only
// after nothing, REMOVE leaves nothing), which a lost, duplicated or
// reordered record breaks, and the chain ends at the item the region holds.
// It returns each region's records by key.
func (c *cluster) checkStreams(t *testing.T, table string) map[string]map[string][]stypes.Record {
	t.Helper()
	all := map[string]map[string][]stypes.Record{}
	for _, name := range c.names {
		recs := c.readStream(t, name, table)
		byKey := map[string][]stypes.Record{}
		seqs := map[string]bool{}
		for _, r := range recs {
			seq := aws.ToString(r.Dynamodb.SequenceNumber)
			if seqs[seq] {
				t.Fatalf("%s: sequence number %s twice", name, seq)
			}
			seqs[seq] = true
			if aws.ToString(r.AwsRegion) != name {
				t.Fatalf("%s: record with awsRegion %v", name, r.AwsRegion)
			}
			k := streamValue(r.Dynamodb.Keys["pk"])
			byKey[k] = append(byKey[k], r)
		}
		for k, rs := range byKey {
			prev := ""
			for i, r := range rs {
				old, neu := image(r.Dynamodb.OldImage, streamValue), image(r.Dynamodb.NewImage, streamValue)
				ok := old == prev
				switch r.EventName {
				case stypes.OperationTypeInsert:
					ok = ok && prev == "" && neu != ""
				case stypes.OperationTypeModify:
					ok = ok && prev != "" && neu != "" && neu != old
				case stypes.OperationTypeRemove:
					ok = ok && prev != "" && neu == ""
				}
				if !ok {
					t.Fatalf("%s: key %s record %d (%s): old %q new %q after %q: a record is lost, duplicated or out of order",
						name, k, i, r.EventName, old, neu, prev)
				}
				prev = neu
			}
			out, err := c.client(name).GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
				ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: strings.TrimPrefix(k, "S:")}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := image(out.Item, itemValue); got != prev {
				t.Fatalf("%s: key %s holds %q but its stream ends at %q", name, k, got, prev)
			}
		}
		all[name] = byKey
		t.Logf("%s: %d stream records for %d keys", name, len(recs), len(byKey))
	}
	return all
}

// checkLosersAbsent checks that no replicated write that lost
// last-writer-wins in a region appears in that region's stream.
func (c *cluster) checkLosersAbsent(t *testing.T, table string, streams map[string]map[string][]stypes.Record) (checked int) {
	t.Helper()
	for _, name := range c.names {
		written := map[string]bool{} // values of w in the region's stream
		for _, rs := range streams[name] {
			for _, r := range rs {
				if w, ok := r.Dynamodb.NewImage["w"]; ok {
					written[streamValue(w)] = true
				}
			}
		}
		var cs region.Conflicts
		if err := getJSON(context.Background(), c.url(name)+region.ConflictsPath+"?limit=10000&table="+table, &cs); err != nil {
			t.Fatal(err)
		}
		for _, r := range cs.Records {
			if !strings.HasSuffix(r.Loser, "@"+r.Source) || len(r.LoserItem) == 0 {
				continue // the local write lost, or the loser is a delete
			}
			var it struct {
				W struct{ S string } `json:"w"`
			}
			if err := json.Unmarshal(r.LoserItem, &it); err != nil || it.W.S == "" {
				continue
			}
			checked++
			if written["S:"+it.W.S] {
				t.Fatalf("%s: write %s lost last-writer-wins there but is in its stream", name, it.W.S)
			}
		}
	}
	return checked
}

// walkKey writes key in one region, updates it in a second and deletes it
// in a third, waiting each time for every region to have applied it, and
// checks that every region's stream shows INSERT, MODIFY and REMOVE with
// the right images and origin regions.
func (c *cluster) walkKey(t *testing.T, table, key string) {
	t.Helper()
	ctx := context.Background()
	pk := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}
	waitAll := func(want string) {
		regiontest.WaitFor(t, 30*time.Second, func() error {
			for _, n := range c.names {
				out, err := c.client(n).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: pk, ConsistentRead: aws.Bool(true)})
				if err != nil {
					return err
				}
				if got := image(out.Item, itemValue); !strings.Contains(got, want) || (want == "" && got != "") {
					return fmt.Errorf("%s holds %q", n, got)
				}
			}
			return nil
		})
	}
	if _, err := c.client(c.names[0]).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]types.AttributeValue{"pk": pk["pk"], "w": &types.AttributeValueMemberS{Value: "walk-1"}}}); err != nil {
		t.Fatal(err)
	}
	waitAll("walk-1")
	if _, err := c.client(c.names[1]).UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: pk,
		UpdateExpression:          aws.String("SET w = :w"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": &types.AttributeValueMemberS{Value: "walk-2"}}}); err != nil {
		t.Fatal(err)
	}
	waitAll("walk-2")
	if _, err := c.client(c.names[2]).DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: pk}); err != nil {
		t.Fatal(err)
	}
	waitAll("")
	for _, n := range c.names {
		var got []string
		for _, r := range c.readStream(t, n, table) {
			if streamValue(r.Dynamodb.Keys["pk"]) != "S:"+key {
				continue
			}
			got = append(got, fmt.Sprintf("%s %s>%s", r.EventName, streamValue(r.Dynamodb.OldImage["w"]), streamValue(r.Dynamodb.NewImage["w"])))
		}
		want := []string{"INSERT <nil>>S:walk-1", "MODIFY S:walk-1>S:walk-2", "REMOVE S:walk-2><nil>"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: stream of %s: %v, want %v", n, key, got, want)
		}
	}
}

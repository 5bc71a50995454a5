package main

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var threeRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-1"}

// write is one write a workload made, and what came of it.
type write struct {
	region string
	key    string
	id     string // the value of attribute w the write left, "" for a delete
	delete bool
	acked  bool
	stamp  stamp
}

// workload writes, updates and deletes a small set of keys from several
// workers in every region at once.
type workload struct {
	mu     sync.Mutex // guards writes
	writes []*write
}

func (w *workload) add(wr *write) {
	w.mu.Lock()
	w.writes = append(w.writes, wr)
	w.mu.Unlock()
}

// run starts workers per region until ctx ends or each has made n writes.
// A worker stops between requests, never during one, so that the fate of
// every write is known: acknowledged, or refused by a region that is down.
func (w *workload) run(stop context.Context, c *cluster, regions []string, workers, n, keys int, seed int64) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for ri, r := range regions {
		for k := 0; k < workers; k++ {
			wg.Add(1)
			go func(r string, id int) {
				defer wg.Done()
				rng := rand.New(rand.NewSource(seed + int64(id)))
				client := c.client(r)
				for i := 0; i < n && stop.Err() == nil; i++ {
					key := fmt.Sprintf("k%d", rng.Intn(keys))
					wr := &write{region: r, key: key, id: fmt.Sprintf("%s-%d-%d", r, id, i)}
					pk := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}
					var err error
					switch op := rng.Intn(20); {
					case op < 11:
						_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Conv"),
							Item: map[string]types.AttributeValue{"pk": pk["pk"], "w": &types.AttributeValueMemberS{Value: wr.id}}},
							withStamp(&wr.stamp))
					case op < 17:
						_, err = client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Conv"), Key: pk,
							UpdateExpression:          aws.String("SET w = :w ADD n :one"),
							ExpressionAttributeValues: map[string]types.AttributeValue{":w": &types.AttributeValueMemberS{Value: wr.id}, ":one": &types.AttributeValueMemberN{Value: "1"}}},
							withStamp(&wr.stamp))
					default:
						wr.delete, wr.id = true, ""
						_, err = client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Conv"), Key: pk}, withStamp(&wr.stamp))
					}
					wr.acked = err == nil
					w.add(wr)
				}
			}(r, ri*100+k)
		}
	}
	wg.Wait()
}

// check verifies the outcome of a workload once the regions converged:
// every key holds the last-writer-wins winner among the acknowledged writes
// (the greatest version), and every acknowledged write that lost is
// explained: a later write had seen it (its context covers it), or it is in
// a conflict log. strict=false also accepts writes that an unacknowledged
// write (whose context is unknown) may have superseded.
func (w *workload) check(t *testing.T, c *cluster, losers map[string]bool, strict bool) (overwritten, conflicts int) {
	t.Helper()
	byKey := map[string][]*write{}
	unknown := map[string]bool{}
	for _, wr := range w.writes {
		if !wr.acked {
			unknown[wr.key] = true
			continue
		}
		if wr.stamp.version.IsZero() {
			continue // a delete of nothing: it wrote nothing
		}
		byKey[wr.key] = append(byKey[wr.key], wr)
	}
	client := c.client(c.names[0])
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ws := byKey[k]
		win := ws[0]
		for _, wr := range ws[1:] {
			if win.stamp.version.Less(wr.stamp.version) {
				win = wr
			}
		}
		out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("Conv"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}}})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if v, ok := out.Item["w"].(*types.AttributeValueMemberS); ok {
			got = v.Value
		}
		if out.Item == nil && !win.delete || out.Item != nil && got != win.id {
			if strict || !unknown[k] {
				t.Errorf("key %s holds %q (item %v); the last writer among acknowledged writes is %q (delete %v) at %v",
					k, got, out.Item != nil, win.id, win.delete, win.stamp.version)
			}
			continue
		}
		for _, wr := range ws {
			if wr == win {
				continue
			}
			overwritten++
			if losers[wr.stamp.version.Token()] {
				conflicts++
				continue
			}
			// A delete that lost to a concurrent delete lost nothing: the
			// item is gone either way, and no conflict is recorded.
			explained := wr.delete && beatenByConcurrentDelete(wr, ws)
			for _, y := range ws {
				if y != wr && y.stamp.covers(wr.stamp.version) && !sawBeater(y, wr, ws) {
					explained = true
					break
				}
			}
			if !explained && (strict || !unknown[k]) {
				t.Errorf("key %s: the acknowledged write %s (%v) was overwritten, no later write had seen it, and no conflict log has it",
					k, wr.id, wr.stamp.version)
			}
		}
	}
	return overwritten, conflicts
}

// concurrent reports whether neither write had seen the other.
func concurrent(a, b *write) bool {
	return a != b && !a.stamp.covers(b.stamp.version) && !b.stamp.covers(a.stamp.version)
}

// sawBeater reports whether y had seen, besides w, a write concurrent with w
// that beats it. Then y's having seen w does not explain w's loss: w lost to
// that write by last-writer-wins, a conflict that must have been recorded.
func sawBeater(y, w *write, ws []*write) bool {
	for _, x := range ws {
		if concurrent(w, x) && w.stamp.version.Less(x.stamp.version) && y.stamp.covers(x.stamp.version) {
			return true
		}
	}
	return false
}

func beatenByConcurrentDelete(w *write, ws []*write) bool {
	for _, x := range ws {
		if x.delete && concurrent(w, x) && w.stamp.version.Less(x.stamp.version) {
			return true
		}
	}
	return false
}

func createGlobalTable(t *testing.T, c *cluster, in string) {
	t.Helper()
	_, err := c.client(in).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("Conv"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.waitReplicasActive("Conv", 30*time.Second)
}

// TestReplication_ConcurrentWritesConverge writes, updates and deletes the
// same keys concurrently in three region processes, and checks that the
// regions converge on the last-writer-wins outcome with every overwritten
// acknowledged write accounted for.
func TestReplication_ConcurrentWritesConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end replication test: skipped in -short mode")
	}
	c := startCluster(t, threeRegions, "global_tables = true")
	createGlobalTable(t, c, "eu-west-1")
	// Each replica's stream: a write in one region, its update in a
	// second and its delete in a third show in every region's stream.
	c.walkKey(t, "Conv", "walk")
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	w := &workload{}
	w.run(context.Background(), c, threeRegions, 3, 120, 15, seed)
	c.waitConverged("Conv", 60*time.Second)
	overwritten, conflicts := w.check(t, c, c.conflicts("Conv"), true)
	t.Logf("%d writes, %d overwritten, %d of them recorded as conflicts", len(w.writes), overwritten, conflicts)
	if conflicts == 0 {
		t.Fatal("concurrent writes to 15 keys from 9 writers in 3 regions made no conflict: the conflict detection is not working")
	}
	// Every region's stream is exactly what it applied; replicated writes
	// that lost there are absent.
	streams := c.checkStreams(t, "Conv")
	t.Logf("%d losing replicated writes checked absent from their region's stream", c.checkLosersAbsent(t, "Conv", streams))
}

package main

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/regiontest"
)

// TestRegion_KillNineKeepsAcknowledgedWrites kills a region process with
// SIGKILL at random instants while eight clients write to it, restarts it on
// the same data folder, and checks that every write the region acknowledged
// is there: new items with their values, and per-worker counters at least at
// their last acknowledged value.
func TestRegion_KillNineKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	args := []string{"--name", "us-east-1", "--listen", "127.0.0.1:0", "--data", dir}
	p := startRegionProc(t, args...)
	ctx := context.Background()
	if _, err := regiontest.NewClient(p.URL).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Crash"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}

	const workers = 8
	var mu sync.Mutex
	acked := map[string]string{}     // item key -> value, for acknowledged puts
	counters := make([]int, workers) // last acknowledged counter value per worker
	next := make([]int, workers)     // next sequence number per worker, across rounds
	for round := 0; round < 4; round++ {
		client := regiontest.NewClient(p.URL)
		target := 50 + rng.Intn(300)
		reached := make(chan struct{})
		var once sync.Once
		count := 0
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for wctx.Err() == nil {
					mu.Lock()
					next[w]++
					n := next[w]
					mu.Unlock()
					key := fmt.Sprintf("w%d-%d", w, n)
					val := strconv.Itoa(n * 7)
					_, err := client.PutItem(wctx, &dynamodb.PutItemInput{TableName: aws.String("Crash"),
						Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}, "v": &types.AttributeValueMemberS{Value: val}}})
					if err != nil {
						continue
					}
					_, cerr := client.UpdateItem(wctx, &dynamodb.UpdateItemInput{TableName: aws.String("Crash"),
						Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("counter-%d", w)}},
						UpdateExpression:          aws.String("SET n = :n"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}}})
					mu.Lock()
					acked[key] = val
					if cerr == nil && n > counters[w] {
						counters[w] = n
					}
					count++
					if count >= target {
						once.Do(func() { close(reached) })
					}
					mu.Unlock()
				}
			}(w)
		}
		select {
		case <-reached:
		case <-time.After(2 * time.Minute):
			t.Fatalf("round %d: writers did not reach %d writes:\n%s", round, target, p.Log())
		}
		p.Kill(t)
		cancel()
		wg.Wait()

		p = startRegionProc(t, args...)
		got := scanAll(t, regiontest.NewClient(p.URL), "Crash")
		mu.Lock()
		for k, v := range acked {
			if got[k] != v {
				t.Fatalf("round %d: acknowledged write %s=%s lost after SIGKILL (found %q)", round, k, v, got[k])
			}
		}
		for w, n := range counters {
			have, _ := strconv.Atoi(got[fmt.Sprintf("counter-%d", w)])
			if have < n {
				t.Fatalf("round %d: counter %d is %d after restart, but %d was acknowledged", round, w, have, n)
			}
		}
		t.Logf("round %d: killed after %d acknowledged writes; all %d acknowledged items present", round, count, len(acked))
		mu.Unlock()
	}
	p.Stop(t)
}

// scanAll reads a whole table and returns pk -> v (S or N).
func scanAll(t *testing.T, c *dynamodb.Client, table string) map[string]string {
	t.Helper()
	out := map[string]string{}
	pg := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		for _, it := range page.Items {
			pk := it["pk"].(*types.AttributeValueMemberS).Value
			switch v := it["v"].(type) {
			case *types.AttributeValueMemberS:
				out[pk] = v.Value
			}
			if n, ok := it["n"].(*types.AttributeValueMemberN); ok {
				out[pk] = n.Value
			}
		}
	}
	return out
}

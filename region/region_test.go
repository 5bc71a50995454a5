package region_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/regiontest"
)

// startRegion runs a region in-process until the test ends.
func startRegion(t *testing.T, cfg region.Config) (*region.Region, *dynamodb.Client) {
	t.Helper()
	r := regiontest.StartRegion(t, cfg)
	return r, regiontest.NewClient(r.URL())
}

func TestRegion_TTLSweeperDeletesExpiredItems(t *testing.T) {
	var nowUnix atomic.Int64
	nowUnix.Store(1_800_000_000)
	r, c := startRegion(t, region.Config{
		Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		TTLInterval: 20 * time.Millisecond,
		Now:         func() time.Time { return time.Unix(nowUnix.Load(), 0) },
	})
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Sessions"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("Sessions"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}}); err != nil {
		t.Fatal(err)
	}
	now := nowUnix.Load()
	items := map[string]types.AttributeValue{
		"expired":    &types.AttributeValueMemberN{Value: strconv.FormatInt(now-10, 10)},
		"future":     &types.AttributeValueMemberN{Value: strconv.FormatInt(now+3600, 10)},
		"ancient":    &types.AttributeValueMemberN{Value: strconv.FormatInt(now-6*365*24*3600, 10)}, // over 5 years: ignored
		"not-number": &types.AttributeValueMemberS{Value: "0"},
	}
	for id, exp := range items {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Sessions"), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: id}, "exp": exp}}); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(id string) bool {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Sessions"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item != nil
	}
	regiontest.WaitFor(t, 10*time.Second, func() error {
		if exists("expired") {
			return fmt.Errorf("expired item still present")
		}
		return nil
	})
	for _, id := range []string{"future", "ancient", "not-number"} {
		if !exists(id) {
			t.Errorf("%s was deleted", id)
		}
	}
	// The deletion went through the write path: it left a change record.
	// Changes hands out only records whose sync round has completed, which
	// may be a moment after the delete became visible to GetItem.
	regiontest.WaitFor(t, 10*time.Second, func() error {
		changes, err := r.DB().Changes(0, 100)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			if ch.Deleted && ch.Key["id"].S == "expired" {
				return nil
			}
		}
		return fmt.Errorf("the TTL delete left no change record")
	})
	// Time passes: the future item expires too.
	nowUnix.Add(7200)
	regiontest.WaitFor(t, 10*time.Second, func() error {
		if exists("future") {
			return fmt.Errorf("future item not yet deleted")
		}
		return nil
	})
}

func TestRegion_ConfigErrors(t *testing.T) {
	if _, err := region.New(region.Config{}); err == nil {
		t.Fatal("an empty config must be refused")
	}
	r, err := region.New(region.Config{Name: "a", Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRegion_ClientEndpointIsShaped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clientAddr := ln.Addr().String()
	ln.Close()
	dataDir := t.TempDir()
	r, direct := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: dataDir, ClientListen: clientAddr})
	viaClient := regiontest.NewClient("http://" + clientAddr)
	timeCall := func(c *dynamodb.Client) time.Duration {
		start := time.Now()
		if _, err := c.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	timeCall(viaClient) // open the connection
	token, err := region.ReadControlToken(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	control := &region.Client{Token: token}
	if err := control.PutJSON(t.Context(), r.URL()+region.LinksPath+"/"+region.ClientLink, json.RawMessage(`{"latency": 100000000}`), nil); err != nil {
		t.Fatalf("shape the client link: %v", err)
	}
	// 100 ms each way: the request takes it, and so does the answer.
	shaped := timeCall(viaClient)
	if shaped < 200*time.Millisecond {
		t.Fatalf("a call through the client endpoint with 100 ms of latency each way took %v", shaped)
	}
	// Relative, so that a loaded machine slowing both calls does not fail
	// the test: the direct call must not carry the 100 ms.
	if d := timeCall(direct); d > shaped-50*time.Millisecond {
		t.Fatalf("a direct call took %v, the shaped one %v: the shaping leaked to the region's own endpoint", d, shaped)
	}
}

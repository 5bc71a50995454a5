package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/api"
)

// BenchmarkPutGet measures PutItem and GetItem through HTTP and the SDK,
// half each, with 200-byte items, 8 goroutines per core... as
// b.SetParallelism(4) gives on two cores.
func BenchmarkPutGet(b *testing.B) {
	r := startRegionWithHooks(b, api.Hooks{})
	c := r.Client
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("bench"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		b.Fatal(err)
	}
	value := strings.Repeat("v", 200)
	var seq atomic.Uint64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(seq.Add(1), 7))
		for pb.Next() {
			k := &types.AttributeValueMemberS{Value: fmt.Sprint("key-", rng.IntN(10000))}
			var err error
			if rng.IntN(2) == 0 {
				_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bench"), Key: map[string]types.AttributeValue{"pk": k}})
			} else {
				_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"),
					Item: map[string]types.AttributeValue{"pk": k, "v": &types.AttributeValueMemberS{Value: value}}})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

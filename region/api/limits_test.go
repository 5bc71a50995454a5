package api_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names may be up to 65535 bytes, at any depth; longer ones are
// refused with DynamoDB's message, in every write.
func TestPutItem_AttributeNameLimit(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	ok := strings.Repeat("n", 65535)
	tooLong := strings.Repeat("n", 65536)
	put(t, r.Client, "Things", item{"id": S("a"), ok: S("x")})
	put(t, r.Client, "Things", item{"id": S("b"), "m": M(map[string]types.AttributeValue{ok: S("x")})})
	const msg = "1 validation error detected: Attribute name is too large, must be less than 65536 bytes"
	for _, it := range []item{
		{"id": S("c"), tooLong: S("x")},
		{"id": S("c"), "m": M(map[string]types.AttributeValue{tooLong: S("x")})},
		{"id": S("c"), "l": L(M(map[string]types.AttributeValue{tooLong: S("x")}))},
	} {
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Things"), Item: it})
		wantAPIError(t, err, "ValidationException", msg)
	}
	_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("c")},
		UpdateExpression: aws.String("SET #n = :v"), ExpressionAttributeNames: map[string]string{"#n": tooLong},
		ExpressionAttributeValues: item{":v": S("x")}})
	wantAPIError(t, err, "ValidationException", msg)
}

// Key attribute names, of the table and of its indexes, and projected
// attribute names are limited to 255 characters.
func TestCreateTable_KeyNameLimit(t *testing.T) {
	r := startRegion(t)
	ctx := context.Background()
	long := strings.Repeat("k", 256)
	_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Long"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(long), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(long), KeyType: types.KeyTypeHash}}})
	wantAPIError(t, err, "ValidationException", "2 validation errors detected: "+
		"Value '"+long+"' at 'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255; "+
		"Value '"+long+"' at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255")
	name := strings.Repeat("k", 255)
	if _, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Max"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(name), KeyType: types.KeyTypeHash}}}); err != nil {
		t.Fatalf("255-character key name: %v", err)
	}
}

// DeleteTable returns the subset of the description DynamoDB returns.
func TestDeleteTable_ResponseIsDynamoDBsSubset(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Gone", "id", types.ScalarAttributeTypeS, "sk", types.ScalarAttributeTypeN)
	resp, body := rawRequest(t, "POST", r.URL, jsonHeaders("DeleteTable", "application/x-amz-json-1.0"), strings.NewReader(`{"TableName":"Gone"}`))
	if resp.StatusCode != 200 {
		t.Fatalf("DeleteTable: %d %s", resp.StatusCode, body)
	}
	var out struct{ TableDescription map[string]any }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range out.TableDescription {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"BillingModeSummary", "DeletionProtectionEnabled", "ItemCount", "ProvisionedThroughput", "TableArn", "TableId", "TableName", "TableSizeBytes", "TableStatus"}
	if !reflect.DeepEqual(keys, want) || out.TableDescription["TableStatus"] != "DELETING" {
		t.Fatalf("members %v (status %v), want %v and DELETING", keys, out.TableDescription["TableStatus"], want)
	}
}

// Single-item operations report the total alone (and the table's total
// under INDEXES); transactions also split it into read and write units.
func TestConsumedCapacity_FieldsPerOperation(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	h := jsonHeaders("PutItem", "application/x-amz-json-1.0")
	capacity := func(op, body string) map[string]any {
		t.Helper()
		h["X-Amz-Target"] = "DynamoDB_20120810." + op
		resp, out := rawRequest(t, "POST", r.URL, h, strings.NewReader(body))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", op, resp.StatusCode, out)
		}
		var v struct{ ConsumedCapacity any }
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		if l, ok := v.ConsumedCapacity.([]any); ok {
			return l[0].(map[string]any)
		}
		return v.ConsumedCapacity.(map[string]any)
	}
	tests := []struct {
		op, body string
		want     map[string]any
	}{
		{"PutItem", `{"TableName":"Things","Item":{"id":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL"}`,
			map[string]any{"TableName": "Things", "CapacityUnits": 1.0}},
		{"PutItem", `{"TableName":"Things","Item":{"id":{"S":"a"}},"ReturnConsumedCapacity":"INDEXES"}`,
			map[string]any{"TableName": "Things", "CapacityUnits": 1.0, "Table": map[string]any{"CapacityUnits": 1.0}}},
		{"GetItem", `{"TableName":"Things","Key":{"id":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL"}`,
			map[string]any{"TableName": "Things", "CapacityUnits": 0.5}},
		{"Scan", `{"TableName":"Things","ReturnConsumedCapacity":"INDEXES"}`,
			map[string]any{"TableName": "Things", "CapacityUnits": 0.5, "Table": map[string]any{"CapacityUnits": 0.5}}},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"Things","Item":{"id":{"S":"b"}}}}],"ReturnConsumedCapacity":"TOTAL"}`,
			map[string]any{"TableName": "Things", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}},
	}
	for _, tc := range tests {
		if got := capacity(tc.op, tc.body); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s: ConsumedCapacity = %v, want %v", tc.op, tc.body, got, tc.want)
		}
	}
}

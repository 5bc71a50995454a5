package api_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Shorthands for building SDK attribute values in tests.
func S(s string) types.AttributeValue  { return &types.AttributeValueMemberS{Value: s} }
func N(s string) types.AttributeValue  { return &types.AttributeValueMemberN{Value: s} }
func B(b []byte) types.AttributeValue  { return &types.AttributeValueMemberB{Value: b} }
func Bool(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }
func Null() types.AttributeValue       { return &types.AttributeValueMemberNULL{Value: true} }
func L(vs ...types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberL{Value: vs}
}
func M(m map[string]types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: m}
}
func SS(ss ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: ss} }
func NS(ns ...string) types.AttributeValue { return &types.AttributeValueMemberNS{Value: ns} }
func BS(bs ...[]byte) types.AttributeValue { return &types.AttributeValueMemberBS{Value: bs} }

type item = map[string]types.AttributeValue

// createTable creates a table with a hash key and, if rangeName is not
// empty, a range key, on-demand, and fails the test on error.
func createTable(t *testing.T, c *dynamodb.Client, name, hashName string, hashType types.ScalarAttributeType, rangeName string, rangeType types.ScalarAttributeType) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(hashName), AttributeType: hashType}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(hashName), KeyType: types.KeyTypeHash}},
	}
	if rangeName != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(rangeName), AttributeType: rangeType})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(rangeName), KeyType: types.KeyTypeRange})
	}
	if _, err := c.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
}

func put(t *testing.T, c *dynamodb.Client, table string, it item) {
	t.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		t.Fatalf("put item: %v", err)
	}
}

func get(t *testing.T, c *dynamodb.Client, table string, key item) item {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("get item: %v", err)
	}
	return out.Item
}

// str returns the S value of an attribute, or "" if it is not an S.
func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// num returns the N value of an attribute, or "" if it is not an N.
func num(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

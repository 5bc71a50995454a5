package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestBatchWriteAndGet(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Alpha", "id", types.ScalarAttributeTypeS, "", "")
	createTable(t, r.Client, "Beta", "id", types.ScalarAttributeTypeN, "", "")
	ctx := context.Background()
	put(t, r.Client, "Beta", item{"id": N("99"), "v": S("doomed")})
	out, err := r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"Alpha": {
			{PutRequest: &types.PutRequest{Item: item{"id": S("a"), "v": N("1")}}},
			{PutRequest: &types.PutRequest{Item: item{"id": S("b"), "v": N("2")}}},
		},
		"Beta": {
			{PutRequest: &types.PutRequest{Item: item{"id": N("1")}}},
			{DeleteRequest: &types.DeleteRequest{Key: item{"id": N("99")}}},
		},
	}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedItems) != 0 {
		t.Fatalf("unprocessed: %#v", out.UnprocessedItems)
	}
	if len(out.ConsumedCapacity) != 2 {
		t.Fatalf("consumed capacity per table: %#v", out.ConsumedCapacity)
	}
	got, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"Alpha": {Keys: []map[string]types.AttributeValue{{"id": S("a")}, {"id": S("b")}, {"id": S("missing")}}, ProjectionExpression: aws.String("v")},
		"Beta":  {Keys: []map[string]types.AttributeValue{{"id": N("1")}, {"id": N("99")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Responses["Alpha"]) != 2 || len(got.Responses["Beta"]) != 1 || len(got.UnprocessedKeys) != 0 {
		t.Fatalf("batch get: %#v, unprocessed %#v", got.Responses, got.UnprocessedKeys)
	}
	for _, it := range got.Responses["Alpha"] {
		if len(it) != 1 || it["v"] == nil {
			t.Fatalf("projection in batch get: %#v", it)
		}
	}

	many := make([]types.WriteRequest, 26)
	for i := range many {
		many[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item{"id": S(fmt.Sprint(i))}}}
	}
	_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Alpha": many}})
	wantAPIError(t, err, "ValidationException", "")
	_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Alpha": {
		{PutRequest: &types.PutRequest{Item: item{"id": S("x")}}}, {DeleteRequest: &types.DeleteRequest{Key: item{"id": S("x")}}}}}})
	wantAPIError(t, err, "ValidationException", "Provided list of item keys contains duplicates")
	_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Gamma": {
		{PutRequest: &types.PutRequest{Item: item{"id": S("x")}}}}}})
	wantAPIError(t, err, "ResourceNotFoundException", "")
	// A bad request in the batch rejects the whole batch.
	_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Alpha": {
		{PutRequest: &types.PutRequest{Item: item{"id": S("fine")}}}, {PutRequest: &types.PutRequest{Item: item{"id": N("1")}}}}}})
	wantAPIError(t, err, "ValidationException", "")
	if it := get(t, r.Client, "Alpha", item{"id": S("fine")}); it != nil {
		t.Fatal("a rejected batch wrote an item")
	}

	keys := make([]map[string]types.AttributeValue, 101)
	for i := range keys {
		keys[i] = item{"id": S(fmt.Sprint(i))}
	}
	_, err = r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"Alpha": {Keys: keys}}})
	wantAPIError(t, err, "ValidationException", "")
	_, err = r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"Alpha": {
		Keys: []map[string]types.AttributeValue{{"id": S("a")}, {"id": S("a")}}}}})
	wantAPIError(t, err, "ValidationException", "Provided list of item keys contains duplicates")
}

func TestBatchGet_UnprocessedKeysPast16MB(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Heavy", "id", types.ScalarAttributeTypeN, "", "")
	ctx := context.Background()
	blob := strings.Repeat("h", 390*1024)
	keys := make([]map[string]types.AttributeValue, 60)
	for i := range keys {
		put(t, r.Client, "Heavy", item{"id": N(fmt.Sprint(i)), "blob": S(blob)})
		keys[i] = item{"id": N(fmt.Sprint(i))}
	}
	got := 0
	req := map[string]types.KeysAndAttributes{"Heavy": {Keys: keys}}
	rounds := 0
	for len(req) > 0 {
		out, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req}, withRetries)
		if err != nil {
			t.Fatal(err)
		}
		rounds++
		got += len(out.Responses["Heavy"])
		req = out.UnprocessedKeys
		if rounds > 5 {
			t.Fatal("unprocessed keys never drain")
		}
	}
	if got != 60 || rounds < 2 {
		t.Fatalf("read %d items in %d rounds; 60 items of 390 KB must take more than one 16 MB response", got, rounds)
	}
}

func TestTransactWriteItems(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Accounts", "id", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	put(t, r.Client, "Accounts", item{"id": S("alice"), "balance": N("100")})
	put(t, r.Client, "Accounts", item{"id": S("bob"), "balance": N("0")})
	put(t, r.Client, "Accounts", item{"id": S("bank"), "open": Bool(true)})
	transfer := func(amount string, token *string) error {
		_, err := r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: token, TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("Accounts"), Key: item{"id": S("alice")},
				UpdateExpression: aws.String("SET balance = balance - :a"), ConditionExpression: aws.String("balance >= :a"),
				ExpressionAttributeValues: item{":a": N(amount)}}},
			{Update: &types.Update{TableName: aws.String("Accounts"), Key: item{"id": S("bob")},
				UpdateExpression: aws.String("SET balance = balance + :a"), ExpressionAttributeValues: item{":a": N(amount)}}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String("Accounts"), Key: item{"id": S("bank")},
				ConditionExpression: aws.String("#o = :t"), ExpressionAttributeNames: map[string]string{"#o": "open"},
				ExpressionAttributeValues: item{":t": Bool(true)}}},
			{Put: &types.Put{TableName: aws.String("Accounts"), Item: item{"id": S("log-" + amount), "amount": N(amount)}}},
		}})
		return err
	}
	if err := transfer("30", nil); err != nil {
		t.Fatal(err)
	}
	balances := func() (string, string) {
		return num(get(t, r.Client, "Accounts", item{"id": S("alice")})["balance"]), num(get(t, r.Client, "Accounts", item{"id": S("bob")})["balance"])
	}
	if a, b := balances(); a != "70" || b != "30" {
		t.Fatalf("after transfer: alice %s bob %s", a, b)
	}

	// A failed condition cancels every action, with a reason for each.
	err := transfer("500", nil)
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("want TransactionCanceledException, got %v", err)
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, rsn := range tce.CancellationReasons {
		codes[i] = aws.ToString(rsn.Code)
	}
	if strings.Join(codes, ",") != "ConditionalCheckFailed,None,None,None" {
		t.Fatalf("cancellation reasons = %v", codes)
	}
	if a, b := balances(); a != "70" || b != "30" {
		t.Fatalf("a cancelled transaction changed balances: alice %s bob %s", a, b)
	}
	if it := get(t, r.Client, "Accounts", item{"id": S("log-500")}); it != nil {
		t.Fatal("a cancelled transaction wrote its Put")
	}

	// The same client request token replays instead of applying twice.
	token := aws.String("transfer-10-once")
	if err := transfer("10", token); err != nil {
		t.Fatal(err)
	}
	if err := transfer("10", token); err != nil {
		t.Fatalf("idempotent retry: %v", err)
	}
	if a, b := balances(); a != "60" || b != "40" {
		t.Fatalf("token retry applied twice: alice %s bob %s", a, b)
	}
	err = transfer("11", token)
	wantAPIError(t, err, "IdempotentParameterMismatchException", "")

	_, err = r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("Accounts"), Item: item{"id": S("x")}}},
		{Delete: &types.Delete{TableName: aws.String("Accounts"), Key: item{"id": S("x")}}},
	}})
	wantAPIError(t, err, "ValidationException", "Transaction request cannot include multiple operations on one item")

	// ReturnValuesOnConditionCheckFailure puts the item into the reason.
	_, err = r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("Accounts"), Key: item{"id": S("alice")},
			ConditionExpression: aws.String("balance > :big"), ExpressionAttributeValues: item{":big": N("1000")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}})
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 1 || num(tce.CancellationReasons[0].Item["balance"]) != "60" {
		t.Fatalf("condition failure item: %v", err)
	}

	got, err := r.Client.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("Accounts"), Key: item{"id": S("alice")}}},
		{Get: &types.Get{TableName: aws.String("Accounts"), Key: item{"id": S("nobody")}}},
		{Get: &types.Get{TableName: aws.String("Accounts"), Key: item{"id": S("bob")}, ProjectionExpression: aws.String("balance")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Responses) != 3 || num(got.Responses[0].Item["balance"]) != "60" || got.Responses[1].Item != nil || len(got.Responses[2].Item) != 1 {
		t.Fatalf("transact get: %#v", got.Responses)
	}
}

// post sends a raw request to the endpoint.
func post(t *testing.T, url, target, contentType, body string) (*http.Response, string) {
	t.Helper()
	h := map[string]string{"Content-Type": contentType}
	if target != "" {
		h["X-Amz-Target"] = target
	}
	return rawRequest(t, http.MethodPost, url, h, strings.NewReader(body))
}

func TestProtocol_HeadersAndErrors(t *testing.T) {
	r := startRegion(t)
	const ct = "application/x-amz-json-1.0"
	resp, body := post(t, r.URL, "DynamoDB_20120810.ListTables", ct, "{}")
	if resp.StatusCode != 200 || body != `{"TableNames":[]}` {
		t.Fatalf("ListTables: %d %s", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("x-amz-crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10); got != want {
		t.Fatalf("x-amz-crc32 = %s, want %s", got, want)
	}
	if id := resp.Header.Get("x-amzn-RequestId"); len(id) != 52 {
		t.Fatalf("request id %q", id)
	}
	tests := []struct {
		name, target, body string
		status             int
		typ                string
	}{
		{"unknown operation", "DynamoDB_20120810.Frobnicate", "{}", 400, "com.amazon.coral.service#UnknownOperationException"},
		{"no target", "", "{}", 400, "com.amazon.coral.service#UnknownOperationException"},
		{"malformed json", "DynamoDB_20120810.ListTables", "{", 400, "com.amazon.coral.service#SerializationException"},
		{"empty body", "DynamoDB_20120810.ListTables", "", 400, "com.amazon.coral.service#SerializationException"},
		{"wrong member type", "DynamoDB_20120810.DescribeTable", `{"TableName": 5}`, 400, "com.amazon.coral.service#SerializationException"},
		{"wrong attribute shape", "DynamoDB_20120810.PutItem", `{"TableName":"Tbl","Item":{"a":{"S":5}}}`, 400, "com.amazon.coral.service#SerializationException"},
		{"missing table", "DynamoDB_20120810.DescribeTable", `{"TableName":"Nope"}`, 400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"},
		{"validation", "DynamoDB_20120810.GetItem", `{"TableName":"Tbl"}`, 400, "com.amazon.coral.validate#ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, r.URL, tt.target, ct, tt.body)
			if resp.StatusCode != tt.status || !strings.Contains(body, `"__type":"`+tt.typ+`"`) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.typ)
			}
			if resp.Header.Get("x-amz-crc32") == "" {
				t.Fatal("error response without x-amz-crc32")
			}
		})
	}
	// A body over 16 MB is refused: with 413, or, when the server stops
	// reading before the client has finished sending, by closing the
	// connection. It is never processed.
	big := bytes.Repeat([]byte(" "), 16<<20+1)
	req, err := http.NewRequest(http.MethodPost, r.URL, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", ct)
	if bigResp, err := http.DefaultClient.Do(req); err == nil {
		bigResp.Body.Close()
		if bigResp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("16 MB body: status %d", bigResp.StatusCode)
		}
	} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("16 MB body: %v", err)
	}
	// A GET is a health check.
	hr, err := http.Get(r.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	if hr.StatusCode != 200 || !strings.HasPrefix(string(hb), "healthy: dynamodb.us-east-1") {
		t.Fatalf("health: %d %q", hr.StatusCode, hb)
	}
}

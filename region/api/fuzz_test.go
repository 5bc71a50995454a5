package api_test

import (
	"encoding/json"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/store"
)

var fuzzOps = []string{"CreateTable", "DescribeTable", "ListTables", "UpdateTable", "DeleteTable",
	"UpdateTimeToLive", "DescribeTimeToLive", "PutItem", "GetItem", "UpdateItem", "DeleteItem",
	"Query", "Scan", "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
	"TagResource", "UntagResource", "ListTagsOfResource"}

// FuzzServeHTTP sends arbitrary bodies to every operation of a server with
// a real (in-memory) store holding one table. Whatever the input, the
// server must answer, with a status DynamoDB uses, a JSON body and a correct
// checksum; a panic fails the target.
func FuzzServeHTTP(f *testing.F) {
	seeds := []string{
		`{}`, `{"TableName":"Fuzz"}`, `{"TableName":"Fuzz","Key":{"pk":{"S":"a"}}}`,
		`{"TableName":"Fuzz","Item":{"pk":{"S":"a"},"n":{"N":"1"},"m":{"M":{"l":{"L":[{"NULL":true}]}}}}}`,
		`{"TableName":"Fuzz","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET #a = :v","ExpressionAttributeNames":{"#a":"x"},"ExpressionAttributeValues":{":v":{"SS":["a"]}}}`,
		`{"TableName":"Fuzz","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}},"Limit":1}`,
		`{"TransactItems":[{"Put":{"TableName":"Fuzz","Item":{"pk":{"S":"b"}}}}]}`,
		`{"RequestItems":{"Fuzz":[{"PutRequest":{"Item":{"pk":{"S":"c"}}}}]}}`,
		`{"TableName":"New1","AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}],"KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
		`{"TableName":"Fuzz","Item":{"pk":{"B":"AAE="}}}`, `[`, `null`, `{"TableName":5}`, "{\"TableName\":\"\u0000\"}",
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	cfg := store.DefaultConfig()
	cfg.InMemory = true
	cfg.Region = "us-east-1"
	db, err := store.Open(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	srv, err := api.New(api.Config{Region: "us-east-1", DB: db})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	serve := func(op, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	if rec := serve("CreateTable", `{"TableName":"Fuzz","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`); rec.Code != 200 {
		f.Fatalf("create table: %d %s", rec.Code, rec.Body)
	}
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		name := fuzzOps[int(op)%len(fuzzOps)]
		if name == "DeleteTable" && strings.Contains(body, "Fuzz") {
			return // keep the table that the other operations work on
		}
		rec := serve(name, body)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("%s %q: status %d %s", name, body, rec.Code, rec.Body)
		}
		b := rec.Body.Bytes()
		if !json.Valid(b) {
			t.Fatalf("%s %q: response is not JSON: %s", name, body, b)
		}
		if got, want := rec.Header().Get("x-amz-crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10); got != want {
			t.Fatalf("checksum %s, want %s", got, want)
		}
		if rec.Code == 400 && !strings.Contains(string(b), `"__type"`) {
			t.Fatalf("%s %q: error without __type: %s", name, body, b)
		}
	})
}

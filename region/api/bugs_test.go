package api_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// itemChanges counts the change records (what replicates) of table.
func itemChanges(t *testing.T, r *testRegion, table string) int {
	t.Helper()
	chs, err := r.DB.Changes(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ch := range chs {
		if ch.Table == table {
			n++
		}
	}
	return n
}

// An UpdateItem that only removes, on an item that does not exist, creates
// nothing and so has nothing to replicate, as in DynamoDB; REMOVE of a
// nested path is ignored there too, not refused.
func TestUpdateItem_OnlyRemovalsOnMissingItemCreateNothing(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	before := itemChanges(t, r, "Things")
	for _, in := range []*dynamodb.UpdateItemInput{
		{UpdateExpression: aws.String("REMOVE a")},
		{UpdateExpression: aws.String("REMOVE x.y, z[1]")},
		{UpdateExpression: aws.String("DELETE s :v"), ExpressionAttributeValues: item{":v": SS("a")}},
		{AttributeUpdates: map[string]types.AttributeValueUpdate{"a": {Action: "DELETE"}}},
	} {
		in.TableName, in.Key, in.ReturnValues = aws.String("Things"), item{"id": S("gone")}, types.ReturnValueAllNew
		out, err := r.Client.UpdateItem(ctx, in)
		if err != nil {
			t.Fatalf("update %v: %v", aws.ToString(in.UpdateExpression), err)
		}
		if out.Attributes != nil {
			t.Errorf("update %v returned ALL_NEW %#v, want nothing", aws.ToString(in.UpdateExpression), out.Attributes)
		}
	}
	if got := get(t, r.Client, "Things", item{"id": S("gone")}); got != nil {
		t.Fatalf("item created: %#v", got)
	}
	if n := itemChanges(t, r, "Things"); n != before {
		t.Fatalf("%d change records written, want none", n-before)
	}
	// An UpdateItem without actions still creates the key-only item.
	if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("k")}}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, r.Client, "Things", item{"id": S("k")}); got == nil {
		t.Fatal("UpdateItem without actions created no item")
	}
}

// A global secondary index added to a table does not index the items whose
// index key is an empty string: such a value is not a valid key, so the
// backfill leaves those items out, as writes do.
func TestUpdateTable_BackfillSkipsEmptyIndexKeys(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("auto"))
	for i, color := range []string{"red", "", "blue", ""} {
		put(t, r.Client, "auto", item{"pk": S(fmt.Sprint("k", i)), "color": S(color)})
	}
	addColorIndex(t, r, "auto", types.ProjectionTypeAll)
	out, err := r.Client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("auto"), IndexName: aws.String("by-color")})
	if err != nil {
		t.Fatal(err)
	}
	var colors []string
	for _, it := range out.Items {
		colors = append(colors, str(it["color"]))
	}
	sort.Strings(colors)
	if strings.Join(colors, ",") != "blue,red" {
		t.Fatalf("index holds colors %q, want blue and red only", colors)
	}
}

// Key attributes are scalars: a projection or filter that reaches into one
// (k.x, k[0]) is refused, naming a table key before an index key.
func TestRead_NestedKeyPathsRefused(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Music", "Artist", types.ScalarAttributeTypeS, "Song", types.ScalarAttributeTypeN)
	ctx := context.Background()
	key := item{"Artist": S("A"), "Song": N("1")}
	put(t, r.Client, "Music", item{"Artist": S("A"), "Song": N("1"), "m": M(map[string]types.AttributeValue{"x": S("y")})})
	const keyMsg = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: "
	_, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Music"), Key: key, ProjectionExpression: aws.String("m.x, Artist.x")})
	wantAPIError(t, err, "ValidationException", keyMsg+"Artist")
	_, err = r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Music"), ProjectionExpression: aws.String("Song[0]")})
	wantAPIError(t, err, "ValidationException", keyMsg+"Song")
	_, err = r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Music"), FilterExpression: aws.String("attribute_exists(Artist.x)")})
	wantAPIError(t, err, "ValidationException", keyMsg+"Artist")
	_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Music"), KeyConditionExpression: aws.String("Artist = :a"),
		ExpressionAttributeValues: item{":a": S("A")}, ProjectionExpression: aws.String("Song.x")})
	wantAPIError(t, err, "ValidationException", keyMsg+"Song")
	_, err = r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"Music": {Keys: []item{key}, ProjectionExpression: aws.String("Artist.x")}}})
	wantAPIError(t, err, "ValidationException", keyMsg+"Artist")
	// Nested paths into other attributes are fine.
	out, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Music"), Key: key, ProjectionExpression: aws.String("m.x, Artist")})
	if err != nil || str(out.Item["Artist"]) != "A" {
		t.Fatalf("projection with m.x: %v %#v", err, out.Item)
	}
}

// A parallel Scan's ExclusiveStartKey must belong to the scan's segment.
func TestScan_StartKeyOutsideSegmentRefused(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	for i := range 20 {
		put(t, r.Client, "Things", item{"id": S(fmt.Sprint("k", i))})
	}
	ctx := context.Background()
	// Find an item of segment 0 of 4, then resume segment 1 from it.
	out, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Things"), Segment: aws.Int32(0), TotalSegments: aws.Int32(4), Limit: aws.Int32(1)})
	if err != nil || out.LastEvaluatedKey == nil {
		t.Fatalf("first page of segment 0: %v, last key %v", err, out.LastEvaluatedKey)
	}
	_, err = r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Things"), Segment: aws.Int32(1), TotalSegments: aws.Int32(4),
		ExclusiveStartKey: out.LastEvaluatedKey})
	wantAPIError(t, err, "ValidationException",
		"The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: 4 Segment: 1")
	// Resuming the right segment works.
	if _, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Things"), Segment: aws.Int32(0), TotalSegments: aws.Int32(4),
		ExclusiveStartKey: out.LastEvaluatedKey}); err != nil {
		t.Fatal(err)
	}
}

// A name may not start with an underscore in any expression: DynamoDB
// reports the "_" as a syntax error.
func TestExpressions_UnderscoreStartRefused(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
		UpdateExpression: aws.String("SET _123 = :v"), ExpressionAttributeValues: item{":v": S("v")}})
	wantAPIError(t, err, "ValidationException", `Invalid UpdateExpression: Syntax error; token: "_", near: "SET _123"`)
	_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")}, ProjectionExpression: aws.String("_a")})
	wantAPIError(t, err, "ValidationException", `Invalid ProjectionExpression: Syntax error; token: "_", near: "_a"`)
	// Through a placeholder any name works.
	if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
		UpdateExpression: aws.String("SET #u = :v"), ExpressionAttributeNames: map[string]string{"#u": "_123"},
		ExpressionAttributeValues: item{":v": S("v")}}); err != nil {
		t.Fatal(err)
	}
}

// list_append may not be nested in list_append; if_not_exists may.
func TestUpdateItem_NestedListAppendRefused(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	vals := item{":a": L(S("a")), ":b": L(S("b")), ":c": L(S("c"))}
	for _, e := range []string{"SET l = list_append(list_append(:a, :b), :c)", "SET l = list_append(:a, list_append(:b, :c))"} {
		_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
			UpdateExpression: aws.String(e), ExpressionAttributeValues: vals})
		wantAPIError(t, err, "ValidationException", "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: list_append")
	}
	if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
		UpdateExpression: aws.String("SET l = list_append(if_not_exists(l, :a), :b), m = :c"), ExpressionAttributeValues: vals}); err != nil {
		t.Fatal(err)
	}
}

// A Scan page holds the items that fit in 1 MB; the item that would take
// it past 1 MB starts the next page.
func TestScan_OneMegabytePageHoldsWhatFits(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Big", "pk", types.ScalarAttributeTypeS, "", "")
	blob := strings.Repeat("b", 100*1024)
	for i := range 12 {
		put(t, r.Client, "Big", item{"pk": S(fmt.Sprint(i)), "blob": S(blob)})
	}
	// Each item is 100 KB and a few bytes: ten fit in 1 MB, eleven do not.
	out, err := r.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("Big"), Select: types.SelectCount}, withRetries)
	if err != nil {
		t.Fatal(err)
	}
	if out.ScannedCount != 10 || out.LastEvaluatedKey == nil {
		t.Fatalf("first page scanned %d items (last key %v), want 10 and a last key", out.ScannedCount, out.LastEvaluatedKey)
	}
	out, err = r.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("Big"), Select: types.SelectCount,
		ExclusiveStartKey: out.LastEvaluatedKey}, withRetries)
	if err != nil {
		t.Fatal(err)
	}
	if out.ScannedCount != 2 || out.LastEvaluatedKey != nil {
		t.Fatalf("second page scanned %d items (last key %v), want the last 2", out.ScannedCount, out.LastEvaluatedKey)
	}
}

// A Query is validated before its table is looked up: a malformed key
// condition, filter or projection on a missing table is a
// ValidationException, not ResourceNotFoundException.
func TestQuery_ValidatedBeforeTableLookup(t *testing.T) {
	r := startRegion(t)
	tests := []struct{ body, want string }{
		{`{"TableName":"Absent","KeyConditionExpression":"pk = :p AND begins_with(sk, :n)","ExpressionAttributeValues":{":p":{"S":"q"},":n":{"N":"1"}}}`,
			"Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{`{"TableName":"Absent","KeyConditionExpression":"pk = :missing AND begins_with(sk, :n)","ExpressionAttributeValues":{":n":{"N":"1"}}}`,
			"Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing"},
		{`{"TableName":"Absent","KeyConditionExpression":"pk = :p","FilterExpression":"a =","ExpressionAttributeValues":{":p":{"S":"q"}}}`,
			`Invalid FilterExpression: Syntax error; token: "<EOF>", near: "="`},
		{`{"TableName":"Absent","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"q"},":unused":{"S":"q"}}}`,
			"Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"},
	}
	for _, tc := range tests {
		code, msg := rawCall(t, r, "Query", tc.body)
		if code != "ValidationException" || msg != tc.want {
			t.Errorf("%s\n got %s %q\nwant ValidationException %q", tc.body, code, msg, tc.want)
		}
	}
	// A well-formed query of the missing table reports it missing.
	code, _ := rawCall(t, r, "Query", `{"TableName":"Absent","KeyConditionExpression":"pk = :p AND begins_with(sk, :s)","ExpressionAttributeValues":{":p":{"S":"q"},":s":{"S":"a"}}}`)
	if code != "ResourceNotFoundException" {
		t.Fatalf("well-formed query of a missing table: %s", code)
	}
}

package api_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// musicFixture is a table Music(Artist S, Song N) with five songs of one
// artist and one of another.
func musicFixture(t *testing.T) *testRegion {
	t.Helper()
	r := startRegion(t)
	createTable(t, r.Client, "Music", "Artist", types.ScalarAttributeTypeS, "Song", types.ScalarAttributeTypeN)
	for i, title := range []string{"alpha", "beta", "alpine", "gamma", "delta"} {
		put(t, r.Client, "Music", item{"Artist": S("A"), "Song": N(string(rune('1' + i))), "Title": S(title)})
	}
	put(t, r.Client, "Music", item{"Artist": S("B"), "Song": N("1"), "Title": S("other")})
	return r
}

// songs returns the Song numbers of a query's items, in order.
func songs(items []item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, num(it["Song"]))
	}
	return out
}

func TestQuery_KeyConditions(t *testing.T) {
	r := musicFixture(t)
	artist := cond("EQ", S("A"))
	tests := []struct {
		name    string
		in      dynamodb.QueryInput
		want    []string
		wantMsg string
	}{
		{name: "hash only", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist}}, want: []string{"1", "2", "3", "4", "5"}},
		{name: "EQ", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("EQ", N("2"))}}, want: []string{"2"}},
		{name: "LT", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("LT", N("3"))}}, want: []string{"1", "2"}},
		{name: "LE", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("LE", N("3"))}}, want: []string{"1", "2", "3"}},
		{name: "GT", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("GT", N("3"))}}, want: []string{"4", "5"}},
		{name: "GE", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("GE", N("3"))}}, want: []string{"3", "4", "5"}},
		{name: "BETWEEN", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("BETWEEN", N("2"), N("4"))}}, want: []string{"2", "3", "4"}},
		{name: "backwards with limit", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2)}, want: []string{"5", "4"}},
		{name: "QueryFilter", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist},
			QueryFilter: map[string]types.Condition{"Title": cond("BEGINS_WITH", S("al"))}}, want: []string{"1", "3"}},
		{name: "QueryFilter OR", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist}, ConditionalOperator: "OR",
			QueryFilter: map[string]types.Condition{"Title": cond("EQ", S("beta")), "Other": cond("NOT_NULL")}}, want: []string{"2"}},
		{name: "KeyConditions with FilterExpression", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist},
			FilterExpression: aws.String("Title = :t"), ExpressionAttributeValues: item{":t": S("gamma")}}, want: []string{"4"}},
		{name: "NE on the sort key", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("NE", N("1"))}},
			wantMsg: "Attempted conditional constraint is not an indexable operation"},
		{name: "IN on the hash key", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": cond("IN", S("A"))}},
			wantMsg: "Attempted conditional constraint is not an indexable operation"},
		{name: "range on the hash key", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": cond("GT", S("A"))}},
			wantMsg: "Query key condition not supported"},
		{name: "missing hash key", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Song": cond("EQ", N("1"))}},
			wantMsg: "Query condition missed key schema element: Artist"},
		{name: "wrong key type", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": cond("EQ", N("1"))}},
			wantMsg: "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{name: "three conditions", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist, "Song": cond("EQ", N("1")), "x": cond("NULL")}},
			wantMsg: "Conditions can be of length 1 or 2 only"},
		{name: "key in QueryFilter", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist},
			QueryFilter: map[string]types.Condition{"Song": cond("EQ", N("1"))}},
			wantMsg: "QueryFilter can only contain non-primary key attributes: Primary key attribute: Song"},
		{name: "operand count", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": cond("EQ", S("A"), S("B"))}},
			wantMsg: "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"},
		{name: "no key condition at all", in: dynamodb.QueryInput{},
			wantMsg: "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."},
		{name: "both key conditions", in: dynamodb.QueryInput{KeyConditions: map[string]types.Condition{"Artist": artist},
			KeyConditionExpression: aws.String("Artist = :a"), ExpressionAttributeValues: item{":a": S("A")}},
			wantMsg: "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}"},
		{name: "QueryFilter with an expression", in: dynamodb.QueryInput{KeyConditionExpression: aws.String("Artist = :a"), ExpressionAttributeValues: item{":a": S("A")},
			QueryFilter: map[string]types.Condition{"Title": cond("NULL")}, AttributesToGet: []string{"Title"}},
			wantMsg: "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet, QueryFilter} Expression parameters: {KeyConditionExpression}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.TableName = aws.String("Music")
			out, err := r.Client.Query(context.Background(), &in)
			if tc.wantMsg != "" {
				wantAPIError(t, err, "ValidationException", tc.wantMsg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := songs(out.Items); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("songs = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuery_KeyConditionsPagesAndProjects(t *testing.T) {
	r := musicFixture(t)
	in := &dynamodb.QueryInput{TableName: aws.String("Music"), Limit: aws.Int32(2), AttributesToGet: []string{"Song"},
		KeyConditions: map[string]types.Condition{"Artist": cond("EQ", S("A")), "Song": cond("GE", N("2"))}}
	var got []item
	for {
		out, err := r.Client.Query(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out.Items...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	want := []item{{"Song": N("2")}, {"Song": N("3")}, {"Song": N("4")}, {"Song": N("5")}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("items = %#v, want %#v", got, want)
	}
}

func TestGetItem_AttributesToGet(t *testing.T) {
	r := musicFixture(t)
	ctx := context.Background()
	key := item{"Artist": S("A"), "Song": N("1")}
	out, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Music"), Key: key, AttributesToGet: []string{"Title", "Nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (item{"Title": S("alpha")}); !reflect.DeepEqual(out.Item, want) {
		t.Fatalf("item = %#v, want %#v", out.Item, want)
	}
	_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Music"), Key: key, AttributesToGet: []string{"Title", "Title"}})
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: Duplicate value in attribute name: Title")
	_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Music"), Key: key, AttributesToGet: []string{"Title"}, ProjectionExpression: aws.String("Title")})
	wantAPIError(t, err, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")

	bout, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"Music": {Keys: []item{key}, AttributesToGet: []string{"Song"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []item{{"Song": N("1")}}; !reflect.DeepEqual(bout.Responses["Music"], want) {
		t.Fatalf("batch items = %#v, want %#v", bout.Responses["Music"], want)
	}
}

// TestQuery_LegacyConstraintsOverTheWire sends what the SDK refuses to
// send: a condition without its ComparisonOperator, reported with the other
// violated constraints in one message.
func TestQuery_LegacyConstraintsOverTheWire(t *testing.T) {
	r := musicFixture(t)
	code, msg := rawCall(t, r, "Query", `{"TableName":"Music","Limit":0,"KeyConditions":{"Artist":{"AttributeValueList":[{"S":"A"}]}}}`)
	want := "2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
		"Value null at 'keyConditions.Artist.member.comparisonOperator' failed to satisfy constraint: Member must not be null"
	if code != "ValidationException" || msg != want {
		t.Fatalf("got %s %q\nwant ValidationException %q", code, msg, want)
	}
	code, msg = rawCall(t, r, "Scan", `{"TableName":"Music","ScanFilter":{"Title":{"ComparisonOperator":"EQ","AttributeValueList":[{}]}}}`)
	if want := "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"; code != "ValidationException" || msg != want {
		t.Fatalf("got %s %q\nwant ValidationException %q", code, msg, want)
	}
}

// UpdateItem lists its members' violations in DynamoDB's order, the
// missing key last, legacy parameters included.
func TestUpdateItem_ConstraintOrder(t *testing.T) {
	r := musicFixture(t)
	const noKey = "Value null at 'key' failed to satisfy constraint: Member must not be null"
	const emptyName = "Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"
	tests := []struct{ body, want string }{
		{`{"TableName":"","UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"S":"x"}}}`,
			"2 validation errors detected: " + emptyName + "; " + noKey},
		{`{"TableName":"","UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"S":"x"}},"ReturnConsumedCapacity":"INVALID","ReturnValues":"INVALID"}`,
			"4 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; " +
				emptyName + "; Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; " + noKey},
		{`{"TableName":"Absent","AttributeUpdates":{"x":{"Action":"PUT","Value":{"S":"1"}}},"Expected":{"a":{"Exists":false},"b":{"Exists":false}},"ConditionalOperator":"XOR"}`,
			"2 validation errors detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]; " + noKey},
	}
	for _, tc := range tests {
		code, msg := rawCall(t, r, "UpdateItem", tc.body)
		if code != "ValidationException" || msg != tc.want {
			t.Errorf("%s\n got %s %q\nwant %q", tc.body, code, msg, tc.want)
		}
	}
}

// Query reports an unknown ConditionalOperator on its own, in DynamoDB's
// newer form.
func TestQuery_UnknownConditionalOperator(t *testing.T) {
	r := musicFixture(t)
	code, msg := rawCall(t, r, "Query", `{"TableName":"Absent","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},`+
		`"QueryFilter":{"b":{"ComparisonOperator":"NULL"},"c":{"ComparisonOperator":"NULL"}},"ConditionalOperator":"XOR","Select":"BOGUS"}`)
	if want := "Failed to satisfy constraint: Member must satisfy enum value set: [ALL, OR]"; code != "ValidationException" || msg != want {
		t.Fatalf("got %s %q, want %q", code, msg, want)
	}
}

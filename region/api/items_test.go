package api_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/api"
)

func TestPutItem_AllTypesRoundTrip(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	want := item{
		"id":    S("a"),
		"str":   S("héllo \u2028 \"quoted\" \\ wörld"),
		"empty": S(""),
		"num":   N("-12.5e3"),
		"bin":   B([]byte{0, 1, 2, 255}),
		"yes":   Bool(true),
		"no":    Bool(false),
		"nil":   Null(),
		"list":  L(S("x"), N("1"), L(Bool(true)), M(map[string]types.AttributeValue{"k": S("v")})),
		"map":   M(map[string]types.AttributeValue{"inner": M(map[string]types.AttributeValue{"deep": NS("1", "2")}), "e": S("")}),
		"ss":    SS("b", "a"),
		"ns":    NS("3", "-1.5", "100"),
		"bs":    BS([]byte("x"), []byte{0}),
	}
	put(t, r.Client, "Things", want)
	got := get(t, r.Client, "Things", item{"id": S("a")})
	// Numbers come back normalised, as DynamoDB returns them.
	want["num"] = N("-12500")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %#v\nwant %#v", got, want)
	}
}

func TestPutItem_NumberNormalisationAndLimits(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Nums", "id", types.ScalarAttributeTypeS, "", "")
	cases := []struct{ in, want string }{
		{"01.50", "1.5"},
		{"-0", "0"},
		{"1e2", "100"},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"0.000001", "0.000001"},
	}
	for _, c := range cases {
		put(t, r.Client, "Nums", item{"id": S(c.in), "n": N(c.in)})
		if got := num(get(t, r.Client, "Nums", item{"id": S(c.in)})["n"]); got != c.want {
			t.Errorf("N(%q) came back as %q, want %q", c.in, got, c.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"},
		{"1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{"1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"},
	}
	for _, b := range bad {
		_, err := r.Client.PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String("Nums"), Item: item{"id": S("x"), "n": N(b.in)}})
		wantAPIError(t, err, "ValidationException", b.msg)
	}
	_, err := r.Client.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String("Nums"), Item: item{"id": S("x"), "n": N("abc")}})
	wantAPIError(t, err, "ValidationException", "")
}

func TestPutItem_Validation(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Music", "Artist", types.ScalarAttributeTypeS, "Song", types.ScalarAttributeTypeN)
	ctx := context.Background()
	big := strings.Repeat("x", 400*1024)
	tests := []struct {
		name string
		in   *dynamodb.PutItemInput
		code string
		msg  string
	}{
		{"missing table", &dynamodb.PutItemInput{TableName: aws.String("Nope"), Item: item{"Artist": S("a"), "Song": N("1")}},
			"ResourceNotFoundException", "Requested resource not found"},
		{"missing range key", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a")}},
			"ValidationException", "One or more parameter values were invalid: Missing the key Song in the item"},
		{"wrong key type", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": N("1"), "Song": N("1")}},
			"ValidationException", "One or more parameter values were invalid: Type mismatch for key Artist expected: S actual: N"},
		{"empty string key", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S(""), "Song": N("1")}},
			"ValidationException", "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: Artist"},
		{"item too large", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1"), "big": S(big)}},
			"ValidationException", "Item size has exceeded the maximum allowed size"},
		{"empty set", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1"), "s": SS()}},
			"ValidationException", ""},
		{"duplicate set members", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1"), "s": SS("x", "x")}},
			"ValidationException", ""},
		{"bad return values", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1")}, ReturnValues: types.ReturnValueAllNew},
			"ValidationException", "ReturnValues can only be ALL_OLD or NONE"},
		{"unused value", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1")},
			ConditionExpression: aws.String("attribute_exists(Artist)"), ExpressionAttributeValues: item{":v": S("x")}},
			"ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"},
		{"names without expression", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1")},
			ExpressionAttributeNames: map[string]string{"#a": "Artist"}},
			"ValidationException", "ExpressionAttributeNames can only be specified when using expressions"},
		{"syntax error", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1")},
			ConditionExpression: aws.String("Artist = = x")},
			"ValidationException", ""},
		{"reserved word", &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: item{"Artist": S("a"), "Song": N("1")},
			ConditionExpression: aws.String("attribute_exists(name)")},
			"ValidationException", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"},
		{"short table name", &dynamodb.PutItemInput{TableName: aws.String("ab"), Item: item{"Artist": S("a"), "Song": N("1")}},
			"ValidationException", "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Client.PutItem(ctx, tt.in)
			wantAPIError(t, err, tt.code, tt.msg)
		})
	}
	// Nothing was written by any of the failed requests.
	out, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Music")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 0 {
		t.Fatalf("failed puts left %d items", out.Count)
	}
}

func TestPutItem_ConditionsAndReturnValues(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Tbl", "pk", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	create := &dynamodb.PutItemInput{TableName: aws.String("Tbl"), Item: item{"pk": S("k"), "v": N("1")},
		ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if _, err := r.Client.PutItem(ctx, create); err != nil {
		t.Fatalf("first conditional put: %v", err)
	}
	_, err := r.Client.PutItem(ctx, create)
	wantAPIError(t, err, "ConditionalCheckFailedException", "The conditional request failed")

	// ReturnValuesOnConditionCheckFailure=ALL_OLD puts the item in the error.
	create.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = r.Client.PutItem(ctx, create)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("want ConditionalCheckFailedException, got %v", err)
	}
	if num(ccf.Item["v"]) != "1" {
		t.Fatalf("error item = %#v, want v=1", ccf.Item)
	}

	out, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Tbl"), Item: item{"pk": S("k"), "v": N("2")},
		ConditionExpression:       aws.String("v = :one AND attribute_type(v, :n)"),
		ExpressionAttributeValues: item{":one": N("1"), ":n": S("N")},
		ReturnValues:              types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	if num(out.Attributes["v"]) != "1" {
		t.Fatalf("ALL_OLD = %#v", out.Attributes)
	}
	if got := num(get(t, r.Client, "Tbl", item{"pk": S("k")})["v"]); got != "2" {
		t.Fatalf("v = %s after put", got)
	}
}

func TestUpdateItem_Expressions(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Tbl", "pk", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	put(t, r.Client, "Tbl", item{
		"pk":     S("k"),
		"count":  N("10"),
		"tags":   SS("a", "b"),
		"nums":   NS("1", "2"),
		"list":   L(S("x"), S("y"), S("z")),
		"doc":    M(map[string]types.AttributeValue{"a": M(map[string]types.AttributeValue{"b": L(N("0"), M(map[string]types.AttributeValue{"c": S("old")}))})}),
		"remove": S("me"),
	})
	update := func(expr string, names map[string]string, values item, rv types.ReturnValue) (item, error) {
		out, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String("Tbl"), Key: item{"pk": S("k")}, UpdateExpression: aws.String(expr),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnValues: rv,
		})
		if err != nil {
			return nil, err
		}
		return out.Attributes, nil
	}
	attrs, err := update("SET #c = #c + :inc, big = :big", map[string]string{"#c": "count"},
		item{":inc": N("0.000000000000000000000000000000000001"), ":big": N("99999999999999999999999999999999999999")}, types.ReturnValueUpdatedNew)
	if err != nil {
		t.Fatal(err)
	}
	if got := num(attrs["count"]); got != "10.000000000000000000000000000000000001" {
		t.Fatalf("exact arithmetic: count = %s", got)
	}
	if len(attrs) != 2 {
		t.Fatalf("UPDATED_NEW returned %d attributes: %#v", len(attrs), attrs)
	}
	if _, err := update("SET #l = list_append(#l, :more)", map[string]string{"#l": "list"}, item{":more": L(S("w"))}, types.ReturnValueNone); err != nil {
		t.Fatal(err)
	}
	attrs, err = update("SET doc.a.b[1].c = :new, created = if_not_exists(created, :now) REMOVE #r, #l[0] ADD nums :n3 DELETE tags :a",
		map[string]string{"#r": "remove", "#l": "list"},
		item{":new": S("new"), ":now": N("5"), ":n3": NS("3"), ":a": SS("a")}, types.ReturnValueAllNew)
	if err != nil {
		t.Fatal(err)
	}
	doc := attrs["doc"].(*types.AttributeValueMemberM).Value["a"].(*types.AttributeValueMemberM).Value["b"].(*types.AttributeValueMemberL).Value
	if str(doc[1].(*types.AttributeValueMemberM).Value["c"]) != "new" {
		t.Errorf("nested SET failed: %#v", doc)
	}
	list := attrs["list"].(*types.AttributeValueMemberL).Value
	if len(list) != 3 || str(list[0]) != "y" || str(list[2]) != "w" {
		t.Errorf("list_append then REMOVE list[0]: %#v", list)
	}
	if num(attrs["created"]) != "5" {
		t.Errorf("if_not_exists: %#v", attrs["created"])
	}
	if _, ok := attrs["remove"]; ok {
		t.Errorf("REMOVE left the attribute")
	}
	if got := attrs["nums"].(*types.AttributeValueMemberNS).Value; len(got) != 3 {
		t.Errorf("ADD to number set: %v", got)
	}
	if got := attrs["tags"].(*types.AttributeValueMemberSS).Value; len(got) != 1 || got[0] != "b" {
		t.Errorf("DELETE from string set: %v", got)
	}
	// Deleting the last member of a set removes the attribute.
	attrs, err = update("DELETE tags :b", nil, item{":b": SS("b")}, types.ReturnValueAllNew)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := attrs["tags"]; ok {
		t.Errorf("an emptied set must disappear: %#v", attrs["tags"])
	}
	// UPDATED_OLD returns the previous values of the updated paths only.
	attrs, err = update("SET created = :v", nil, item{":v": N("6")}, types.ReturnValueUpdatedOld)
	if err != nil {
		t.Fatal(err)
	}
	if len(attrs) != 1 || num(attrs["created"]) != "5" {
		t.Errorf("UPDATED_OLD = %#v", attrs)
	}

	// Errors.
	_, err = update("SET pk = :v", nil, item{":v": S("x")}, types.ReturnValueNone)
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key")
	_, err = update("SET x = absent + :one", nil, item{":one": N("1")}, types.ReturnValueNone)
	wantAPIError(t, err, "ValidationException", "The provided expression refers to an attribute that does not exist in the item")
	_, err = update("ADD doc :one", nil, item{":one": N("1")}, types.ReturnValueNone)
	wantAPIError(t, err, "ValidationException", "")
	_, err = update("SET a = :v, a = :v", nil, item{":v": N("1")}, types.ReturnValueNone)
	wantAPIError(t, err, "ValidationException", "")

	// UpdateItem on a missing item creates it.
	out, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Tbl"), Key: item{"pk": S("new")},
		UpdateExpression: aws.String("ADD hits :one"), ExpressionAttributeValues: item{":one": N("1")}, ReturnValues: types.ReturnValueAllNew})
	if err != nil {
		t.Fatal(err)
	}
	if num(out.Attributes["hits"]) != "1" || str(out.Attributes["pk"]) != "new" {
		t.Fatalf("upsert = %#v", out.Attributes)
	}
	// A condition on a missing item sees no attributes.
	_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Tbl"), Key: item{"pk": S("ghost")},
		UpdateExpression: aws.String("SET v = :one"), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: item{":one": N("1")}})
	wantAPIError(t, err, "ConditionalCheckFailedException", "")
	if it := get(t, r.Client, "Tbl", item{"pk": S("ghost")}); it != nil {
		t.Fatalf("a failed conditional update created %#v", it)
	}
}

func TestDeleteItem(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Tbl", "pk", types.ScalarAttributeTypeN, "", "")
	ctx := context.Background()
	put(t, r.Client, "Tbl", item{"pk": N("1"), "v": S("x")})
	_, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Tbl"), Key: item{"pk": N("1")},
		ConditionExpression: aws.String("v = :y"), ExpressionAttributeValues: item{":y": S("y")}})
	wantAPIError(t, err, "ConditionalCheckFailedException", "")
	out, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Tbl"), Key: item{"pk": N("1")},
		ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	if str(out.Attributes["v"]) != "x" {
		t.Fatalf("ALL_OLD = %#v", out.Attributes)
	}
	if it := get(t, r.Client, "Tbl", item{"pk": N("1")}); it != nil {
		t.Fatalf("item still there: %#v", it)
	}
	// Deleting a missing item succeeds and returns nothing.
	out, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Tbl"), Key: item{"pk": N("1")},
		ReturnValues: types.ReturnValueAllOld})
	if err != nil || out.Attributes != nil {
		t.Fatalf("delete of missing item: %v, %#v", err, out.Attributes)
	}
	_, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Tbl"), Key: item{"pk": S("1")}})
	wantAPIError(t, err, "ValidationException", "The provided key element does not match the schema")
	_, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Tbl"), Key: item{"pk": N("1"), "x": N("1")}})
	wantAPIError(t, err, "ValidationException", "The provided key element does not match the schema")
}

func TestGetItem_ProjectionAndCapacity(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Tbl", "pk", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	payload := strings.Repeat("p", 5000) // 5 KB: two read units consistent
	put(t, r.Client, "Tbl", item{"pk": S("k"), "payload": S(payload), "a": M(map[string]types.AttributeValue{
		"b": L(S("zero"), M(map[string]types.AttributeValue{"c": S("deep"), "d": S("other")}))}), "x": N("1")})

	out, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Tbl"), Key: item{"pk": S("k")},
		ProjectionExpression: aws.String("a.b[1].c, #x"), ExpressionAttributeNames: map[string]string{"#x": "x"},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	want := item{"x": N("1"), "a": M(map[string]types.AttributeValue{"b": L(M(map[string]types.AttributeValue{"c": S("deep")}))})}
	if !reflect.DeepEqual(out.Item, want) {
		t.Fatalf("projection = %#v", out.Item)
	}
	if out.ConsumedCapacity == nil || aws.ToFloat64(out.ConsumedCapacity.CapacityUnits) != 2 {
		t.Fatalf("consistent read of 5 KB: capacity %#v, want 2", out.ConsumedCapacity)
	}
	out, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Tbl"), Key: item{"pk": S("k")},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToFloat64(out.ConsumedCapacity.CapacityUnits) != 1 {
		t.Fatalf("eventual read of 5 KB: capacity %v, want 1", aws.ToFloat64(out.ConsumedCapacity.CapacityUnits))
	}
	w, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Tbl"), Item: item{"pk": S("w"), "p": S(strings.Repeat("w", 2500))},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToFloat64(w.ConsumedCapacity.CapacityUnits) != 3 {
		t.Fatalf("write of 2.5 KB: capacity %v, want 3", aws.ToFloat64(w.ConsumedCapacity.CapacityUnits))
	}
	// A missing item returns no Item.
	out, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Tbl"), Key: item{"pk": S("missing")}})
	if err != nil || out.Item != nil {
		t.Fatalf("missing item: %v %#v", err, out.Item)
	}
	_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Tbl"), Key: item{"pk": S("k")},
		ProjectionExpression: aws.String("a, a.b")})
	wantAPIError(t, err, "ValidationException", "")
}

func TestWrites_ReturnVersionHeaders(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Tbl", "pk", types.ScalarAttributeTypeS, "", "")
	const ct = "application/x-amz-json-1.0"
	resp, body := post(t, r.URL, "DynamoDB_20120810.PutItem", ct, `{"TableName":"Tbl","Item":{"pk":{"S":"k"}}}`)
	v1 := resp.Header.Get(api.VersionHeader)
	if resp.StatusCode != 200 || !strings.HasSuffix(v1, "@us-east-1") {
		t.Fatalf("first put: %d %s, version %q", resp.StatusCode, body, v1)
	}
	resp, _ = post(t, r.URL, "DynamoDB_20120810.UpdateItem", ct, `{"TableName":"Tbl","Key":{"pk":{"S":"k"}},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"N":"1"}}}`)
	v2 := resp.Header.Get(api.VersionHeader)
	if v2 == "" || v2 == v1 {
		t.Fatalf("second write version %q (first %q)", v2, v1)
	}
	if got := resp.Header.Get(api.ContextHeader); got != v2 {
		t.Fatalf("context after two local writes = %q, want just the newest version %q", got, v2)
	}
	resp, _ = post(t, r.URL, "DynamoDB_20120810.DeleteItem", ct, `{"TableName":"Tbl","Key":{"pk":{"S":"k"}}}`)
	if resp.Header.Get(api.VersionHeader) == "" {
		t.Fatal("a delete must report its tombstone's version")
	}
	resp, _ = post(t, r.URL, "DynamoDB_20120810.DeleteItem", ct, `{"TableName":"Tbl","Key":{"pk":{"S":"absent"}}}`)
	if h := resp.Header.Get(api.VersionHeader); h != "" {
		t.Fatalf("deleting nothing reported version %q", h)
	}
}

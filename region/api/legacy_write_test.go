package api_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func exp(v types.AttributeValue) types.ExpectedAttributeValue {
	return types.ExpectedAttributeValue{Value: v}
}

func expOp(op types.ComparisonOperator, vals ...types.AttributeValue) types.ExpectedAttributeValue {
	return types.ExpectedAttributeValue{ComparisonOperator: op, AttributeValueList: vals}
}

func TestPutItem_Expected(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	put(t, r.Client, "Things", item{"id": S("a"), "v": N("1"), "s": S("hello")})
	tests := []struct {
		name     string
		expected map[string]types.ExpectedAttributeValue
		op       types.ConditionalOperator
		ok       bool
	}{
		{"Value matches", map[string]types.ExpectedAttributeValue{"v": exp(N("1"))}, "", true},
		{"Value differs", map[string]types.ExpectedAttributeValue{"v": exp(N("2"))}, "", false},
		{"Exists true with Value", map[string]types.ExpectedAttributeValue{"v": {Exists: aws.Bool(true), Value: N("1")}}, "", true},
		{"Exists false on a missing attribute", map[string]types.ExpectedAttributeValue{"zz": {Exists: aws.Bool(false)}}, "", true},
		{"Exists false on a present attribute", map[string]types.ExpectedAttributeValue{"v": {Exists: aws.Bool(false)}}, "", false},
		{"EQ", map[string]types.ExpectedAttributeValue{"v": expOp("EQ", N("1"))}, "", true},
		{"NE", map[string]types.ExpectedAttributeValue{"v": expOp("NE", N("1"))}, "", false},
		{"LT", map[string]types.ExpectedAttributeValue{"v": expOp("LT", N("2"))}, "", true},
		{"LE", map[string]types.ExpectedAttributeValue{"v": expOp("LE", N("0"))}, "", false},
		{"GT", map[string]types.ExpectedAttributeValue{"v": expOp("GT", N("0"))}, "", true},
		{"GE", map[string]types.ExpectedAttributeValue{"v": expOp("GE", N("2"))}, "", false},
		{"NULL", map[string]types.ExpectedAttributeValue{"zz": expOp("NULL")}, "", true},
		{"NOT_NULL", map[string]types.ExpectedAttributeValue{"zz": expOp("NOT_NULL")}, "", false},
		{"CONTAINS", map[string]types.ExpectedAttributeValue{"s": expOp("CONTAINS", S("ell"))}, "", true},
		{"NOT_CONTAINS", map[string]types.ExpectedAttributeValue{"s": expOp("NOT_CONTAINS", S("ell"))}, "", false},
		{"BEGINS_WITH", map[string]types.ExpectedAttributeValue{"s": expOp("BEGINS_WITH", S("he"))}, "", true},
		{"IN", map[string]types.ExpectedAttributeValue{"v": expOp("IN", N("3"), N("1"))}, "", true},
		{"BETWEEN", map[string]types.ExpectedAttributeValue{"v": expOp("BETWEEN", N("2"), N("3"))}, "", false},
		{"operator with Value", map[string]types.ExpectedAttributeValue{"v": {ComparisonOperator: "GT", Value: N("0")}}, "", true},
		{"AND", map[string]types.ExpectedAttributeValue{"v": exp(N("1")), "s": exp(S("nope"))}, "AND", false},
		{"OR", map[string]types.ExpectedAttributeValue{"v": exp(N("1")), "s": exp(S("nope"))}, "OR", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("Things"),
				Item: item{"id": S("a"), "v": N("1"), "s": S("hello")}, Expected: tc.expected, ConditionalOperator: tc.op})
			if tc.ok {
				if err != nil {
					t.Fatalf("put: %v", err)
				}
				return
			}
			wantAPIError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
		})
	}
}

func TestPutItem_ExpectedValidation(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	const invalid = "One or more parameter values were invalid: "
	tests := []struct {
		name     string
		expected map[string]types.ExpectedAttributeValue
		cond     *string
		msg      string
	}{
		{"Exists true without Value", map[string]types.ExpectedAttributeValue{"a": {Exists: aws.Bool(true)}}, nil,
			invalid + "Value must be provided when Exists is true for Attribute: a"},
		{"Exists false with Value", map[string]types.ExpectedAttributeValue{"a": {Exists: aws.Bool(false), Value: S("x")}}, nil,
			invalid + "Value cannot be used when Exists is false for Attribute: a"},
		{"Exists with operator", map[string]types.ExpectedAttributeValue{"a": {Exists: aws.Bool(true), ComparisonOperator: "EQ", Value: S("x")}}, nil,
			invalid + "Exists and ComparisonOperator cannot be used together for Attribute: a"},
		{"Value and AttributeValueList", map[string]types.ExpectedAttributeValue{"a": {ComparisonOperator: "EQ", Value: S("x"), AttributeValueList: []types.AttributeValue{S("x")}}}, nil,
			invalid + "Value and AttributeValueList cannot be used together for Attribute: a"},
		{"AttributeValueList without operator", map[string]types.ExpectedAttributeValue{"a": {AttributeValueList: []types.AttributeValue{S("x")}}}, nil,
			invalid + "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"},
		{"operator without values", map[string]types.ExpectedAttributeValue{"a": {ComparisonOperator: "EQ"}}, nil,
			invalid + "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"},
		{"wrong count", map[string]types.ExpectedAttributeValue{"a": expOp("BETWEEN", N("1"))}, nil,
			invalid + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"},
		{"with ConditionExpression", map[string]types.ExpectedAttributeValue{"a": {Exists: aws.Bool(false)}}, aws.String("attribute_not_exists(a)"),
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("Things"),
				Item: item{"id": S("a")}, Expected: tc.expected, ConditionExpression: tc.cond})
			msg := tc.msg
			if tc.cond == nil {
				// Expected's own errors come in the envelope of
				// constraint violations.
				msg = "1 validation error detected: " + msg
			}
			wantAPIError(t, err, "ValidationException", msg)
		})
	}
}

func TestDeleteItem_Expected(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	put(t, r.Client, "Things", item{"id": S("a"), "version": N("3")})
	ctx := context.Background()
	_, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
		Expected: map[string]types.ExpectedAttributeValue{"version": exp(N("2"))}})
	wantAPIError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	out, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
		Expected: map[string]types.ExpectedAttributeValue{"version": exp(N("3"))}, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	if want := (item{"id": S("a"), "version": N("3")}); !reflect.DeepEqual(out.Attributes, want) {
		t.Fatalf("old = %#v, want %#v", out.Attributes, want)
	}
	if got := get(t, r.Client, "Things", item{"id": S("a")}); got != nil {
		t.Fatalf("item still there: %#v", got)
	}
}

func upd(action types.AttributeAction, v types.AttributeValue) types.AttributeValueUpdate {
	return types.AttributeValueUpdate{Action: action, Value: v}
}

func TestUpdateItem_AttributeUpdates(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	ctx := context.Background()
	key := item{"id": S("a")}
	put(t, r.Client, "Things", item{"id": S("a"), "n": N("1"), "ss": SS("x", "y"), "l": L(S("p")), "gone": S("z"), "keep": S("k")})
	out, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: key,
		AttributeUpdates: map[string]types.AttributeValueUpdate{
			"n":     upd("ADD", N("4")),
			"fresh": upd("ADD", N("2")),
			"ss":    upd("DELETE", SS("x")),
			"l":     upd("ADD", L(S("q"))),
			"gone":  {Action: "DELETE"},
			"put":   upd("PUT", M(map[string]types.AttributeValue{"k": S("v")})),
			"dflt":  {Value: S("default action is PUT")},
			"ns":    upd("ADD", NS("1")),
		},
		Expected:     map[string]types.ExpectedAttributeValue{"keep": exp(S("k"))},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := item{"id": S("a"), "n": N("5"), "fresh": N("2"), "ss": SS("y"), "l": L(S("p"), S("q")), "keep": S("k"),
		"put": M(map[string]types.AttributeValue{"k": S("v")}), "dflt": S("default action is PUT"), "ns": NS("1")}
	if got := get(t, r.Client, "Things", key); !reflect.DeepEqual(got, want) {
		t.Fatalf("item = %#v\nwant %#v", got, want)
	}
	wantNew := item{"n": N("5"), "fresh": N("2"), "ss": SS("y"), "l": L(S("p"), S("q")),
		"put": M(map[string]types.AttributeValue{"k": S("v")}), "dflt": S("default action is PUT"), "ns": NS("1")}
	if !reflect.DeepEqual(out.Attributes, wantNew) {
		t.Fatalf("UPDATED_NEW = %#v\nwant %#v", out.Attributes, wantNew)
	}

	// A new item gets the key and the updates.
	if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("b")},
		AttributeUpdates: map[string]types.AttributeValueUpdate{"c": upd("ADD", N("1"))}}); err != nil {
		t.Fatal(err)
	}
	if got, want := get(t, r.Client, "Things", item{"id": S("b")}), (item{"id": S("b"), "c": N("1")}); !reflect.DeepEqual(got, want) {
		t.Fatalf("new item = %#v, want %#v", got, want)
	}
}

func TestUpdateItem_AttributeUpdatesValidation(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	put(t, r.Client, "Things", item{"id": S("a"), "s": S("x")})
	const invalid = "One or more parameter values were invalid: "
	tests := []struct {
		name    string
		updates map[string]types.AttributeValueUpdate
		update  *string
		msg     string
	}{
		{"PUT without value", map[string]types.AttributeValueUpdate{"a": {Action: "PUT"}}, nil,
			invalid + "Only DELETE action is allowed when no attribute value is specified"},
		{"DELETE a string", map[string]types.AttributeValueUpdate{"a": upd("DELETE", S("x"))}, nil,
			invalid + "DELETE action with value is not supported for the type S"},
		{"ADD a string", map[string]types.AttributeValueUpdate{"a": upd("ADD", S("x"))}, nil,
			invalid + "ADD action is not supported for the type S"},
		{"ADD to another type", map[string]types.AttributeValueUpdate{"s": upd("ADD", N("1"))}, nil,
			"Type mismatch for attribute to update"},
		{"DELETE from another type", map[string]types.AttributeValueUpdate{"s": upd("DELETE", SS("x"))}, nil,
			"Type mismatch for attribute to update"},
		{"key attribute", map[string]types.AttributeValueUpdate{"id": upd("PUT", S("b"))}, nil,
			invalid + "Cannot update attribute id. This attribute is part of the key"},
		{"unknown action", map[string]types.AttributeValueUpdate{"a": upd("APPEND", S("b"))}, nil,
			"1 validation error detected: Value 'APPEND' at 'attributeUpdates.a.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, DELETE, PUT]"},
		{"with UpdateExpression", map[string]types.AttributeValueUpdate{"a": upd("PUT", S("b"))}, aws.String("SET b = a"),
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String("Things"),
				Key: item{"id": S("a")}, AttributeUpdates: tc.updates, UpdateExpression: tc.update})
			wantAPIError(t, err, "ValidationException", tc.msg)
		})
	}
	// The item is unchanged.
	if got, want := get(t, r.Client, "Things", item{"id": S("a")}), (item{"id": S("a"), "s": S("x")}); !reflect.DeepEqual(got, want) {
		t.Fatalf("item = %#v, want %#v", got, want)
	}
	// Expected and ConditionExpression together, and Expected with an
	// UpdateExpression.
	_, err := r.Client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
		UpdateExpression: aws.String("SET b = :v"), ExpressionAttributeValues: item{":v": S("v")},
		Expected: map[string]types.ExpectedAttributeValue{"s": exp(S("x"))}, ConditionalOperator: "AND"})
	wantAPIError(t, err, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected, ConditionalOperator} Expression parameters: {UpdateExpression}")
	// The legacy update with a legacy condition works (optimistic locking
	// as DynamoDBMapper does it).
	_, err = r.Client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String("Things"), Key: item{"id": S("a")},
		AttributeUpdates: map[string]types.AttributeValueUpdate{"s": upd("PUT", S("y"))},
		Expected:         map[string]types.ExpectedAttributeValue{"s": exp(S("nope"))}})
	wantAPIError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
}

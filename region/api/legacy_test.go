package api_test

import (
	"context"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// cond builds a legacy Condition.
func cond(op types.ComparisonOperator, vals ...types.AttributeValue) types.Condition {
	return types.Condition{ComparisonOperator: op, AttributeValueList: vals}
}

// legacyFixture is a table Things(id S) holding items whose attributes
// exercise every ComparisonOperator.
func legacyFixture(t *testing.T) *testRegion {
	t.Helper()
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	for _, it := range []item{
		{"id": S("1"), "n": N("1"), "s": S("apple"), "ss": SS("x", "y"), "l": L(S("x"), N("2")), "b": B([]byte("abc"))},
		{"id": S("2"), "n": N("5"), "s": S("banana"), "ns": NS("1", "2")},
		{"id": S("3"), "n": N("10"), "s": S("apricot"), "m": M(map[string]types.AttributeValue{"k": S("v")})},
		{"id": S("4"), "s": S("cherry")},
	} {
		put(t, r.Client, "Things", it)
	}
	return r
}

// scanIDs scans with a ScanFilter and returns the ids found, sorted.
func scanIDs(t *testing.T, c *dynamodb.Client, filter map[string]types.Condition, op types.ConditionalOperator) []string {
	t.Helper()
	out, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("Things"), ScanFilter: filter, ConditionalOperator: op})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	ids := []string{}
	for _, it := range out.Items {
		ids = append(ids, str(it["id"]))
	}
	sort.Strings(ids)
	return ids
}

func TestScan_ScanFilterEveryOperator(t *testing.T) {
	r := legacyFixture(t)
	tests := []struct {
		name   string
		filter map[string]types.Condition
		op     types.ConditionalOperator
		want   []string
	}{
		{"EQ", map[string]types.Condition{"n": cond("EQ", N("5"))}, "", []string{"2"}},
		{"EQ set in any order", map[string]types.Condition{"ss": cond("EQ", SS("y", "x"))}, "", []string{"1"}},
		{"EQ map", map[string]types.Condition{"m": cond("EQ", M(map[string]types.AttributeValue{"k": S("v")}))}, "", []string{"3"}},
		{"NE true when missing", map[string]types.Condition{"n": cond("NE", N("5"))}, "", []string{"1", "3", "4"}},
		{"LT", map[string]types.Condition{"n": cond("LT", N("5"))}, "", []string{"1"}},
		{"LE", map[string]types.Condition{"n": cond("LE", N("5"))}, "", []string{"1", "2"}},
		{"GT", map[string]types.Condition{"n": cond("GT", N("5"))}, "", []string{"3"}},
		{"GE", map[string]types.Condition{"n": cond("GE", N("5"))}, "", []string{"2", "3"}},
		{"GT other type is false", map[string]types.Condition{"s": cond("GT", N("0"))}, "", []string{}},
		{"NOT_NULL", map[string]types.Condition{"n": cond("NOT_NULL")}, "", []string{"1", "2", "3"}},
		{"NULL", map[string]types.Condition{"n": cond("NULL")}, "", []string{"4"}},
		{"CONTAINS substring", map[string]types.Condition{"s": cond("CONTAINS", S("an"))}, "", []string{"2"}},
		{"CONTAINS set member", map[string]types.Condition{"ss": cond("CONTAINS", S("y"))}, "", []string{"1"}},
		{"CONTAINS number set member", map[string]types.Condition{"ns": cond("CONTAINS", N("2"))}, "", []string{"2"}},
		{"CONTAINS list element", map[string]types.Condition{"l": cond("CONTAINS", N("2"))}, "", []string{"1"}},
		{"CONTAINS binary", map[string]types.Condition{"b": cond("CONTAINS", B([]byte("bc")))}, "", []string{"1"}},
		{"NOT_CONTAINS true when missing", map[string]types.Condition{"ss": cond("NOT_CONTAINS", S("y"))}, "", []string{"2", "3", "4"}},
		{"BEGINS_WITH", map[string]types.Condition{"s": cond("BEGINS_WITH", S("ap"))}, "", []string{"1", "3"}},
		{"IN", map[string]types.Condition{"s": cond("IN", S("banana"), S("cherry"), S("kiwi"))}, "", []string{"2", "4"}},
		{"BETWEEN", map[string]types.Condition{"n": cond("BETWEEN", N("2"), N("10"))}, "", []string{"2", "3"}},
		{"AND by default", map[string]types.Condition{"n": cond("GT", N("1")), "s": cond("BEGINS_WITH", S("b"))}, "", []string{"2"}},
		{"AND", map[string]types.Condition{"n": cond("GT", N("1")), "s": cond("BEGINS_WITH", S("b"))}, "AND", []string{"2"}},
		{"OR", map[string]types.Condition{"n": cond("GT", N("5")), "s": cond("BEGINS_WITH", S("b"))}, "OR", []string{"2", "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanIDs(t, r.Client, tc.filter, tc.op); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ids = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScan_ScanFilterValidation(t *testing.T) {
	r := legacyFixture(t)
	ctx := context.Background()
	const invalid = "One or more parameter values were invalid: "
	tests := []struct {
		name string
		in   dynamodb.ScanInput
		msg  string
	}{
		{"EQ without values", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("EQ")}},
			invalid + "Invalid number of argument(s) for the EQ ComparisonOperator"},
		{"EQ with two values", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("EQ", S("a"), S("b"))}},
			invalid + "Invalid number of argument(s) for the EQ ComparisonOperator"},
		{"NULL with a value", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("NULL", S("a"))}},
			invalid + "Invalid number of argument(s) for the NULL ComparisonOperator"},
		{"NOT_NULL with a value", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("NOT_NULL", S("a"))}},
			invalid + "Invalid number of argument(s) for the NOT_NULL ComparisonOperator"},
		{"IN without values", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("IN")}},
			invalid + "Invalid number of argument(s) for the IN ComparisonOperator"},
		{"BETWEEN with one value", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("BETWEEN", N("1"))}},
			invalid + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"},
		{"BEGINS_WITH with two values", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("BEGINS_WITH", S("a"), S("b"))}},
			invalid + "Invalid number of argument(s) for the BEGINS_WITH ComparisonOperator"},
		{"mixed types", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("IN", S("a"), N("1"))}},
			invalid + "AttributeValues inside AttributeValueList must be of same type"},
		{"LT on a set", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("LT", SS("a"))}},
			invalid + "ComparisonOperator LT is not valid for SS AttributeValue type"},
		{"BETWEEN on BOOL", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("BETWEEN", Bool(true), Bool(true))}},
			invalid + "ComparisonOperator BETWEEN is not valid for BOOL AttributeValue type"},
		{"BEGINS_WITH a number", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("BEGINS_WITH", N("1"))}},
			invalid + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"},
		{"CONTAINS a list", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("CONTAINS", L())}},
			invalid + "ComparisonOperator CONTAINS is not valid for L AttributeValue type"},
		{"BETWEEN reversed", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("BETWEEN", N("5"), N("1"))}},
			"The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
		{"unknown operator", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("LIKE", S("a"))}},
			"1 validation error detected: Value 'LIKE' at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"},
		{"bad ConditionalOperator", dynamodb.ScanInput{ConditionalOperator: "XOR", Select: "BOGUS"},
			"Failed to satisfy constraint: Member must satisfy enum value set: [ALL, OR]"},
		{"with FilterExpression", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("NULL")}, FilterExpression: aws.String("attribute_exists(b)")},
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}"},
		{"all of them", dynamodb.ScanInput{ScanFilter: map[string]types.Condition{"a": cond("NULL")}, AttributesToGet: []string{"a"}, ConditionalOperator: "OR",
			FilterExpression: aws.String("attribute_exists(b)"), ProjectionExpression: aws.String("a")},
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet, ScanFilter, ConditionalOperator} Expression parameters: {ProjectionExpression, FilterExpression}"},
		{"duplicate AttributesToGet", dynamodb.ScanInput{AttributesToGet: []string{"a", "a"}},
			invalid + "Duplicate value in attribute name: a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.TableName = aws.String("Things")
			_, err := r.Client.Scan(ctx, &in)
			wantAPIError(t, err, "ValidationException", tc.msg)
		})
	}
	// Validation comes before the table lookup.
	_, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Missing"), ScanFilter: map[string]types.Condition{"a": cond("EQ")}})
	wantAPIError(t, err, "ValidationException", invalid+"Invalid number of argument(s) for the EQ ComparisonOperator")
}

func TestScan_AttributesToGet(t *testing.T) {
	r := legacyFixture(t)
	out, err := r.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("Things"),
		AttributesToGet: []string{"id", "n"}, ScanFilter: map[string]types.Condition{"id": cond("EQ", S("1"))}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []item{{"id": S("1"), "n": N("1")}}; !reflect.DeepEqual(out.Items, want) {
		t.Fatalf("items = %#v, want %#v", out.Items, want)
	}
}

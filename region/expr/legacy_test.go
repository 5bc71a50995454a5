package expr

import (
	"reflect"
	"testing"

	"github.com/globaltables/globaltables/store/attr"
)

func TestLegacyCondition_Eval(t *testing.T) {
	it := item("n", N("5"), "s", S("hello"), "ss", SS("a", "b"), "l", L(N("1")))
	tests := []struct {
		cond LegacyCondition
		want bool
	}{
		{LegacyCondition{"n", OpEQ, []attr.Value{N("5")}}, true},
		{LegacyCondition{"n", OpNE, []attr.Value{N("5")}}, false},
		{LegacyCondition{"missing", OpNE, []attr.Value{N("5")}}, true},
		{LegacyCondition{"n", OpLT, []attr.Value{N("6")}}, true},
		{LegacyCondition{"n", OpGE, []attr.Value{S("6")}}, false},
		{LegacyCondition{"missing", OpNull, nil}, true},
		{LegacyCondition{"n", OpNotNull, nil}, true},
		{LegacyCondition{"ss", OpContains, []attr.Value{S("b")}}, true},
		{LegacyCondition{"l", OpContains, []attr.Value{N("1")}}, true},
		{LegacyCondition{"missing", OpNotContains, []attr.Value{S("b")}}, true},
		{LegacyCondition{"s", OpBeginsWith, []attr.Value{S("he")}}, true},
		{LegacyCondition{"n", OpIn, []attr.Value{N("1"), N("5")}}, true},
		{LegacyCondition{"n", OpBetween, []attr.Value{N("5"), N("9")}}, true},
		{LegacyCondition{"missing", OpBetween, []attr.Value{N("5"), N("9")}}, false},
	}
	for _, tc := range tests {
		got, err := NewLegacyCondition([]LegacyCondition{tc.cond}, false).Eval(it)
		if err != nil || got != tc.want {
			t.Errorf("%+v: %v, %v; want %v", tc.cond, got, err, tc.want)
		}
	}
	or := NewLegacyCondition([]LegacyCondition{{"n", OpEQ, []attr.Value{N("1")}}, {"s", OpEQ, []attr.Value{S("hello")}}}, true)
	if ok, _ := or.Eval(it); !ok {
		t.Error("OR of a false and a true condition is false")
	}
	and := NewLegacyCondition([]LegacyCondition{{"n", OpEQ, []attr.Value{N("1")}}, {"s", OpEQ, []attr.Value{S("hello")}}}, false)
	if ok, _ := and.Eval(it); ok {
		t.Error("AND of a false and a true condition is true")
	}
}

func TestCheckLegacyOperator(t *testing.T) {
	const invalid = "One or more parameter values were invalid: "
	tests := []struct {
		op    string
		vals  []attr.Value
		types bool
		want  string
	}{
		{OpEQ, nil, true, invalid + "Invalid number of argument(s) for the EQ ComparisonOperator"},
		{OpNull, []attr.Value{S("a")}, true, invalid + "Invalid number of argument(s) for the NULL ComparisonOperator"},
		{OpIn, []attr.Value{S("a"), N("1")}, true, invalid + "AttributeValues inside AttributeValueList must be of same type"},
		{OpGT, []attr.Value{SS("a")}, true, invalid + "ComparisonOperator GT is not valid for SS AttributeValue type"},
		{OpGT, []attr.Value{SS("a")}, false, ""},
		{OpBetween, []attr.Value{N("2"), N("1")}, true, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
		{OpEQ, []attr.Value{M("a", S("b"))}, true, ""},
	}
	for _, tc := range tests {
		err := CheckLegacyOperator(tc.op, tc.vals, tc.types)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s %v: %v", tc.op, tc.vals, err)
			}
			continue
		}
		wantError(t, err, tc.want)
	}
}

func TestLegacyUpdate_Apply(t *testing.T) {
	l, ss := L(S("x")), SS("a", "b")
	u := NewLegacyUpdate([]LegacyUpdate{
		{Attr: "n", Action: "ADD", Value: &[]attr.Value{N("2")}[0]},
		{Attr: "l", Action: "ADD", Value: &l},
		{Attr: "ss", Action: "DELETE", Value: &[]attr.Value{SS("a")}[0]},
		{Attr: "gone", Action: "DELETE"},
		{Attr: "p", Action: "PUT", Value: &ss},
	})
	got, err := u.Apply(item("n", N("1"), "l", L(S("w")), "ss", SS("a", "b"), "gone", S("x")))
	if err != nil {
		t.Fatal(err)
	}
	want := item("n", N("3"), "l", L(S("w"), S("x")), "ss", SS("b"), "p", SS("a", "b"))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	_, err = NewLegacyUpdate([]LegacyUpdate{{Attr: "n", Action: "ADD", Value: &l}}).Apply(item("n", N("1")))
	wantError(t, err, "Type mismatch for attribute to update")
	if !NewLegacyUpdate([]LegacyUpdate{{Attr: "gone", Action: "DELETE"}}).HasOnlyRemovals() {
		t.Error("DELETE without a value is not a removal")
	}
}

package expr

import (
	"testing"

	"github.com/globaltables/globaltables/store/attr"
)

var rangeSchema = KeySchema{Hash: "pk", Range: "sk"}

// Cases from dynalite's test suite (test/query.js).
func TestParseKeyCondition_Errors(t *testing.T) {
	const (
		badOp    = "Invalid operator used in KeyConditionExpression: "
		multi    = "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
		nested   = "KeyConditionExpressions cannot have conditions on nested attributes"
		nestedOp = "KeyConditionExpressions cannot contain nested operations"
		noKey    = "Invalid condition in KeyConditionExpression: No key attribute specified"
		onePer   = "KeyConditionExpressions must only contain one condition per key"
		length   = "Conditions can be of length 1 or 2 only"
	)
	v := vals{":a": S("1"), ":b": S("1"), ":n": N("1"), ":v": S("v"), ":S": S("S")}
	for _, tc := range []struct {
		expr string
		ks   KeySchema
		want string
	}{
		{expr: "a > b and size(b) > c or a > c", want: badOp + "OR"},
		{expr: "a in (b, size(c), d)", want: badOp + "IN"},
		{expr: "attribute_exists(a)", want: badOp + "attribute_exists"},
		{expr: "attribute_not_exists(a)", want: badOp + "attribute_not_exists"},
		{expr: "contains(a.d, b)", want: badOp + "contains"},
		{expr: "not a > b", want: badOp + "NOT"},
		{expr: "a <> b", want: badOp + "<>"},
		{expr: "attribute_type(a, :S)", want: badOp + "attribute_type"},
		{expr: ":a between size(b) and size(a) and b > :b", want: "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"},
		{expr: "begins_with(:a, b) and a > :b", want: "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"},
		{expr: "size(b) > a AND a.b > b AND b > c", want: nestedOp},
		{expr: "a > size(b.d)", want: nestedOp},
		{expr: "a between size(b) and size(a)", want: nestedOp},
		{expr: "b > a.b", want: multi},
		{expr: "b between c[1] and d", want: multi},
		{expr: "a between b and size(a)", want: multi},
		{expr: "begins_with(a, b)", want: multi},
		{expr: "b.d > a AND c.d > e.f", want: nested},
		{expr: "a.d > c", want: nested},
		{expr: "b[0] > a", want: nested},
		{expr: "#pk = :v AND #sk.foo = :v", want: nested},
		{expr: ":b > :a AND a < :b", want: noKey},
		{expr: ":a > b AND :a < :b", want: noKey},
		{expr: "b > :n AND b < :n and c = :n and d = :n", want: onePer},
		{expr: "(a > :n and b > :n) and (b > :n and c > :n)", want: onePer},
		{expr: ":a = a and b = :a and :a = c", want: length},
		{expr: "(a > :n and b > :n) and (c > :n and d > :n) and (e > :n and f > :n)", want: length},
		{expr: "sk = :v", want: "Query condition missed key schema element: pk"},
		{expr: "attr1 = :v", want: "Query condition missed key schema element: pk"},
		{expr: "pk = :v AND x = :v", want: "Query condition missed key schema element: sk"},
		{expr: "pk < :v", want: "Query key condition not supported"},
		{expr: "begins_with(pk, :v)", want: "Query key condition not supported"},
		{expr: "pk = :v AND sk = :v", ks: KeySchema{Hash: "pk"}, want: "Query key condition not supported"},
		{expr: "z = :v", ks: KeySchema{Hash: "pk"}, want: "Query condition missed key schema element: pk"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			ks := tc.ks
			if ks.Hash == "" {
				ks = rangeSchema
			}
			_, err := ParseKeyCondition(NewContext(names{"#pk": "pk", "#sk": "sk"}, v), tc.expr, ks)
			wantError(t, err, tc.want)
		})
	}
}

func TestParseKeyCondition_ParseErrors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		v    vals
		want string
	}{
		{expr: "", want: "The expression can not be empty;"},
		{expr: "((pk = :v))", v: vals{":v": S("v")}, want: "The expression has redundant parentheses;"},
		{expr: "((pk = :v)) AND ((sk = :v))", v: vals{":v": S("v")}, want: "The expression has redundant parentheses;"},
		{expr: "a between :b and :a", v: vals{":a": S("a"), ":b": N("1")}, want: "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"},
		{expr: "a between :b and :a", v: vals{":a": S("a"), ":b": S("b")}, want: "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"},
		{expr: "pk = :nope", want: "An expression attribute value used in expression is not defined; attribute value: :nope"},
		{expr: "attribute_type(a, b)", want: "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseKeyCondition(NewContext(nil, tc.v), tc.expr, rangeSchema)
			wantError(t, err, "Invalid KeyConditionExpression: "+tc.want)
		})
	}
	for _, s := range []string{"things are not gonna be ok", "a > 4", "(size(a))[0] > a"} {
		_, err := ParseKeyCondition(NewContext(nil, nil), s, rangeSchema)
		wantPrefix(t, err, "Invalid KeyConditionExpression: Syntax error; ")
	}
}

func TestParseKeyCondition(t *testing.T) {
	v := vals{":pk": S("p"), ":lo": S("a"), ":hi": S("z"), ":p": S("pre")}
	n := names{"#pk": "pk", "#sk": "sk"}
	for _, tc := range []struct {
		expr  string
		ks    KeySchema
		op    string
		rng   []attr.Value
		noRng bool
	}{
		{expr: "#pk = :pk", noRng: true},
		{expr: ":pk = pk", noRng: true},
		{expr: "pk = :pk", ks: KeySchema{Hash: "pk"}, noRng: true},
		{expr: "#pk = :pk AND #sk = :lo", op: "=", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND #sk < :lo", op: "<", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND #sk <= :lo", op: "<=", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND #sk > :lo", op: ">", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND #sk >= :lo", op: ">=", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND :lo <= #sk", op: ">=", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND :lo < #sk", op: ">", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND :lo > #sk", op: "<", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND :lo >= #sk", op: "<=", rng: []attr.Value{S("a")}},
		{expr: "#pk = :pk AND :lo = #sk", op: "=", rng: []attr.Value{S("a")}},
		{expr: "sk BETWEEN :lo AND :hi AND pk = :pk", op: "BETWEEN", rng: []attr.Value{S("a"), S("z")}},
		{expr: "pk = :pk AND begins_with(sk, :p)", op: "begins_with", rng: []attr.Value{S("pre")}},
		{expr: "(#pk = :pk) AND (#sk = :lo)", op: "=", rng: []attr.Value{S("a")}},
		{expr: "(#pk = :pk AND #sk = :lo)", op: "=", rng: []attr.Value{S("a")}},
		{expr: "(#pk = :pk AND (#sk = :lo))", op: "=", rng: []attr.Value{S("a")}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			ks := tc.ks
			if ks.Hash == "" {
				ks = rangeSchema
			}
			c := NewContext(n, v)
			kc, err := ParseKeyCondition(c, tc.expr, ks)
			if err != nil {
				t.Fatal(err)
			}
			if !attr.Equal(kc.Hash, S("p")) {
				t.Fatalf("Hash = %v", kc.Hash)
			}
			if tc.noRng {
				if kc.RangeOp != "" || kc.Range != nil {
					t.Fatalf("RangeOp = %q, Range = %v, want none", kc.RangeOp, kc.Range)
				}
				return
			}
			if kc.RangeOp != tc.op || len(kc.Range) != len(tc.rng) {
				t.Fatalf("RangeOp = %q, Range = %v, want %q %v", kc.RangeOp, kc.Range, tc.op, tc.rng)
			}
			for i := range tc.rng {
				if !attr.Equal(kc.Range[i], tc.rng[i]) {
					t.Fatalf("Range = %v, want %v", kc.Range, tc.rng)
				}
			}
		})
	}
}

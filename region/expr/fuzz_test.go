package expr

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/globaltables/globaltables/store/attr"
)

// fuzzContext offers a placeholder of every type, so fuzzed expressions
// reach the checks and evaluation rather than stopping at "not defined".
func fuzzContext() *Context {
	return NewContext(
		names{"#a": "a", "#b": "b.c", "#c": "[3]", "#s": "s", "#l": "l", "#m": "m", "#n": "n"},
		vals{
			":s": S("he"), ":n": N("42"), ":b": B("\x01"), ":t": BOOL(true), ":null": NULL(),
			":m": M("x", N("1")), ":l": L(S("z")), ":ss": SS("red"), ":ns": NS("1"), ":bs": BS("ab"),
			":tS": S("S"), ":big": N("9.99E+125"),
		},
	)
}

var fuzzSeeds = []string{
	"a = :s", "#a <> :n AND attribute_exists(s)", "NOT (s BETWEEN :s AND :s) OR n IN (:n, :s, :b)",
	"size(l) > :n", "begins_with(#s, :s)", "contains(ss, :s)", "attribute_type(m, :tS)",
	"((a = :s))", "(a.b).c = :s", "a[0][1].b = :n", "a > 4", "ü > a", "#$.b > a", "a in (b,c,)",
	"SET a = :s, b = n + :n REMOVE c ADD d :ns DELETE ss :ss",
	"SET l[5] = :s, l[0] = :n REMOVE l[1], l[2]", "SET n = if_not_exists(n, :n) - :n",
	"SET l = list_append(l, :l)", "SET m.x = :n, m.y.z = :s", "ADD n :big", "set a = b + c + d",
	"INVALID SYNTAX HERE", "ADD hits : incr", "a, b.c, l[1], #b", "a,,b", "!!!",
	"pk = :s AND sk BETWEEN :s AND :s", ":s <= sk AND #a = :s", "pk = :s AND begins_with(sk, :s)",
	"", " ", "(", ")", "[", "#", ":", "a.", "a[", "a[99999999999999999999]", "\xff\xfe",
}

// checkParseError requires that a parse failure is a DynamoDB error with a
// readable message.
func checkParseError(t *testing.T, err error, prefix string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrValidation) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if !utf8.ValidString(e.Message) {
		t.Fatalf("message is not valid UTF-8: %q", e.Message)
	}
	if prefix != "" && !strings.HasPrefix(e.Message, prefix) {
		t.Fatalf("message %q lacks prefix %q", e.Message, prefix)
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	it := allTypes()
	f.Fuzz(func(t *testing.T, s string) {
		cd, err := ParseCondition(fuzzContext(), KindCondition, s)
		if err != nil {
			checkParseError(t, err, "Invalid ConditionExpression: ")
			return
		}
		a, err1 := cd.Eval(it)
		b, err2 := cd.Eval(it)
		if err1 != nil || err2 != nil || a != b {
			t.Fatalf("Eval is not deterministic: %v %v, %v %v", a, err1, b, err2)
		}
		if _, err := cd.Eval(nil); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseUpdate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUpdate(fuzzContext(), s)
		if err != nil {
			checkParseError(t, err, "Invalid UpdateExpression: ")
			return
		}
		for _, p := range u.Paths() {
			if len(p) == 0 || p[0].IsIndex {
				t.Fatalf("invalid path %v", p)
			}
		}
	})
}

func FuzzParseProjection(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	it := allTypes()
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProjection(fuzzContext(), s)
		if err != nil {
			checkParseError(t, err, "Invalid ProjectionExpression: ")
			return
		}
		out := p.Apply(it)
		for k := range out {
			if _, ok := it[k]; !ok {
				t.Fatalf("projection invented attribute %q", k)
			}
		}
	})
}

func FuzzParseKeyCondition(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kc, err := ParseKeyCondition(fuzzContext(), s, KeySchema{Hash: "pk", Range: "sk"})
		if err != nil {
			checkParseError(t, err, "")
			return
		}
		switch kc.RangeOp {
		case "":
			if len(kc.Range) != 0 {
				t.Fatalf("no range op but values %v", kc.Range)
			}
		case "BETWEEN":
			if len(kc.Range) != 2 {
				t.Fatalf("BETWEEN with %d values", len(kc.Range))
			}
		case "=", "<", "<=", ">", ">=", "begins_with":
			if len(kc.Range) != 1 {
				t.Fatalf("%s with %d values", kc.RangeOp, len(kc.Range))
			}
		default:
			t.Fatalf("unexpected range op %q", kc.RangeOp)
		}
		if kc.Hash.Type == attr.TypeInvalid {
			t.Fatal("no hash value")
		}
	})
}

// FuzzUpdateApply parses an update and applies it to a fixed item of every
// type, checking that the input survives and the result is a valid item.
func FuzzUpdateApply(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUpdate(fuzzContext(), s)
		if err != nil {
			return
		}
		in := allTypes()
		before := in.Clone()
		out, err := u.Apply(in)
		if !attr.ItemsEqual(in, before) {
			t.Fatal("Apply modified its input")
		}
		if err != nil {
			checkParseError(t, err, "")
			return
		}
		if err := attr.ValidateItem(out); err != nil {
			t.Fatalf("Apply produced an invalid item: %v", err)
		}
		scribble(out)
		if !attr.ItemsEqual(in, before) {
			t.Fatal("Apply's result shares memory with its input")
		}
	})
}

package expr

import (
	"errors"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/store/attr"
)

// Shorthands for building values in tables.
func S(s string) attr.Value     { return attr.String(s) }
func N(n string) attr.Value     { return attr.Number(n) }
func B(b string) attr.Value     { return attr.Binary([]byte(b)) }
func BOOL(b bool) attr.Value    { return attr.Bool(b) }
func NULL() attr.Value          { return attr.Null() }
func SS(s ...string) attr.Value { return attr.StringSet(s) }
func NS(s ...string) attr.Value { return attr.NumberSet(s) }
func BS(s ...string) attr.Value {
	bs := make([][]byte, len(s))
	for i, x := range s {
		bs[i] = []byte(x)
	}
	return attr.BinarySet(bs)
}
func L(v ...attr.Value) attr.Value { return attr.List(v) }
func M(kv ...any) attr.Value {
	m := map[string]attr.Value{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(attr.Value)
	}
	return attr.Map(m)
}
func item(kv ...any) attr.Item { return attr.Item(M(kv...).M) }

type vals = map[string]attr.Value
type names = map[string]string

// wantError checks that err is an *Error with exactly msg.
func wantError(t *testing.T, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", msg)
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrValidation) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Message != msg {
		t.Fatalf("got error\n  %q\nwant\n  %q", e.Message, msg)
	}
}

// wantPrefix checks that err is an *Error whose message starts with prefix.
func wantPrefix(t *testing.T, err error, prefix string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error starting %q", err, prefix)
	}
	if !strings.HasPrefix(e.Message, prefix) {
		t.Fatalf("got error\n  %q\nwant prefix\n  %q", e.Message, prefix)
	}
}

// allTypes is an item holding every attribute type, used across tests.
func allTypes() attr.Item {
	return item(
		"s", S("hello"),
		"n", N("42"),
		"b", B("\x01\x02\x03"),
		"t", BOOL(true),
		"f", BOOL(false),
		"nul", NULL(),
		"m", M("x", N("1"), "y", S("why"), "kid", M("deep", S("down"))),
		"l", L(S("a"), N("2"), M("k", S("v")), L(N("9"))),
		"ss", SS("red", "green"),
		"ns", NS("1", "2.5", "-3"),
		"bs", BS("ab", "cd"),
		"blank", S(""),
		"uni", S("héllo😀"),
	)
}

package expr

import (
	"testing"

	"github.com/globaltables/globaltables/store/attr"
)

// Cases from dynalite's test suite (test/getItem.js).
func TestParseProjection_Errors(t *testing.T) {
	for _, s := range []string{
		"whatever(stuff)", ":a", "abort,", "a,,b", "a..b", "a[b]", "(a.b).c", "(a)", "(a),(b)", "(a,b)", "a-b", "a[-1]", "a b",
	} {
		t.Run(s, func(t *testing.T) {
			_, err := ParseProjection(NewContext(nil, nil), s)
			wantPrefix(t, err, "Invalid ProjectionExpression: Syntax error; ")
		})
	}
	const (
		overlap  = "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "
		conflict = "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: "
	)
	for _, tc := range []struct {
		expr string
		n    names
		want string
	}{
		{expr: "", want: "The expression can not be empty;"},
		{expr: "a.abORt", want: "Attribute name is a reserved keyword; reserved keyword: abORt"},
		{expr: "#a,ABSoLUTE", n: names{"#a": "a"}, want: "Attribute name is a reserved keyword; reserved keyword: ABSoLUTE"},
		{expr: "a,b,a,#a", want: "An expression attribute name used in the document path is not defined; attribute name: #a"},
		{expr: "b[1], b.a, #a.b, a", n: names{"#a": "a"}, want: overlap + "[a, b], path two: [a]"},
		{expr: "a, #a[1]", n: names{"#a": "a"}, want: overlap + "[a], path two: [a, [1]]"},
		{expr: "a,b,a", want: overlap + "[a], path two: [a]"},
		{expr: "a.b, #a[1], #b", n: names{"#a": "a", "#b": "[3]"}, want: conflict + "[a, b], path two: [a, [1]]"},
		{expr: "a.b[1], #a[1], #b", n: names{"#a": "a", "#b": "[3]"}, want: conflict + "[a, b, [1]], path two: [a, [1]]"},
		{expr: "a[3].b, #a.#b.b", n: names{"#a": "a", "#b": "[3]"}, want: conflict + "[a, [3], b], path two: [a, [3], b]"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseProjection(NewContext(tc.n, nil), tc.expr)
			wantError(t, err, "Invalid ProjectionExpression: "+tc.want)
		})
	}
}

func TestParseProjection_TokenAndNear(t *testing.T) {
	for _, tc := range []struct{ expr, token, near string }{
		{"!!!", "!", "!!"},
		{"a b", "b", "a b"},
		{"a,", "<EOF>", ","},
		{"a-b", "-", "a-b"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseProjection(NewContext(nil, nil), tc.expr)
			wantError(t, err, `Invalid ProjectionExpression: Syntax error; token: "`+tc.token+`", near: "`+tc.near+`"`)
		})
	}
}

func TestProjection_Apply(t *testing.T) {
	it := item(
		"a", S("key"),
		"b", M("a", S("a"), "b", S("b"), "c", S("c")),
		"c", L(S("a"), S("b"), S("c")),
		"d", L(M("x", N("1"), "y", N("2")), M("x", N("3")), S("s")),
		"e", L(L(N("0"), N("1")), L(N("2"), N("3"))),
		"g", N("23"),
	)
	for _, tc := range []struct {
		expr string
		n    names
		want attr.Item
	}{
		{expr: "b, g", want: item("b", it["b"], "g", N("23"))},
		{expr: "#b, #g", n: names{"#b": "b", "#g": "g"}, want: item("b", it["b"], "g", N("23"))},
		// dynalite's nested case: map keys kept, list elements compacted in
		// index order, a path through a string dropped.
		{expr: "b.c,c[2],b.b,c[1],c[0].a", want: item("b", M("b", S("b"), "c", S("c")), "c", L(S("b"), S("c")))},
		{expr: "#b.#c,#c[2],#b.#b,#c[1],#c[0][1]", n: names{"#b": "b", "#c": "c"}, want: item("b", M("b", S("b"), "c", S("c")), "c", L(S("b"), S("c")))},
		{expr: "d[0].y, d[1].y, d[2]", want: item("d", L(M("y", N("2")), S("s")))},
		{expr: "d[1].x, d[0].x", want: item("d", L(M("x", N("1")), M("x", N("3"))))},
		{expr: "e[1][0], e[0][1]", want: item("e", L(L(N("1")), L(N("2"))))},
		{expr: "nope, b.nope, c[7], g.x, a[0]", want: item()},
		{expr: "a", want: item("a", S("key"))},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			p, err := ParseProjection(NewContext(tc.n, nil), tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Apply(it)
			if !attr.ItemsEqual(got, tc.want) {
				t.Fatalf("Apply =\n  %v\nwant\n  %v", got, tc.want)
			}
		})
	}
}

func TestProjectPaths(t *testing.T) {
	it := item("m", M("a", L(N("1"), N("2")), "b", S("b")), "s", S("x"))
	before := it.Clone()
	got := ProjectPaths(it, []Path{
		{{Name: "m"}, {Name: "a"}, {Index: 1, IsIndex: true}},
		{{Name: "m"}, {Name: "a"}}, // overlaps: the shorter path wins
		{{Name: "s"}},
		{{Index: 0, IsIndex: true}}, // not a valid path: ignored
		{},
	})
	want := item("m", M("a", L(N("1"), N("2"))), "s", S("x"))
	if !attr.ItemsEqual(got, want) {
		t.Fatalf("ProjectPaths =\n  %v\nwant\n  %v", got, want)
	}
	scribble(got)
	if !attr.ItemsEqual(it, before) {
		t.Fatal("ProjectPaths result shares memory with its input")
	}
	if got := ProjectPaths(nil, []Path{{{Name: "a"}}}); len(got) != 0 {
		t.Fatalf("ProjectPaths(nil) = %v", got)
	}
}

func TestProjection_Paths(t *testing.T) {
	p, err := ParseProjection(NewContext(names{"#k": "key"}, nil), "a.b[3], #k, c")
	if err != nil {
		t.Fatal(err)
	}
	want := []Path{
		{{Name: "a"}, {Name: "b"}, {Index: 3, IsIndex: true}},
		{{Name: "key"}},
		{{Name: "c"}},
	}
	got := p.Paths()
	if len(got) != len(want) {
		t.Fatalf("Paths = %v", got)
	}
	for i := range want {
		if !got[i].equal(want[i]) {
			t.Fatalf("Paths[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	got[0][0].Name = "changed"
	if p.Paths()[0][0].Name != "a" {
		t.Fatal("Paths exposes the projection's memory")
	}
}

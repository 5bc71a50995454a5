package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/store/attr"
)

// Cases from dynalite's test suite (test/updateItem.js), recorded against
// the real service.
func TestParseUpdate_SyntaxErrors(t *testing.T) {
	for _, s := range []string{
		"whatever",
		"set a",
		"add a",
		"delete a",
		"set a=set",
		"remove a = b",
		"add a = b",
		"delete a = b",
		"delete a b",
		"delete a if_not_exist(b)",
		"add abort b",
		"add a if_not_exist(b)",
		"remove a b",
		"set a b",
		"set :a = b",
		"add :a b",
		"delete :a b",
		"remove :a",
		"set a = b / c",
		"set a = b * c",
		`set a[1] = "eight"`,
		"set a[1] = 1",
		"SET a = if_not_exist(a, 100)",
		"SET if_not_exist(a, b) = a",
		"set (a = (b + c))",
		"set a = (b.c).d + e",
		"set a = (b.c)[0] + e",
		"set a = b + c + d",
		"set a = (b + c) + d",
		"SET",
		"SET a = :v,",
		"SET a = :v REMOVE",
		"SET a = :v b",
		"SET a = list_append(b, c + d)",
		"SET a = ((b))(c)",
	} {
		t.Run(s, func(t *testing.T) {
			_, err := ParseUpdate(NewContext(nil, nil), s)
			wantPrefix(t, err, "Invalid UpdateExpression: Syntax error; ")
		})
	}
}

func TestParseUpdate_SyntaxErrorToken(t *testing.T) {
	for _, tc := range []struct{ expr, token, near string }{
		{"INVALID SYNTAX HERE", "INVALID", "INVALID SYNTAX"},
		{"ADD hits : incr", ":", "hits : incr"},
		{"SET a = b +", "<EOF>", "+"},
		{"SET", "<EOF>", "SET"},
		{"ADD numx", "<EOF>", "numx"},
		{"SET #as, #x", ",", "#as, #x"},
		{"REMOVE a, #, b", "#", ", #,"},
		{"SET _123 = :v", "_", "SET _123"},
		{"SET a = :v, _a = :v", "_", ", _a"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseUpdate(NewContext(nil, nil), tc.expr)
			wantError(t, err, `Invalid UpdateExpression: Syntax error; token: "`+tc.token+`", near: "`+tc.near+`"`)
		})
	}
}

func TestParseUpdate_Errors(t *testing.T) {
	const (
		opType   = "Incorrect operand type for operator or function; operator or function: "
		overlap  = "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "
		conflict = "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: "
	)
	ab := vals{":a": S("a"), ":b": S("a")}
	nab := names{"#a": "a", "#b": "b"}
	typed := vals{
		":a": S("a"), ":b": N("1"), ":c": B("a"), ":d": BOOL(false), ":e": NULL(),
		":f": SS("a"), ":g": NS("1"), ":h": BS("a"), ":i": M(), ":j": L(),
	}
	for _, tc := range []struct {
		expr string
		n    names
		v    vals
		want string
	}{
		{expr: " set #c = :c set abOrt = true ", n: nab, v: ab, want: "Attribute name is a reserved keyword; reserved keyword: abOrt"},
		{expr: " remove Absolute ", n: nab, v: ab, want: "Attribute name is a reserved keyword; reserved keyword: Absolute"},
		{expr: "set #c = if_not_exist(:c) set c = d", n: nab, v: ab, want: "Invalid function name; function: if_not_exist"},
		{expr: "set a = size(b)", want: "The function is not allowed in an update expression; function: size"},

		{expr: "set a = #c set c = :d", n: nab, v: ab, want: `The "SET" section can only be used once in an update expression;`},
		{expr: "remove #d set a = b remove e", n: nab, v: ab, want: `The "REMOVE" section can only be used once in an update expression;`},
		{expr: "add #d :e set a = b add e :f", n: nab, v: ab, want: `The "ADD" section can only be used once in an update expression;`},
		{expr: "delete #d :e set a = b delete #e :f", n: nab, v: ab, want: `The "DELETE" section can only be used once in an update expression;`},

		{expr: "SET #c = if_not_exists(:c)", n: nab, v: ab, want: "An expression attribute name used in the document path is not defined; attribute name: #c"},
		{expr: "SET #a = if_not_exists(:c)", n: nab, v: ab, want: "An expression attribute value used in expression is not defined; attribute value: :c"},
		{expr: "SET a = :x, #x = b", want: "An expression attribute name used in the document path is not defined; attribute name: #x"},

		{expr: "set d[1] = a, d.b = a, c[1].a = a, #c = if_not_exists(a)", n: names{"#c": "c", "#d": "[3]"}, want: overlap + "[c, [1], a], path two: [c]"},
		{expr: "set #c[3].#d = a, #c[3] = a", n: names{"#c": "c", "#d": "[3]"}, want: overlap + "[c, [3], [3]], path two: [c, [3]]"},
		{expr: "SET a = :a REMOVE a", v: ab, want: overlap + "[a], path two: [a]"},
		{expr: "REMOVE a.b ADD a :b", v: vals{":b": N("1")}, want: overlap + "[a, b], path two: [a]"},
		{expr: "set #c[3].#d = a, #c.#d[3] = if_not_exists(a)", n: names{"#b": "b", "#c": "c", "#d": "[3]"}, want: conflict + "[c, [3], [3]], path two: [c, [3], [3]]"},
		{expr: "remove a.#c set a[1] = #d", n: names{"#b": "b", "#c": "c", "#d": "[3]"}, want: conflict + "[a, c], path two: [a, [1]]"},

		{expr: "set b = list_append(:a, a), c = if_not_exists(a) add a.b :a", v: vals{":a": S("a"), ":b": S("a")}, want: "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{expr: "delete a.b :a", v: vals{":a": S("a")}, want: "Incorrect operand type for operator or function; operator: DELETE, operand type: STRING"},
		{expr: "add a.b :a", v: vals{":a": NULL()}, want: "Incorrect operand type for operator or function; operator: ADD, operand type: NULL"},
		{expr: "delete a.b :a", v: vals{":a": NULL()}, want: "Incorrect operand type for operator or function; operator: DELETE, operand type: NULL"},
		{expr: "add a.b :a", v: vals{":a": BOOL(false)}, want: "Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN"},
		{expr: "delete a.b :a", v: vals{":a": BOOL(false)}, want: "Incorrect operand type for operator or function; operator: DELETE, operand type: BOOLEAN"},
		{expr: "add a.b :a", v: vals{":a": B("a")}, want: "Incorrect operand type for operator or function; operator: ADD, operand type: BINARY"},
		{expr: "delete a.b :a", v: vals{":a": B("a")}, want: "Incorrect operand type for operator or function; operator: DELETE, operand type: BINARY"},
		{expr: "add a.b :a", v: vals{":a": M("a", L(N("1")))}, want: "Incorrect operand type for operator or function; operator: ADD, operand type: MAP"},
		{expr: "delete a.b :a", v: vals{":a": M("a", L(N("1")))}, want: "Incorrect operand type for operator or function; operator: DELETE, operand type: MAP"},
		{expr: "add a.b :a", v: vals{":a": L(N("1"))}, want: "Incorrect operand type for operator or function; operator: ADD, operand type: LIST"},
		{expr: "delete a.b :a", v: vals{":a": L(N("1"))}, want: "Incorrect operand type for operator or function; operator: DELETE, operand type: LIST"},
		{expr: "delete a.b :a", v: vals{":a": N("1")}, want: "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"},

		{expr: "set a = if_not_exists(c)", want: "Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1"},
		{expr: "set a = list_append(c)", want: "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"},
		{expr: "set a = list_append(b, c, d)", want: "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 3"},
		{expr: "set a = if_not_exists(:a, c)", v: ab, want: "Operator or function requires a document path; operator or function: if_not_exists"},
		{expr: "set a = if_not_exists(if_not_exists(a, b), c)", want: "Operator or function requires a document path; operator or function: if_not_exists"},
		{expr: "set a = if_not_exists(b, b)", want: "The first operand must be distinct from the remaining operands for this operator or function; operator: if_not_exists, first operand: [b]"},

		{expr: "set a = list_append(:a, a)", v: typed, want: opType + "list_append, operand type: S"},
		{expr: "set a = list_append(a, :b)", v: typed, want: opType + "list_append, operand type: N"},
		{expr: "set a = list_append(:c, a)", v: typed, want: opType + "list_append, operand type: B"},
		{expr: "set a = list_append(:d, a)", v: typed, want: opType + "list_append, operand type: BOOL"},
		{expr: "set a = list_append(:e, a)", v: typed, want: opType + "list_append, operand type: NULL"},
		{expr: "set a = list_append(:f, a)", v: typed, want: opType + "list_append, operand type: SS"},
		{expr: "set a = list_append(:g, a)", v: typed, want: opType + "list_append, operand type: NS"},
		{expr: "set a = list_append(:h, a)", v: typed, want: opType + "list_append, operand type: BS"},
		{expr: "set a = list_append(:i, a)", v: typed, want: opType + "list_append, operand type: M"},
		{expr: "set a = a + :a", v: typed, want: opType + "+, operand type: S"},
		{expr: "set a = :a + :c", v: typed, want: opType + "+, operand type: S"},
		{expr: "set a = :c + a", v: typed, want: opType + "+, operand type: B"},
		{expr: "set a = a + :d", v: typed, want: opType + "+, operand type: BOOL"},
		{expr: "set a = a + :e", v: typed, want: opType + "+, operand type: NULL"},
		{expr: "set a = a + :f", v: typed, want: opType + "+, operand type: SS"},
		{expr: "set a = a + :g", v: typed, want: opType + "+, operand type: NS"},
		{expr: "set a = a + :h", v: typed, want: opType + "+, operand type: BS"},
		{expr: "set a = a + :i", v: typed, want: opType + "+, operand type: M"},
		{expr: "set a = a + :j", v: typed, want: opType + "+, operand type: L"},
		{expr: "set a = a - :a", v: typed, want: opType + "-, operand type: S"},
		{expr: "set a = :c - a", v: typed, want: opType + "-, operand type: B"},
		{expr: "set a = a - :j", v: typed, want: opType + "-, operand type: L"},
		{expr: "set a = b", want: ""},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseUpdate(NewContext(tc.n, tc.v), tc.expr)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, "Invalid UpdateExpression: "+tc.want)
		})
	}
}

func TestParseUpdate_Limits(t *testing.T) {
	_, err := ParseUpdate(NewContext(nil, nil), "")
	wantError(t, err, "Invalid UpdateExpression: The expression can not be empty;")

	_, err = ParseUpdate(NewContext(nil, nil), "SET a = b"+strings.Repeat(" ", 4096))
	wantError(t, err, "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 4105")

	sets := func(n int) string { // n SETs of one + each
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("a%d=b+c", i)
		}
		return "SET " + strings.Join(parts, ",")
	}
	if _, err := ParseUpdate(NewContext(nil, nil), sets(300)); err != nil {
		t.Fatalf("300 operators: %v", err)
	}
	_, err = ParseUpdate(NewContext(nil, nil), sets(301))
	wantError(t, err, "Invalid UpdateExpression: The expression contains too many operators; operator count: 301")
}

func TestParseUpdate_Accepts(t *testing.T) {
	v := vals{":v": S("x"), ":n": N("1"), ":l": L(), ":s": SS("a")}
	for _, s := range []string{
		"SET a = :v",
		"set a = :v remove b add c :n delete d :s",
		"DELETE d :s ADD c :n REMOVE b SET a = :v",
		"SET a = (b + :n)",
		"SET a = (b) + :n",
		"SET a = b + (:n)",
		"SET a = ((b))",
		"SET a = if_not_exists(a, :n) + :n",
		"SET a = list_append(if_not_exists(a, :l), :l)",
		"SET a = list_append((b), (:l))",
		"SET a.b[1].c = :v, a.b[2] = :v",
		"SET a_b9 = :v, a_ = :v",
		"REMOVE a[0], a[1], b.c",
		"ADD s :s, n :n",
	} {
		t.Run(s, func(t *testing.T) {
			if _, err := ParseUpdate(NewContext(nil, v), s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUpdate_Paths(t *testing.T) {
	u, err := ParseUpdate(NewContext(names{"#x": "x.y"}, vals{":v": N("1"), ":s": SS("a")}),
		"SET a.b[2] = :v, #x = :v REMOVE c ADD d :v DELETE e :s")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range u.Paths() {
		got = append(got, p.String())
	}
	if want := "a.b[2] x.y c d e"; strings.Join(got, " ") != want {
		t.Fatalf("Paths = %q, want %q", got, want)
	}
}

func TestUpdate_Apply(t *testing.T) {
	base := func() attr.Item {
		return item(
			"s", S("str"), "n", N("10"), "l", L(S("a"), S("b"), S("c")),
			"m", M("x", N("1"), "kid", M("deep", S("d"))),
			"ss", SS("a", "b"), "ns", NS("1", "2.5"), "bs", BS("x", "y"), "s2", S("two"),
		)
	}
	v := vals{
		":v": S("new"), ":n": N("5"), ":neg": N("-20"), ":l": L(S("z")), ":ss": SS("b", "c"),
		":ns": NS("2.50", "3"), ":bs": BS("y", "z"), ":one": SS("a"), ":both": SS("a", "b"),
		":big": N("9E+125"), ":m": M("k", S("v")),
	}
	for _, tc := range []struct {
		name, expr string
		it         attr.Item // nil: base()
		noItem     bool
		want       map[string]attr.Value // attributes expected to change; nil value: removed
		err        string
	}{
		{name: "set top", expr: "SET s = :v", want: map[string]attr.Value{"s": S("new")}},
		{name: "set new attribute", expr: "SET z = :m", want: map[string]attr.Value{"z": M("k", S("v"))}},
		{name: "set nested map", expr: "SET m.kid.deep = :v, m.y = :n", want: map[string]attr.Value{"m": M("x", N("1"), "y", N("5"), "kid", M("deep", S("new")))}},
		{name: "set list element", expr: "SET l[1] = :v", want: map[string]attr.Value{"l": L(S("a"), S("new"), S("c"))}},
		{name: "set past end appends in index order", expr: "SET l[9] = :n, l[5] = :v", want: map[string]attr.Value{"l": L(S("a"), S("b"), S("c"), S("new"), N("5"))}},
		{name: "plus", expr: "SET n = n + :n", want: map[string]attr.Value{"n": N("15")}},
		{name: "minus", expr: "SET n = n - :neg", want: map[string]attr.Value{"n": N("30")}},
		{name: "copy path", expr: "SET c = m.kid", want: map[string]attr.Value{"c": M("deep", S("d"))}},
		{name: "swap uses old values", expr: "SET s = s2, s2 = s", want: map[string]attr.Value{"s": S("two"), "s2": S("str")}},
		{name: "if_not_exists present", expr: "SET s = if_not_exists(s, :v)", want: map[string]attr.Value{}},
		{name: "if_not_exists absent", expr: "SET z = if_not_exists(z, :v)", want: map[string]attr.Value{"z": S("new")}},
		{name: "counter idiom", expr: "SET c = if_not_exists(c, :n) + :n", want: map[string]attr.Value{"c": N("10")}},
		{name: "list_append", expr: "SET l = list_append(l, :l)", want: map[string]attr.Value{"l": L(S("a"), S("b"), S("c"), S("z"))}},
		{name: "list_append prepend", expr: "SET l = list_append(:l, l)", want: map[string]attr.Value{"l": L(S("z"), S("a"), S("b"), S("c"))}},
		{name: "remove", expr: "REMOVE s, m.x, nope", want: map[string]attr.Value{"s": {}, "m": M("kid", M("deep", S("d")))}},
		{name: "remove list elements by old index", expr: "REMOVE l[0], l[2]", want: map[string]attr.Value{"l": L(S("b"))}},
		{name: "remove past end does nothing", expr: "REMOVE l[7]", want: map[string]attr.Value{}},
		{name: "remove and set in one list", expr: "REMOVE l[0] SET l[1] = :v, l[8] = :n", want: map[string]attr.Value{"l": L(S("new"), S("c"), N("5"))}},
		{name: "add number", expr: "ADD n :neg", want: map[string]attr.Value{"n": N("-10")}},
		{name: "add creates number", expr: "ADD z :n", want: map[string]attr.Value{"z": N("5")}},
		{name: "add string set", expr: "ADD ss :ss", want: map[string]attr.Value{"ss": SS("a", "b", "c")}},
		{name: "add number set numerically", expr: "ADD ns :ns", want: map[string]attr.Value{"ns": NS("1", "2.5", "3")}},
		{name: "add binary set", expr: "ADD bs :bs", want: map[string]attr.Value{"bs": BS("x", "y", "z")}},
		{name: "add creates set", expr: "ADD m.z :ss", want: map[string]attr.Value{"m": M("x", N("1"), "kid", M("deep", S("d")), "z", SS("b", "c"))}},
		{name: "delete from set", expr: "DELETE ss :one", want: map[string]attr.Value{"ss": SS("b")}},
		{name: "delete numbers numerically", expr: "DELETE ns :ns", want: map[string]attr.Value{"ns": NS("1")}},
		{name: "delete binary", expr: "DELETE bs :bs", want: map[string]attr.Value{"bs": BS("x")}},
		{name: "delete emptying removes", expr: "DELETE ss :both", want: map[string]attr.Value{"ss": {}}},
		{name: "delete from missing does nothing", expr: "DELETE z :one", want: map[string]attr.Value{}},
		{name: "no item", expr: "SET a = :v ADD c :n", noItem: true, want: map[string]attr.Value{"a": S("new"), "c": N("5")}},
		{name: "no item remove", expr: "REMOVE a", noItem: true, want: map[string]attr.Value{}},

		{name: "missing operand", expr: "SET a = nope", err: msgMissingOperand},
		{name: "missing plus operand", expr: "SET a = nope + :n", err: msgMissingOperand},
		{name: "missing list_append operand", expr: "SET a = list_append(nope, :l)", err: msgMissingOperand},
		{name: "missing if_not_exists fallback", expr: "SET s = if_not_exists(s, nope)", err: msgMissingOperand},
		{name: "plus on string", expr: "SET a = s + :n", err: msgBadOperandType},
		{name: "list_append on string", expr: "SET a = list_append(s, :l)", err: msgBadOperandType},
		{name: "add number to set", expr: "ADD ss :n", err: msgBadOperandType},
		{name: "add set to string", expr: "ADD s :ss", err: msgBadOperandType},
		{name: "add set of other type", expr: "ADD ns :ss", err: msgBadOperandType},
		{name: "delete from other type", expr: "DELETE s :ss", err: msgBadOperandType},
		{name: "set under missing", expr: "SET nope.a = :v", err: msgInvalidPath},
		{name: "set name in list", expr: "SET l.a = :v", err: msgInvalidPath},
		{name: "set index in map", expr: "SET m[0] = :v", err: msgInvalidPath},
		{name: "set under scalar", expr: "SET s.a = :v", err: msgInvalidPath},
		{name: "set under element past end", expr: "SET l[5].a = :v", err: msgInvalidPath},
		{name: "remove under missing", expr: "REMOVE nope.a", err: msgInvalidPath},
		{name: "add under scalar", expr: "ADD s.a :n", err: msgInvalidPath},
		{name: "no item nested", expr: "SET a.b = :v", noItem: true, err: msgInvalidPath},
		{name: "overflow", expr: "ADD n :big", it: item("n", N("9E+125")), err: "Number overflow. Attempting to store a number with magnitude larger than supported range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ParseUpdate(NewContext(nil, v), tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			in := tc.it
			if in == nil && !tc.noItem {
				in = base()
			}
			got, err := u.Apply(in)
			if tc.err != "" {
				wantError(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := in.Clone()
			if want == nil {
				want = attr.Item{}
			}
			for k, x := range tc.want {
				if x.Type == attr.TypeInvalid {
					delete(want, k)
				} else {
					want[k] = x
				}
			}
			if !attr.ItemsEqual(got, want) {
				t.Fatalf("Apply =\n  %v\nwant\n  %v", got, want)
			}
		})
	}
}

// Apply must leave its input alone and return memory of its own: callers
// keep the old image for ReturnValues and stream records.
func TestUpdate_ApplyIsPure(t *testing.T) {
	v := vals{":v": B("val"), ":ss": SS("q"), ":bs": BS("q"), ":l": L(M("k", B("lv"))), ":n": N("1"), ":ns2": NS("2.5")}
	u, err := ParseUpdate(NewContext(nil, v), "SET x = :v, y = m, l[1] = :v, l[9] = :l, z = list_append(l, :l), "+
		"m.kid.deep = :v, w = bs REMOVE s ADD ss :ss, bs :bs, n :n DELETE ns :ns2")
	if err != nil {
		t.Fatal(err)
	}
	in := allTypes()
	before := in.Clone()
	valsBefore := map[string]attr.Value{}
	for k, x := range v {
		valsBefore[k] = x.Clone()
	}
	out, err := u.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	if !attr.ItemsEqual(in, before) {
		t.Fatalf("Apply modified its input:\n  %v\nwas\n  %v", in, before)
	}
	// Scribble over every byte, map and slice of the result.
	scribble(out)
	if !attr.ItemsEqual(in, before) {
		t.Fatal("the result shares memory with the input")
	}
	for k, x := range v {
		if !attr.Equal(x, valsBefore[k]) {
			t.Fatalf("the result shares memory with value %s", k)
		}
	}
}

func scribble(it attr.Item) {
	for k, v := range it {
		it[k] = scribbleValue(v)
	}
}

func scribbleValue(v attr.Value) attr.Value {
	switch v.Type {
	case attr.TypeB:
		for i := range v.B {
			v.B[i] = 0xff
		}
	case attr.TypeM:
		for k, x := range v.M {
			v.M[k] = scribbleValue(x)
		}
		v.M["scribbled"] = S("!")
	case attr.TypeL:
		for i := range v.L {
			v.L[i] = scribbleValue(v.L[i])
		}
	case attr.TypeSS:
		for i := range v.SS {
			v.SS[i] = "!"
		}
	case attr.TypeNS:
		for i := range v.NS {
			v.NS[i] = "0"
		}
	case attr.TypeBS:
		for _, b := range v.BS {
			for i := range b {
				b[i] = 0xff
			}
		}
	}
	return v
}

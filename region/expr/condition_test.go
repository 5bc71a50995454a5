package expr

import (
	"strings"
	"testing"
)

func parseFilter(t *testing.T, s string, n names, v vals) (*Condition, error) {
	t.Helper()
	return ParseCondition(NewContext(n, v), KindFilter, s)
}

// Cases from dynalite's test suite (test/scan.js), which records the real
// service's responses.
func TestParseCondition_SyntaxErrors(t *testing.T) {
	for _, s := range []string{
		"things are not gonna be ok",
		"a > 4",
		"attribute_exists(Pictures-RearView)",
		`attribute_exists("Pictures.RearView")`,
		"attribute_exists(Pictures..RearView)",
		"attribute_exists(Pi#ctures.RearView)",
		"attribute_exists(asdf[a])",
		"a in b, c",
		"a > between",
		"a in b",
		"a in (b,c,)",
		"a in ()",
		"(a)between(b.(c.d))and(c)",
		"(a)between(b.c.d)and((c)",
		"#$.b > a",
		"a > :things.stuff",
		"b[:a] > a",
		"b[#_] > a",
		"ü > a",
		"(a)between(b.c[4.5].#d)and(:a)",
		"size(a).b > a",
		"(size(a)).b > a",
		"size(a)[0] > a",
		"(size(a))[0] > a",
		"a",
		"NOT a",
		"a AND b = c",
		"a = b = c",
		"(a = b) = c",
		"a = (b = c)",
		"_a = b",
		"a.and = b",
		"a = b AND",
		"(a = b",
		"a = b)",
		"between(a, b)",
	} {
		t.Run(s, func(t *testing.T) {
			_, err := parseFilter(t, s, nil, nil)
			wantPrefix(t, err, "Invalid FilterExpression: Syntax error; ")
		})
	}
}

// The token and "near" text follow DynamoDB: the token before the bad one,
// the bad one and the one after, as written.
func TestParseCondition_SyntaxErrorToken(t *testing.T) {
	for _, tc := range []struct{ expr, token, near string }{
		{"a >", "<EOF>", ">"},
		{"a = :v b", "b", ":v b"},
		{"attribute_exists(a", "<EOF>", "a"},
		{"a = :v AND", "<EOF>", "AND"},
		{"a-b = :v", "-", "a-b"},
		{"ü > a", "ü", "ü >"},
		{"a > 4", "4", "> 4"},
		{"things are not gonna be ok", "are", "things are not"},
		{"a = :v AND  #", "#", "AND  #"},
		{"x = :v OR a.b. = :v", "=", ". = :v"},
		{"a in (b,c,)", ")", ",)"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := parseFilter(t, tc.expr, nil, vals{":v": S("x")})
			wantError(t, err, `Invalid FilterExpression: Syntax error; token: "`+tc.token+`", near: "`+tc.near+`"`)
		})
	}
}

func TestParseCondition_Errors(t *testing.T) {
	const (
		redundant = "The expression has redundant parentheses;"
		misused   = "The function is not allowed to be used this way in an expression; function: "
		reserved  = "Attribute name is a reserved keyword; reserved keyword: "
		noName    = "An expression attribute name used in the document path is not defined; attribute name: "
		noValue   = "An expression attribute value used in expression is not defined; attribute value: "
		count     = "Incorrect number of operands for operator or function; operator or function: "
		opType    = "Incorrect operand type for operator or function; operator or function: "
		distinct  = "The first operand must be distinct from the remaining operands for this operator or function; operator: "
		needPath  = "Operator or function requires a document path; operator or function: "
	)
	for _, tc := range []struct {
		expr string
		n    names
		v    vals
		want string
	}{
		{expr: "a=a and a > ((views))", want: redundant},
		{expr: "(a)between(((b.c)).d)and(c)", want: redundant},
		{expr: "a > whatever((:things), ((a)))", want: redundant},
		{expr: "a=a AND ((a=a AND a=a)) AND a=a", want: redundant},
		{expr: "a=a OR ((a=a OR a=a)) OR a=a", want: redundant},
		{expr: "a=a AND ((a=a AND (a=a AND a=a)))", want: redundant},
		{expr: "a=a OR ((a=a OR (a=a OR a=a)))", want: redundant},
		{expr: "((a = :v))", v: vals{":v": S("x")}, want: redundant},
		{expr: "((a = :v)) AND ((b = :v))", v: vals{":v": S("x")}, want: redundant},

		{expr: "a=a and whatever((:things)) > a", want: "Invalid function name; function: whatever"},
		{expr: "attRIbute_exIsts((views), #a)", want: "Invalid function name; function: attRIbute_exIsts"},
		{expr: "if_not_exists(a, :v) = :v", v: vals{":v": S("x")}, want: "The function is not allowed in a condition expression; function: if_not_exists"},

		{expr: "a=a and attribute_exists((views), (#a)) > b", want: misused + "attribute_exists"},
		{expr: "attribute_not_exists(things) > b", want: misused + "attribute_not_exists"},
		{expr: "attribute_type(things, :a) > b", want: misused + "attribute_type"},
		{expr: "begins_with(things, a) > b", want: misused + "begins_with"},
		{expr: "contains(:things, c) > b", want: misused + "contains"},
		{expr: "size(contains(a, b)) > a", want: misused + "contains"},
		{expr: "size(things)", want: misused + "size"},
		{expr: "a = :v AND NOT size(b)", v: vals{":v": S("x")}, want: misused + "size"},
		{expr: "a between b and attribute_exists(things)", want: misused + "attribute_exists"},
		{expr: "a in (b, attribute_exists(things))", want: misused + "attribute_exists"},

		{expr: "attribute_exists(views, #a)", want: reserved + "views"},
		{expr: ":a < abOrT", want: reserved + "abOrT"},
		{expr: "#n = :v AND a.name = :v", n: names{"#n": "n"}, v: vals{":v": S("x")}, want: reserved + "name"},

		{expr: "attribute_exists(#Pictures.RearView, :a) and a=a", want: noName + "#Pictures"},
		{expr: "begins_with(Pictures.#RearView)", want: noName + "#RearView"},
		{expr: "(#P between :lo and :hi) and (#PC in (:cat1, :cat2))", want: noName + "#P"},
		{expr: "#4g > a", want: noName + "#4g"},
		{expr: "#_ > a", want: noName + "#_"},
		{expr: "(a)between(b.c[45].#d)and(:a)", want: noName + "#d"},

		{expr: "begins_with(:hello, #a, #b)", want: noValue + ":hello"},
		{expr: ":a < :b", want: noValue + ":a"},
		{expr: ":_ > a", want: noValue + ":_"},

		{expr: "attribute_exists(things, a) and a=a", want: count + "attribute_exists, number of operands: 2"},
		{expr: "attribute_not_exists(things, b)", want: count + "attribute_not_exists, number of operands: 2"},
		{expr: "attribute_type(things)", want: count + "attribute_type, number of operands: 1"},
		{expr: "begins_with(things)", want: count + "begins_with, number of operands: 1"},
		{expr: "begins_with(things, size(a), b)", want: count + "begins_with, number of operands: 3"},
		{expr: "contains(things)", want: count + "contains, number of operands: 1"},
		{expr: "size(things, a) > b", want: count + "size, number of operands: 2"},

		{expr: "attribute_type(a, size(a)) and a=a and a=:a", v: vals{":a": N("1")}, want: opType + "attribute_type, operand type: N"},
		{expr: "attribute_type(a, b)", want: opType + "attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"},
		{expr: "begins_with(a, size(a)) and a=:a", v: vals{":a": N("1")}, want: opType + "begins_with, operand type: N"},
		{expr: "size(size(a)) > :a", v: vals{":a": N("1")}, want: opType + "size, operand type: N"},
		{expr: "attribute_not_exists(size(:a))", v: vals{":a": N("1")}, want: opType + "size, operand type: N"},
		{expr: "size(:a) > a", v: vals{":a": BOOL(true)}, want: opType + "size, operand type: BOOL"},
		{expr: "size(:a) > a", v: vals{":a": NULL()}, want: opType + "size, operand type: NULL"},
		{expr: "a < :a", v: vals{":a": BOOL(true)}, want: opType + "<, operand type: BOOL"},
		{expr: "a BETWEEN :a AND :b", v: vals{":a": SS("x"), ":b": SS("y")}, want: opType + "BETWEEN, operand type: SS"},
		{expr: "attribute_type(a, :a)", v: vals{":a": S("1")}, want: "Invalid attribute type name found; type: 1, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"},

		{expr: "attribute_exists(:a) and a=a", v: vals{":a": S("1")}, want: needPath + "attribute_exists"},
		{expr: "attribute_not_exists(size(:a))", v: vals{":a": S("1")}, want: needPath + "attribute_not_exists"},

		{expr: "a = a AND #a = b AND :views > a", n: names{"#a": "a"}, want: distinct + "=, first operand: [a]"},
		{expr: "#a <> a", n: names{"#a": "a"}, want: distinct + "<>, first operand: [a]"},
		{expr: "a > #a", n: names{"#a": "a"}, want: distinct + ">, first operand: [a]"},
		{expr: "((a=a) OR (a=a))", want: distinct + "=, first operand: [a]"},
		{expr: "contains(ab.bc[1].a, ab.bc[1].#a)", n: names{"#a": "a"}, want: distinct + "contains, first operand: [ab, bc, [1], a]"},
		{expr: "attribute_type(ab.bc[1].#a, ab.bc[1].a)", n: names{"#a": "a"}, want: distinct + "attribute_type, first operand: [ab, bc, [1], a]"},
		{expr: "begins_with(ab.bc[1].a, ab.bc[1].#a)", n: names{"#a": "a"}, want: distinct + "begins_with, first operand: [ab, bc, [1], a]"},
		{expr: "a BETWEEN a AND :v", v: vals{":v": S("x")}, want: distinct + "BETWEEN, first operand: [a]"},
		{expr: "a IN (:v, a)", v: vals{":v": S("x")}, want: distinct + "IN, first operand: [a]"},

		{expr: "a between :b and :a", v: vals{":a": S("a"), ":b": N("1")}, want: "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"},
		{expr: "a between :b and :a", v: vals{":a": S("a"), ":b": S("b")}, want: "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"},
		{expr: "a between :b and :a", v: vals{":a": N("-10"), ":b": N("2")}, want: "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:-10}"},

		// Priorities: a reserved word beats an earlier undefined value; an
		// unknown function beats a misused one.
		{expr: ":x = a AND b = views", want: reserved + "views"},
		{expr: "attribute_exists(a) > b AND nope(c)", want: "Invalid function name; function: nope"},
		{expr: "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.aa.bb.cc.dd.ee.ff.gg = :v", v: vals{":v": S("x")}, want: "The document path has too many nesting levels; nesting levels: 33"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := parseFilter(t, tc.expr, tc.n, tc.v)
			wantError(t, err, "Invalid FilterExpression: "+tc.want)
		})
	}
}

func TestParseCondition_KindInMessages(t *testing.T) {
	_, err := ParseCondition(NewContext(nil, nil), KindCondition, "")
	wantError(t, err, "Invalid ConditionExpression: The expression can not be empty;")
	_, err = ParseCondition(NewContext(nil, nil), KindFilter, "  \t\n")
	wantError(t, err, "Invalid FilterExpression: The expression can not be empty;")
}

func TestParseCondition_Limits(t *testing.T) {
	v := vals{":v": S("x")}
	pad := strings.Repeat("a", 4096-len(" = :v"))
	if _, err := parseFilter(t, pad+" = :v", nil, v); err != nil {
		t.Fatalf("4096-byte expression: %v", err)
	}
	_, err := parseFilter(t, pad+"b = :v", nil, v)
	wantError(t, err, "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4097")

	in := func(n int) string {
		ops := make([]string, n)
		for i := range ops {
			ops[i] = ":v"
		}
		return "a IN (" + strings.Join(ops, ",") + ")"
	}
	if _, err := parseFilter(t, in(100), nil, v); err != nil {
		t.Fatalf("IN with 100 operands: %v", err)
	}
	_, err = parseFilter(t, in(101), nil, v)
	wantError(t, err, "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101")

	conds := func(n int) string { // n comparisons joined by n-1 ANDs
		parts := make([]string, n)
		for i := range parts {
			parts[i] = "a=:v"
		}
		return strings.Join(parts, " AND ")
	}
	if _, err := parseFilter(t, conds(150), nil, v); err != nil { // 299 operators
		t.Fatalf("299 operators: %v", err)
	}
	_, err = parseFilter(t, conds(151), nil, v) // 301
	wantError(t, err, "Invalid FilterExpression: The expression contains too many operators; operator count: 301")
}

func TestParseCondition_Accepts(t *testing.T) {
	n := names{"#s": "status", "#a": "a"}
	v := vals{":v": S("x"), ":w": S("y"), ":n": N("1")}
	for _, s := range []string{
		"(attribute_not_exists(pk)) AND (attribute_not_exists(#s))",
		"(attribute_not_exists(pk) AND attribute_not_exists(#s))",
		"(attribute_not_exists(pk) AND (attribute_not_exists(#s)))",
		"(a) = :v",
		"(a)between(:v)and(:w)",
		"(a.b).c = :v",
		"a.b[1].c[2][3] = :v",
		"a . b [ 1 ] = :v",
		":v = :v",
		"NOT NOT a = :v",
		"not a = :v and b = :v or c = :v",
		"a BETWEEN :v AND :w AND b = :v",
		"a IN (:v)",
		"a in (:v, :w, b, size(c))",
		"size(a) >= size(b)",
		"attribute_type(a, :v)",
		"f_ = :v",
		"#a = :v",
		"contains(a, :v) OR begins_with(#s, :w)",
	} {
		t.Run(s, func(t *testing.T) {
			vv := v
			if s == "attribute_type(a, :v)" {
				vv = vals{":v": S("SS"), ":w": S("y"), ":n": N("1")}
			}
			if _, err := ParseCondition(NewContext(n, vv), KindCondition, s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEval_Operators(t *testing.T) {
	it := allTypes()
	v := vals{
		":s": S("hello"), ":s2": S("help"), ":n": N("42"), ":n2": N("42.0"), ":small": N("-1E+3"),
		":b": B("\x01\x02\x03"), ":b2": B("\x01\x02"), ":t": BOOL(true), ":nul": NULL(),
		":ss": SS("green", "red"), ":ns": NS("2.50", "1", "-3"), ":bs": BS("cd", "ab"),
		":l": L(S("a"), N("2"), M("k", S("v")), L(N("9"))), ":m": M("x", N("1"), "y", S("why"), "kid", M("deep", S("down"))),
		":he": S("he"), ":ell": S("ell"), ":x": S("x"), ":2": N("2"), ":1": N("1"), ":z": S("z"),
		":tS": S("S"), ":tN": S("N"), ":tM": S("M"), ":tL": S("L"), ":tB": S("B"), ":tSS": S("SS"), ":tNS": S("NS"), ":tBS": S("BS"), ":tBOOL": S("BOOL"), ":tNULL": S("NULL"),
		":five": N("5"), ":three": N("3"), ":seven": N("7"), ":four": N("4"), ":zero": N("0"), ":bx": B("\x02"),
	}
	n := names{"#n": "n", "#nul": "nul", "#dot": "a.b"}
	for _, tc := range []struct {
		expr string
		want bool
	}{
		// = and <> on every type; sets compare as sets, numbers numerically.
		{"s = :s", true}, {"s = :s2", false}, {"#n = :n2", true}, {"b = :b", true}, {"b = :b2", false},
		{"t = :t", true}, {"f = :t", false}, {"#nul = :nul", true}, {"ss = :ss", true}, {"ns = :ns", true},
		{"bs = :bs", true}, {"l = :l", true}, {"m = :m", true}, {"s = :n", false}, {"s <> :n", true},
		{"s <> :s", false}, {"nope <> :s", true}, {"nope = :s", false}, {"s = s2", false},
		// Ordering: N numerically, S and B by bytes; other types and mixed
		// types are false, not errors.
		{"#n > :small", true}, {"#n >= :n2", true}, {"#n <= :n2", true}, {"#n < :n2", false},
		{"s < :s2", true}, {"s > :s2", false}, {"b > :b2", true}, {"b < :bx", true},
		{"s < :n", false}, {"s > :n", false}, {"nope < :n", false}, {"t < f", false}, {"ss < ss2", false},
		// BETWEEN is inclusive.
		{"#n BETWEEN :n AND :n2", true}, {"#n BETWEEN :small AND :zero", false}, {"s BETWEEN :he AND :s2", true},
		{"s BETWEEN :n AND :n", false}, {"nope BETWEEN :small AND :n", false},
		// IN.
		{"s IN (:x, :s)", true}, {"s IN (:x, :z)", false}, {"#n IN (:x, :n2)", true}, {"nope IN (:x)", false},
		{"ss IN (:ss)", true}, {"l IN (:x, :l)", true},
		// AND, OR, NOT and precedence: NOT > AND > OR.
		{"s = :s AND #n = :n", true}, {"s = :s AND #n = :small", false}, {"s = :x OR #n = :n", true},
		{"NOT s = :s", false}, {"NOT s = :x", true}, {"NOT NOT s = :s", true},
		{"s = :x AND s = :x OR s = :s", true},    // (F AND F) OR T
		{"s = :s OR s = :x AND s = :x", true},    // T OR (F AND F)
		{"(s = :s OR s = :x) AND s = :x", false}, // parens override
		{"NOT s = :s OR s = :s", true},           // (NOT T) OR T
		{"NOT (s = :s OR s = :s)", false},        // NOT (T OR T)
		{"NOT s = :x AND s = :x", false},         // (NOT F) AND F
		// Functions.
		{"attribute_exists(s)", true}, {"attribute_exists(nope)", false}, {"attribute_not_exists(nope)", true},
		{"attribute_exists(m.kid.deep)", true}, {"attribute_exists(m.kid.nope)", false}, {"attribute_exists(l[3][0])", true},
		{"attribute_exists(l[4])", false}, {"attribute_exists(s[0])", false}, {"attribute_exists(l.x)", false},
		{"attribute_exists(#dot)", false}, {"attribute_exists(#nul)", true},
		{"attribute_type(s, :tS)", true}, {"attribute_type(#n, :tN)", true}, {"attribute_type(b, :tB)", true},
		{"attribute_type(t, :tBOOL)", true}, {"attribute_type(#nul, :tNULL)", true}, {"attribute_type(m, :tM)", true},
		{"attribute_type(l, :tL)", true}, {"attribute_type(ss, :tSS)", true}, {"attribute_type(ns, :tNS)", true},
		{"attribute_type(bs, :tBS)", true}, {"attribute_type(s, :tN)", false}, {"attribute_type(nope, :tS)", false},
		{"begins_with(s, :he)", true}, {"begins_with(s, :ell)", false}, {"begins_with(b, :b2)", true},
		{"begins_with(b, :bx)", false}, {"begins_with(#n, :s)", false}, {"begins_with(nope, :he)", false},
		{"contains(s, :ell)", true}, {"contains(s, :x)", false}, {"contains(b, :bx)", true}, {"contains(b, :s)", false},
		{"contains(ss, :x)", false}, {"contains(ns, :1)", true}, {"contains(ns, :2)", false},
		{"contains(l, :2)", true}, {"contains(l, :x)", false}, {"contains(m, :x)", false}, {"contains(#n, :n)", false},
		{"contains(nope, :x)", false}, {"contains(s, nope)", false},
		// size() of each type.
		{"size(s) = :five", true}, {"size(b) = :three", true}, {"size(ss) = :2", true}, {"size(ns) = :three", true},
		{"size(bs) = :2", true}, {"size(l) = :four", true}, {"size(m) = :three", true}, {"size(blank) = :zero", true},
		{"size(uni) = :seven", true}, // h é l l o (5) + 😀 (2 UTF-16 units)
		{"size(#n) = :2", false}, {"size(#n) <> :2", true}, {"size(t) >= :zero", false}, {"size(#nul) >= :zero", false},
		{"size(nope) = :zero", false}, {"size(m.kid) = :1", true}, {"size(l[3]) < size(l)", true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			cd, err := ParseCondition(NewContext(n, v), KindCondition, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cd.Eval(it)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Eval = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEval_NoItem(t *testing.T) {
	v := vals{":v": S("x")}
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"attribute_not_exists(pk)", true},
		{"attribute_exists(pk)", false},
		{"a = :v", false},
		{"a <> :v", true},
		{"NOT a = :v", true},
		{"size(a) > size(b)", false},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			cd, err := ParseCondition(NewContext(nil, v), KindCondition, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := cd.Eval(nil); got != tc.want {
				t.Fatalf("Eval(nil) = %v, want %v", got, tc.want)
			}
		})
	}
}

// A parsed condition keeps no reference to the request's values: changing
// them afterwards does not change the result.
func TestCondition_IndependentOfContext(t *testing.T) {
	v := vals{":v": S("x")}
	cd, err := ParseCondition(NewContext(nil, v), KindCondition, "a = :v")
	if err != nil {
		t.Fatal(err)
	}
	v[":v"] = S("changed")
	delete(v, ":v")
	if ok, _ := cd.Eval(item("a", S("x"))); !ok {
		t.Fatal("condition changed with its context")
	}
}

func TestCondition_Paths(t *testing.T) {
	cd, err := ParseCondition(NewContext(names{"#k": "key"}, vals{":v": S("x")}), KindFilter,
		"a.b[1] = :v AND (size(#k) > :v OR NOT c IN (:v, d))")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cd.Paths() {
		got = append(got, p.String())
	}
	if want := "a.b[1] key c d"; strings.Join(got, " ") != want {
		t.Fatalf("Paths = %q, want %q", got, want)
	}
}

func TestContext_Nil(t *testing.T) {
	var c *Context
	if _, err := ParseCondition(c, KindCondition, "a = b"); err != nil {
		t.Fatal(err)
	}
	_, err := ParseCondition(c, KindCondition, "a = :v")
	wantError(t, err, "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v")
	if err := c.CheckUnused(); err != nil {
		t.Fatal(err)
	}
}

// The 4 KB limit bounds nesting; the deepest inputs it allows must parse
// (or fail) quickly and without exhausting the stack.
func TestParseCondition_DeepNesting(t *testing.T) {
	v := vals{":v": S("x")}
	for _, tc := range []struct {
		name, expr, want string
	}{
		{"parens", strings.Repeat("(", 2040) + "a = :v" + strings.Repeat(")", 2040), "Invalid FilterExpression: The expression has redundant parentheses;"},
		{"open parens", strings.Repeat("(", 4096), `Invalid FilterExpression: Syntax error; token: "<EOF>", near: "("`},
		{"nots", strings.Repeat("NOT ", 299) + "a = :v", ""},
		{"too many nots", strings.Repeat("NOT ", 1020) + "a = :v", "Invalid FilterExpression: The expression contains too many operators; operator count: 301"},
		{"long path", "a" + strings.Repeat(".a", 2000) + " = :v", "Invalid FilterExpression: The document path has too many nesting levels; nesting levels: 2001"},
		{"alternating", strings.Repeat("(a = :v AND ", 140) + "a = :v" + strings.Repeat(")", 140), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cd, err := parseFilter(t, tc.expr, nil, v)
			if tc.want != "" {
				wantError(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cd.Eval(allTypes()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

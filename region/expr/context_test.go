package expr

import "testing"

func TestContext_CheckUnused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     names
		v     vals
		exprs []string // condition, update, projection
		want  string
	}{
		{name: "all used across expressions", n: names{"#a": "a", "#b": "b"}, v: vals{":a": S("a"), ":b": S("b")},
			exprs: []string{"#a = :a", "SET x = :b", "#b"}},
		{name: "unused names sorted", n: names{"#b": "b", "#a": "a", "#c": "c"}, v: vals{":x": S("x")},
			exprs: []string{"#c = :x", "", ""}, want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"},
		{name: "unused values", v: vals{":v": S("x"), ":unused": S("extra"), ":a": S("a")},
			exprs: []string{"", "SET attr1 = :v", ""}, want: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :unused}"},
		{name: "names reported before values", n: names{"#unused": "x"}, v: vals{":unused": S("x")},
			exprs: []string{"", "", "a"}, want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewContext(tc.n, tc.v)
			if s := tc.exprs[0]; s != "" {
				if _, err := ParseCondition(c, KindCondition, s); err != nil {
					t.Fatal(err)
				}
			}
			if s := tc.exprs[1]; s != "" {
				if _, err := ParseUpdate(c, s); err != nil {
					t.Fatal(err)
				}
			}
			if s := tc.exprs[2]; s != "" {
				if _, err := ParseProjection(c, s); err != nil {
					t.Fatal(err)
				}
			}
			err := c.CheckUnused()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, tc.want)
		})
	}
}

func TestPath_String(t *testing.T) {
	p := Path{{Name: "a"}, {Name: "b"}, {Index: 2, IsIndex: true}, {Name: "c"}, {Index: 0, IsIndex: true}, {Index: 1, IsIndex: true}}
	if got, want := p.String(), "a.b[2].c[0][1]"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	if got, want := p.docString(), "[a, b, [2], c, [0], [1]]"; got != want {
		t.Fatalf("docString = %q, want %q", got, want)
	}
	if got := (Path{}).String(); got != "" {
		t.Fatalf("empty String = %q", got)
	}
}

func TestIsReserved(t *testing.T) {
	for _, w := range []string{"name", "NAME", "Status", "abort", "zone", "localtimestamp", "a", "size"} {
		want := w != "a"
		if got := isReserved(w); got != want {
			t.Errorf("isReserved(%q) = %v, want %v", w, got, want)
		}
	}
	for _, w := range []string{"pk", "sk", "id2", "views2", "", "localtimestamps"} {
		if isReserved(w) {
			t.Errorf("isReserved(%q) = true", w)
		}
	}
}

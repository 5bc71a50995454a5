package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// sortKeyFixtures lists sort-key values of each key type in ascending
// DynamoDB order, and extra operands that fall between and around them.
func sortKeyFixtures(t *testing.T) map[attr.Type]struct{ sorted, operands []attr.Value } {
	nums := func(ss ...string) []attr.Value {
		out := make([]attr.Value, len(ss))
		for i, v := range ss {
			out[i] = n(t, v)
		}
		return out
	}
	strs := func(ss ...string) []attr.Value {
		out := make([]attr.Value, len(ss))
		for i, v := range ss {
			out[i] = s(v)
		}
		return out
	}
	bins := func(bs ...[]byte) []attr.Value {
		out := make([]attr.Value, len(bs))
		for i, v := range bs {
			out[i] = b(v...)
		}
		return out
	}
	return map[attr.Type]struct{ sorted, operands []attr.Value }{
		attr.TypeN: {
			sorted: nums("-9.9e125", "-1e20", "-12345.678", "-100", "-99.5", "-2.5", "-1", "-0.001", "-1e-130",
				"0", "1E-130", "0.000123", "0.5", "1", "1.5", "2", "10", "99", "100", "1e3", "12345.678", "1e20", "9.99e125"),
			operands: nums("-1e21", "-50", "-0.5", "0.25", "3", "1e4", "1e21", "-2.50", "100.0"),
		},
		attr.TypeS: {
			sorted:   strs("A", "B", "a", "a\x00", "a\x00b", "a\x01", "ab", "abc", "abd", "ab\xff", "b", "zz", "é", "éa", "日本"),
			operands: strs("0", "aa", "abcd", "c", "é", "\U0010FFFF", "ab\x00"),
		},
		attr.TypeB: {
			sorted: bins([]byte{0}, []byte{0, 0}, []byte{0, 1}, []byte{0, 0xff}, []byte{1}, []byte{1, 0xff},
				[]byte{2}, []byte{0x7f}, []byte{0x80}, []byte{0xff}, []byte{0xff, 0}, []byte{0xff, 0xff}, []byte{0xff, 0xff, 0xff}),
			operands: bins([]byte{0, 0, 0}, []byte{0x01, 0x00}, []byte{0x90}, []byte{0xff, 0xfe}),
		},
	}
}

// cmp is the reference order: attr.Compare.
func cmp(t *testing.T, a, b attr.Value) int {
	c, ok := attr.Compare(a, b)
	if !ok {
		t.Fatalf("attr.Compare(%v, %v) not comparable", a, b)
	}
	return c
}

func beginsWith(v, p attr.Value) bool {
	if v.Type == attr.TypeS {
		return strings.HasPrefix(v.S, p.S)
	}
	return bytes.HasPrefix(v.B, p.B)
}

func TestDB_QueryOrderAndRangeOps(t *testing.T) {
	db := storetest.Open(t)
	for typ, fx := range sortKeyFixtures(t) {
		t.Run(typ.String(), func(t *testing.T) {
			for i := 1; i < len(fx.sorted); i++ {
				if cmp(t, fx.sorted[i-1], fx.sorted[i]) >= 0 {
					t.Fatalf("fixture not ascending at %d: %v, %v", i, fx.sorted[i-1], fx.sorted[i])
				}
			}
			tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("q"+typ.String(), attr.TypeS, typ))
			for _, pk := range []string{"p", "p\x00", "o", "q", "pp"} {
				for i, v := range fx.sorted {
					storetest.Put(t, db, tbl, attr.Item{"pk": s(pk), "sk": v, "i": n(t, fmt.Sprint(i))})
				}
			}
			// A tombstone in the middle of the partition is skipped.
			storetest.Put(t, db, tbl, attr.Item{"pk": s("p"), "sk": fx.operands[0]})
			storetest.Delete(t, db, tbl, attr.Item{"pk": s("p"), "sk": fx.operands[0]})

			type tc struct {
				cond  store.RangeCond
				match func(v attr.Value) bool
			}
			cases := []tc{{store.RangeCond{Op: store.RangeAll}, func(attr.Value) bool { return true }}}
			all := append(slices.Clone(fx.sorted), fx.operands...)
			for _, x := range all {
				cases = append(cases,
					tc{store.RangeCond{Op: store.RangeEQ, Values: []attr.Value{x}}, func(v attr.Value) bool { return cmp(t, v, x) == 0 }},
					tc{store.RangeCond{Op: store.RangeLT, Values: []attr.Value{x}}, func(v attr.Value) bool { return cmp(t, v, x) < 0 }},
					tc{store.RangeCond{Op: store.RangeLE, Values: []attr.Value{x}}, func(v attr.Value) bool { return cmp(t, v, x) <= 0 }},
					tc{store.RangeCond{Op: store.RangeGT, Values: []attr.Value{x}}, func(v attr.Value) bool { return cmp(t, v, x) > 0 }},
					tc{store.RangeCond{Op: store.RangeGE, Values: []attr.Value{x}}, func(v attr.Value) bool { return cmp(t, v, x) >= 0 }},
				)
				if typ != attr.TypeN {
					cases = append(cases, tc{store.RangeCond{Op: store.RangeBeginsWith, Values: []attr.Value{x}}, func(v attr.Value) bool { return beginsWith(v, x) }})
				}
				for _, y := range all {
					if cmp(t, x, y) <= 0 {
						cases = append(cases, tc{store.RangeCond{Op: store.RangeBetween, Values: []attr.Value{x, y}}, func(v attr.Value) bool {
							return cmp(t, v, x) >= 0 && cmp(t, v, y) <= 0
						}})
					}
				}
			}
			if typ == attr.TypeS {
				for _, p := range []string{"a", "a\x00", "ab", "é", "\xff", ""} {
					cases = append(cases, tc{store.RangeCond{Op: store.RangeBeginsWith, Values: []attr.Value{s(p)}}, func(v attr.Value) bool { return strings.HasPrefix(v.S, p) }})
				}
			}
			if typ == attr.TypeB {
				for _, p := range [][]byte{{0}, {0xff}, {0xff, 0xff}, {1}, {}} {
					cases = append(cases, tc{store.RangeCond{Op: store.RangeBeginsWith, Values: []attr.Value{b(p...)}}, func(v attr.Value) bool { return bytes.HasPrefix(v.B, p) }})
				}
			}

			for _, c := range cases {
				var want []attr.Value
				for _, v := range fx.sorted {
					if c.match(v) {
						want = append(want, v)
					}
				}
				for _, forward := range []bool{true, false} {
					in := store.QueryInput{Table: tbl, Hash: s("p"), Range: c.cond, Forward: forward}
					w := slices.Clone(want)
					if !forward {
						slices.Reverse(w)
					}
					page := storetest.Query(t, db, in)
					if !sameSortKeys(page.Items, w) {
						t.Fatalf("%s %v forward=%v: got %v, want %v", c.cond.Op, c.cond.Values, forward, sortKeys(page.Items), w)
					}
					// Resuming after each item returns the rest.
					for k := range page.Items {
						in.Start = page.LastKeys[k]
						if !itemsEqual(in.Start, attr.Item{"pk": s("p"), "sk": w[k]}) {
							t.Fatalf("LastKey %v, want pk p sk %v", in.Start, w[k])
						}
						rest := storetest.Query(t, db, in)
						if !sameSortKeys(rest.Items, w[k+1:]) {
							t.Fatalf("%s %v forward=%v from %v: got %v, want %v", c.cond.Op, c.cond.Values, forward, w[k], sortKeys(rest.Items), w[k+1:])
						}
					}
				}
			}
			t.Logf("%d conditions checked", len(cases))
		})
	}
}

func sortKeys(items []attr.Item) []attr.Value {
	out := make([]attr.Value, len(items))
	for i, it := range items {
		out[i] = it["sk"]
	}
	return out
}

func sameSortKeys(items []attr.Item, want []attr.Value) bool {
	if len(items) != len(want) {
		return false
	}
	for i, it := range items {
		if it["pk"].S != "p" || !attr.Equal(it["sk"], want[i]) {
			return false
		}
	}
	return true
}

func TestDB_QueryStopsWhenFnReturnsFalse(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	for i := range 10 {
		storetest.Put(t, db, tbl, attr.Item{"pk": s("p"), "sk": n(t, fmt.Sprint(i))})
	}
	var got []string
	err := db.Query(store.QueryInput{Table: tbl, Hash: s("p"), Forward: false}, func(it, _ attr.Item) bool {
		got = append(got, it["sk"].N)
		return len(got) < 3
	})
	if err != nil || !slices.Equal(got, []string{"9", "8", "7"}) {
		t.Errorf("got %v, %v; want [9 8 7]", got, err)
	}
}

func TestDB_QueryRejectsBadInput(t *testing.T) {
	db := storetest.Open(t)
	tbl := storetest.CreateTable(t, db, storetest.HashRangeTable("t", attr.TypeS, attr.TypeN))
	hashOnly := storetest.CreateTable(t, db, storetest.HashRangeTable("h", attr.TypeS, attr.TypeInvalid))
	cases := map[string]struct {
		in   store.QueryInput
		want error
	}{
		"hash type":     {store.QueryInput{Table: tbl, Hash: n(t, "1")}, store.ErrInvalidKey},
		"operand type":  {store.QueryInput{Table: tbl, Hash: s("p"), Range: store.RangeCond{Op: store.RangeEQ, Values: []attr.Value{s("x")}}}, store.ErrInvalidRange},
		"operand count": {store.QueryInput{Table: tbl, Hash: s("p"), Range: store.RangeCond{Op: store.RangeBetween, Values: []attr.Value{n(t, "1")}}}, store.ErrInvalidRange},
		"begins_with N": {store.QueryInput{Table: tbl, Hash: s("p"), Range: store.RangeCond{Op: store.RangeBeginsWith, Values: []attr.Value{n(t, "1")}}}, store.ErrInvalidRange},
		"no sort key":   {store.QueryInput{Table: hashOnly, Hash: s("p"), Range: store.RangeCond{Op: store.RangeGT, Values: []attr.Value{s("x")}}}, store.ErrInvalidRange},
		"unknown index": {store.QueryInput{Table: tbl, Index: "nope", Hash: s("p")}, store.ErrIndexNotFound},
		"bad start key": {store.QueryInput{Table: tbl, Hash: s("p"), Start: attr.Item{"pk": s("p")}}, store.ErrInvalidKey},
		"unknown op":    {store.QueryInput{Table: tbl, Hash: s("p"), Range: store.RangeCond{Op: 99}}, store.ErrInvalidRange},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := db.Query(tc.in, func(_, _ attr.Item) bool { return true })
			if !errors.Is(err, tc.want) {
				t.Errorf("Query = %v, want %v", err, tc.want)
			}
		})
	}
}

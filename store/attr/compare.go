package attr

import (
	"bytes"
	"strings"
)

// Compare orders two values of the same scalar type S, N or B the way
// DynamoDB does: S by UTF-8 bytes, B by bytes, N numerically. It returns
// ok=false for any other pair (mixed types, or types DynamoDB cannot order),
// for which DynamoDB's <, <=, >, >= and BETWEEN are simply false.
func Compare(a, b Value) (int, bool) {
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case TypeS:
		return strings.Compare(a.S, b.S), true
	case TypeB:
		return bytes.Compare(a.B, b.B), true
	case TypeN:
		return CompareNumbers(a.N, b.N), true
	}
	return 0, false
}

// Equal reports whether a = b in DynamoDB's sense: same type, numbers equal
// numerically, sets equal as sets (member order ignored), M and L equal
// deeply (L in order).
func Equal(a, b Value) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case TypeS:
		return a.S == b.S
	case TypeN:
		return CompareNumbers(a.N, b.N) == 0
	case TypeB:
		return bytes.Equal(a.B, b.B)
	case TypeBOOL:
		return a.BOOL == b.BOOL
	case TypeNULL, TypeInvalid:
		return true
	case TypeM:
		if len(a.M) != len(b.M) {
			return false
		}
		for k, av := range a.M {
			bv, ok := b.M[k]
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	case TypeL:
		if len(a.L) != len(b.L) {
			return false
		}
		for i := range a.L {
			if !Equal(a.L[i], b.L[i]) {
				return false
			}
		}
		return true
	case TypeSS:
		return sameSet(a.SS, b.SS, func(x, y string) bool { return x == y }, func(x string) string { return x })
	case TypeNS:
		return sameSet(a.NS, b.NS, func(x, y string) bool { return CompareNumbers(x, y) == 0 }, numberKey)
	case TypeBS:
		return sameSet(a.BS, b.BS, bytes.Equal, func(x []byte) string { return string(x) })
	}
	return false
}

// ItemsEqual reports whether two items hold the same attributes with Equal
// values.
func ItemsEqual(a, b Item) bool {
	return Equal(Map(a), Map(b))
}

// smallSet is the size up to which set comparisons use nested loops rather
// than a map.
const smallSet = 16

// sameSet reports whether a and b hold the same members. Both are assumed
// free of duplicates (sets are), so equal length plus a ⊆ b suffices.
func sameSet[T any](a, b []T, eq func(x, y T) bool, key func(T) string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= smallSet {
	outer:
		for _, x := range a {
			for _, y := range b {
				if eq(x, y) {
					continue outer
				}
			}
			return false
		}
		return true
	}
	seen := make(map[string]struct{}, len(b))
	for _, y := range b {
		seen[key(y)] = struct{}{}
	}
	for _, x := range a {
		if _, ok := seen[key(x)]; !ok {
			return false
		}
	}
	return true
}

// numberKey maps numerically equal numbers to the same string.
func numberKey(s string) string {
	if c, err := ParseNumber(s); err == nil {
		return c
	}
	return s
}

// Clone returns a deep copy of v holding only the field its Type uses.
func (v Value) Clone() Value {
	out := Value{Type: v.Type}
	switch v.Type {
	case TypeS:
		out.S = v.S
	case TypeN:
		out.N = v.N
	case TypeB:
		out.B = bytes.Clone(v.B)
	case TypeBOOL:
		out.BOOL = v.BOOL
	case TypeM:
		if v.M != nil {
			out.M = make(map[string]Value, len(v.M))
			for k, x := range v.M {
				out.M[k] = x.Clone()
			}
		}
	case TypeL:
		if v.L != nil {
			out.L = make([]Value, len(v.L))
			for i := range v.L {
				out.L[i] = v.L[i].Clone()
			}
		}
	case TypeSS:
		out.SS = cloneSlice(v.SS)
	case TypeNS:
		out.NS = cloneSlice(v.NS)
	case TypeBS:
		if v.BS != nil {
			out.BS = make([][]byte, len(v.BS))
			for i, b := range v.BS {
				out.BS[i] = bytes.Clone(b)
			}
		}
	}
	return out
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// Clone returns a deep copy of it.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.Clone()
	}
	return out
}

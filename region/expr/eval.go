package expr

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/globaltables/globaltables/store/attr"
)

// Eval reports whether the item satisfies the condition. it may be nil: no
// item, so every path is missing (attribute_not_exists is true, comparisons
// false). DynamoDB never fails a condition at evaluation time: a comparison
// between different types is false, not an error. The error result is
// always nil and exists so callers need not change if that ever changes.
func (cd *Condition) Eval(it attr.Item) (bool, error) {
	return evalCond(cd.root, it), nil
}

func evalCond(n *node, it attr.Item) bool {
	switch n.kind {
	case nAnd:
		return evalCond(n.args[0], it) && evalCond(n.args[1], it)
	case nOr:
		return evalCond(n.args[0], it) || evalCond(n.args[1], it)
	case nNot:
		return !evalCond(n.args[0], it)
	case nCompare:
		a, aok := evalOperand(n.args[0], it)
		b, bok := evalOperand(n.args[1], it)
		if n.op == "<>" {
			// Missing operands are unequal to everything: a <> :v is true
			// when a does not exist.
			return !(aok && bok && attr.Equal(a, b))
		}
		return aok && bok && compare(n.op, a, b)
	case nBetween:
		x, ok := evalOperand(n.args[0], it)
		lo, lok := evalOperand(n.args[1], it)
		hi, hok := evalOperand(n.args[2], it)
		return ok && lok && hok && compare(">=", x, lo) && compare("<=", x, hi)
	case nIn:
		x, ok := evalOperand(n.args[0], it)
		if !ok {
			return false
		}
		for _, a := range n.args[1:] {
			if v, ok := evalOperand(a, it); ok && attr.Equal(x, v) {
				return true
			}
		}
		return false
	case nFunc:
		return evalFunc(n, it)
	}
	return false
}

// compare applies =, <, <=, > or >=. Ordering is defined only between two
// values of the same type among N, S and B; otherwise it is false.
func compare(op string, a, b attr.Value) bool {
	if op == "=" {
		return attr.Equal(a, b)
	}
	c, ok := attr.Compare(a, b)
	if !ok {
		return false
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// evalOperand returns an operand's value, or ok=false when it is missing: a
// path to nothing, or size() of a missing or unsized value.
func evalOperand(n *node, it attr.Item) (attr.Value, bool) {
	switch n.kind {
	case nPath:
		return lookup(it, n.path)
	case nValue:
		return n.val, true
	case nFunc:
		if n.op == fnSize {
			v, ok := evalOperand(n.args[0], it)
			if !ok {
				return attr.Value{}, false
			}
			return size(v)
		}
	}
	return attr.Value{}, false
}

// size implements size(): the length of a string (in UTF-16 code units, as
// DynamoDB's Java implementation counts) or binary, or the number of
// elements of a set, list or map. Other types have no size.
func size(v attr.Value) (attr.Value, bool) {
	var n int
	switch v.Type {
	case attr.TypeS:
		n = utf16Len(v.S)
	case attr.TypeB:
		n = len(v.B)
	case attr.TypeSS:
		n = len(v.SS)
	case attr.TypeNS:
		n = len(v.NS)
	case attr.TypeBS:
		n = len(v.BS)
	case attr.TypeL:
		n = len(v.L)
	case attr.TypeM:
		n = len(v.M)
	default:
		return attr.Value{}, false
	}
	return attr.Number(strconv.Itoa(n)), true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func evalFunc(n *node, it attr.Item) bool {
	switch n.op {
	case fnAttributeExists:
		_, ok := evalOperand(n.args[0], it)
		return ok
	case fnAttributeNotExists:
		_, ok := evalOperand(n.args[0], it)
		return !ok
	}
	a, aok := evalOperand(n.args[0], it)
	b, bok := evalOperand(n.args[1], it)
	if !aok || !bok {
		return false
	}
	switch n.op {
	case fnAttributeType:
		return b.Type == attr.TypeS && a.Type.String() == b.S
	case fnBeginsWith:
		switch {
		case a.Type == attr.TypeS && b.Type == attr.TypeS:
			return strings.HasPrefix(a.S, b.S)
		case a.Type == attr.TypeB && b.Type == attr.TypeB:
			return bytes.HasPrefix(a.B, b.B)
		}
		return false
	case fnContains:
		return contains(a, b)
	}
	return false
}

// contains implements contains(a, b): a substring of a string, a
// subsequence of bytes of a binary, a member of a set of b's type, or an
// element of a list equal to b.
func contains(a, b attr.Value) bool {
	switch a.Type {
	case attr.TypeS:
		return b.Type == attr.TypeS && strings.Contains(a.S, b.S)
	case attr.TypeB:
		return b.Type == attr.TypeB && bytes.Contains(a.B, b.B)
	case attr.TypeSS:
		if b.Type == attr.TypeS {
			for _, s := range a.SS {
				if s == b.S {
					return true
				}
			}
		}
	case attr.TypeNS:
		if b.Type == attr.TypeN {
			for _, s := range a.NS {
				if attr.CompareNumbers(s, b.N) == 0 {
					return true
				}
			}
		}
	case attr.TypeBS:
		if b.Type == attr.TypeB {
			for _, s := range a.BS {
				if bytes.Equal(s, b.B) {
					return true
				}
			}
		}
	case attr.TypeL:
		for _, e := range a.L {
			if attr.Equal(e, b) {
				return true
			}
		}
	}
	return false
}

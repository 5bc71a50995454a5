package expr

import (
	"bytes"
	"errors"
	"sort"

	"github.com/globaltables/globaltables/store/attr"
)

// Apply returns the item that results from applying the update to it, which
// may be nil (the item does not exist yet). It never modifies it, and the
// result shares no memory with it or with the expression's values.
//
// DynamoDB evaluates every SET value against the item as it was before the
// update (so SET a = b, b = a swaps), and resolves every list index against
// the lists as they were: REMOVE l[0], l[1] removes the first two elements,
// and SET past the end of a list appends, in index order.
func (u *Update) Apply(it attr.Item) (attr.Item, error) {
	vals := make([]attr.Value, len(u.actions))
	root := &updNode{act: -1}
	for i, a := range u.actions {
		if a.kind == actSet {
			v, err := evalUpdateValue(a.val, it)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		root.insert(a.path, i)
	}
	out := it.Clone()
	if out == nil {
		out = attr.Item{}
	}
	ap := applier{u: u, vals: vals}
	if err := ap.applyMap(out, root); err != nil {
		return nil, err
	}
	return out, nil
}

// updNode is a node of the tree of an update's paths. Paths of one update
// never overlap (ParseUpdate rejects that), so every action sits at a leaf.
// Children are kept in insertion order so errors are deterministic.
type updNode struct {
	act   int // index of the action at this leaf, or -1
	names []string
	byKey map[string]*updNode
	idxs  []int
	byIdx map[int]*updNode
}

func (n *updNode) insert(p Path, act int) {
	for _, e := range p {
		n = n.child(e)
	}
	n.act = act
}

func (n *updNode) child(e PathElem) *updNode {
	if e.IsIndex {
		if c, ok := n.byIdx[e.Index]; ok {
			return c
		}
		if n.byIdx == nil {
			n.byIdx = map[int]*updNode{}
		}
		c := &updNode{act: -1}
		n.byIdx[e.Index] = c
		n.idxs = append(n.idxs, e.Index)
		return c
	}
	if c, ok := n.byKey[e.Name]; ok {
		return c
	}
	if n.byKey == nil {
		n.byKey = map[string]*updNode{}
	}
	c := &updNode{act: -1}
	n.byKey[e.Name] = c
	n.names = append(n.names, e.Name)
	return c
}

type applier struct {
	u    *Update
	vals []attr.Value
}

// applyMap applies n's children to m, a map the applier owns.
func (ap *applier) applyMap(m map[string]attr.Value, n *updNode) error {
	if len(n.idxs) > 0 {
		return errInvalidPath() // an index step into a map
	}
	for _, name := range n.names {
		c := n.byKey[name]
		cur, ok := m[name]
		if c.act >= 0 {
			v, keep, err := ap.leaf(c.act, cur, ok)
			if err != nil {
				return err
			}
			if keep {
				m[name] = v
			} else {
				delete(m, name)
			}
			continue
		}
		if !ok {
			return errInvalidPath()
		}
		v, err := ap.applyInner(cur, c)
		if err != nil {
			return err
		}
		m[name] = v
	}
	return nil
}

// applyInner applies n's children inside the map or list cur.
func (ap *applier) applyInner(cur attr.Value, n *updNode) (attr.Value, error) {
	switch {
	case len(n.names) > 0 && cur.Type == attr.TypeM:
		if cur.M == nil {
			cur.M = map[string]attr.Value{}
		}
		return cur, ap.applyMap(cur.M, n)
	case len(n.idxs) > 0 && cur.Type == attr.TypeL:
		l, err := ap.applyList(cur.L, n)
		cur.L = l
		return cur, err
	}
	return cur, errInvalidPath()
}

// applyList applies n's children to l, a list the applier owns, and returns
// the new list. Indexes refer to l as it was; SET (and ADD) past its end
// append in index order; REMOVE and DELETE past its end do nothing.
func (ap *applier) applyList(l []attr.Value, n *updNode) ([]attr.Value, error) {
	if len(n.names) > 0 {
		return nil, errInvalidPath() // a name step into a list
	}
	idxs := append([]int(nil), n.idxs...)
	sort.Ints(idxs)
	removed := map[int]bool{}
	var appended []attr.Value
	for _, i := range idxs {
		c := n.byIdx[i]
		inside := i < len(l)
		if c.act < 0 {
			if !inside {
				return nil, errInvalidPath()
			}
			v, err := ap.applyInner(l[i], c)
			if err != nil {
				return nil, err
			}
			l[i] = v
			continue
		}
		var cur attr.Value
		if inside {
			cur = l[i]
		}
		v, keep, err := ap.leaf(c.act, cur, inside)
		if err != nil {
			return nil, err
		}
		switch {
		case inside && keep:
			l[i] = v
		case inside:
			removed[i] = true
		case keep:
			appended = append(appended, v)
		}
	}
	out := make([]attr.Value, 0, len(l)-len(removed)+len(appended))
	for i, v := range l {
		if !removed[i] {
			out = append(out, v)
		}
	}
	return append(out, appended...), nil
}

// leaf applies action act to the value cur (present if ok) and returns the
// new value, or keep=false when the attribute or element goes away.
func (ap *applier) leaf(act int, cur attr.Value, ok bool) (attr.Value, bool, error) {
	a := ap.u.actions[act]
	switch a.kind {
	case actSet:
		return ap.vals[act].Clone(), true, nil
	case actRemove:
		return attr.Value{}, false, nil
	case actAdd:
		add := addValue
		if ap.u.legacy {
			add = legacyAdd
		}
		v, err := add(cur, ok, a.val.val)
		return v, err == nil, err
	}
	if !ok {
		return attr.Value{}, false, nil
	}
	if ap.u.legacy {
		return legacyDelete(cur, a.val.val)
	}
	return deleteValue(cur, a.val.val)
}

// addValue implements ADD: a number is added, a set is merged into; a
// missing attribute starts from nothing.
func addValue(cur attr.Value, ok bool, v attr.Value) (attr.Value, error) {
	if !ok {
		return v.Clone(), nil
	}
	if cur.Type != v.Type {
		return attr.Value{}, errBadOperandType()
	}
	switch v.Type {
	case attr.TypeN:
		sum, err := attr.AddNumbers(cur.N, v.N)
		if err != nil {
			return attr.Value{}, numberError(err)
		}
		return attr.Number(sum), nil
	case attr.TypeSS:
		return attr.StringSet(union(cur.SS, v.SS, func(a, b string) bool { return a == b })), nil
	case attr.TypeNS:
		return attr.NumberSet(union(cur.NS, v.NS, func(a, b string) bool { return attr.CompareNumbers(a, b) == 0 })), nil
	case attr.TypeBS:
		return attr.BinarySet(union(cur.BS, v.BS, bytes.Equal)), nil
	}
	return attr.Value{}, errBadOperandType()
}

// deleteValue implements DELETE: the members of v are removed from the set
// cur; an emptied set disappears.
func deleteValue(cur, v attr.Value) (attr.Value, bool, error) {
	if cur.Type != v.Type {
		return attr.Value{}, false, errBadOperandType()
	}
	var out attr.Value
	switch v.Type {
	case attr.TypeSS:
		out = attr.StringSet(minus(cur.SS, v.SS, func(a, b string) bool { return a == b }))
		return out, len(out.SS) > 0, nil
	case attr.TypeNS:
		out = attr.NumberSet(minus(cur.NS, v.NS, func(a, b string) bool { return attr.CompareNumbers(a, b) == 0 }))
		return out, len(out.NS) > 0, nil
	case attr.TypeBS:
		out = attr.BinarySet(minus(cur.BS, v.BS, bytes.Equal))
		return out, len(out.BS) > 0, nil
	}
	return attr.Value{}, false, errBadOperandType()
}

// union returns a's members followed by b's members not in a, in new
// memory.
func union[T any](a, b []T, eq func(x, y T) bool) []T {
	out := append(make([]T, 0, len(a)+len(b)), a...)
	for _, y := range b {
		if !has(out, y, eq) {
			out = append(out, y)
		}
	}
	return cloneMembers(out)
}

// minus returns a's members not in b, in new memory.
func minus[T any](a, b []T, eq func(x, y T) bool) []T {
	var out []T
	for _, x := range a {
		if !has(b, x, eq) {
			out = append(out, x)
		}
	}
	return cloneMembers(out)
}

func has[T any](s []T, x T, eq func(a, b T) bool) bool {
	for _, y := range s {
		if eq(x, y) {
			return true
		}
	}
	return false
}

// cloneMembers copies byte-slice members so a BS result shares nothing.
func cloneMembers[T any](s []T) []T {
	for i, x := range s {
		if b, ok := any(x).([]byte); ok {
			s[i] = any(bytes.Clone(b)).(T)
		}
	}
	return s
}

// evalUpdateValue evaluates a SET value against the item before the
// update. Operands are evaluated before the operator, left to right, as
// DynamoDB does, so a missing attribute is reported before a type error.
func evalUpdateValue(n *node, it attr.Item) (attr.Value, error) {
	switch n.kind {
	case nValue:
		return n.val, nil
	case nPath:
		v, ok := lookup(it, n.path)
		if !ok {
			return attr.Value{}, &Error{Message: msgMissingOperand}
		}
		return v, nil
	case nArith:
		a, err := evalUpdateValue(n.args[0], it)
		if err != nil {
			return attr.Value{}, err
		}
		b, err := evalUpdateValue(n.args[1], it)
		if err != nil {
			return attr.Value{}, err
		}
		if a.Type != attr.TypeN || b.Type != attr.TypeN {
			return attr.Value{}, errBadOperandType()
		}
		var r string
		if n.op == "+" {
			r, err = attr.AddNumbers(a.N, b.N)
		} else {
			r, err = attr.SubNumbers(a.N, b.N)
		}
		if err != nil {
			return attr.Value{}, numberError(err)
		}
		return attr.Number(r), nil
	case nFunc:
		switch n.op {
		case fnIfNotExists:
			// The fallback is evaluated even when the attribute exists, so
			// a missing fallback path is an error either way.
			fallback, err := evalUpdateValue(n.args[1], it)
			if err != nil {
				return attr.Value{}, err
			}
			if v, ok := lookup(it, n.args[0].path); ok {
				return v, nil
			}
			return fallback, nil
		case fnListAppend:
			a, err := evalUpdateValue(n.args[0], it)
			if err != nil {
				return attr.Value{}, err
			}
			b, err := evalUpdateValue(n.args[1], it)
			if err != nil {
				return attr.Value{}, err
			}
			if a.Type != attr.TypeL || b.Type != attr.TypeL {
				return attr.Value{}, errBadOperandType()
			}
			return attr.List(append(append(make([]attr.Value, 0, len(a.L)+len(b.L)), a.L...), b.L...)), nil
		}
	}
	return attr.Value{}, errBadOperandType()
}

// errInvalidPath is DynamoDB's error for a path that does not lead into the
// item: through a missing attribute, or a name step into a list (or an
// index step into anything but a list).
func errInvalidPath() error { return &Error{Message: msgInvalidPath} }

// errBadOperandType is DynamoDB's error for an operand of the wrong type
// found while applying an update: ADD to a value of another type, a + on a
// non-number, list_append of a non-list.
func errBadOperandType() error { return &Error{Message: msgBadOperandType} }

// numberError turns a store/attr arithmetic error (overflow, precision)
// into a ValidationException with the same message.
func numberError(err error) error {
	var ae *attr.Error
	if errors.As(err, &ae) {
		return &Error{Message: ae.Message, cause: err}
	}
	return &Error{Message: err.Error(), cause: err}
}

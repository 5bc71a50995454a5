package expr

import (
	"sort"

	"github.com/globaltables/globaltables/store/attr"
)

// The pre-expression ("legacy") parameters of DynamoDB's API (Expected,
// QueryFilter, ScanFilter, KeyConditions, AttributeUpdates) are not
// evaluated by a second evaluator: they are translated here into the same
// trees the expression parsers build, and then evaluated and applied by
// Eval and Apply like any expression. The translation is direct, node by
// node, not through expression text, so legacy requests are not subject to
// the expression grammar's limits (length, reserved words, operand counts)
// and any attribute name works as it is.
//
// Each ComparisonOperator maps onto one expression form:
//
//	EQ a = v      NE a <> v      LT, LE, GT, GE  a < v ...
//	NULL          attribute_not_exists(a)
//	NOT_NULL      attribute_exists(a)
//	CONTAINS      contains(a, v)
//	NOT_CONTAINS  NOT contains(a, v)
//	BEGINS_WITH   begins_with(a, v)
//	IN            a IN (v1, v2, ...)
//	BETWEEN       a BETWEEN v1 AND v2
//
// which gives the legacy operators DynamoDB's documented semantics: a
// comparison with a missing attribute or a value of another type is false,
// except NE and NOT_CONTAINS, which are true then.

// LegacyCondition is one entry of Expected, QueryFilter or ScanFilter: a
// ComparisonOperator applied to a top-level attribute. Expected's Exists and
// Value forms are expressed by the caller as NULL, NOT_NULL or EQ.
type LegacyCondition struct {
	Attr   string
	Op     string
	Values []attr.Value
}

// Legacy comparison operators, as DynamoDB names them.
const (
	OpEQ          = "EQ"
	OpNE          = "NE"
	OpLE          = "LE"
	OpLT          = "LT"
	OpGE          = "GE"
	OpGT          = "GT"
	OpNotNull     = "NOT_NULL"
	OpNull        = "NULL"
	OpContains    = "CONTAINS"
	OpNotContains = "NOT_CONTAINS"
	OpBeginsWith  = "BEGINS_WITH"
	OpIn          = "IN"
	OpBetween     = "BETWEEN"
)

// LegacyOperators lists the ComparisonOperator values in the order
// DynamoDB lists them in its "Member must satisfy enum value set" message.
var LegacyOperators = []string{OpIn, OpNull, OpBetween, OpLT, OpNotContains, OpEQ, OpGT, OpNotNull, OpNE, OpLE, OpBeginsWith, OpGE, OpContains}

// legacyArity gives each operator's number of values: min and max (-1 for
// no maximum).
func legacyArity(op string) (int, int) {
	switch op {
	case OpNull, OpNotNull:
		return 0, 0
	case OpIn:
		return 1, -1
	case OpBetween:
		return 2, 2
	}
	return 1, 1
}

// legacyTypeAllowed reports whether op accepts a value of type t, as
// DynamoDB's ComparisonOperator documentation and its recorded errors say:
// ordering operators take only scalars that order (S, N, B), BEGINS_WITH
// only S and B, CONTAINS and NOT_CONTAINS anything but a set, list or map,
// and EQ and NE any type.
func legacyTypeAllowed(op string, t attr.Type) bool {
	switch op {
	case OpLT, OpLE, OpGT, OpGE, OpIn, OpBetween:
		return t == attr.TypeS || t == attr.TypeN || t == attr.TypeB
	case OpBeginsWith:
		return t == attr.TypeS || t == attr.TypeB
	case OpContains, OpNotContains:
		switch t {
		case attr.TypeSS, attr.TypeNS, attr.TypeBS, attr.TypeL, attr.TypeM:
			return false
		}
	}
	return true
}

// CheckLegacyOperator validates a ComparisonOperator's AttributeValueList
// with DynamoDB's messages, in DynamoDB's order: the number of values,
// then that they share one type, that the operator accepts that type, and
// that BETWEEN's bounds are in order. checkTypes is false for Expected,
// whose values DynamoDB does not check against the operator.
func CheckLegacyOperator(op string, vals []attr.Value, checkTypes bool) error {
	lo, hi := legacyArity(op)
	if len(vals) < lo || (hi >= 0 && len(vals) > hi) {
		return newError("One or more parameter values were invalid: Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	for _, v := range vals[min(1, len(vals)):] {
		if v.Type != vals[0].Type {
			return newError("One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type")
		}
	}
	if checkTypes {
		for _, v := range vals {
			if !legacyTypeAllowed(op, v.Type) {
				return newError("One or more parameter values were invalid: ComparisonOperator %s is not valid for %s AttributeValue type", op, v.Type)
			}
		}
	}
	if op == OpBetween {
		if c, ok := attr.Compare(vals[0], vals[1]); ok && c > 0 {
			return newError("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
	}
	return nil
}

// NewLegacyCondition translates legacy conditions, joined by AND (or by OR
// when or is set, for ConditionalOperator OR), into a Condition. The
// operators must have passed CheckLegacyOperator. It returns nil for no
// conditions.
func NewLegacyCondition(conds []LegacyCondition, or bool) *Condition {
	if len(conds) == 0 {
		return nil
	}
	sorted := append([]LegacyCondition(nil), conds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Attr < sorted[j].Attr })
	var root *node
	for _, lc := range sorted {
		n := legacyNode(lc)
		switch {
		case root == nil:
			root = n
		case or:
			root = &node{kind: nOr, args: []*node{root, n}}
		default:
			root = &node{kind: nAnd, args: []*node{root, n}}
		}
	}
	return &Condition{root: root}
}

// legacyNode builds the expression tree of one legacy condition.
func legacyNode(lc LegacyCondition) *node {
	path := &node{kind: nPath, path: Path{{Name: lc.Attr}}}
	args := []*node{path}
	for _, v := range lc.Values {
		args = append(args, &node{kind: nValue, val: v.Clone()})
	}
	switch lc.Op {
	case OpEQ, OpNE, OpLT, OpLE, OpGT, OpGE:
		return &node{kind: nCompare, op: legacyComparator(lc.Op), args: args}
	case OpNull:
		return &node{kind: nFunc, op: fnAttributeNotExists, args: args}
	case OpNotNull:
		return &node{kind: nFunc, op: fnAttributeExists, args: args}
	case OpContains:
		return &node{kind: nFunc, op: fnContains, args: args}
	case OpNotContains:
		return &node{kind: nNot, args: []*node{{kind: nFunc, op: fnContains, args: args}}}
	case OpBeginsWith:
		return &node{kind: nFunc, op: fnBeginsWith, args: args}
	case OpIn:
		return &node{kind: nIn, args: args}
	}
	return &node{kind: nBetween, args: args}
}

// legacyComparator maps a comparison ComparisonOperator to its expression
// comparator.
func legacyComparator(op string) string {
	switch op {
	case OpNE:
		return "<>"
	case OpLT:
		return "<"
	case OpLE:
		return "<="
	case OpGT:
		return ">"
	case OpGE:
		return ">="
	}
	return "="
}

// KeyComparator maps a ComparisonOperator allowed on a sort key to the
// RangeOp of a KeyCondition ("=", "<", ..., "BETWEEN", "begins_with"), and
// reports false for an operator a key condition cannot use.
func KeyComparator(op string) (string, bool) {
	switch op {
	case OpEQ, OpLT, OpLE, OpGT, OpGE:
		return legacyComparator(op), true
	case OpBetween:
		return "BETWEEN", true
	case OpBeginsWith:
		return fnBeginsWith, true
	}
	return "", false
}

// LegacyUpdate is one entry of AttributeUpdates: Action is PUT, ADD or
// DELETE; Value is nil for a DELETE of the whole attribute.
type LegacyUpdate struct {
	Attr   string
	Action string
	Value  *attr.Value
}

// CheckLegacyUpdate validates one AttributeUpdates entry with DynamoDB's
// messages.
func CheckLegacyUpdate(u LegacyUpdate) error {
	if u.Value == nil {
		if u.Action != "DELETE" {
			return newError("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
		}
		return nil
	}
	switch t := u.Value.Type; u.Action {
	case "DELETE":
		if t != attr.TypeSS && t != attr.TypeNS && t != attr.TypeBS {
			return newError("One or more parameter values were invalid: DELETE action with value is not supported for the type %s", t)
		}
	case "ADD":
		switch t {
		case attr.TypeN, attr.TypeSS, attr.TypeNS, attr.TypeBS, attr.TypeL:
		default:
			return newError("One or more parameter values were invalid: ADD action is not supported for the type %s", t)
		}
	}
	return nil
}

// NewLegacyUpdate translates AttributeUpdates into an Update: PUT is SET,
// DELETE without a value is REMOVE, DELETE with a set removes its members,
// and ADD adds a number, merges a set or (unlike the ADD of update
// expressions) appends to a list. The entries must have passed
// CheckLegacyUpdate. It returns nil for no entries.
func NewLegacyUpdate(ups []LegacyUpdate) *Update {
	if len(ups) == 0 {
		return nil
	}
	sorted := append([]LegacyUpdate(nil), ups...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Attr < sorted[j].Attr })
	u := &Update{legacy: true}
	for _, lu := range sorted {
		a := &action{path: Path{{Name: lu.Attr}}}
		if lu.Value != nil {
			a.val = &node{kind: nValue, val: lu.Value.Clone()}
		}
		switch {
		case lu.Action == "ADD":
			a.kind = actAdd
		case lu.Action == "DELETE" && lu.Value == nil:
			a.kind = actRemove
		case lu.Action == "DELETE":
			a.kind = actDelete
		default:
			a.kind = actSet
		}
		u.actions = append(u.actions, a)
	}
	return u
}

// msgLegacyTypeMismatch is DynamoDB's error for an ADD or DELETE of
// AttributeUpdates whose value's type does not match the attribute's.
const msgLegacyTypeMismatch = "Type mismatch for attribute to update"

// legacyAdd implements the ADD of AttributeUpdates: addValue, plus list
// append, with the legacy API's message for a type mismatch.
func legacyAdd(cur attr.Value, ok bool, v attr.Value) (attr.Value, error) {
	if ok && cur.Type != v.Type {
		return attr.Value{}, &Error{Message: msgLegacyTypeMismatch}
	}
	if ok && v.Type == attr.TypeL {
		l := make([]attr.Value, 0, len(cur.L)+len(v.L))
		for _, e := range cur.L {
			l = append(l, e.Clone())
		}
		for _, e := range v.L {
			l = append(l, e.Clone())
		}
		return attr.List(l), nil
	}
	return addValue(cur, ok, v)
}

// legacyDelete implements the DELETE-with-value of AttributeUpdates.
func legacyDelete(cur, v attr.Value) (attr.Value, bool, error) {
	if cur.Type != v.Type {
		return attr.Value{}, false, &Error{Message: msgLegacyTypeMismatch}
	}
	return deleteValue(cur, v)
}

// HasOnlyRemovals reports whether the update only removes: REMOVE actions,
// or DELETE actions (which remove set members). Applied to an item that
// does not exist, such an update leaves nothing to store, and DynamoDB
// creates no item.
func (u *Update) HasOnlyRemovals() bool {
	for _, a := range u.actions {
		if a.kind == actSet || a.kind == actAdd {
			return false
		}
	}
	return true
}

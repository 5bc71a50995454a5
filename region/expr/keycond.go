package expr

import (
	"strings"

	"github.com/globaltables/globaltables/store/attr"
)

// KeySchema names a table's or index's key attributes. Range is "" when
// there is no sort key.
type KeySchema struct {
	Hash  string
	Range string
}

// KeyCondition is a parsed KeyConditionExpression: the partition key value
// and an optional condition on the sort key. RangeOp is "" (no sort key
// condition), "=", "<", "<=", ">", ">=", "BETWEEN" (Range holds the two
// bounds) or "begins_with"; Range holds the operator's values.
//
// The values' types are not checked against the key attributes' types:
// the caller knows those and reports DynamoDB's "Condition parameter type
// does not match schema type".
type KeyCondition struct {
	Hash    attr.Value
	RangeOp string
	Range   []attr.Value
}

// keyCond is one condition on one key attribute.
type keyCond struct {
	op   string
	vals []attr.Value
}

// flipped gives the comparator that keeps a condition's meaning when its
// operands swap sides: :v < k is k > :v.
func flipped(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// ParseKeyCondition parses a KeyConditionExpression and checks it against
// the key schema, with DynamoDB's messages: the expression must be an AND
// of at most one condition per key attribute, an equality on the partition
// key, and =, <, <=, >, >=, BETWEEN or begins_with on the sort key, with the
// key on either side of a comparison. It is PrepareKeyCondition followed by
// Resolve.
func ParseKeyCondition(c *Context, s string, ks KeySchema) (*KeyCondition, error) {
	p, err := PrepareKeyCondition(c, s)
	if err != nil {
		return nil, err
	}
	return p.Resolve(ks)
}

// PendingKeyCondition is a key condition parsed and checked as far as can
// be without the key schema.
type PendingKeyCondition struct {
	conds map[string]keyCond
}

// PrepareKeyCondition makes the checks of a KeyConditionExpression that do
// not need the key schema: syntax, placeholders, operand types, the
// structure of the conditions and their number. DynamoDB makes them before
// it looks the table up, so a malformed expression on a missing table is a
// ValidationException.
func PrepareKeyCondition(c *Context, s string) (*PendingKeyCondition, error) {
	root, err := parseConditionTree(c, KindKeyCondition, s)
	if err != nil {
		return nil, err
	}
	conds := map[string]keyCond{}
	if msg := collectKeyConds(root, conds); msg != "" {
		return nil, &Error{Message: msg}
	}
	if len(conds) != 1 && len(conds) != 2 {
		return nil, &Error{Message: "Conditions can be of length 1 or 2 only"}
	}
	return &PendingKeyCondition{conds: conds}, nil
}

// Resolve checks the key condition against the key schema of the table or
// index queried.
func (p *PendingKeyCondition) Resolve(ks KeySchema) (*KeyCondition, error) {
	conds := p.conds
	if ks.Range == "" && len(conds) > 1 {
		return nil, &Error{Message: "Query key condition not supported"}
	}
	hash, ok := conds[ks.Hash]
	if !ok {
		return nil, &Error{Message: "Query condition missed key schema element: " + ks.Hash}
	}
	if hash.op != "=" {
		return nil, &Error{Message: "Query key condition not supported"}
	}
	kc := &KeyCondition{Hash: hash.vals[0]}
	if ks.Range == "" {
		return kc, nil
	}
	rng, ok := conds[ks.Range]
	if !ok {
		if len(conds) > 1 {
			return nil, &Error{Message: "Query condition missed key schema element: " + ks.Range}
		}
		return kc, nil
	}
	kc.RangeOp, kc.Range = rng.op, rng.vals
	return kc, nil
}

// collectKeyConds walks a key condition, recording each key condition in
// conds, and returns DynamoDB's message for the first structure it does not
// accept. The checks follow DynamoDB's order, operator before operands.
func collectKeyConds(n *node, conds map[string]keyCond) string {
	switch n.kind {
	case nOr, nNot, nIn:
		return "Invalid operator used in KeyConditionExpression: " + strings.ToUpper(kindWord(n))
	case nCompare:
		if n.op == "<>" {
			return "Invalid operator used in KeyConditionExpression: <>"
		}
	case nFunc:
		switch n.op {
		case fnSize:
			return "KeyConditionExpressions cannot contain nested operations"
		case fnBeginsWith:
		default:
			return "Invalid operator used in KeyConditionExpression: " + n.op
		}
	case nPath, nValue:
		return ""
	}
	if (n.kind == nBetween || n.kind == nFunc) && n.args[0].kind != nPath {
		op := n.op
		if n.kind == nBetween {
			op = "BETWEEN"
		}
		return "Invalid condition in KeyConditionExpression: " + op + " operator must have the key attribute as its first operand"
	}
	name, at := "", -1
	for i, a := range n.args {
		switch a.kind {
		case nPath:
			if at >= 0 {
				return "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
			}
			if len(a.path) > 1 {
				return "KeyConditionExpressions cannot have conditions on nested attributes"
			}
			name, at = a.path[0].Name, i
		case nValue:
		default:
			if msg := collectKeyConds(a, conds); msg != "" {
				return msg
			}
		}
	}
	if n.kind == nAnd {
		return ""
	}
	if at < 0 {
		return "Invalid condition in KeyConditionExpression: No key attribute specified"
	}
	if _, dup := conds[name]; dup {
		return "KeyConditionExpressions must only contain one condition per key"
	}
	kc := keyCond{op: n.op}
	switch n.kind {
	case nCompare:
		kc.vals = []attr.Value{n.args[1-at].val}
		if at == 1 {
			kc.op = flipped(n.op)
		}
	default: // BETWEEN, begins_with: the key is the first operand
		for _, a := range n.args[1:] {
			kc.vals = append(kc.vals, a.val)
		}
	}
	conds[name] = kc
	return ""
}

func kindWord(n *node) string {
	switch n.kind {
	case nOr:
		return "OR"
	case nNot:
		return "NOT"
	}
	return "IN"
}

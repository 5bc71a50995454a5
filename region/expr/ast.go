package expr

import "github.com/globaltables/globaltables/store/attr"

// nodeKind says what a node of a condition or update operand tree is.
type nodeKind uint8

const (
	nPath    nodeKind = iota // a document path
	nValue                   // an expression attribute value
	nFunc                    // a function call: op is its name
	nCompare                 // args[0] op args[1], op one of = <> < <= > >=
	nBetween                 // args[0] BETWEEN args[1] AND args[2]
	nIn                      // args[0] IN (args[1:]...)
	nAnd
	nOr
	nNot
	nArith // args[0] op args[1], op + or - (updates only)
)

// node is one node of an expression tree. The parser fills raw and valName;
// the checker resolves them into path and val, after which the tree no
// longer refers to the Context.
type node struct {
	kind    nodeKind
	op      string
	raw     rawPath // nPath, as written
	path    Path    // nPath, resolved
	valName string  // nValue, the placeholder
	val     attr.Value
	args    []*node
	// parens counts the parentheses directly around the node while it is
	// parsed, to detect DynamoDB's "redundant parentheses".
	parens int
}

// isCondition reports whether n can stand where a condition is expected.
// Function calls can (attribute_exists(a)); whether a particular function
// may is checked after parsing, as DynamoDB does.
func (n *node) isCondition() bool {
	switch n.kind {
	case nPath, nValue, nArith:
		return false
	}
	return true
}

// isOperand reports whether n can stand where an operand is expected.
func (n *node) isOperand() bool {
	switch n.kind {
	case nPath, nValue, nFunc:
		return true
	}
	return false
}

// typeName is the static type of an operand for DynamoDB's parse-time type
// checks: a value's type, a function's result type, or "" when unknown
// until evaluation (a path).
func (n *node) typeName() string {
	switch n.kind {
	case nValue:
		return n.val.Type.String()
	case nFunc:
		switch n.op {
		case fnSize:
			return "N"
		case fnListAppend:
			return "L"
		case fnAttributeExists, fnAttributeNotExists, fnAttributeType, fnBeginsWith, fnContains:
			return "BOOL"
		}
	case nArith:
		return "N"
	}
	return ""
}

// Function names. They are case-sensitive.
const (
	fnAttributeExists    = "attribute_exists"
	fnAttributeNotExists = "attribute_not_exists"
	fnAttributeType      = "attribute_type"
	fnBeginsWith         = "begins_with"
	fnContains           = "contains"
	fnSize               = "size"
	fnIfNotExists        = "if_not_exists"
	fnListAppend         = "list_append"
)

// conditionFuncArity and updateFuncArity give each function's number of
// operands. A condition function in an update (or the reverse) is a known
// function used in the wrong place, which DynamoDB reports differently from
// an unknown one.
func conditionFuncArity(name string) int {
	switch name {
	case fnAttributeExists, fnAttributeNotExists, fnSize:
		return 1
	case fnAttributeType, fnBeginsWith, fnContains:
		return 2
	}
	return 0
}

func updateFuncArity(name string) int {
	switch name {
	case fnIfNotExists, fnListAppend:
		return 2
	}
	return 0
}

package expr

import (
	"encoding/base64"
	"strconv"

	"github.com/globaltables/globaltables/store/attr"
)

// checker validates a parsed condition tree and resolves its placeholders.
//
// DynamoDB reports one error even when an expression has several, and which
// one it picks follows a fixed order (recorded by dynalite's tests, which
// run against the real service):
//
//  1. redundant parentheses;
//  2. an unknown function;
//  3. a function used where it is not allowed;
//  4. a reserved word used as a name;
//  5. the first predicate (comparison, BETWEEN, IN or function), in parse
//     completion order, with any of: an undefined placeholder or too deep a
//     path; a wrong number of operands; a repeated path ("must be
//     distinct"); a wrong operand type or BETWEEN bound. Within one
//     predicate the first of those kinds wins.
//
// Each slot keeps the first message written to it. The walk visits nodes in
// the order a parser completes them: operands left to right, then the
// operator.
type checker struct {
	ctx       *Context
	redundant bool

	unknownFn, misused, reserved, condition string
	nameVal, operand, distinct, function    string

	ops int // operators and functions, against DynamoDB's limit of 300
}

func set(slot *string, msg string) {
	if *slot == "" {
		*slot = msg
	}
}

// result returns the message DynamoDB would report, or "".
func (ck *checker) result() string {
	if ck.redundant {
		return "The expression has redundant parentheses;"
	}
	for _, m := range []string{ck.unknownFn, ck.misused, ck.reserved, ck.condition} {
		if m != "" {
			return m
		}
	}
	if ck.ops > maxOperators {
		return "The expression contains too many operators; operator count: " + strconv.Itoa(maxOperators+1)
	}
	return ""
}

// checkCondition checks a node in condition position.
func (ck *checker) checkCondition(n *node) {
	switch n.kind {
	case nAnd, nOr:
		ck.checkCondition(n.args[0])
		ck.checkCondition(n.args[1])
		ck.misusedSize(n.args[0])
		ck.misusedSize(n.args[1])
		ck.ops++
	case nNot:
		ck.checkCondition(n.args[0])
		ck.misusedSize(n.args[0])
		ck.ops++
	default:
		ck.predicate(n)
		if ck.condition == "" {
			for _, m := range []string{ck.nameVal, ck.operand, ck.distinct, ck.function} {
				if m != "" {
					ck.condition = m
					break
				}
			}
		}
	}
}

func (ck *checker) predicate(n *node) {
	if n.kind == nFunc {
		ck.checkFunction(n)
		return
	}
	for _, a := range n.args {
		ck.operandNode(a)
	}
	ck.misusedFunctions(n.args)
	switch n.kind {
	case nCompare:
		ck.distinctPaths(n.op, n.args)
		if n.op != "=" && n.op != "<>" {
			ck.orderedTypes(n.op, n.args)
		}
	case nBetween:
		ck.distinctPaths(n.op, n.args)
		ck.orderedTypes(n.op, n.args)
		ck.betweenBounds(n.args[1], n.args[2])
	case nIn:
		ck.distinctPaths(n.op, n.args)
		if len(n.args)-1 > maxInOperands {
			set(&ck.function, "The IN operator is provided with too many operands; number of operands: "+strconv.Itoa(len(n.args)-1))
		}
	}
	ck.ops++
}

// operandNode checks and resolves an operand: a path, a value or a call.
func (ck *checker) operandNode(n *node) {
	switch n.kind {
	case nPath:
		ck.path(n)
	case nValue:
		ck.value(n)
	case nFunc:
		ck.checkFunction(n)
	}
}

// path resolves n's placeholders and checks its names against the reserved
// words.
func (ck *checker) path(n *node) {
	path, msgs := resolvePath(ck.ctx, n.raw)
	n.path = path
	set(&ck.reserved, msgs.reserved)
	set(&ck.nameVal, msgs.undefined)
}

func (ck *checker) value(n *node) {
	v, ok := ck.ctx.value(n.valName)
	if !ok {
		set(&ck.nameVal, "An expression attribute value used in expression is not defined; attribute value: "+n.valName)
		return
	}
	n.val = v
}

// pathMsgs are the problems found while resolving a path.
type pathMsgs struct{ reserved, undefined string }

// resolvePath turns a path as written into a Path, resolving #placeholders
// through c. A failed placeholder leaves its name empty; the caller reports
// msgs instead of using the path.
func resolvePath(c *Context, raw rawPath) (Path, pathMsgs) {
	var msgs pathMsgs
	if len(raw) > maxPathDepth {
		msgs.undefined = "The document path has too many nesting levels; nesting levels: " + strconv.Itoa(len(raw))
	}
	path := make(Path, len(raw))
	for i, e := range raw {
		switch {
		case e.isIndex:
			path[i] = PathElem{Index: e.index, IsIndex: true}
		case e.placeholder:
			name, ok := c.name(e.text)
			if !ok && msgs.undefined == "" {
				msgs.undefined = "An expression attribute name used in the document path is not defined; attribute name: " + e.text
			}
			path[i] = PathElem{Name: name}
		default:
			if msgs.reserved == "" && isReserved(e.text) {
				msgs.reserved = "Attribute name is a reserved keyword; reserved keyword: " + e.text
			}
			path[i] = PathElem{Name: e.text}
		}
	}
	return path, msgs
}

// checkFunction checks a condition function call and its operands.
func (ck *checker) checkFunction(n *node) {
	for _, a := range n.args {
		ck.operandNode(a)
	}
	ck.misusedFunctions(n.args)
	ck.ops++
	if ck.unknownFn != "" {
		return
	}
	want := conditionFuncArity(n.op)
	if want == 0 {
		if updateFuncArity(n.op) > 0 {
			ck.unknownFn = "The function is not allowed in a condition expression; function: " + n.op
		} else {
			ck.unknownFn = "Invalid function name; function: " + n.op
		}
		return
	}
	if ck.operand != "" {
		return
	}
	if len(n.args) != want {
		ck.operand = "Incorrect number of operands for operator or function; operator or function: " + n.op + ", number of operands: " + strconv.Itoa(len(n.args))
		return
	}
	if want == 2 {
		ck.distinctPaths(n.op, n.args)
	}
	if ck.function != "" {
		return
	}
	switch n.op {
	case fnAttributeExists, fnAttributeNotExists:
		if n.args[0].kind != nPath {
			ck.function = "Operator or function requires a document path; operator or function: " + n.op
		}
	case fnBeginsWith:
		for _, a := range n.args {
			if t := a.typeName(); t != "" && t != "S" && t != "B" {
				ck.function = operandTypeMsg(n.op, t)
				return
			}
		}
	case fnAttributeType:
		t := n.args[1].typeName()
		switch {
		case t == "":
			ck.function = operandTypeMsg(n.op, "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
		case t != "S":
			ck.function = operandTypeMsg(n.op, t)
		case attr.ParseType(n.args[1].val.S) == attr.TypeInvalid:
			ck.function = "Invalid attribute type name found; type: " + n.args[1].val.S + ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
		}
	case fnSize:
		switch t := n.args[0].typeName(); t {
		case "N", "BOOL", "NULL":
			ck.function = operandTypeMsg(n.op, t)
		}
	}
}

func operandTypeMsg(op, typ string) string {
	return "Incorrect operand type for operator or function; operator or function: " + op + ", operand type: " + typ
}

// misusedFunctions reports a function other than size used as an operand:
// the other functions are conditions, not values.
func (ck *checker) misusedFunctions(args []*node) {
	for _, a := range args {
		if a.kind == nFunc && a.op != fnSize {
			set(&ck.misused, "The function is not allowed to be used this way in an expression; function: "+a.op)
			return
		}
	}
}

// misusedSize reports size() used as a condition: it is a value.
func (ck *checker) misusedSize(n *node) {
	if isFuncNamed(n, fnSize) {
		set(&ck.misused, "The function is not allowed to be used this way in an expression; function: size")
	}
}

// distinctPaths reports an operator whose first operand, a path, appears
// again among its other operands (a = a). Values may repeat (:a = :a).
func (ck *checker) distinctPaths(op string, args []*node) {
	if ck.distinct != "" || args[0].kind != nPath {
		return
	}
	for _, a := range args[1:] {
		if a.kind == nPath && a.path.equal(args[0].path) {
			ck.distinct = "The first operand must be distinct from the remaining operands for this operator or function; operator: " + op + ", first operand: " + args[0].path.docString()
			return
		}
	}
}

// orderedTypes reports a value operand of <, <=, >, >= or BETWEEN whose
// type has no order: only N, S and B do.
func (ck *checker) orderedTypes(op string, args []*node) {
	if ck.function != "" {
		return
	}
	for _, a := range args {
		if a.kind != nValue {
			continue
		}
		switch a.val.Type {
		case attr.TypeN, attr.TypeS, attr.TypeB:
		default:
			ck.function = operandTypeMsg(op, a.val.Type.String())
			return
		}
	}
}

// betweenBounds checks BETWEEN's bounds when both are values: same type,
// lower <= upper.
func (ck *checker) betweenBounds(lo, hi *node) {
	if ck.function != "" || lo.kind != nValue || hi.kind != nValue {
		return
	}
	bounds := "lower bound operand: AttributeValue: " + valueText(lo.val) + ", upper bound operand: AttributeValue: " + valueText(hi.val)
	if lo.val.Type != hi.val.Type {
		ck.function = "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds
		return
	}
	if c, ok := attr.Compare(lo.val, hi.val); ok && c > 0 {
		ck.function = "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; " + bounds
	}
}

// valueText prints a scalar value as DynamoDB does in BETWEEN messages:
// {S:abc}, {N:1}, {B:<base64>}.
func valueText(v attr.Value) string {
	var s string
	switch v.Type {
	case attr.TypeS:
		s = v.S
	case attr.TypeN:
		s = v.N
	case attr.TypeB:
		s = base64.StdEncoding.EncodeToString(v.B)
	case attr.TypeBOOL:
		s = strconv.FormatBool(v.BOOL)
	case attr.TypeNULL:
		s = "true"
	}
	return "{" + v.Type.String() + ":" + s + "}"
}

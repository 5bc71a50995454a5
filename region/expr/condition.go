package expr

// Condition is a parsed ConditionExpression or FilterExpression. It holds
// no reference to the Context it was parsed with and is safe for concurrent
// use by Eval.
type Condition struct {
	root *node
}

// conditionKeyword reports the keywords of the condition grammar.
func conditionKeyword(upper string) bool {
	switch upper {
	case "AND", "OR", "NOT", "BETWEEN", "IN":
		return true
	}
	return false
}

// ParseCondition parses a ConditionExpression or FilterExpression (kind is
// KindCondition or KindFilter and appears in error messages), resolving its
// placeholders through c and marking them used. Errors are *Error with
// DynamoDB's message.
func ParseCondition(c *Context, kind, s string) (*Condition, error) {
	root, err := parseConditionTree(c, kind, s)
	if err != nil {
		return nil, err
	}
	return &Condition{root: root}, nil
}

// parseConditionTree parses and checks a condition grammar expression; key
// conditions share it.
func parseConditionTree(c *Context, kind, s string) (*node, error) {
	if err := prepare(kind, s); err != nil {
		return nil, err
	}
	p := newParser(kind, s, conditionKeyword)
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if !root.isCondition() || p.peek().kind != tEOF {
		return nil, p.syntaxError()
	}
	ck := &checker{ctx: c, redundant: p.redundant}
	ck.checkCondition(root)
	ck.misusedSize(root)
	if msg := ck.result(); msg != "" {
		return nil, newError("Invalid %s: %s", kind, msg)
	}
	return root, nil
}

// The grammar, loosest binding first. DynamoDB's precedence is
// OR < AND < NOT < comparisons, BETWEEN, IN and functions.
//
//	or        = and { OR and }
//	and       = not { AND not }
//	not       = NOT not | predicate
//	predicate = primary [ comparator operand
//	                    | BETWEEN operand AND operand
//	                    | IN "(" operand { "," operand } ")" ]
//	primary   = "(" or ")" [ path-tail ] | atom
//	operand   = "(" operand ")" [ path-tail ] | atom
//	atom      = function "(" operand { "," operand } ")" | path | :value
//
// A parenthesised group at the start of a predicate may hold a condition or
// an operand ("(a) = b", "(a = b)"), so primary parses either and the
// callers check which they got, reporting the token after a misplaced
// operand as the syntax error, as DynamoDB does.

func (p *parser) parseOr() (*node, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		if !l.isCondition() {
			return nil, p.syntaxError()
		}
		p.pos++
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if !r.isCondition() {
			return nil, p.syntaxError()
		}
		l = &node{kind: nOr, args: []*node{l, r}}
	}
	return l, nil
}

func (p *parser) parseAnd() (*node, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		if !l.isCondition() {
			return nil, p.syntaxError()
		}
		p.pos++
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		if !r.isCondition() {
			return nil, p.syntaxError()
		}
		l = &node{kind: nAnd, args: []*node{l, r}}
	}
	return l, nil
}

func (p *parser) parseNot() (*node, error) {
	if !p.isKeyword("NOT") {
		return p.parsePredicate()
	}
	p.pos++
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	if !x.isCondition() {
		return nil, p.syntaxError()
	}
	return &node{kind: nNot, args: []*node{x}}, nil
}

func (p *parser) parsePredicate() (*node, error) {
	x, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	var op string
	switch {
	case t.kind >= tEq && t.kind <= tGe:
		op = t.text
	case p.isKeyword("BETWEEN"):
		op = "BETWEEN"
	case p.isKeyword("IN"):
		op = "IN"
	default:
		return x, nil
	}
	if !x.isOperand() {
		return nil, p.syntaxError()
	}
	p.pos++
	switch op {
	case "BETWEEN":
		lo, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("AND") {
			return nil, p.syntaxError()
		}
		p.pos++
		hi, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		return &node{kind: nBetween, op: op, args: []*node{x, lo, hi}}, nil
	case "IN":
		if err := p.expect(tLParen); err != nil {
			return nil, err
		}
		args, err := p.parseOperandList([]*node{x})
		if err != nil {
			return nil, err
		}
		return &node{kind: nIn, op: op, args: args}, nil
	}
	y, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	return &node{kind: nCompare, op: op, args: []*node{x, y}}, nil
}

// parseOperandList parses `operand { "," operand } ")"`, appending to args.
func (p *parser) parseOperandList(args []*node) ([]*node, error) {
	for {
		a, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.peek().kind != tComma {
			break
		}
		p.pos++
	}
	if err := p.expect(tRParen); err != nil {
		return nil, err
	}
	return args, nil
}

func (p *parser) parsePrimary() (*node, error) {
	if p.peek().kind != tLParen {
		return p.parseAtom()
	}
	p.pos++
	inner, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	return p.closeGroup(inner)
}

func (p *parser) parseOperand() (*node, error) {
	if p.peek().kind != tLParen {
		return p.parseAtom()
	}
	p.pos++
	inner, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	return p.closeGroup(inner)
}

// closeGroup consumes the ")" of a parenthesised group. A group whose whole
// content is another group, "((x))", is redundant. A parenthesised path may
// continue: "(a.b).c" is the path a.b.c.
func (p *parser) closeGroup(inner *node) (*node, error) {
	if err := p.expect(tRParen); err != nil {
		return nil, err
	}
	if inner.parens > 0 {
		p.redundant = true
	}
	inner.parens++
	if inner.kind == nPath {
		n := len(inner.raw)
		raw, err := p.parsePathTail(inner.raw)
		if err != nil {
			return nil, err
		}
		if len(raw) > n {
			inner.raw, inner.parens = raw, 0
		}
	}
	return inner, nil
}

// parseAtom parses a function call, a path or a value.
func (p *parser) parseAtom() (*node, error) {
	t := p.peek()
	switch {
	case t.kind == tValue:
		p.pos++
		return &node{kind: nValue, valName: t.text}, nil
	case p.isWord(t) && p.peekAt(1).kind == tLParen:
		p.pos += 2
		args, err := p.parseOperandList(nil)
		if err != nil {
			return nil, err
		}
		return &node{kind: nFunc, op: t.text, args: args}, nil
	}
	raw, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	return &node{kind: nPath, raw: raw}, nil
}

// isFuncNamed reports whether n is a call of the function name.
func isFuncNamed(n *node, name string) bool { return n.kind == nFunc && n.op == name }

// Paths returns the document paths the condition reads, in the order they
// appear, duplicates included. The API layer uses them to reject filters on
// key attributes and nested access into key attributes.
func (cd *Condition) Paths() []Path {
	var out []Path
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == nPath {
			out = append(out, n.path.clone())
		}
		for _, a := range n.args {
			walk(a)
		}
	}
	walk(cd.root)
	return out
}

package expr

import (
	"strconv"
	"strings"

	"github.com/globaltables/globaltables/store/attr"
)

// Update is a parsed UpdateExpression. It holds no reference to the Context
// it was parsed with and is safe for concurrent use by Apply.
type Update struct {
	actions []*action
	// legacy marks an Update translated from AttributeUpdates, whose ADD
	// also appends to lists and whose type errors DynamoDB words
	// differently.
	legacy bool
}

type actionKind uint8

const (
	actSet actionKind = iota
	actRemove
	actAdd
	actDelete
)

func (k actionKind) String() string {
	switch k {
	case actSet:
		return "SET"
	case actRemove:
		return "REMOVE"
	case actAdd:
		return "ADD"
	}
	return "DELETE"
}

// action is one SET, REMOVE, ADD or DELETE action.
type action struct {
	kind actionKind
	raw  rawPath
	path Path
	val  *node // SET: the value expression; ADD, DELETE: the value
}

// section returns the action kind a clause keyword introduces.
func section(upper string) (actionKind, bool) {
	switch upper {
	case "SET":
		return actSet, true
	case "REMOVE":
		return actRemove, true
	case "ADD":
		return actAdd, true
	case "DELETE":
		return actDelete, true
	}
	return 0, false
}

// updateKeyword reports the keywords of the update grammar: the clause
// names, which cannot be attribute names.
func updateKeyword(upper string) bool {
	_, ok := section(upper)
	return ok
}

// ParseUpdate parses an UpdateExpression, resolving its placeholders through
// c and marking them used. Errors are *Error with DynamoDB's message.
func ParseUpdate(c *Context, s string) (*Update, error) {
	if err := prepare(KindUpdate, s); err != nil {
		return nil, err
	}
	p := newParser(KindUpdate, s, updateKeyword)
	u := &Update{}
	var sections []actionKind
	for {
		t := p.peek()
		if t.kind == tEOF && len(sections) > 0 {
			break
		}
		kind, ok := section(strings.ToUpper(t.text))
		if t.kind != tIdent || !ok {
			return nil, p.syntaxError()
		}
		p.pos++
		sections = append(sections, kind)
		for {
			a, err := p.parseAction(kind)
			if err != nil {
				return nil, err
			}
			u.actions = append(u.actions, a)
			if p.peek().kind != tComma {
				break
			}
			p.pos++
		}
	}
	if msg := checkUpdate(c, u, sections); msg != "" {
		return nil, newError("Invalid %s: %s", KindUpdate, msg)
	}
	return u, nil
}

// parseAction parses one action of a section:
//
//	SET     path "=" set-value
//	REMOVE  path
//	ADD     path :value
//	DELETE  path :value
func (p *parser) parseAction(kind actionKind) (*action, error) {
	raw, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	a := &action{kind: kind, raw: raw}
	switch kind {
	case actSet:
		if err := p.expect(tEq); err != nil {
			return nil, err
		}
		if a.val, err = p.parseSetValue(); err != nil {
			return nil, err
		}
	case actAdd, actDelete:
		t := p.peek()
		if t.kind != tValue {
			return nil, p.syntaxError()
		}
		p.pos++
		a.val = &node{kind: nValue, valName: t.text}
	}
	return a, nil
}

// parseSetValue parses the right-hand side of a SET action:
//
//	set-value = term [ ("+" | "-") operand-p ]
//	term      = "(" set-value ")" | operand
//	operand-p = "(" operand ")" | operand
//	operand   = function "(" operand-p { "," operand-p } ")" | path | :value
//
// At most one + or - is allowed, and a parenthesised path cannot continue:
// "(a.b).c" is a syntax error here, unlike in conditions.
func (p *parser) parseSetValue() (*node, error) {
	var first *node
	var err error
	grouped := false
	if p.peek().kind == tLParen {
		p.pos++
		if first, err = p.parseSetValue(); err != nil {
			return nil, err
		}
		if err := p.expect(tRParen); err != nil {
			return nil, err
		}
		grouped = true
	} else if first, err = p.parseUpdateOperand(); err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tPlus && t.kind != tMinus {
		return first, nil
	}
	if first.kind == nArith && grouped {
		return nil, p.syntaxError() // (a + b) + c: one operator only
	}
	p.pos++
	second, err := p.parseUpdateOperandP()
	if err != nil {
		return nil, err
	}
	return &node{kind: nArith, op: t.text, args: []*node{first, second}}, nil
}

// parseUpdateOperandP parses an operand, optionally in one pair of
// parentheses.
func (p *parser) parseUpdateOperandP() (*node, error) {
	if p.peek().kind != tLParen {
		return p.parseUpdateOperand()
	}
	p.pos++
	n, err := p.parseUpdateOperand()
	if err != nil {
		return nil, err
	}
	if err := p.expect(tRParen); err != nil {
		return nil, err
	}
	return n, nil
}

func (p *parser) parseUpdateOperand() (*node, error) {
	t := p.peek()
	switch {
	case t.kind == tValue:
		p.pos++
		return &node{kind: nValue, valName: t.text}, nil
	case p.isWord(t) && p.peekAt(1).kind == tLParen:
		p.pos += 2
		var args []*node
		for {
			a, err := p.parseUpdateOperandP()
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
		return &node{kind: nFunc, op: t.text, args: args}, nil
	}
	raw, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	return &node{kind: nPath, raw: raw}, nil
}

// updateChecker holds the error slots of an update expression. DynamoDB's
// order (from dynalite's tests against the real service) is: reserved word,
// unknown function, repeated section, undefined name, undefined value,
// overlapping paths, conflicting paths, ADD/DELETE operand type, function
// operands. Each slot keeps its first message.
type updateChecker struct {
	ctx                                         *Context
	reserved, unknownFn, section, names, values string
	overlap, conflict, operand, function        string
	ops                                         int
}

func checkUpdate(c *Context, u *Update, sections []actionKind) string {
	ck := &updateChecker{ctx: c}
	var paths []Path
	for _, a := range u.actions {
		a.path = ck.path(a.raw)
		if a.val != nil {
			ck.operandNode(a.val)
		}
		if ck.names == "" {
			ck.overlaps(paths, a.path)
		}
		paths = append(paths, a.path)
		if a.kind == actAdd || a.kind == actDelete {
			ck.addDeleteOperand(a.kind, a.val)
		}
	}
	seen := map[actionKind]bool{}
	for _, k := range sections {
		if seen[k] {
			set(&ck.section, `The "`+k.String()+`" section can only be used once in an update expression;`)
		}
		seen[k] = true
	}
	for _, m := range []string{ck.reserved, ck.unknownFn, ck.section, ck.names, ck.values, ck.overlap, ck.conflict, ck.operand, ck.function} {
		if m != "" {
			return m
		}
	}
	if ck.ops > maxOperators {
		return "The expression contains too many operators; operator count: " + strconv.Itoa(maxOperators+1)
	}
	return ""
}

func (ck *updateChecker) path(raw rawPath) Path {
	path, msgs := resolvePath(ck.ctx, raw)
	set(&ck.reserved, msgs.reserved)
	set(&ck.names, msgs.undefined)
	return path
}

func (ck *updateChecker) operandNode(n *node) {
	switch n.kind {
	case nPath:
		n.path = ck.path(n.raw)
	case nValue:
		v, ok := ck.ctx.value(n.valName)
		if !ok {
			set(&ck.values, "An expression attribute value used in expression is not defined; attribute value: "+n.valName)
			return
		}
		n.val = v
	case nFunc, nArith:
		for _, a := range n.args {
			ck.operandNode(a)
		}
		ck.ops++
		ck.checkFunction(n)
	}
}

// checkFunction checks the operands of if_not_exists, list_append, + and -.
func (ck *updateChecker) checkFunction(n *node) {
	if ck.unknownFn != "" {
		return
	}
	if n.kind == nFunc && updateFuncArity(n.op) == 0 {
		if conditionFuncArity(n.op) > 0 {
			ck.unknownFn = "The function is not allowed in an update expression; function: " + n.op
		} else {
			ck.unknownFn = "Invalid function name; function: " + n.op
		}
		return
	}
	if ck.function != "" {
		return
	}
	if len(n.args) != 2 {
		ck.function = "Incorrect number of operands for operator or function; operator or function: " + n.op + ", number of operands: " + strconv.Itoa(len(n.args))
		return
	}
	want := "N"
	switch n.op {
	case fnIfNotExists:
		if n.args[0].kind != nPath {
			ck.function = "Operator or function requires a document path; operator or function: " + n.op
		} else if n.args[1].kind == nPath && n.args[1].path.equal(n.args[0].path) {
			ck.function = "The first operand must be distinct from the remaining operands for this operator or function; operator: " + n.op + ", first operand: " + n.args[0].path.docString()
		}
		return
	case fnListAppend:
		want = "L"
		for _, a := range n.args {
			if isFuncNamed(a, fnListAppend) {
				// DynamoDB parses a nested list_append but refuses it;
				// if_not_exists inside list_append is fine.
				ck.function = "The function is not allowed to be used this way in an expression; function: " + fnListAppend
				return
			}
		}
	}
	for _, a := range n.args {
		if a.kind == nValue && a.val.Type.String() != want {
			ck.function = operandTypeMsg(n.op, a.val.Type.String())
			return
		}
	}
}

// addDeleteOperand checks the value of an ADD (a number or a set) or a
// DELETE (a set).
func (ck *updateChecker) addDeleteOperand(kind actionKind, v *node) {
	if ck.operand != "" || v.val.Type == attr.TypeInvalid {
		return
	}
	var name string
	switch v.val.Type {
	case attr.TypeSS, attr.TypeNS, attr.TypeBS:
		return
	case attr.TypeN:
		if kind == actAdd {
			return
		}
		name = "NUMBER"
	case attr.TypeS:
		name = "STRING"
	case attr.TypeB:
		name = "BINARY"
	case attr.TypeBOOL:
		name = "BOOLEAN"
	case attr.TypeNULL:
		name = "NULL"
	case attr.TypeL:
		name = "LIST"
	case attr.TypeM:
		name = "MAP"
	}
	ck.operand = "Incorrect operand type for operator or function; operator: " + kind.String() + ", operand type: " + name
}

// overlaps checks p against the paths of earlier actions. Two paths overlap
// when one is a prefix of the other (or they are equal); they conflict
// when, at the first step where they differ, one has a name and the other
// an index. An overlap is reported in preference to a conflict, and each as
// the first pair found, earlier path first.
func (ck *updateChecker) overlaps(earlier []Path, p Path) {
	for _, q := range earlier {
		switch pathRelation(q, p) {
		case pathsOverlap:
			set(&ck.overlap, overlapMsg(q, p))
			return
		case pathsConflict:
			set(&ck.conflict, conflictMsg(q, p))
		}
	}
}

type relation uint8

const (
	pathsDisjoint relation = iota
	pathsOverlap
	pathsConflict
)

func pathRelation(a, b Path) relation {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].IsIndex != b[i].IsIndex {
			return pathsConflict
		}
		if a[i] != b[i] {
			return pathsDisjoint
		}
	}
	return pathsOverlap
}

func overlapMsg(a, b Path) string {
	return "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: " + a.docString() + ", path two: " + b.docString()
}

func conflictMsg(a, b Path) string {
	return "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: " + a.docString() + ", path two: " + b.docString()
}

// Paths returns the paths the update sets, removes, adds to or deletes
// from, in the order they appear. ReturnValues UPDATED_OLD and UPDATED_NEW
// project the item onto them.
func (u *Update) Paths() []Path {
	out := make([]Path, len(u.actions))
	for i, a := range u.actions {
		out[i] = a.path.clone()
	}
	return out
}

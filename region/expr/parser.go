package expr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Expression kinds, as DynamoDB names them in "Invalid <kind>: ..." messages.
const (
	KindCondition    = "ConditionExpression"
	KindFilter       = "FilterExpression"
	KindKeyCondition = "KeyConditionExpression"
	KindUpdate       = "UpdateExpression"
	KindProjection   = "ProjectionExpression"
)

// rawElem is one step of a document path as written, before placeholders
// are resolved: a name, a #placeholder or a list index.
type rawElem struct {
	text        string // the name or placeholder as written
	index       int
	isIndex     bool
	placeholder bool
}

type rawPath []rawElem

// parser is the recursive-descent machinery the condition, update and
// projection grammars share: a token cursor, document paths, and
// DynamoDB-style syntax errors.
type parser struct {
	src  string
	toks []token
	pos  int
	kind string
	// keyword reports whether an identifier is a keyword of this grammar,
	// which can then be neither a path name nor a function name.
	keyword func(upper string) bool
	// redundant records "((x))": DynamoDB rejects redundant parentheses, but
	// only once the whole expression has parsed.
	redundant bool
}

// prepare applies the checks DynamoDB makes before parsing: size, then
// emptiness. An expression of only whitespace counts as empty.
func prepare(kind, s string) error {
	if len(s) > maxExpressionBytes {
		return newError("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", kind, len(s))
	}
	if strings.Trim(s, " \t\r\n") == "" {
		return newError("Invalid %s: The expression can not be empty;", kind)
	}
	return nil
}

func newParser(kind, src string, keyword func(string) bool) *parser {
	return &parser{src: src, toks: lex(src), kind: kind, keyword: keyword}
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}

// isKeyword reports whether the current token is the keyword kw (upper
// case).
func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

// isWord reports whether t is an identifier that is not a keyword.
func (p *parser) isWord(t token) bool {
	return t.kind == tIdent && (p.keyword == nil || !p.keyword(strings.ToUpper(t.text)))
}

func (p *parser) expect(k tokKind) error {
	if p.peek().kind != k {
		return p.syntaxError()
	}
	p.pos++
	return nil
}

// syntaxError reports the current token the way DynamoDB does:
//
//	Syntax error; token: "b", near: "a b c"
//
// "near" is the source from the start of the token before the bad one to
// the end of the token after it; at the end of input the token is <EOF> and
// "near" is the last token.
func (p *parser) syntaxError() *Error {
	bad := p.toks[p.pos]
	start, end := bad.start, bad.end
	if p.pos > 0 {
		start = p.toks[p.pos-1].start
	}
	text := bad.text
	if bad.kind == tEOF {
		text = "<EOF>"
		if p.pos > 0 {
			end = p.toks[p.pos-1].end
		}
	} else if nx := p.toks[p.pos+1]; nx.kind != tEOF {
		end = nx.end
	}
	return &Error{Message: "Invalid " + p.kind + ": Syntax error; token: \"" + clean(text) + "\", near: \"" + clean(p.src[start:end]) + "\""}
}

// clean replaces invalid UTF-8 so that a message quoting the input is valid
// JSON text. DynamoDB quotes the input as it is, without escaping.
func clean(s string) string { return strings.ToValidUTF8(s, string(utf8.RuneError)) }

// parsePath parses a document path: a name or #placeholder, then any
// number of .name, .#placeholder and [index] steps.
func (p *parser) parsePath() (rawPath, error) {
	first, err := p.pathName()
	if err != nil {
		return nil, err
	}
	return p.parsePathTail(rawPath{first})
}

// parsePathTail parses the .name and [index] steps that follow a path.
func (p *parser) parsePathTail(path rawPath) (rawPath, error) {
	for {
		switch p.peek().kind {
		case tDot:
			p.pos++
			e, err := p.pathName()
			if err != nil {
				return nil, err
			}
			path = append(path, e)
		case tLBrack:
			p.pos++
			t := p.peek()
			if t.kind != tNumber {
				return nil, p.syntaxError()
			}
			p.pos++
			n, err := strconv.Atoi(t.text)
			if err != nil || n > maxListIndex {
				return nil, newError("Invalid %s: List index is not within the allowable range; index: %s", p.kind, t.text)
			}
			if err := p.expect(tRBrack); err != nil {
				return nil, err
			}
			path = append(path, rawElem{text: t.text, index: n, isIndex: true})
		default:
			return path, nil
		}
	}
}

// maxListIndex bounds list indexes so they fit an int everywhere. DynamoDB
// items are at most 400 KB, so no list comes close.
const maxListIndex = 1<<31 - 1

// pathName parses one name step: an identifier or a #placeholder.
func (p *parser) pathName() (rawElem, error) {
	t := p.peek()
	switch {
	case t.kind == tName:
		p.pos++
		return rawElem{text: t.text, placeholder: true}, nil
	case p.isWord(t):
		p.pos++
		return rawElem{text: t.text}, nil
	}
	return rawElem{}, p.syntaxError()
}

package expr

import (
	"unicode/utf8"
)

// tokKind classifies a token. Keywords are not separate kinds: which words
// are keywords depends on the expression type (AND is a keyword in a
// condition, a reserved attribute name in an update), so the parsers test
// identifiers for them.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // [A-Za-z_][A-Za-z0-9_]*
	tName            // #[A-Za-z0-9_]+, an expression attribute name
	tValue           // :[A-Za-z0-9_]+, an expression attribute value
	tNumber          // [0-9]+, only valid as a list index
	tLParen          // (
	tRParen          // )
	tLBrack          // [
	tRBrack          // ]
	tDot             // .
	tComma           // ,
	tEq              // =
	tNe              // <>
	tLt              // <
	tLe              // <=
	tGt              // >
	tGe              // >=
	tPlus            // +
	tMinus           // -
	tIllegal         // any other character, including a bare # or :
)

// token is one lexeme with its byte span in the source, which syntax errors
// quote.
type token struct {
	kind       tokKind
	text       string
	start, end int
}

// lex splits s into tokens, ending with a tEOF token. It never fails:
// characters outside the language become tIllegal tokens, which no grammar
// accepts, so the parser reports them as DynamoDB does ("Syntax error;
// token: ...") with the surrounding tokens as context.
func lex(s string) []token {
	toks := make([]token, 0, len(s)/3+1)
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		kind := tIllegal
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isIdentStart(c):
			i = scanWord(s, i+1)
			kind = tIdent
		case isDigit(c):
			for i++; i < len(s) && isDigit(s[i]); i++ {
			}
			kind = tNumber
		case c == '#' || c == ':':
			j := scanWord(s, i+1)
			if j == i+1 {
				i++ // a bare # or : is not a placeholder
				break
			}
			i = j
			kind = tValue
			if c == '#' {
				kind = tName
			}
		case c == '<':
			i++
			kind = tLt
			if i < len(s) && s[i] == '>' {
				i, kind = i+1, tNe
			} else if i < len(s) && s[i] == '=' {
				i, kind = i+1, tLe
			}
		case c == '>':
			i++
			kind = tGt
			if i < len(s) && s[i] == '=' {
				i, kind = i+1, tGe
			}
		default:
			i++
			switch c {
			case '(':
				kind = tLParen
			case ')':
				kind = tRParen
			case '[':
				kind = tLBrack
			case ']':
				kind = tRBrack
			case '.':
				kind = tDot
			case ',':
				kind = tComma
			case '=':
				kind = tEq
			case '+':
				kind = tPlus
			case '-':
				kind = tMinus
			default:
				// One whole character, so a syntax error quotes "ü" rather
				// than half of it. Invalid UTF-8 yields a 1-byte token.
				if c >= utf8.RuneSelf {
					_, size := utf8.DecodeRuneInString(s[start:])
					i = start + size
				}
			}
		}
		toks = append(toks, token{kind: kind, text: s[start:i], start: start, end: i})
	}
	return append(toks, token{kind: tEOF, start: len(s), end: len(s)})
}

// isIdentStart reports the characters that start a name: letters only. An
// underscore may follow but not start one, in every grammar: DynamoDB
// reports "SET _a = :v" as a syntax error at the token "_", so "_" is a
// token of its own.
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isWordChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '_' }

// scanWord returns the index after the run of word characters from i.
func scanWord(s string, i int) int {
	for i < len(s) && isWordChar(s[i]) {
		i++
	}
	return i
}

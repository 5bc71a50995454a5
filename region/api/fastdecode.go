package api

import (
	"encoding/json"

	"github.com/globaltables/globaltables/store/attr"
)

// fastField is one member a fast decode may fill: exactly one of str, b and
// item is set.
type fastField struct {
	name string
	str  **string
	b    **bool
	item *attr.Item
}

// decodeFast decodes the request bodies the SDKs send for the hottest
// operations (GetItem, PutItem) without encoding/json's reflection: a JSON
// object whose members are all among fields, named exactly, each at most
// once, with plain ASCII strings (no escapes), true or false, and items. It
// reports false, having decided nothing, for any other body, including every
// invalid one; the caller then decodes with decode, which gives DynamoDB's
// errors. On a body it accepts it fills fields exactly as json.Unmarshal
// would (FuzzDecodeFast checks that), so a request's outcome does not
// depend on which path decoded it. It may fill some fields before it gives
// up: the caller decodes into a fresh value.
func decodeFast(body []byte, fields []fastField) bool {
	// Invalid JSON anywhere is a SerializationException: leave it to decode.
	// Validating first also lets the scan below assume well-formed input.
	if !json.Valid(body) {
		return false
	}
	var seen uint32 // bit i: fields[i] was set
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipWS(body, i+1)
	if i < len(body) && body[i] == '}' {
		return true
	}
	for {
		key, next, ok := plainString(body, i)
		if !ok {
			return false
		}
		f := -1
		for j := range fields {
			if fields[j].name == key {
				f = j
				break
			}
		}
		if f < 0 || f >= 32 || seen&(1<<f) != 0 {
			return false // unknown (or not exactly named), or repeated
		}
		seen |= 1 << f
		i = skipWS(body, next)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		i = skipWS(body, i+1)
		if i >= len(body) {
			return false
		}
		switch fd := fields[f]; {
		case fd.str != nil:
			s, next, ok := plainString(body, i)
			if !ok {
				return false
			}
			*fd.str, i = &s, next
		case fd.b != nil:
			var v bool
			switch {
			case hasPrefix(body[i:], "true"):
				v, i = true, i+4
			case hasPrefix(body[i:], "false"):
				v, i = false, i+5
			default:
				return false
			}
			*fd.b = &v
		case fd.item != nil:
			if body[i] != '{' {
				return false
			}
			end := valueEnd(body, i)
			var it attr.Item
			if it.UnmarshalJSON(body[i:end]) != nil {
				return false
			}
			*fd.item, i = it, end
		default:
			return false
		}
		i = skipWS(body, i)
		if i >= len(body) {
			return false
		}
		switch body[i] {
		case ',':
			i = skipWS(body, i+1)
		case '}':
			return true // json.Valid: only whitespace follows
		default:
			return false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// plainString reads the JSON string at b[i] if it is printable ASCII
// without escapes (so that its bytes are its value), returning it and the
// index after its closing quote.
func plainString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", i, false
		}
	}
	return "", i, false
}

// valueEnd returns the index just after the object or array that starts at
// b[i], in valid JSON.
func valueEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(b)
}

package attr

import (
	"encoding/base64"
	"errors"
	"unicode/utf8"
)

// errMarshalInvalid is returned by MarshalJSON for a value (or a member of
// one) with no type: DynamoDB JSON has no rendering for it.
var errMarshalInvalid = errors.New("attr: cannot marshal a value of invalid type")

// MarshalJSON encodes v in DynamoDB JSON.
func (v Value) MarshalJSON() ([]byte, error) {
	if !typesValid(&v) {
		return nil, errMarshalInvalid
	}
	return AppendJSON(nil, v), nil
}

// MarshalJSON encodes it in DynamoDB JSON, attributes in name order.
func (it Item) MarshalJSON() ([]byte, error) {
	for _, v := range it {
		if !typesValid(&v) {
			return nil, errMarshalInvalid
		}
	}
	return AppendItemJSON(nil, it), nil
}

func typesValid(v *Value) bool {
	switch v.Type {
	case TypeM:
		for _, x := range v.M {
			if !typesValid(&x) {
				return false
			}
		}
	case TypeL:
		for i := range v.L {
			if !typesValid(&v.L[i]) {
				return false
			}
		}
	case TypeInvalid:
		return false
	default:
		return v.Type <= TypeBS
	}
	return true
}

// AppendJSON appends v in DynamoDB JSON to dst: the fast encoder behind the
// HTTP layer's responses. Map keys are written in byte order, so the output
// is deterministic. A value of invalid type is written as {}.
func AppendJSON(dst []byte, v Value) []byte {
	switch v.Type {
	case TypeS:
		dst = append(dst, `{"S":`...)
		dst = appendJSONString(dst, v.S)
	case TypeN:
		dst = append(dst, `{"N":`...)
		dst = appendJSONString(dst, v.N)
	case TypeB:
		dst = append(dst, `{"B":`...)
		dst = appendBase64(dst, v.B)
	case TypeBOOL:
		if v.BOOL {
			return append(dst, `{"BOOL":true}`...)
		}
		return append(dst, `{"BOOL":false}`...)
	case TypeNULL:
		return append(dst, `{"NULL":true}`...)
	case TypeM:
		dst = append(dst, `{"M":`...)
		dst = appendJSONMap(dst, v.M)
	case TypeL:
		dst = append(dst, `{"L":[`...)
		for i := range v.L {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, v.L[i])
		}
		dst = append(dst, ']')
	case TypeSS:
		dst = append(dst, `{"SS":`...)
		dst = appendJSONStrings(dst, v.SS)
	case TypeNS:
		dst = append(dst, `{"NS":`...)
		dst = appendJSONStrings(dst, v.NS)
	case TypeBS:
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.BS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendBase64(dst, b)
		}
		dst = append(dst, ']')
	default:
		return append(dst, "{}"...)
	}
	return append(dst, '}')
}

// AppendItemJSON appends it in DynamoDB JSON to dst, attributes in name
// order.
func AppendItemJSON(dst []byte, it Item) []byte {
	return appendJSONMap(dst, it)
}

func appendJSONMap(dst []byte, m map[string]Value) []byte {
	dst = append(dst, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSON(dst, m[k])
	}
	return append(dst, '}')
}

func appendJSONStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. It escapes what JSON requires
// plus U+2028 and U+2029 (which break JavaScript), and writes invalid UTF-8
// as U+FFFD, as encoding/json does; it does not escape <, > and &.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

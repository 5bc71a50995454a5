package attr

import (
	"encoding/base64"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The wire JSON decoder: a hand-written scanner over the bytes, because it
// decodes every item of every request. It rejects malformed JSON and JSON of
// the wrong shape with KindSerialization errors, and reports DynamoDB's rule
// violations with KindValidation errors.
//
// DynamoDB parses the whole request before validating it, so a
// serialization error anywhere wins over a validation error anywhere. The
// decoder therefore records the first validation error (in document order)
// and keeps scanning; it returns a serialization error as soon as it meets
// one, and the recorded validation error only once the input is complete.
// The one exception is nesting beyond MaxNesting, reported at once so that
// hostile input cannot drive the recursion deep.
//
// The messages for values of the wrong JSON type depend on where the value
// sits, as DynamoDB's (Coral's) do; they are taken from dynalite's test
// helpers, which record the real service's responses.

// Serialization messages. javaAV is DynamoDB's Java class for an attribute
// value.
const (
	javaAV = "com.amazonaws.dynamodb.v20120810.AttributeValue"

	msgStartOfMap      = "Start of structure or map found where not expected"
	msgFieldType       = "Unexpected field type"
	msgValueType       = "Unexpected value type in payload"
	msgValueList       = "Unrecognized collection type class " + javaAV
	msgMapList         = "Unrecognized collection type java.util.Map<java.lang.String, " + javaAV + ">"
	msgStringList      = "Unrecognized collection type class java.lang.String"
	msgBoolList        = "Unrecognized collection type class java.lang.Boolean"
	msgBlobList        = "Unrecognized collection type class java.nio.ByteBuffer"
	msgBlobScalar      = "only base-64-encoded strings are convertible to bytes"
	msgBoolToken       = "Unexpected token received from parser"
	msgBase64Length    = "Base64 encoded length is expected a multiple of 4 bytes but found: "
	msgBase64LastChar  = "Invalid last non-pad Base64 character dectected" // sic
	msgMaxJSONDepth    = "JSON nested too deeply"
	msgInvalidUTF8     = "Invalid UTF-8 in string"
	maxSkipDepth       = 10000
	tokenInteger       = "NUMBER_VALUE"
	tokenDecimal       = "DECIMAL_VALUE"
	tokenTrue          = "TRUE_VALUE"
	tokenFalse         = "FALSE_VALUE"
	cannotConvertTo    = " cannot be converted to "
	javaStringTypeName = "String"
	javaBoolTypeName   = "Boolean"
)

// slot says what DynamoDB expects at a position in the JSON; it picks the
// message for a value of the wrong JSON type.
type slot uint8

const (
	slotItem   slot = iota // Map<String, AttributeValue>: an item, M's value
	slotValue              // an AttributeValue inside a map or list
	slotString             // S, N, members of SS and NS
	slotBlob               // B, members of BS
	slotBool               // BOOL, NULL
	slotList               // SS, NS, BS, L
)

// tokenKind classifies the next JSON token.
type tokenKind uint8

const (
	tokInvalid tokenKind = iota
	tokObject
	tokArray
	tokString
	tokInteger
	tokDecimal
	tokTrue
	tokFalse
	tokNull
)

type jsonDecoder struct {
	data []byte
	str  string // data as a string: unescaped strings are substrings of it
	pos  int
	verr error  // first validation error, in document order
	buf  []byte // scratch for unescaping

	// Scratch stacks: list and set members are pushed here while their
	// array is read, then copied once into a slice of the exact size.
	// Nested lists use the stack above their parent's members.
	vals []Value
	strs []string
}

func newJSONDecoder(b []byte) *jsonDecoder {
	return &jsonDecoder{data: b, str: string(b)}
}

// UnmarshalJSON decodes one DynamoDB JSON attribute value, such as
// {"S":"x"}, validating it fully. JSON null leaves v unchanged, as
// encoding/json expects of Unmarshalers. Errors are *Error values.
//
// A JSON scalar or array where the value's object should be is reported
// with the message DynamoDB uses for map and list members ("Unexpected value
// type in payload").
func (v *Value) UnmarshalJSON(b []byte) error {
	d := newJSONDecoder(b)
	d.ws()
	if d.literalNull() {
		return d.end()
	}
	out, err := d.value(0)
	if err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return err
	}
	*v = out
	return nil
}

// UnmarshalJSON decodes an item in DynamoDB JSON ({"name":{"S":"x"},...}),
// validating every value. It replaces *it; JSON null leaves it unchanged.
// Errors are *Error values.
func (it *Item) UnmarshalJSON(b []byte) error {
	d := newJSONDecoder(b)
	d.ws()
	if d.literalNull() {
		return d.end()
	}
	m, err := d.attrMap(0)
	if err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return err
	}
	*it = m
	return nil
}

// end checks that only whitespace follows, then reports the recorded
// validation error, if any.
func (d *jsonDecoder) end() error {
	d.ws()
	if d.pos != len(d.data) {
		return d.syntaxError("unexpected data after the top-level value")
	}
	return d.verr
}

// invalid records a validation error unless an earlier one was recorded.
func (d *jsonDecoder) invalid(err error) {
	if d.verr == nil && err != nil {
		d.verr = err
	}
}

func (d *jsonDecoder) syntaxError(what string) *Error {
	if d.pos >= len(d.data) {
		return serializationError("Malformed JSON: unexpected end of input")
	}
	return serializationError("Malformed JSON at offset " + strconv.Itoa(d.pos) + ": " + what)
}

func (d *jsonDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) expect(c byte) error {
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return nil
	}
	return d.syntaxError("expected '" + string(c) + "'")
}

// literalNull consumes a null literal if one is next.
func (d *jsonDecoder) literalNull() bool {
	if len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// peek classifies the next token without consuming it. Numbers are scanned
// to tell integers from decimals, as DynamoDB's messages do.
func (d *jsonDecoder) peek() tokenKind {
	if d.pos >= len(d.data) {
		return tokInvalid
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return tokObject
	case c == '[':
		return tokArray
	case c == '"':
		return tokString
	case c == 't':
		return tokTrue
	case c == 'f':
		return tokFalse
	case c == 'n':
		return tokNull
	case c == '-' || isDigit(c):
		save := d.pos
		isInt, ok := d.number()
		d.pos = save
		switch {
		case !ok:
			return tokInvalid
		case isInt:
			return tokInteger
		default:
			return tokDecimal
		}
	}
	return tokInvalid
}

// mismatch returns the serialization error for a token of kind k where s
// is expected. A malformed token is a syntax error instead.
func (d *jsonDecoder) mismatch(s slot, k tokenKind) *Error {
	if k == tokInvalid {
		return d.syntaxError("invalid value")
	}
	if k == tokTrue || k == tokFalse {
		if err := d.literal(); err != nil {
			return err
		}
	}
	switch s {
	case slotItem:
		if k == tokArray {
			return serializationError(msgMapList)
		}
		return serializationError(msgFieldType)
	case slotValue:
		if k == tokArray {
			return serializationError(msgValueList)
		}
		return serializationError(msgValueType)
	case slotList:
		if k == tokObject {
			return serializationError(msgStartOfMap)
		}
		return serializationError(msgFieldType)
	case slotBlob:
		switch k {
		case tokObject:
			return serializationError(msgStartOfMap)
		case tokArray:
			return serializationError(msgBlobList)
		}
		return serializationError(msgBlobScalar)
	case slotBool:
		switch k {
		case tokObject:
			return serializationError(msgStartOfMap)
		case tokArray:
			return serializationError(msgBoolList)
		case tokString:
			return serializationError(msgBoolToken)
		}
		return serializationError(tokenName(k) + cannotConvertTo + javaBoolTypeName)
	default: // slotString
		switch k {
		case tokObject:
			return serializationError(msgStartOfMap)
		case tokArray:
			return serializationError(msgStringList)
		}
		return serializationError(tokenName(k) + cannotConvertTo + javaStringTypeName)
	}
}

func tokenName(k tokenKind) string {
	switch k {
	case tokInteger:
		return tokenInteger
	case tokDecimal:
		return tokenDecimal
	case tokTrue:
		return tokenTrue
	case tokFalse:
		return tokenFalse
	}
	return "STRING_VALUE"
}

// literal checks the true/false/null literal at pos, without consuming it.
func (d *jsonDecoder) literal() *Error {
	rest := d.str[d.pos:]
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(rest) >= len(lit) && rest[:len(lit)] == lit {
			return nil
		}
	}
	return d.syntaxError("invalid literal")
}

// boolean reads true or false. DynamoDB also accepts the strings "true" and
// "false" in any case for its Boolean fields.
func (d *jsonDecoder) boolean() (bool, error) {
	d.ws()
	switch k := d.peek(); k {
	case tokTrue, tokFalse:
		if err := d.literal(); err != nil {
			return false, err
		}
		if k == tokTrue {
			d.pos += 4
			return true, nil
		}
		d.pos += 5
		return false, nil
	case tokString:
		s, err := d.string()
		if err != nil {
			return false, err
		}
		switch {
		case equalFoldASCII(s, "true"):
			return true, nil
		case equalFoldASCII(s, "false"):
			return false, nil
		}
		return false, serializationError(msgBoolToken)
	default:
		return false, d.mismatch(slotBool, k)
	}
}

func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// number scans a JSON number at pos, reporting whether it is an integer
// (no fraction, no exponent).
func (d *jsonDecoder) number() (isInt, ok bool) {
	b, i := d.data, d.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		if i == len(b) || !isDigit(b[i]) {
			return false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) || !isDigit(b[i]) {
			return false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	d.pos = i
	return isInt, true
}

// string reads a JSON string at pos (which must be '"'). Strings without
// escapes are substrings of the input; invalid UTF-8 is rejected.
func (d *jsonDecoder) string() (string, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.syntaxError("expected a string")
	}
	d.pos++
	start := d.pos
	ascii := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := d.str[start:d.pos]
			d.pos++
			if !ascii && !utf8.ValidString(s) {
				return "", serializationError(msgInvalidUTF8)
			}
			return s, nil
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return "", d.syntaxError("control character in string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.pos++
	}
	return "", d.syntaxError("unterminated string")
}

// unescape finishes a string containing escapes; pos is at the first
// backslash and start at the first byte of the string's contents.
func (d *jsonDecoder) unescape(start int) (string, error) {
	out := append(d.buf[:0], d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = out
			if !utf8.Valid(out) {
				return "", serializationError(msgInvalidUTF8)
			}
			return string(out), nil
		case c < 0x20:
			return "", d.syntaxError("control character in string")
		case c != '\\':
			out = append(out, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			d.pos = len(d.data)
			return "", d.syntaxError("unterminated string")
		}
		d.pos++
		switch e := d.data[d.pos]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4(d.pos + 1)
			if !ok {
				return "", d.syntaxError("invalid \\u escape")
			}
			d.pos += 4
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by an escaped low one is one
				// character; a lone surrogate becomes U+FFFD, as in
				// encoding/json.
				r2 := rune(-1)
				if d.pos+6 < len(d.data) && d.data[d.pos+1] == '\\' && d.data[d.pos+2] == 'u' {
					if x, ok := d.hex4(d.pos + 3); ok {
						r2 = x
					}
				}
				if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
					r = c
					d.pos += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", d.syntaxError("invalid escape")
		}
		d.pos++
	}
	return "", d.syntaxError("unterminated string")
}

func (d *jsonDecoder) hex4(i int) (rune, bool) {
	if i+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// objectStart consumes '{' and reports whether the object is empty (and
// then consumes the '}' too).
func (d *jsonDecoder) objectStart() (empty bool) {
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return true
	}
	return false
}

// key reads an object key and the colon after it.
func (d *jsonDecoder) key() (string, error) {
	d.ws()
	k, err := d.string()
	if err != nil {
		return "", err
	}
	return k, d.expect(':')
}

// next consumes the ',' or '}' (or ']') after a member and reports whether
// another member follows.
func (d *jsonDecoder) next(close byte) (bool, error) {
	d.ws()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			return true, nil
		case close:
			d.pos++
			return false, nil
		}
	}
	return false, d.syntaxError("expected ',' or '" + string(close) + "'")
}

// attrMap reads a Map<String, AttributeValue>: an item, or the contents of
// M. depth is the nesting level of the map's values.
func (d *jsonDecoder) attrMap(depth int) (map[string]Value, error) {
	d.ws()
	if k := d.peek(); k != tokObject {
		return nil, d.mismatch(slotItem, k)
	}
	m := make(map[string]Value)
	if d.objectStart() {
		return m, nil
	}
	for {
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.ws()
		var v Value
		if d.literalNull() {
			d.invalid(ErrValueEmpty)
		} else if v, err = d.value(depth); err != nil {
			return nil, err
		}
		m[k] = v
		more, err := d.next('}')
		if err != nil {
			return nil, err
		}
		if !more {
			return m, nil
		}
	}
}

// fieldType maps AttributeValue's member names to types.
func fieldType(k string) Type {
	switch k {
	case "S":
		return TypeS
	case "N":
		return TypeN
	case "B":
		return TypeB
	case "BOOL":
		return TypeBOOL
	case "NULL":
		return TypeNULL
	case "M":
		return TypeM
	case "L":
		return TypeL
	case "SS":
		return TypeSS
	case "NS":
		return TypeNS
	case "BS":
		return TypeBS
	}
	return TypeInvalid
}

// value reads one AttributeValue object. depth is its nesting level (0 for
// an item's attribute).
func (d *jsonDecoder) value(depth int) (Value, error) {
	d.ws()
	if k := d.peek(); k != tokObject {
		return Value{}, d.mismatch(slotValue, k)
	}
	var v Value
	var set uint16 // bit per type present with a non-null value
	if d.objectStart() {
		d.invalid(ErrValueEmpty)
		return v, nil
	}
	for {
		name, err := d.key()
		if err != nil {
			return Value{}, err
		}
		d.ws()
		t := fieldType(name)
		switch {
		case d.literalNull():
			// An explicit null is the same as an absent member.
		case t == TypeInvalid:
			// DynamoDB ignores members it does not know.
			if err := d.skip(0); err != nil {
				return Value{}, err
			}
		default:
			if err := d.field(&v, t, depth); err != nil {
				return Value{}, err
			}
			set |= 1 << t
			v.Type = t
		}
		more, err := d.next('}')
		if err != nil {
			return Value{}, err
		}
		if !more {
			break
		}
	}
	switch {
	case set == 0:
		d.invalid(ErrValueEmpty)
	case set&(set-1) != 0:
		d.invalid(ErrValueMultiType)
	}
	return v, nil
}

// field reads the member of type t into v and checks DynamoDB's rules for it.
func (d *jsonDecoder) field(v *Value, t Type, depth int) error {
	var err error
	switch t {
	case TypeS:
		v.S, err = d.stringField()
	case TypeN:
		var s string
		if s, err = d.stringField(); err == nil {
			v.N = d.numberValue(s)
		}
	case TypeB:
		v.B, err = d.blobField()
	case TypeBOOL:
		v.BOOL, err = d.boolean()
	case TypeNULL:
		var b bool
		if b, err = d.boolean(); err == nil && !b {
			d.invalid(ErrNullFalse)
		}
	case TypeM:
		if k := d.peek(); k != tokObject {
			return d.mismatch(slotItem, k)
		}
		if depth+1 >= MaxNesting {
			return ErrNesting
		}
		v.M, err = d.attrMap(depth + 1)
	case TypeL:
		v.L, err = d.list(depth)
	case TypeSS:
		v.SS, err = d.stringSet()
	case TypeNS:
		v.NS, err = d.numberSet()
	case TypeBS:
		v.BS, err = d.binarySet()
	}
	return err
}

func (d *jsonDecoder) stringField() (string, error) {
	if k := d.peek(); k != tokString {
		return "", d.mismatch(slotString, k)
	}
	return d.string()
}

// numberValue canonicalises s, recording DynamoDB's error if it is not a
// valid number.
func (d *jsonDecoder) numberValue(s string) string {
	c, err := ParseNumber(s)
	if err != nil {
		d.invalid(err)
		return s
	}
	return c
}

func (d *jsonDecoder) blobField() ([]byte, error) {
	if k := d.peek(); k != tokString {
		return nil, d.mismatch(slotBlob, k)
	}
	s, err := d.string()
	if err != nil {
		return nil, err
	}
	return decodeBase64(s)
}

// decodeBase64 decodes standard, padded base64 strictly, as DynamoDB does:
// no whitespace, canonical padding bits.
func decodeBase64(s string) ([]byte, error) {
	if len(s)%4 != 0 {
		// DynamoDB counts Java chars (UTF-16 units); for the base64
		// alphabet that is the byte count.
		n := 0
		for _, r := range s {
			n += utf16.RuneLen(r)
		}
		if n%4 != 0 {
			return nil, serializationError(msgBase64Length + strconv.Itoa(n))
		}
	}
	for i := 0; i < len(s); i++ {
		// The standard decoder skips '\r' and '\n'; DynamoDB does not.
		if s[i] == '\r' || s[i] == '\n' {
			return nil, serializationError(msgBase64LastChar)
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, serializationError(msgBase64LastChar)
	}
	return b, nil
}

// list reads L's array. depth is the nesting level of the L itself.
func (d *jsonDecoder) list(depth int) ([]Value, error) {
	if k := d.peek(); k != tokArray {
		return nil, d.mismatch(slotList, k)
	}
	if depth+1 >= MaxNesting {
		return nil, ErrNesting
	}
	base := len(d.vals)
	err := d.array(func() error {
		var v Value
		if d.literalNull() {
			d.invalid(ErrValueEmpty)
		} else {
			var err error
			if v, err = d.value(depth + 1); err != nil {
				return err
			}
		}
		d.vals = append(d.vals, v)
		return nil
	})
	l := append(make([]Value, 0, len(d.vals)-base), d.vals[base:]...)
	clear(d.vals[base:]) // drop references for the GC
	d.vals = d.vals[:base]
	return l, err
}

// array reads a JSON array (pos at '['), calling elem with pos at each
// element (whitespace skipped).
func (d *jsonDecoder) array(elem func() error) error {
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for {
		d.ws()
		if err := elem(); err != nil {
			return err
		}
		more, err := d.next(']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// stringMembers reads the array of an SS or NS. A null member is read as ""
// and reported through nulls.
func (d *jsonDecoder) stringMembers() (ss []string, nulls bool, err error) {
	if k := d.peek(); k != tokArray {
		return nil, false, d.mismatch(slotList, k)
	}
	err = d.array(func() error {
		if d.literalNull() {
			nulls = true
			d.strs = append(d.strs, "")
			return nil
		}
		s, err := d.stringField()
		d.strs = append(d.strs, s)
		return err
	})
	// Sets do not nest, so their members start at the bottom of the stack.
	ss = append(make([]string, 0, len(d.strs)), d.strs...)
	d.strs = d.strs[:0]
	return ss, nulls, err
}

func (d *jsonDecoder) stringSet() ([]string, error) {
	ss, nulls, err := d.stringMembers()
	if err != nil {
		return nil, err
	}
	switch {
	case nulls:
		d.invalid(validationError(msgNullSetMember))
	case len(ss) == 0:
		d.invalid(ErrEmptyStringSet)
	case hasDuplicates(ss, func(s string) string { return s }):
		d.invalid(dupStringsError(ss))
	}
	return ss, nil
}

func (d *jsonDecoder) numberSet() ([]string, error) {
	// A null member reads as "", which DynamoDB's number check rejects as
	// empty.
	ns, _, err := d.stringMembers()
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		d.invalid(ErrEmptyNumberSet)
		return ns, nil
	}
	valid := true
	for i, s := range ns {
		c, err := ParseNumber(s)
		if err != nil {
			d.invalid(err)
			valid = false
			break
		}
		ns[i] = c
	}
	if valid && hasDuplicates(ns, func(s string) string { return s }) {
		d.invalid(ErrDuplicateNumbers)
	}
	return ns, nil
}

func (d *jsonDecoder) binarySet() ([][]byte, error) {
	if k := d.peek(); k != tokArray {
		return nil, d.mismatch(slotList, k)
	}
	bs := [][]byte{}
	nulls := false
	err := d.array(func() error {
		if d.literalNull() {
			nulls = true
			bs = append(bs, nil)
			return nil
		}
		b, err := d.blobField()
		bs = append(bs, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	switch {
	case nulls:
		d.invalid(validationError(msgNullSetMember))
	case len(bs) == 0:
		d.invalid(ErrEmptyBinarySet)
	case hasDuplicates(bs, func(b []byte) string { return string(b) }):
		d.invalid(dupBinaryError(bs))
	}
	return bs, nil
}

// skip consumes any JSON value, checking its syntax.
func (d *jsonDecoder) skip(depth int) error {
	if depth > maxSkipDepth {
		return serializationError(msgMaxJSONDepth)
	}
	d.ws()
	switch k := d.peek(); k {
	case tokObject:
		if d.objectStart() {
			return nil
		}
		for {
			if _, err := d.key(); err != nil {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			more, err := d.next('}')
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
	case tokArray:
		return d.array(func() error { return d.skip(depth + 1) })
	case tokString:
		_, err := d.string()
		return err
	case tokInteger, tokDecimal:
		d.number()
		return nil
	case tokTrue, tokFalse, tokNull:
		if err := d.literal(); err != nil {
			return err
		}
		if k == tokFalse {
			d.pos += len("false")
		} else {
			d.pos += len("true") // and len("null")
		}
		return nil
	}
	return d.syntaxError("invalid value")
}

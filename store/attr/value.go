package attr

// Type is one of DynamoDB's ten attribute types.
type Type uint8

// The attribute types, named as DynamoDB names them on the wire.
const (
	TypeInvalid Type = iota
	TypeS
	TypeN
	TypeB
	TypeBOOL
	TypeNULL
	TypeM
	TypeL
	TypeSS
	TypeNS
	TypeBS
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

// String returns the wire name of t ("S", "NS", ...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// ParseType returns the Type named by a wire name, or TypeInvalid.
func ParseType(s string) Type {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i)
		}
	}
	return TypeInvalid
}

// Value is one DynamoDB attribute value. Type says which field holds it:
//
//	S     S
//	N     N, the canonical decimal string (see ParseNumber)
//	B     B
//	BOOL  BOOL
//	NULL  nothing (NULL is always true)
//	M     M
//	L     L
//	SS    SS, members in insertion order, no duplicates
//	NS    NS, canonical decimal strings, no duplicates
//	BS    BS, no duplicates
//
// Values are treated as immutable once built: code that changes an item
// builds new maps and slices rather than writing through shared ones.
type Value struct {
	Type Type
	S    string
	N    string
	B    []byte
	BOOL bool
	M    map[string]Value
	L    []Value
	SS   []string
	NS   []string
	BS   [][]byte
}

// Item is a whole item: attribute names to values.
type Item map[string]Value

// String returns an S value.
func String(s string) Value { return Value{Type: TypeS, S: s} }

// Binary returns a B value.
func Binary(b []byte) Value { return Value{Type: TypeB, B: b} }

// Bool returns a BOOL value.
func Bool(b bool) Value { return Value{Type: TypeBOOL, BOOL: b} }

// Null returns the NULL value.
func Null() Value { return Value{Type: TypeNULL} }

// Map returns an M value.
func Map(m map[string]Value) Value { return Value{Type: TypeM, M: m} }

// List returns an L value.
func List(l []Value) Value { return Value{Type: TypeL, L: l} }

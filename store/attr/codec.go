package attr

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// The binary storage format. Every value is a one-byte tag (its Type) and a
// payload:
//
//	S, N, B          uvarint length, bytes (N holds the canonical string)
//	BOOL             one byte, 0 or 1
//	NULL             nothing
//	M                uvarint count, then count × (uvarint key length, key, value),
//	                 keys in strictly ascending byte order
//	L                uvarint count, then count values
//	SS, NS, BS       uvarint count (at least 1), then count × (uvarint length, bytes),
//	                 members in their stored order
//
// An item is the format byte itemFormatV1, then the body of an M. Sorting map
// keys makes the encoding a function of the item's contents, so equal items
// encode to equal bytes (change records and conflict checks compare them).
const itemFormatV1 byte = 1

// maxDecodeDepth bounds recursion on corrupt input. Valid values nest at
// most 32 levels (see ErrNesting); this leaves room for values built by code
// that have not been validated yet.
const maxDecodeDepth = 256

// AppendItem appends the binary encoding of it to dst.
func AppendItem(dst []byte, it Item) []byte {
	dst = append(dst, itemFormatV1)
	return appendMapBody(dst, it)
}

// AppendValue appends the binary encoding of v to dst. v should be valid
// (see Validate); a TypeInvalid value is written as a tag DecodeValue
// rejects.
func AppendValue(dst []byte, v Value) []byte {
	dst = append(dst, byte(v.Type))
	switch v.Type {
	case TypeS:
		dst = appendBytes(dst, v.S)
	case TypeN:
		dst = appendBytes(dst, v.N)
	case TypeB:
		dst = appendBytes(dst, v.B)
	case TypeBOOL:
		if v.BOOL {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	case TypeM:
		dst = appendMapBody(dst, v.M)
	case TypeL:
		dst = binary.AppendUvarint(dst, uint64(len(v.L)))
		for i := range v.L {
			dst = AppendValue(dst, v.L[i])
		}
	case TypeSS:
		dst = appendStrings(dst, v.SS)
	case TypeNS:
		dst = appendStrings(dst, v.NS)
	case TypeBS:
		dst = binary.AppendUvarint(dst, uint64(len(v.BS)))
		for _, b := range v.BS {
			dst = appendBytes(dst, b)
		}
	}
	return dst
}

func appendBytes[T string | []byte](dst []byte, s T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendBytes(dst, s)
	}
	return dst
}

func appendMapBody(dst []byte, m map[string]Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(m)))
	keys := sortedKeys(m)
	for _, k := range keys {
		dst = appendBytes(dst, k)
		dst = AppendValue(dst, m[k])
	}
	return dst
}

// sortedKeys returns m's keys in byte order.
func sortedKeys(m map[string]Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// DecodeItem decodes an item written by AppendItem. b must hold exactly one
// item. The result shares no memory with b. It never panics; corrupt input
// returns an error wrapping ErrCorrupt.
func DecodeItem(b []byte) (Item, error) {
	if len(b) == 0 || b[0] != itemFormatV1 {
		return nil, fmt.Errorf("decode item: unknown format: %w", ErrCorrupt)
	}
	d := binDecoder{b: b, s: string(b), pos: 1}
	m, err := d.mapBody(0)
	if err != nil {
		return nil, fmt.Errorf("decode item: %w", err)
	}
	if d.pos != len(b) {
		return nil, fmt.Errorf("decode item: %d trailing bytes: %w", len(b)-d.pos, ErrCorrupt)
	}
	return Item(m), nil
}

// DecodeValue decodes one value written by AppendValue from the start of b
// and returns it with the number of bytes it used. The result shares no
// memory with b. It never panics; corrupt input returns an error wrapping
// ErrCorrupt.
func DecodeValue(b []byte) (Value, int, error) {
	d := binDecoder{b: b, s: string(b)}
	v, err := d.value(0)
	if err != nil {
		return Value{}, 0, fmt.Errorf("decode value: %w", err)
	}
	return v, d.pos, nil
}

// binDecoder reads the binary format. s is b converted to a string once, so
// decoded strings are substrings of it instead of one allocation each.
type binDecoder struct {
	b   []byte
	s   string
	pos int
}

func (d *binDecoder) corrupt(what string) error {
	return fmt.Errorf("%s at offset %d: %w", what, d.pos, ErrCorrupt)
}

// count reads a uvarint that counts something occupying at least one byte
// each, so it can never exceed the bytes left.
func (d *binDecoder) count() (int, error) {
	n, w := binary.Uvarint(d.b[d.pos:])
	if w <= 0 {
		return 0, d.corrupt("bad length")
	}
	if w != uvarintLen(n) {
		// Over-long varints would decode, but re-encode differently.
		return 0, d.corrupt("non-minimal length")
	}
	if n > uint64(len(d.b)-d.pos-w) {
		return 0, d.corrupt("length past end")
	}
	d.pos += w
	return int(n), nil
}

// span reads a length-prefixed byte string and returns its bounds.
func (d *binDecoder) span() (int, int, error) {
	n, err := d.count()
	if err != nil {
		return 0, 0, err
	}
	start := d.pos
	d.pos += n
	return start, d.pos, nil
}

func (d *binDecoder) str() (string, error) {
	i, j, err := d.span()
	if err != nil {
		return "", err
	}
	return d.s[i:j], nil
}

func (d *binDecoder) bytes() ([]byte, error) {
	i, j, err := d.span()
	if err != nil {
		return nil, err
	}
	return append(make([]byte, 0, j-i), d.b[i:j]...), nil
}

func (d *binDecoder) number() (string, error) {
	s, err := d.str()
	if err != nil {
		return "", err
	}
	if !isCanonicalNumber(s) {
		return "", d.corrupt("non-canonical number")
	}
	return s, nil
}

func (d *binDecoder) value(depth int) (Value, error) {
	if depth > maxDecodeDepth {
		return Value{}, d.corrupt("nesting too deep")
	}
	if d.pos >= len(d.b) {
		return Value{}, d.corrupt("truncated value")
	}
	t := Type(d.b[d.pos])
	d.pos++
	v := Value{Type: t}
	var err error
	switch t {
	case TypeS:
		v.S, err = d.str()
	case TypeN:
		v.N, err = d.number()
	case TypeB:
		v.B, err = d.bytes()
	case TypeBOOL:
		if d.pos >= len(d.b) || d.b[d.pos] > 1 {
			return Value{}, d.corrupt("bad BOOL")
		}
		v.BOOL = d.b[d.pos] == 1
		d.pos++
	case TypeNULL:
	case TypeM:
		v.M, err = d.mapBody(depth)
	case TypeL:
		var n int
		if n, err = d.count(); err != nil {
			break
		}
		v.L = make([]Value, 0, prealloc(n))
		for i := 0; i < n; i++ {
			var x Value
			if x, err = d.value(depth + 1); err != nil {
				break
			}
			v.L = append(v.L, x)
		}
	case TypeSS, TypeNS:
		var n int
		if n, err = d.setCount(); err != nil {
			break
		}
		ss := make([]string, n)
		for i := range ss {
			if t == TypeNS {
				ss[i], err = d.number()
			} else {
				ss[i], err = d.str()
			}
			if err != nil {
				break
			}
		}
		if t == TypeNS {
			v.NS = ss
		} else {
			v.SS = ss
		}
	case TypeBS:
		var n int
		if n, err = d.setCount(); err != nil {
			break
		}
		v.BS = make([][]byte, n)
		for i := range v.BS {
			if v.BS[i], err = d.bytes(); err != nil {
				break
			}
		}
	default:
		d.pos--
		return Value{}, d.corrupt(fmt.Sprintf("unknown type tag %d", t))
	}
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

func (d *binDecoder) setCount() (int, error) {
	n, err := d.count()
	if err == nil && n == 0 {
		return 0, d.corrupt("empty set")
	}
	return n, err
}

func (d *binDecoder) mapBody(depth int) (map[string]Value, error) {
	n, err := d.count()
	if err != nil {
		return nil, err
	}
	m := make(map[string]Value, prealloc(n))
	prev := ""
	for i := 0; i < n; i++ {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if i > 0 && k <= prev {
			return nil, d.corrupt("map keys out of order")
		}
		prev = k
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// prealloc bounds the capacity reserved for a container from its encoded
// count. A count is only checked against the bytes left, and containers
// nest, so trusting it would let a small corrupt input reserve
// depth × length × sizeof(Value) bytes; beyond the bound, append grows as
// elements actually decode.
func prealloc(n int) int { return min(n, 64) }

// uvarintLen is the size of binary.AppendUvarint's encoding of n.
func uvarintLen(n uint64) int {
	w := 1
	for n >= 0x80 {
		n >>= 7
		w++
	}
	return w
}

package attr

import (
	"fmt"
)

// Key encoding: order-preserving and self-delimiting, so that Badger's byte
// order over keys is DynamoDB's order over key attributes, and a partition
// key, a sort key and more can be concatenated into one Badger key.
//
// S and B are written as their bytes with 0x00 escaped as 0x00 0xFF and a
// 0x00 0x01 terminator (FoundationDB's byte-string encoding). The terminator
// sorts below every escaped or literal continuation, so a string sorts before
// its extensions, and no encoding is a prefix of another.
//
// N is written as a sign tag, then for non-zero numbers the scientific
// exponent e of the first significant digit as one byte (e+130 fits 0..255
// exactly), then the significant digits in base-100 pairs, each pair p as the
// byte p+1 (1..100), an odd final digit padded with a zero, then a 0x00
// terminator. Canonical digits never end in zero, so the padding is
// unambiguous and "shorter mantissa" means "smaller magnitude". For negative
// numbers the exponent, pair and terminator bytes are inverted (x^0xFF), which
// reverses their order, as the order of magnitudes must be reversed.
const (
	keyNumNeg  byte = 0x01
	keyNumZero byte = 0x02
	keyNumPos  byte = 0x03

	keyEsc      byte = 0xFF // follows 0x00 for a literal zero byte
	keyTerm     byte = 0x01 // follows 0x00 at the end of a string
	keyExpBias       = -minNumberExp
	keyMaxPairs      = (MaxNumberDigits + 1) / 2
)

// AppendKey appends the key encoding of v to dst. For values of one type,
// bytes.Compare(AppendKey(nil, a), AppendKey(nil, b)) == Compare(a, b).
//
// v.Type must be S, N or B and an N must be a valid number (see
// ParseNumber); otherwise nothing is appended. Callers validate keys before
// encoding them.
func AppendKey(dst []byte, v Value) []byte {
	switch v.Type {
	case TypeS:
		return appendKeyBytes(dst, v.S)
	case TypeB:
		return appendKeyBytes(dst, v.B)
	case TypeN:
		p, err := parseNumber(v.N)
		if err != nil {
			return dst
		}
		return appendKeyNumber(dst, &p)
	}
	return dst
}

func appendKeyBytes[T string | []byte](dst []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, s[start:i+1]...)
			dst = append(dst, keyEsc)
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, 0, keyTerm)
}

func appendKeyNumber(dst []byte, p *numParts) []byte {
	if p.isZero() {
		return append(dst, keyNumZero)
	}
	tag, inv := keyNumPos, byte(0)
	if p.neg {
		tag, inv = keyNumNeg, 0xFF
	}
	dst = append(dst, tag, byte(p.exp+keyExpBias)^inv)
	hi := -1
	p.eachDigit(func(d byte) {
		if hi < 0 {
			hi = int(d)
			return
		}
		dst = append(dst, byte(hi*10+int(d)+1)^inv)
		hi = -1
	})
	if hi >= 0 {
		dst = append(dst, byte(hi*10+1)^inv)
	}
	return append(dst, inv) // terminator: 0x00, or 0xFF when inverted
}

// DecodeKey decodes one key of type t (S, N or B) from the start of b and
// returns it with the number of bytes it used. It accepts exactly the bytes
// AppendKey writes, so decoding and re-encoding gives the same bytes. It
// never panics; bad input returns an error wrapping ErrCorrupt.
func DecodeKey(b []byte, t Type) (Value, int, error) {
	switch t {
	case TypeS:
		s, n, err := decodeKeyBytes(b)
		if err != nil {
			return Value{}, 0, err
		}
		return String(string(s)), n, nil
	case TypeB:
		s, n, err := decodeKeyBytes(b)
		if err != nil {
			return Value{}, 0, err
		}
		return Binary(s), n, nil
	case TypeN:
		return decodeKeyNumber(b)
	}
	return Value{}, 0, fmt.Errorf("decode key: type %s is not a key type: %w", t, ErrCorrupt)
}

func decodeKeyBytes(b []byte) ([]byte, int, error) {
	// Count first so the result is allocated once.
	size := 0
	i := 0
	for {
		if i >= len(b) {
			return nil, 0, fmt.Errorf("decode key: unterminated string: %w", ErrCorrupt)
		}
		if b[i] != 0 {
			size++
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, 0, fmt.Errorf("decode key: truncated escape: %w", ErrCorrupt)
		}
		switch b[i+1] {
		case keyTerm:
			out := make([]byte, 0, size)
			for j := 0; j < i; j++ {
				out = append(out, b[j])
				if b[j] == 0 {
					j++ // skip the escape byte
				}
			}
			return out, i + 2, nil
		case keyEsc:
			size++
			i += 2
		default:
			return nil, 0, fmt.Errorf("decode key: bad escape 0x00 0x%02x: %w", b[i+1], ErrCorrupt)
		}
	}
}

func decodeKeyNumber(b []byte) (Value, int, error) {
	if len(b) == 0 {
		return Value{}, 0, fmt.Errorf("decode key: empty number: %w", ErrCorrupt)
	}
	var inv byte
	switch b[0] {
	case keyNumZero:
		return Number("0"), 1, nil
	case keyNumPos:
	case keyNumNeg:
		inv = 0xFF
	default:
		return Value{}, 0, fmt.Errorf("decode key: bad number tag 0x%02x: %w", b[0], ErrCorrupt)
	}
	if len(b) < 2 {
		return Value{}, 0, fmt.Errorf("decode key: truncated number: %w", ErrCorrupt)
	}
	exp := int(b[1]^inv) - keyExpBias
	if exp > maxNumberExp {
		return Value{}, 0, fmt.Errorf("decode key: exponent %d out of range: %w", exp, ErrCorrupt)
	}
	var digits [2 * keyMaxPairs]byte
	nd := 0
	i := 2
	for {
		if i >= len(b) {
			return Value{}, 0, fmt.Errorf("decode key: unterminated number: %w", ErrCorrupt)
		}
		c := b[i] ^ inv
		i++
		if c == 0 {
			break
		}
		if c > 100 || nd == len(digits) {
			return Value{}, 0, fmt.Errorf("decode key: bad number digits: %w", ErrCorrupt)
		}
		pair := c - 1
		digits[nd], digits[nd+1] = '0'+pair/10, '0'+pair%10
		nd += 2
	}
	// Canonical digits start with a non-zero digit and end with one, except
	// for the padding zero of an odd count.
	if nd == 0 || digits[0] == '0' {
		return Value{}, 0, fmt.Errorf("decode key: non-canonical number: %w", ErrCorrupt)
	}
	if digits[nd-1] == '0' {
		nd--
		if digits[nd-1] == '0' {
			return Value{}, 0, fmt.Errorf("decode key: non-canonical number: %w", ErrCorrupt)
		}
	}
	p := numParts{neg: inv != 0, exp: exp, sig: nd}
	p.s = string(digits[:nd])
	p.first, p.last = 0, nd-1
	var buf [maxCanonicalLen]byte
	return Number(string(p.appendCanonical(buf[:0]))), i, nil
}

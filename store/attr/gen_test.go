package attr

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// Generators for property tests. They build valid values: canonical numbers
// across DynamoDB's whole range, sets without duplicates, nesting well
// under MaxNesting.

// randNumber returns a canonical number with 1..38 significant digits and a
// random exponent anywhere in DynamoDB's range, sometimes negative, sometimes
// zero. Small exponents are favoured so that numbers collide in exponent and
// differ only in digits.
func randNumber(r *rand.Rand) string {
	if r.Intn(20) == 0 {
		return "0"
	}
	nd := 1 + r.Intn(MaxNumberDigits)
	if r.Intn(3) == 0 {
		nd = 1 + r.Intn(4)
	}
	var sb strings.Builder
	if r.Intn(2) == 0 {
		sb.WriteByte('-')
	}
	sb.WriteByte(byte('1' + r.Intn(9)))
	if nd > 1 {
		sb.WriteByte('.')
		for i := 1; i < nd; i++ {
			sb.WriteByte(byte('0' + r.Intn(10)))
		}
	}
	exp := minNumberExp + r.Intn(maxNumberExp-minNumberExp+1)
	if r.Intn(2) == 0 {
		exp = r.Intn(9) - 4
	}
	sb.WriteString("e" + strconv.Itoa(exp))
	c, err := ParseNumber(sb.String())
	if err != nil {
		panic("randNumber built an invalid number " + sb.String() + ": " + err.Error())
	}
	return c
}

func randString(r *rand.Rand) string {
	const alphabet = "ab\x00\xffé😀\"\\\n\u2028z"
	runes := []rune(alphabet)
	n := r.Intn(6)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteRune(runes[r.Intn(len(runes))])
	}
	return sb.String()
}

func randBytes(r *rand.Rand) []byte {
	b := make([]byte, r.Intn(6))
	for i := range b {
		b[i] = byte(r.Intn(4)) * 85 // 0x00, 0x55, 0xaa, 0xff
	}
	return b
}

// randValue returns a valid value; depth limits nesting.
func randValue(r *rand.Rand, depth int) Value {
	n := 10
	if depth <= 0 {
		n = 8 // no M or L
	}
	switch r.Intn(n) {
	case 0:
		return String(randString(r))
	case 1:
		return Number(randNumber(r))
	case 2:
		return Binary(randBytes(r))
	case 3:
		return Bool(r.Intn(2) == 0)
	case 4:
		return Null()
	case 5:
		return StringSet(uniq(r, func() string { return randString(r) }, func(s string) string { return s }))
	case 6:
		return NumberSet(uniq(r, func() string { return randNumber(r) }, func(s string) string { return s }))
	case 7:
		return BinarySet(uniq(r, func() []byte { return randBytes(r) }, func(b []byte) string { return string(b) }))
	case 8:
		m := map[string]Value{}
		for i := r.Intn(4); i > 0; i-- {
			m[randString(r)] = randValue(r, depth-1)
		}
		return Map(m)
	default:
		l := []Value{}
		for i := r.Intn(4); i > 0; i-- {
			l = append(l, randValue(r, depth-1))
		}
		return List(l)
	}
}

// uniq returns 1..5 distinct members.
func uniq[T any](r *rand.Rand, gen func() T, key func(T) string) []T {
	var out []T
	seen := map[string]bool{}
	for want := 1 + r.Intn(5); len(out) < want; {
		x := gen()
		if !seen[key(x)] {
			seen[key(x)] = true
			out = append(out, x)
		}
	}
	return out
}

func randItem(r *rand.Rand) Item {
	it := Item{}
	for i := r.Intn(6); i > 0; i-- {
		it[randString(r)+"k"] = randValue(r, 3)
	}
	return it
}

// mustError asserts err is an *Error of the given kind and message.
func mustError(t *testing.T, err error, kind ErrorKind, msg string) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error = %v (%T), want *Error %s %q", err, err, kind, msg)
	}
	if e.Kind != kind || e.Message != msg {
		t.Fatalf("error = %s %q, want %s %q", e.Kind, e.Message, kind, msg)
	}
}

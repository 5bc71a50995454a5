package attr

import (
	"bytes"
	"errors"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"testing/quick"
)

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// TestAppendKey_NumbersInOrder encodes an ascending list and checks the
// encodings ascend too.
func TestAppendKey_NumbersInOrder(t *testing.T) {
	asc := []string{
		"-" + strings.Repeat("9", 38) + strings.Repeat("0", 88),
		"-1" + strings.Repeat("0", 125),
		"-1000", "-999.99", "-100.5", "-100", "-99", "-10.5", "-10", "-9.99",
		"-1.05", "-1.0000000000000000000000000000000000001", "-1",
		"-0.99", "-0.5", "-0.1", "-0.0001",
		"-0." + strings.Repeat("0", 129) + "1",
		"0",
		"0." + strings.Repeat("0", 129) + "1",
		"0.0001", "0.1", "0.12", "0.5", "0.99", "1", "1.0000000000000000000000000000000000001",
		"1.05", "1.5", "9.99", "10", "10.5", "99", "100", "100.5", "999.99", "1000",
		"1" + strings.Repeat("0", 125),
		strings.Repeat("9", 38) + strings.Repeat("0", 88),
	}
	for i := 1; i < len(asc); i++ {
		a, b := AppendKey(nil, Number(asc[i-1])), AppendKey(nil, Number(asc[i]))
		if bytes.Compare(a, b) >= 0 {
			t.Fatalf("key(%s)=%x is not below key(%s)=%x", asc[i-1], a, asc[i], b)
		}
	}
}

func TestAppendKey_OrderMatchesCompare(t *testing.T) {
	gens := map[Type]func(r *rand.Rand) Value{
		TypeN: func(r *rand.Rand) Value { return Number(randNumber(r)) },
		TypeS: func(r *rand.Rand) Value { return String(randString(r)) },
		TypeB: func(r *rand.Rand) Value { return Binary(randBytes(r)) },
	}
	for typ, gen := range gens {
		t.Run(typ.String(), func(t *testing.T) {
			err := quick.Check(func(seed int64) bool {
				r := rand.New(rand.NewSource(seed))
				a, b := gen(r), gen(r)
				if r.Intn(8) == 0 {
					b = a
				}
				want, ok := Compare(a, b)
				if !ok {
					return false
				}
				ka, kb := AppendKey(nil, a), AppendKey(nil, b)
				if got := bytes.Compare(ka, kb); got != sign(want) {
					t.Logf("Compare(%v, %v) = %d but keys %x, %x compare %d", a, b, want, ka, kb, got)
					return false
				}
				return true
			}, &quick.Config{MaxCount: 20000})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAppendKey_SortMatches sorts a batch of numbers both ways.
func TestAppendKey_SortMatches(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	nums := make([]string, 2000)
	for i := range nums {
		nums[i] = randNumber(r)
	}
	byValue := slices.Clone(nums)
	slices.SortStableFunc(byValue, CompareNumbers)
	byKey := slices.Clone(nums)
	slices.SortStableFunc(byKey, func(a, b string) int {
		return bytes.Compare(AppendKey(nil, Number(a)), AppendKey(nil, Number(b)))
	})
	for i := range byValue {
		if CompareNumbers(byValue[i], byKey[i]) != 0 {
			t.Fatalf("position %d: by value %s, by key %s", i, byValue[i], byKey[i])
		}
	}
}

func TestAppendKey_Concatenated(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	types := []Type{TypeS, TypeN, TypeB}
	for i := 0; i < 2000; i++ {
		var vals []Value
		var key []byte
		for j := 0; j < 3; j++ {
			var v Value
			switch types[r.Intn(3)] {
			case TypeS:
				v = String(randString(r))
			case TypeN:
				v = Number(randNumber(r))
			default:
				v = Binary(randBytes(r))
			}
			vals = append(vals, v)
			key = AppendKey(key, v)
		}
		rest := key
		for _, want := range vals {
			got, n, err := DecodeKey(rest, want.Type)
			if err != nil {
				t.Fatalf("DecodeKey(%x, %s): %v", rest, want.Type, err)
			}
			if !Equal(got, want) || got.Type != want.Type {
				t.Fatalf("DecodeKey gave %v, want %v", got, want)
			}
			rest = rest[n:]
		}
		if len(rest) != 0 {
			t.Fatalf("%d bytes left over", len(rest))
		}
	}
}

func TestAppendKey_NotAPrefix(t *testing.T) {
	tests := []struct{ a, b Value }{
		{String("a"), String("ab")},
		{String("a"), String("a\x00")},
		{String(""), String("\x00")},
		{Binary([]byte{1}), Binary([]byte{1, 0})},
		{Number("1"), Number("1.2")},
		{Number("-1"), Number("-1.2")},
		{Number("12"), Number("123")},
	}
	for _, tt := range tests {
		ka, kb := AppendKey(nil, tt.a), AppendKey(nil, tt.b)
		if bytes.HasPrefix(kb, ka) || bytes.HasPrefix(ka, kb) {
			t.Errorf("key(%v)=%x and key(%v)=%x: one is a prefix of the other", tt.a, ka, tt.b, kb)
		}
	}
}

func TestAppendKey_Encoding(t *testing.T) {
	tests := []struct {
		v    Value
		want []byte
	}{
		{String("a\x00b"), []byte{'a', 0, 0xFF, 'b', 0, 1}},
		{String(""), []byte{0, 1}},
		{Binary([]byte{0}), []byte{0, 0xFF, 0, 1}},
		{Number("0"), []byte{keyNumZero}},
		{Number("1"), []byte{keyNumPos, 130, 11, 0}},
		{Number("12.3"), []byte{keyNumPos, 131, 13, 31, 0}},
		{Number("-1"), []byte{keyNumNeg, 130 ^ 0xFF, 11 ^ 0xFF, 0xFF}},
		{Value{Type: TypeBOOL, BOOL: true}, nil},
		{Number("not a number"), nil},
	}
	for _, tt := range tests {
		if got := AppendKey(nil, tt.v); !bytes.Equal(got, tt.want) {
			t.Errorf("AppendKey(%v) = %x, want %x", tt.v, got, tt.want)
		}
	}
}

func TestDecodeKey_Corrupt(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		t    Type
	}{
		{"not a key type", []byte{0, 1}, TypeBOOL},
		{"unterminated string", []byte("abc"), TypeS},
		{"truncated escape", []byte{'a', 0}, TypeS},
		{"bad escape", []byte{'a', 0, 7}, TypeB},
		{"empty number", nil, TypeN},
		{"bad number tag", []byte{9}, TypeN},
		{"truncated number", []byte{keyNumPos}, TypeN},
		{"no digits", []byte{keyNumPos, 130, 0}, TypeN},
		{"unterminated digits", []byte{keyNumPos, 130, 11}, TypeN},
		{"digit pair above 99", []byte{keyNumPos, 130, 101, 0}, TypeN},
		{"leading zero digit", []byte{keyNumPos, 130, 2, 0}, TypeN},
		{"trailing zero pair", []byte{keyNumPos, 130, 11, 1, 0}, TypeN},
		{"too many digits", append(append([]byte{keyNumPos, 130}, bytes.Repeat([]byte{12}, 20)...), 0), TypeN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, _, err := DecodeKey(tt.b, tt.t); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeKey(%x) = %v, %v; want ErrCorrupt", tt.b, v, err)
			}
		})
	}
}

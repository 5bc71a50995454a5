package attr

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// The fuzz targets check that decoders never panic, that whatever they
// accept is valid and survives a round trip, and that they reject what they
// should. Crashers found are kept under testdata/fuzz.

func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `{"a":{"S":"x"}}`, `{"a":{"N":"-01.5e3"}}`, `{"a":{"B":"AAEC"}}`,
		`{"a":{"BOOL":"TRUE"},"b":{"NULL":true}}`, `{"a":{"SS":["x","y"]},"b":{"NS":["1","2"]},"c":{"BS":["AQ=="]}}`,
		`{"a":{"M":{"b":{"L":[{"S":"\ud83d\ude00"},{"M":{}}]}}}}`, `{"a":{"SS":[]}}`, `{"a":{"S":5}}`,
		`{"a":{"L":[{"L":[{"L":[]}]}]}}`, `{"a":{"S":"x","zz":[1,{"q":null}]}}`, `{"a":{"NS":["1","1.0"]}}`,
		`{"a":{"S":"\u0000\n\"\\"}}`, `[]`, `{"a":[]}`, `{"a":{"N":"1e126"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var it Item
		err := it.UnmarshalJSON(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Kind != KindValidation && e.Kind != KindSerialization) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if !json.Valid(data) && e.Kind != KindSerialization && !errors.Is(err, ErrNesting) {
				t.Fatalf("malformed JSON %q gave a validation error %q", data, e.Message)
			}
		} else {
			if !json.Valid(data) {
				t.Fatalf("accepted malformed JSON %q", data)
			}
			if err := ValidateItem(it); err != nil {
				t.Fatalf("accepted %q, but the item is invalid: %v", data, err)
			}
			out, err := json.Marshal(it)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var again Item
			if err := again.UnmarshalJSON(out); err != nil || !ItemsEqual(again, it) {
				t.Fatalf("JSON round trip of %q via %s: %v, %v", data, out, again, err)
			}
			back, err := DecodeItem(AppendItem(nil, it))
			if err != nil || !ItemsEqual(back, it) {
				t.Fatalf("binary round trip of %q: %v, %v", data, back, err)
			}
		}
		// The same bytes as a single value.
		var v Value
		if err := v.UnmarshalJSON(data); err == nil {
			if !json.Valid(data) {
				t.Fatalf("Value accepted malformed JSON %q", data)
			}
			if v.Type != TypeInvalid { // null leaves v unset
				if err := Validate(v); err != nil {
					t.Fatalf("Value accepted %q, but it is invalid: %v", data, err)
				}
			}
		}
	})
}

func FuzzDecodeItem(f *testing.F) {
	f.Add(AppendItem(nil, sampleItem()))
	f.Add(AppendItem(nil, Item{}))
	f.Add(AppendItem(nil, Item{"a": List([]Value{Map(map[string]Value{"b": NumberSet([]string{"1", "-2.5"})})})}))
	f.Add([]byte{itemFormatV1, 1, 1, 'a', byte(TypeL), 2, byte(TypeNULL), byte(TypeBOOL), 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := DecodeItem(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// The encoding is canonical: what decodes re-encodes to the same bytes.
		if again := AppendItem(nil, it); !bytes.Equal(again, data) {
			t.Fatalf("re-encoding %x gave %x", data, again)
		}
		// Values decode on their own as well.
		for _, v := range it {
			enc := AppendValue(nil, v)
			got, n, err := DecodeValue(enc)
			if err != nil || n != len(enc) || !Equal(got, v) {
				t.Fatalf("DecodeValue(%x) = %v, %d, %v", enc, got, n, err)
			}
		}
	})
}

func FuzzDecodeKey(f *testing.F) {
	for _, v := range []Value{String("a\x00b"), Binary([]byte{0, 0xff}), Number("0"), Number("-12.5"), Number("1e125"), Number("-1e-130")} {
		f.Add(AppendKey(nil, v), byte(v.Type))
	}
	f.Fuzz(func(t *testing.T, data []byte, typ byte) {
		types := []Type{TypeS, TypeN, TypeB, TypeBOOL}
		kt := types[int(typ)%len(types)]
		v, n, err := DecodeKey(data, kt)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if n <= 0 || n > len(data) || v.Type != kt {
			t.Fatalf("DecodeKey(%x, %s) = %v, %d", data, kt, v, n)
		}
		if kt == TypeN {
			if err := Validate(v); err != nil {
				t.Fatalf("DecodeKey gave an invalid number %q: %v", v.N, err)
			}
		}
		if again := AppendKey(nil, v); !bytes.Equal(again, data[:n]) {
			t.Fatalf("re-encoding key %x gave %x", data[:n], again)
		}
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "01.50", "1e2", "1E-130", "9.9999999999999999999999999999999999999E+125", ".5", "5.", "+1", "1e126", "abc", "", "-1.2e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseNumber(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindValidation {
				t.Fatalf("ParseNumber(%q) error %v is not a validation *Error", s, err)
			}
			return
		}
		if again, err := ParseNumber(c); err != nil || again != c {
			t.Fatalf("ParseNumber(%q) = %q, not a fixed point (%q, %v)", s, c, again, err)
		}
		if CompareNumbers(s, c) != 0 {
			t.Fatalf("CompareNumbers(%q, %q) != 0", s, c)
		}
		if len(c) > maxCanonicalLen {
			t.Fatalf("canonical %q longer than %d", c, maxCanonicalLen)
		}
		key := AppendKey(nil, Number(c))
		v, n, err := DecodeKey(key, TypeN)
		if err != nil || n != len(key) || v.N != c {
			t.Fatalf("key round trip of %q: %q, %d, %v", c, v.N, n, err)
		}
		if sum, err := AddNumbers(c, "0"); err != nil || sum != c {
			t.Fatalf("AddNumbers(%q, 0) = %q, %v", c, sum, err)
		}
	})
}

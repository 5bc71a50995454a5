package attr

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"testing/quick"
)

// nested wraps leaf in n levels of L.
func nested(n int, leaf Value) Value {
	for i := 0; i < n; i++ {
		leaf = List([]Value{leaf})
	}
	return leaf
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		msg  string // "" for valid
	}{
		{"S", String(""), ""},
		{"B empty", Binary(nil), ""},
		{"N", Number("1.5"), ""},
		{"N not canonical", Value{Type: TypeN, N: "1.50"}, "One or more parameter values were invalid: number 1.50 is not in canonical form"},
		{"N invalid", Value{Type: TypeN, N: "x"}, "The parameter cannot be converted to a numeric value: x"},
		{"N empty", Value{Type: TypeN}, "The parameter cannot be converted to a numeric value"},
		{"N overflow", Value{Type: TypeN, N: "1e126"}, "Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{"invalid type", Value{}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{"unknown type", Value{Type: 99}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{"SS empty", StringSet(nil), "One or more parameter values were invalid: An string set  may not be empty"},
		{"NS empty", NumberSet([]string{}), "One or more parameter values were invalid: An number set  may not be empty"},
		{"BS empty", BinarySet(nil), "One or more parameter values were invalid: Binary sets should not be empty"},
		{"SS dup", StringSet([]string{"a", "b", "a"}), "One or more parameter values were invalid: Input collection [a, b, a] contains duplicates."},
		{"NS dup", NumberSet([]string{"1", "2", "1"}), "Input collection contains duplicates"},
		{"NS member not canonical", NumberSet([]string{"1", "01"}), "One or more parameter values were invalid: number 01 is not in canonical form"},
		{"BS dup", BinarySet([][]byte{[]byte("b"), []byte("b")}), "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates."},
		{"SS large dup", StringSet(append(strings.Split("abcdefghijklmnopqrstuvwxyz", ""), "q")), "One or more parameter values were invalid: Input collection [" + strings.Join(strings.Split("abcdefghijklmnopqrstuvwxyz", ""), ", ") + ", q] contains duplicates."},
		{"M nested invalid", Map(map[string]Value{"a": String("ok"), "b": StringSet(nil)}), "One or more parameter values were invalid: An string set  may not be empty"},
		{"M first key reported", Map(map[string]Value{"b": NumberSet(nil), "a": StringSet(nil)}), "One or more parameter values were invalid: An string set  may not be empty"},
		{"L nested invalid", List([]Value{Null(), {}}), "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{"31 levels of nesting", nested(31, Null()), ""},
		{"32 levels of nesting", nested(32, Null()), "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"},
		{"32 levels ending in an empty M", nested(31, Map(nil)), "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.v)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			mustError(t, err, KindValidation, tt.msg)
		})
	}
}

func TestValidate_Sentinels(t *testing.T) {
	if err := Validate(nested(40, Null())); !errors.Is(err, ErrNesting) {
		t.Fatalf("err = %v, want ErrNesting", err)
	}
	if err := Validate(NumberSet([]string{"5", "5"})); !errors.Is(err, ErrDuplicateNumbers) {
		t.Fatalf("err = %v, want ErrDuplicateNumbers", err)
	}
}

func TestValidate_RandomValuesAreValid(t *testing.T) {
	err := quick.Check(func(seed int64) bool {
		it := randItem(rand.New(rand.NewSource(seed)))
		return ValidateItem(it) == nil
	}, &quick.Config{MaxCount: 2000})
	if err != nil {
		t.Fatal(err)
	}
}

func TestValidateItem(t *testing.T) {
	it := Item{"b": StringSet(nil), "a": NumberSet(nil), "c": String("x")}
	if err := ValidateItem(it); !errors.Is(err, ErrEmptyNumberSet) {
		t.Fatalf("err = %v, want the error of attribute a", err)
	}
}

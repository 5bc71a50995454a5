package attr

import (
	"encoding/base64"
	"slices"
	"strings"
)

// MaxNesting is DynamoDB's limit on nesting: a chain of at most 31 M or L
// values around a leaf (32 levels counting the leaf).
const MaxNesting = 32

// Validate checks a value built by code (for example by an update
// expression) against DynamoDB's rules: a known type, canonical numbers
// within DynamoDB's limits, non-empty sets without duplicates (numbers
// compared numerically), and at most MaxNesting levels. Errors are *Error
// values of KindValidation carrying DynamoDB's messages.
//
// Maps are checked in key order, so when several rules are broken the same
// one is reported every time.
func Validate(v Value) error { return validate(&v, 0) }

// ValidateItem applies Validate to each attribute of it, in name order.
func ValidateItem(it Item) error {
	for _, k := range sortedKeys(it) {
		v := it[k]
		if err := validate(&v, 0); err != nil {
			return err
		}
	}
	return nil
}

// errNotCanonical is a programming error: numbers inside this package's
// values are canonical, so a value built with a raw string is a bug in the
// caller, not a client mistake.
func errNotCanonical(s string) *Error {
	return validationError(paramsInvalid + "number " + s + " is not in canonical form")
}

func checkCanonical(s string) error {
	c, err := ParseNumber(s)
	if err != nil {
		return err
	}
	if c != s {
		return errNotCanonical(s)
	}
	return nil
}

func validate(v *Value, depth int) error {
	switch v.Type {
	case TypeS, TypeB, TypeBOOL, TypeNULL:
		return nil
	case TypeN:
		return checkCanonical(v.N)
	case TypeSS:
		if len(v.SS) == 0 {
			return ErrEmptyStringSet
		}
		if hasDuplicates(v.SS, func(s string) string { return s }) {
			return dupStringsError(v.SS)
		}
		return nil
	case TypeNS:
		if len(v.NS) == 0 {
			return ErrEmptyNumberSet
		}
		for _, s := range v.NS {
			if err := checkCanonical(s); err != nil {
				return err
			}
		}
		if hasDuplicates(v.NS, func(s string) string { return s }) {
			return ErrDuplicateNumbers
		}
		return nil
	case TypeBS:
		if len(v.BS) == 0 {
			return ErrEmptyBinarySet
		}
		if hasDuplicates(v.BS, func(b []byte) string { return string(b) }) {
			return dupBinaryError(v.BS)
		}
		return nil
	case TypeM:
		if depth+1 >= MaxNesting {
			return ErrNesting
		}
		for _, k := range sortedKeys(v.M) {
			x := v.M[k]
			if err := validate(&x, depth+1); err != nil {
				return err
			}
		}
		return nil
	case TypeL:
		if depth+1 >= MaxNesting {
			return ErrNesting
		}
		for i := range v.L {
			if err := validate(&v.L[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return ErrValueEmpty
}

// hasDuplicates reports whether two members of s have the same key.
func hasDuplicates[T any](s []T, key func(T) string) bool {
	if len(s) <= smallSet {
		for i := 1; i < len(s); i++ {
			for j := 0; j < i; j++ {
				if key(s[i]) == key(s[j]) {
					return true
				}
			}
		}
		return false
	}
	keys := make([]string, len(s))
	for i := range s {
		keys[i] = key(s[i])
	}
	slices.Sort(keys)
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			return true
		}
	}
	return false
}

// dupStringsError renders the set as Java's List.toString does, as DynamoDB
// does in this message.
func dupStringsError(ss []string) *Error {
	return validationError(paramsInvalid + "Input collection [" + strings.Join(ss, ", ") + "] contains duplicates.")
}

// dupBinaryError renders the members in base64. The missing space before
// "of" is DynamoDB's.
func dupBinaryError(bs [][]byte) *Error {
	var sb strings.Builder
	sb.WriteString(paramsInvalid + "Input collection [")
	for i, b := range bs {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(base64.StdEncoding.EncodeToString(b))
	}
	sb.WriteString("]of type BS contains duplicates.")
	return validationError(sb.String())
}

package attr

// DynamoDB's item size rules, as documented under "Item sizes and formats"
// and as measured by dynalite against the service:
//
//	S          UTF-8 bytes
//	B          raw bytes
//	N          1 byte plus 1 per two significant digits, aligned on even
//	           powers of ten (one more when the digits straddle a pair
//	           boundary), plus 1 if negative; zero is 1 byte
//	BOOL, NULL 1 byte
//	SS, NS, BS the sum of the members' sizes
//	M          3 bytes, plus for each entry 1 byte + name bytes + value size
//	L          3 bytes, plus for each element 1 byte + value size
//
// An item's size is the sum over its attributes of name bytes + value size;
// DynamoDB rejects items over 400 KB (409600 bytes) by this measure.

// Size returns the size of v by DynamoDB's rules.
func Size(v Value) int {
	switch v.Type {
	case TypeS:
		return len(v.S)
	case TypeN:
		return numberSize(v.N)
	case TypeB:
		return len(v.B)
	case TypeBOOL, TypeNULL:
		return 1
	case TypeSS:
		n := 0
		for _, s := range v.SS {
			n += len(s)
		}
		return n
	case TypeNS:
		n := 0
		for _, s := range v.NS {
			n += numberSize(s)
		}
		return n
	case TypeBS:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	case TypeM:
		n := 3
		for k, x := range v.M {
			n += 1 + len(k) + Size(x)
		}
		return n
	case TypeL:
		n := 3
		for i := range v.L {
			n += 1 + Size(v.L[i])
		}
		return n
	}
	return 0
}

// ItemSize returns the size of it by DynamoDB's rules: the sum over its
// attributes of len(name) + Size(value).
func ItemSize(it Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + Size(v)
	}
	return n
}

// numberSize is DynamoDB's storage size of a number: its significant digits
// are stored in base 100, aligned so that pairs start at even powers of ten.
func numberSize(s string) int {
	p, ok := scanNumber(s)
	if !ok || p.isZero() {
		return 1
	}
	n := 1 + (p.sig+1)/2
	if p.sig%2 == 0 && p.exp%2 == 0 {
		n++ // an even count of digits that starts mid-pair spills into one more pair
	}
	if p.neg {
		n++
	}
	return n
}

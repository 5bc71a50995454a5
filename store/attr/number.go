package attr

import (
	"github.com/cockroachdb/apd/v3"
)

// DynamoDB's number limits.
const (
	// MaxNumberDigits is the most significant digits a Number may have.
	MaxNumberDigits = 38
	// maxNumberExp and minNumberExp bound the scientific exponent of the
	// first significant digit: 9.99...E+125 is the largest magnitude,
	// 1E-130 the smallest non-zero one.
	maxNumberExp = 125
	minNumberExp = -130

	// maxCanonicalLen is the longest canonical number: "-0." + 129 zeros +
	// 38 digits. Integers are at most 126 digits long.
	maxCanonicalLen = 3 + (-minNumberExp - 1) + MaxNumberDigits

	// expClamp keeps exponent arithmetic far from int overflow; anything
	// beyond it is out of range anyway.
	expClamp = 1 << 40
)

// numParts describes a syntactically valid decimal string without copying
// it. Its significant digits are s[first..last] with any '.' skipped.
type numParts struct {
	s     string
	neg   bool
	first int // index in s of the first significant digit, -1 for zero
	last  int // index in s of the last significant digit
	sig   int // number of significant digits
	exp   int // scientific exponent of the first significant digit
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber parses the number grammar DynamoDB accepts (Java BigDecimal's:
// an optional sign, digits with an optional point, an optional exponent)
// and locates the significant digits. It does not check DynamoDB's limits.
func scanNumber(s string) (numParts, bool) {
	p := numParts{s: s, first: -1, last: -1}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		p.neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(s) && s[i] == '.' {
		i++
		fracStart = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracEnd = i
	}
	if intEnd == intStart && fracEnd == fracStart {
		return p, false
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		if i == len(s) || !isDigit(s[i]) {
			return p, false
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
			if exp < expClamp {
				exp = exp*10 + int64(s[i]-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return p, false
	}

	// First significant digit and its place value.
	var place int64
	for j := intStart; j < intEnd; j++ {
		if s[j] != '0' {
			p.first = j
			place = int64(intEnd - 1 - j)
			break
		}
	}
	if p.first < 0 {
		for j := fracStart; j < fracEnd; j++ {
			if s[j] != '0' {
				p.first = j
				place = -int64(j - fracStart + 1)
				break
			}
		}
	}
	if p.first < 0 {
		p.neg = false // -0 is 0
		return p, true
	}
	// Last significant digit.
	for j := fracEnd - 1; j >= fracStart && p.last < 0; j-- {
		if s[j] != '0' {
			p.last = j
		}
	}
	for j := intEnd - 1; j >= intStart && p.last < 0; j-- {
		if s[j] != '0' {
			p.last = j
		}
	}
	p.sig = p.last - p.first + 1
	if p.first < intEnd && p.last >= fracStart && fracStart > intEnd {
		p.sig-- // the '.' lies between them
	}
	e := place + exp
	if e > expClamp {
		e = expClamp
	} else if e < -expClamp {
		e = -expClamp
	}
	p.exp = int(e)
	return p, true
}

func (p *numParts) isZero() bool { return p.first < 0 }

// sign returns -1, 0 or +1.
func (p *numParts) sign() int {
	switch {
	case p.first < 0:
		return 0
	case p.neg:
		return -1
	default:
		return 1
	}
}

// eachDigit calls fn with each significant digit (0..9), most significant first.
func (p *numParts) eachDigit(fn func(d byte)) {
	for j := p.first; j <= p.last; j++ {
		if c := p.s[j]; c != '.' {
			fn(c - '0')
		}
	}
}

// check applies DynamoDB's limits, in the order DynamoDB reports them.
func (p *numParts) check() error {
	if p.first < 0 {
		return nil
	}
	switch {
	case p.exp > maxNumberExp:
		return ErrNumberOverflow
	case p.exp < minNumberExp:
		return ErrNumberUnderflow
	case p.sig > MaxNumberDigits:
		return ErrNumberPrecision
	}
	return nil
}

// appendCanonical appends DynamoDB's rendering: plain notation (never an
// exponent), no leading zeros except the one before a point, no trailing
// fractional zeros, "0" for zero. It assumes check() passed.
func (p *numParts) appendCanonical(dst []byte) []byte {
	if p.first < 0 {
		return append(dst, '0')
	}
	if p.neg {
		dst = append(dst, '-')
	}
	if p.exp < 0 {
		dst = append(dst, '0', '.')
		for k := 0; k < -p.exp-1; k++ {
			dst = append(dst, '0')
		}
		for j := p.first; j <= p.last; j++ {
			if c := p.s[j]; c != '.' {
				dst = append(dst, c)
			}
		}
		return dst
	}
	intDigits := p.exp + 1
	n := 0
	for j := p.first; j <= p.last; j++ {
		c := p.s[j]
		if c == '.' {
			continue
		}
		if n == intDigits {
			dst = append(dst, '.')
		}
		dst = append(dst, c)
		n++
	}
	for ; n < intDigits; n++ {
		dst = append(dst, '0')
	}
	return dst
}

// parseNumber scans s and applies DynamoDB's rules and messages.
func parseNumber(s string) (numParts, error) {
	if s == "" {
		return numParts{}, ErrNumberEmpty
	}
	p, ok := scanNumber(s)
	if !ok {
		return p, validationError(msgNumberInvalid + s)
	}
	return p, p.check()
}

// ParseNumber validates a DynamoDB number string and returns its canonical
// form, the form DynamoDB returns: "01.50" -> "1.5", "1e2" -> "100",
// "-0" -> "0", "1E-130" -> "0.000...0001". Numbers keep up to 38
// significant digits and a magnitude between 1E-130 and
// 9.9999999999999999999999999999999999999E+125 (or are zero). Errors are
// *Error values of KindValidation with DynamoDB's messages.
//
// A canonical input is returned as is, without allocating.
func ParseNumber(s string) (string, error) {
	p, err := parseNumber(s)
	if err != nil {
		return "", err
	}
	var buf [maxCanonicalLen]byte
	out := p.appendCanonical(buf[:0])
	if string(out) == s {
		return s, nil
	}
	return string(out), nil
}

// isCanonicalNumber reports whether s is what ParseNumber returns for it.
func isCanonicalNumber(s string) bool {
	p, err := parseNumber(s)
	if err != nil {
		return false
	}
	var buf [maxCanonicalLen]byte
	return string(p.appendCanonical(buf[:0])) == s
}

// CompareNumbers compares two numbers numerically: -1 if a < b, 0 if they
// are equal, +1 if a > b. It is meant for canonical strings but orders any
// syntactically valid numbers correctly; a string that is not a number
// sorts as zero.
func CompareNumbers(a, b string) int {
	pa, _ := scanNumber(a)
	pb, _ := scanNumber(b)
	return compareParts(&pa, &pb)
}

func compareParts(a, b *numParts) int {
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	return sa * compareMagnitude(a, b)
}

func compareMagnitude(a, b *numParts) int {
	if a.exp != b.exp {
		if a.exp < b.exp {
			return -1
		}
		return 1
	}
	i, j := a.first, b.first
	for {
		if i <= a.last && a.s[i] == '.' {
			i++
		}
		if j <= b.last && b.s[j] == '.' {
			j++
		}
		aDone, bDone := i > a.last, j > b.last
		switch {
		case aDone && bDone:
			return 0
		case aDone:
			return -1 // b has more non-zero digits
		case bDone:
			return 1
		}
		if a.s[i] != b.s[j] {
			if a.s[i] < b.s[j] {
				return -1
			}
			return 1
		}
		i++
		j++
	}
}

// AddNumbers returns a+b, computed exactly. a and b must be valid numbers
// (canonical ones normally); the result is canonical and must fit
// DynamoDB's limits, otherwise the error is the one DynamoDB reports when
// storing it.
func AddNumbers(a, b string) (string, error) { return addSub(a, b, false) }

// SubNumbers returns a-b, computed exactly, under the same rules as
// AddNumbers.
func SubNumbers(a, b string) (string, error) { return addSub(a, b, true) }

func addSub(a, b string, sub bool) (string, error) {
	// Canonicalise first: it applies DynamoDB's checks and gives apd plain
	// notation, which it always parses.
	a, err := ParseNumber(a)
	if err != nil {
		return "", err
	}
	b, err = ParseNumber(b)
	if err != nil {
		return "", err
	}
	var x, y, z apd.Decimal
	if _, _, err := x.SetString(a); err != nil {
		return "", validationError(msgNumberInvalid + a)
	}
	if _, _, err := y.SetString(b); err != nil {
		return "", validationError(msgNumberInvalid + b)
	}
	// BaseContext has precision 0: addition and subtraction are exact.
	ctx := apd.BaseContext
	if sub {
		_, err = ctx.Sub(&z, &x, &y)
	} else {
		_, err = ctx.Add(&z, &x, &y)
	}
	if err != nil {
		return "", validationError(msgNumberInvalid + z.String())
	}
	return ParseNumber(z.Text('f'))
}

// Number returns an N value. canonical must already be canonical (the
// result of ParseNumber or of the arithmetic functions).
func Number(canonical string) Value { return Value{Type: TypeN, N: canonical} }

// NumberSet returns an NS value of canonical numbers.
func NumberSet(canonical []string) Value { return Value{Type: TypeNS, NS: canonical} }

// StringSet returns an SS value.
func StringSet(ss []string) Value { return Value{Type: TypeSS, SS: ss} }

// BinarySet returns a BS value.
func BinarySet(bs [][]byte) Value { return Value{Type: TypeBS, BS: bs} }

package attr

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"testing/quick"

	"github.com/cockroachdb/apd/v3"
)

func TestParseNumber_Canonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"+0", "0"},
		{"0.000", "0"},
		{"-0.0e10", "0"},
		{"0e-999999999999999999999", "0"},
		{"00", "0"},
		{"1", "1"},
		{"+1", "1"},
		{"-1", "-1"},
		{"01.50", "1.5"},
		{"1e2", "100"},
		{"1E2", "100"},
		{"1e+2", "100"},
		{"1.5e1", "15"},
		{"1.25e1", "12.5"},
		{"12.5e-1", "1.25"},
		{"12.5e-3", "0.0125"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-.5e1", "-5"},
		{"100", "100"},
		{"100.000", "100"},
		{"0.10", "0.1"},
		{"-0015.789e6", "-15789000"},
		{"123.456", "123.456"},
		// dynalite's "should put really long numbers", checked against DynamoDB.
		{"0000012345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"-00001.23456789012345678901234567890123456780000", "-1.2345678901234567890123456789012345678"},
		{"0009.99999999999999999999999999999999999990000e125", strings.Repeat("9", 38) + strings.Repeat("0", 88)},
		{"-0009.99999999999999999999999999999999999990000e125", "-" + strings.Repeat("9", 38) + strings.Repeat("0", 88)},
		{"0001.000e-130", "0." + strings.Repeat("0", 129) + "1"},
		{"-0001.000e-130", "-0." + strings.Repeat("0", 129) + "1"},
		{"1e125", "1" + strings.Repeat("0", 125)},
		{"10e124", "1" + strings.Repeat("0", 125)},
		{"0.1e126", "1" + strings.Repeat("0", 125)},
		{"100e-132", "0." + strings.Repeat("0", 129) + "1"},
		{"1" + strings.Repeat("0", 125), "1" + strings.Repeat("0", 125)},
		{strings.Repeat("0", 1000) + "7", "7"},
		{"7." + strings.Repeat("0", 1000), "7"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNumber(tt.in)
			if err != nil {
				t.Fatalf("ParseNumber(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := ParseNumber(got)
			if err != nil || again != got {
				t.Fatalf("ParseNumber(%q) = %q, %v: canonical form is not a fixed point", got, again, err)
			}
		})
	}
}

func TestParseNumber_Errors(t *testing.T) {
	tests := []struct {
		in       string
		msg      string
		sentinel error
	}{
		{"", "The parameter cannot be converted to a numeric value", ErrNumberEmpty},
		{"b", "The parameter cannot be converted to a numeric value: b", nil},
		{"1a", "The parameter cannot be converted to a numeric value: 1a", nil},
		{" 1", "The parameter cannot be converted to a numeric value:  1", nil},
		{"1 ", "The parameter cannot be converted to a numeric value: 1 ", nil},
		{"-", "The parameter cannot be converted to a numeric value: -", nil},
		{".", "The parameter cannot be converted to a numeric value: .", nil},
		{"e5", "The parameter cannot be converted to a numeric value: e5", nil},
		{"1e", "The parameter cannot be converted to a numeric value: 1e", nil},
		{"1e+", "The parameter cannot be converted to a numeric value: 1e+", nil},
		{"--1", "The parameter cannot be converted to a numeric value: --1", nil},
		{"1.2.3", "The parameter cannot be converted to a numeric value: 1.2.3", nil},
		{"NaN", "The parameter cannot be converted to a numeric value: NaN", nil},
		{"Infinity", "The parameter cannot be converted to a numeric value: Infinity", nil},
		{"0x10", "The parameter cannot be converted to a numeric value: 0x10", nil},
		{"123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number", ErrNumberPrecision},
		{"-1.23456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number", ErrNumberPrecision},
		{"1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range", ErrNumberOverflow},
		{"-1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range", ErrNumberOverflow},
		{"1" + strings.Repeat("0", 126), "Number overflow. Attempting to store a number with magnitude larger than supported range", ErrNumberOverflow},
		{"1e99999999999999999999999", "Number overflow. Attempting to store a number with magnitude larger than supported range", ErrNumberOverflow},
		{"1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range", ErrNumberUnderflow},
		{"-1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range", ErrNumberUnderflow},
		{"0.99e-130", "Number underflow. Attempting to store a number with magnitude smaller than supported range", ErrNumberUnderflow},
		// Overflow is reported before precision, as DynamoDB does.
		{"1.23456789012345678901234567890123456789e200", "Number overflow. Attempting to store a number with magnitude larger than supported range", ErrNumberOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseNumber(tt.in)
			mustError(t, err, KindValidation, tt.msg)
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
		})
	}
}

func TestParseNumber_CanonicalDoesNotAllocate(t *testing.T) {
	in := "-12345.678"
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseNumber(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseNumber of a canonical number allocated %v times", allocs)
	}
}

// TestParseNumber_MatchesApd checks canonical forms against apd's reading of
// random inputs in assorted notations.
func TestParseNumber_MatchesApd(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		c := randNumber(r)
		var d apd.Decimal
		if _, _, err := d.SetString(c); err != nil {
			t.Fatalf("apd rejects canonical %q: %v", c, err)
		}
		// Rewrite it in scientific notation with noise and parse again.
		var sci apd.Decimal
		sci.Set(&d)
		noisy := "000" + sci.Text('E')
		if strings.HasPrefix(sci.Text('E'), "-") {
			noisy = "-000" + strings.TrimPrefix(sci.Text('E'), "-")
		}
		got, err := ParseNumber(noisy)
		if err != nil {
			t.Fatalf("ParseNumber(%q): %v", noisy, err)
		}
		if got != c {
			t.Fatalf("ParseNumber(%q) = %q, want %q", noisy, got, c)
		}
	}
}

func TestCompareNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0", "0", 0},
		{"0", "-0", 0},
		{"1", "1.0", 0},
		{"1", "2", -1},
		{"2", "1", 1},
		{"-1", "1", -1},
		{"-2", "-1", -1},
		{"0", "0.0000001", -1},
		{"-0.0000001", "0", -1},
		{"10", "9", 1},
		{"9.99", "10", -1},
		{"1.5", "1.25", 1},
		{"1.25", "1.5", -1},
		{"-1.25", "-1.5", 1},
		{"100", "1e2", 0},
		{"123.456", "123.4560001", -1},
		{"1e125", "9.9999e124", 1},
		{"1e-130", "2e-130", -1},
		{"-1e125", "-1e-130", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := CompareNumbers(tt.a, tt.b); got != tt.want {
				t.Fatalf("CompareNumbers(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := CompareNumbers(tt.b, tt.a); got != -tt.want {
				t.Fatalf("CompareNumbers(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func apdCmp(t *testing.T, a, b string) int {
	t.Helper()
	var x, y apd.Decimal
	if _, _, err := x.SetString(a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := y.SetString(b); err != nil {
		t.Fatal(err)
	}
	return x.Cmp(&y)
}

func TestCompareNumbers_MatchesApd(t *testing.T) {
	err := quick.Check(func(seed int64) bool {
		r := rand.New(rand.NewSource(seed))
		a, b := randNumber(r), randNumber(r)
		if r.Intn(4) == 0 {
			b = a
		}
		return CompareNumbers(a, b) == apdCmp(t, a, b)
	}, &quick.Config{MaxCount: 5000})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAddNumbers(t *testing.T) {
	tests := []struct {
		a, b, sum, diff string
	}{
		{"1", "2", "3", "-1"},
		{"0.1", "0.2", "0.3", "-0.1"},
		{"1.5", "1.5", "3", "0"},
		{"-1", "1", "0", "-2"},
		{"99999999999999999999999999999999999999", "1", "100000000000000000000000000000000000000", "99999999999999999999999999999999999998"},
		{"1" + strings.Repeat("0", 125), "0", "1" + strings.Repeat("0", 125), "1" + strings.Repeat("0", 125)},
		{"0.5", "-0.25", "0.25", "0.75"},
	}
	for _, tt := range tests {
		t.Run(tt.a+"+"+tt.b, func(t *testing.T) {
			sum, err := AddNumbers(tt.a, tt.b)
			if err != nil || sum != tt.sum {
				t.Fatalf("AddNumbers(%q, %q) = %q, %v, want %q", tt.a, tt.b, sum, err, tt.sum)
			}
			diff, err := SubNumbers(tt.a, tt.b)
			if err != nil || diff != tt.diff {
				t.Fatalf("SubNumbers(%q, %q) = %q, %v, want %q", tt.a, tt.b, diff, err, tt.diff)
			}
		})
	}
}

func TestAddNumbers_Errors(t *testing.T) {
	nines := "9.9999999999999999999999999999999999999e125"
	tests := []struct {
		name string
		a, b string
		sub  bool
		want error
	}{
		{"overflow", nines, nines, false, ErrNumberOverflow},
		{"negative overflow", "-" + nines, nines, true, ErrNumberOverflow},
		{"precision", "1e30", "1e-30", false, ErrNumberPrecision},
		{"precision at 39 digits", "99999999999999999999999999999999999999", "0.1", false, ErrNumberPrecision},
		{"underflow", "2e-130", "1.5e-130", true, ErrNumberUnderflow},
		{"bad input", "x", "1", false, nil},
		{"empty input", "1", "", false, ErrNumberEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.sub {
				_, err = SubNumbers(tt.a, tt.b)
			} else {
				_, err = AddNumbers(tt.a, tt.b)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindValidation {
				t.Fatalf("error = %#v, want a KindValidation *Error", err)
			}
		})
	}
}

// TestAddNumbers_Exact checks sums against apd at high precision and that
// results are canonical.
func TestAddNumbers_Exact(t *testing.T) {
	ctx := apd.BaseContext.WithPrecision(400)
	err := quick.Check(func(seed int64) bool {
		r := rand.New(rand.NewSource(seed))
		a, b := randNumber(r), randNumber(r)
		got, err := AddNumbers(a, b)
		var x, y, z apd.Decimal
		x.SetString(a)
		y.SetString(b)
		ctx.Add(&z, &x, &y)
		want, werr := ParseNumber(z.Text('f'))
		if (err != nil) != (werr != nil) {
			t.Logf("%s + %s: err %v, want %v", a, b, err, werr)
			return false
		}
		if err != nil {
			return errors.Is(err, werr)
		}
		if got != want {
			t.Logf("%s + %s = %s, want %s", a, b, got, want)
		}
		return got == want && isCanonicalNumber(got)
	}, &quick.Config{MaxCount: 3000})
	if err != nil {
		t.Fatal(err)
	}
}

package attr

import (
	"strings"
	"testing"
)

func TestSize(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want int
	}{
		{"S ascii", String("abc"), 3},
		{"S utf-8 bytes", String("é😀"), 6},
		{"S empty", String(""), 0},
		{"B", Binary([]byte{1, 2, 3, 4}), 4},
		{"BOOL", Bool(false), 1},
		{"NULL", Null(), 1},
		{"N zero", Number("0"), 1},
		{"N one digit", Number("1"), 2},
		{"N 10", Number("10"), 2},
		{"N 100", Number("100"), 2},
		{"N two digits aligned", Number("12"), 2},
		{"N two digits straddling", Number("1.2"), 3},
		{"N three digits", Number("123"), 3},
		{"N 12.3", Number("12.3"), 3},
		{"N 1.234", Number("1.234"), 4},
		{"N negative", Number("-1"), 3},
		{"N fraction", Number("0.5"), 2},
		{"N 0.05", Number("0.05"), 2},
		{"N 38 digits", Number(strings.Repeat("9", 38)), 20},
		{"N 38 digits straddling", Number("9." + strings.Repeat("9", 37)), 21},
		{"SS", StringSet([]string{"ab", "c"}), 3},
		{"NS", NumberSet([]string{"1", "-1"}), 5},
		{"BS", BinarySet([][]byte{{1}, {2, 3}}), 3},
		{"M empty", Map(nil), 3},
		{"M", Map(map[string]Value{"ab": String("xyz"), "c": Null()}), 3 + (1 + 2 + 3) + (1 + 1 + 1)},
		{"L empty", List(nil), 3},
		{"L", List([]Value{String("ab"), Bool(true)}), 3 + (1 + 2) + (1 + 1)},
		{"nested", List([]Value{Map(map[string]Value{"k": List(nil)})}), 3 + 1 + (3 + 1 + 1 + 3)},
		{"invalid", Value{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Size(tt.v); got != tt.want {
				t.Fatalf("Size(%v) = %d, want %d", tt.v, got, tt.want)
			}
		})
	}
}

func TestItemSize(t *testing.T) {
	it := Item{"id": String("abc"), "count": Number("12345"), "é": Null()}
	want := (2 + 3) + (5 + 4) + (2 + 1)
	if got := ItemSize(it); got != want {
		t.Fatalf("ItemSize = %d, want %d", got, want)
	}
	if got := ItemSize(nil); got != 0 {
		t.Fatalf("ItemSize(nil) = %d", got)
	}
}

package attr

import (
	"math/rand"
	"testing"
	"testing/quick"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name string
		a, b Value
		want int
		ok   bool
	}{
		{"S less", String("a"), String("b"), -1, true},
		{"S by bytes not runes", String("\uffff"), String("😀"), -1, true}, // ef bf bf < f0 9f
		{"S prefix", String("ab"), String("abc"), -1, true},
		{"S equal", String("x"), String("x"), 0, true},
		{"B", Binary([]byte{0xff}), Binary([]byte{0x00, 0xff}), 1, true},
		{"N numeric not lexical", Number("9"), Number("10"), -1, true},
		{"N negative", Number("-10"), Number("-9"), -1, true},
		{"N equal", Number("1.5"), Number("1.5"), 0, true},
		{"mixed types", String("1"), Number("1"), 0, false},
		{"BOOL", Bool(false), Bool(true), 0, false},
		{"NULL", Null(), Null(), 0, false},
		{"SS", StringSet([]string{"a"}), StringSet([]string{"b"}), 0, false},
		{"M", Map(nil), Map(nil), 0, false},
		{"L", List(nil), List(nil), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Compare(tt.a, tt.b)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Compare = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b Value
		want bool
	}{
		{"S", String("a"), String("a"), true},
		{"S differs", String("a"), String("b"), false},
		{"types differ", String("1"), Number("1"), false},
		{"N numerically", Number("1"), Value{Type: TypeN, N: "1.0"}, true},
		{"N differs", Number("1"), Number("2"), false},
		{"B", Binary([]byte("x")), Binary([]byte("x")), true},
		{"B nil vs empty", Binary(nil), Binary([]byte{}), true},
		{"BOOL", Bool(true), Bool(true), true},
		{"BOOL differs", Bool(true), Bool(false), false},
		{"NULL", Null(), Null(), true},
		{"SS order-free", StringSet([]string{"a", "b"}), StringSet([]string{"b", "a"}), true},
		{"SS differs", StringSet([]string{"a", "b"}), StringSet([]string{"a", "c"}), false},
		{"SS size differs", StringSet([]string{"a"}), StringSet([]string{"a", "b"}), false},
		{"NS numerically", NumberSet([]string{"1", "2"}), NumberSet([]string{"2.0", "1"}), true},
		{"BS order-free", BinarySet([][]byte{{1}, {2}}), BinarySet([][]byte{{2}, {1}}), true},
		{"BS differs", BinarySet([][]byte{{1}, {2}}), BinarySet([][]byte{{2}, {3}}), false},
		{"L ordered", List([]Value{Number("1"), Number("2")}), List([]Value{Number("2"), Number("1")}), false},
		{"L deep", List([]Value{Map(map[string]Value{"a": Null()})}), List([]Value{Map(map[string]Value{"a": Null()})}), true},
		{"M deep", Map(map[string]Value{"a": List([]Value{Number("1")})}), Map(map[string]Value{"a": List([]Value{Number("1.00")})}), true},
		{"M keys differ", Map(map[string]Value{"a": Null()}), Map(map[string]Value{"b": Null()}), false},
		{"M nil vs empty", Map(nil), Map(map[string]Value{}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Fatalf("Equal(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Fatalf("Equal(%v, %v) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestEqual_LargeSets(t *testing.T) {
	var a, b []string
	for i := 0; i < 100; i++ {
		n, _ := ParseNumber(string(rune('0'+i%10)) + "e" + string(rune('0'+i/10)))
		a = append(a, n)
	}
	for i := len(a) - 1; i >= 0; i-- {
		b = append(b, a[i])
	}
	if !Equal(NumberSet(a), NumberSet(b)) {
		t.Fatal("reversed large NS not equal")
	}
	b[0] = "12345"
	if Equal(NumberSet(a), NumberSet(b)) {
		t.Fatal("different large NS equal")
	}
}

func TestClone_Deep(t *testing.T) {
	orig := Map(map[string]Value{
		"b":  Binary([]byte("abc")),
		"l":  List([]Value{StringSet([]string{"x"})}),
		"bs": BinarySet([][]byte{[]byte("q")}),
		"ns": NumberSet([]string{"1"}),
	})
	c := orig.Clone()
	if !Equal(orig, c) {
		t.Fatal("clone differs")
	}
	c.M["b"].B[0] = 'X'
	c.M["l"].L[0].SS[0] = "changed"
	c.M["bs"].BS[0][0] = 'Q'
	c.M["ns"].NS[0] = "2"
	c.M["new"] = Null()
	if string(orig.M["b"].B) != "abc" || orig.M["l"].L[0].SS[0] != "x" ||
		string(orig.M["bs"].BS[0]) != "q" || orig.M["ns"].NS[0] != "1" || len(orig.M) != 4 {
		t.Fatalf("changing the clone changed the original: %v", orig)
	}
}

func TestItemClone_RandomEqual(t *testing.T) {
	err := quick.Check(func(seed int64) bool {
		it := randItem(rand.New(rand.NewSource(seed)))
		return ItemsEqual(it.Clone(), it)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if Item(nil).Clone() != nil {
		t.Fatal("Clone of nil item is not nil")
	}
}

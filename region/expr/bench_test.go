package expr

import "testing"

// BenchmarkConditionParseEval measures what a conditional write costs the
// expression layer: parsing a typical condition and evaluating it once.
func BenchmarkConditionParseEval(b *testing.B) {
	const s = "attribute_exists(pk) AND #st = :active AND size(tags) > :zero AND price BETWEEN :lo AND :hi"
	n := names{"#st": "status"}
	v := vals{":active": S("active"), ":zero": N("0"), ":lo": N("10"), ":hi": N("100")}
	it := item("pk", S("user#1"), "status", S("active"), "tags", SS("a", "b"), "price", N("42.5"))
	b.ReportAllocs()
	for b.Loop() {
		cd, err := ParseCondition(NewContext(n, v), KindCondition, s)
		if err != nil {
			b.Fatal(err)
		}
		if ok, _ := cd.Eval(it); !ok {
			b.Fatal("condition false")
		}
	}
}

// BenchmarkConditionEval measures evaluation alone, as a filter runs it once
// per scanned item.
func BenchmarkConditionEval(b *testing.B) {
	const s = "attribute_exists(pk) AND #st = :active AND size(tags) > :zero AND price BETWEEN :lo AND :hi"
	n := names{"#st": "status"}
	v := vals{":active": S("active"), ":zero": N("0"), ":lo": N("10"), ":hi": N("100")}
	it := item("pk", S("user#1"), "status", S("active"), "tags", SS("a", "b"), "price", N("42.5"))
	cd, err := ParseCondition(NewContext(n, v), KindCondition, s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := cd.Eval(it); !ok {
			b.Fatal("condition false")
		}
	}
}

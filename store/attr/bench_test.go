package attr

import (
	"encoding/json"
	"testing"
)

// benchItems are a typical ~200-byte item and a nested one, in wire JSON.
var benchItems = []struct{ name, json string }{
	{"typical", `{"pk":{"S":"user#12345"},"sk":{"S":"order#2024-01-01T00:00:00Z"},` +
		`"status":{"S":"SHIPPED"},"total":{"N":"129.99"},"qty":{"N":"3"},` +
		`"email":{"S":"someone@example.com"},"tags":{"SS":["gift","express"]},"paid":{"BOOL":true}}`},
	{"nested", `{"pk":{"S":"user#12345"},"sk":{"S":"profile"},"profile":{"M":{` +
		`"name":{"S":"Ada Lovelace"},"age":{"N":"36"},"address":{"M":{"street":{"S":"12 St James's Square"},` +
		`"city":{"S":"London"},"geo":{"L":[{"N":"51.5074"},{"N":"-0.1364"}]}}},` +
		`"orders":{"L":[{"M":{"id":{"S":"o1"},"total":{"N":"10.5"},"items":{"NS":["1","2","3"]}}},` +
		`{"M":{"id":{"S":"o2"},"total":{"N":"99"},"gift":{"BOOL":false},"note":{"NULL":true}}}]},` +
		`"avatar":{"B":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}}}}`},
}

func benchItem(b *testing.B, js string) Item {
	b.Helper()
	var it Item
	if err := it.UnmarshalJSON([]byte(js)); err != nil {
		b.Fatal(err)
	}
	return it
}

func BenchmarkDecodeItemJSON(b *testing.B) {
	for _, bi := range benchItems {
		b.Run(bi.name, func(b *testing.B) {
			data := []byte(bi.json)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var it Item
				if err := it.UnmarshalJSON(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeItemJSONStdlib is a reference point: encoding/json into
// generic maps, with no validation at all.
func BenchmarkDecodeItemJSONStdlib(b *testing.B) {
	for _, bi := range benchItems {
		b.Run(bi.name, func(b *testing.B) {
			data := []byte(bi.json)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var m map[string]map[string]any
				if err := json.Unmarshal(data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeItemJSON(b *testing.B) {
	for _, bi := range benchItems {
		b.Run(bi.name, func(b *testing.B) {
			it := benchItem(b, bi.json)
			buf := AppendItemJSON(nil, it)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendItemJSON(buf[:0], it)
			}
		})
	}
}

func BenchmarkDecodeItem(b *testing.B) {
	for _, bi := range benchItems {
		b.Run(bi.name, func(b *testing.B) {
			data := AppendItem(nil, benchItem(b, bi.json))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeItem(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeItem(b *testing.B) {
	for _, bi := range benchItems {
		b.Run(bi.name, func(b *testing.B) {
			it := benchItem(b, bi.json)
			buf := AppendItem(nil, it)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendItem(buf[:0], it)
			}
		})
	}
}

func BenchmarkAppendKeyNumber(b *testing.B) {
	v := Number("-12345.6789")
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendKey(buf[:0], v)
	}
}

func BenchmarkParseNumber(b *testing.B) {
	for _, s := range []string{"129.99", "-0001.2500e3"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseNumber(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

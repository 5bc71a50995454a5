package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var fastDecodeSeeds = []string{
	`{"Key":{"pk":{"S":"key-1"}},"TableName":"bench"}`,
	`{"Item":{"pk":{"S":"key-1"},"v":{"S":"vvvv"}},"TableName":"bench"}`,
	` { "TableName" : "bench" , "Key" : { "pk" : { "N" : "12.5" } } , "ConsistentRead" : true } `,
	`{"TableName":"bench","Key":{"pk":{"S":"a\"b}"}},"ReturnConsumedCapacity":"TOTAL"}`,
	`{"TableName":"bench","Item":{"pk":{"S":"x"},"l":{"L":[{"M":{"a":{"BOOL":false}}},{"NULL":true}]}},"ReturnValues":"ALL_OLD"}`,
	`{}`,
	`{"TableName":null,"Key":{"pk":{"S":"k"}}}`,
	`{"tablename":"bench","Key":{"pk":{"S":"k"}}}`,
	`{"TableName":"bench","TableName":"other","Key":{"pk":{"S":"k"}}}`,
	`{"TableName":"b\u00e9nch","Key":{"pk":{"S":"k"}}}`,
	`{"TableName":"bénch","Key":{"pk":{"S":"k"}}}`,
	`{"TableName":5,"Key":{"pk":{"S":"k"}}}`,
	`{"TableName":"bench","Key":{"pk":{"S":"k"}},"ConsistentRead":"yes"}`,
	`{"TableName":"bench","Key":{"pk":{"SS":[]}}}`,
	`{"TableName":"bench","Key":{"pk":{"N":"1e999999"}}}`,
	`{"TableName":"bench","Key":{"pk":{"S":"k"}}`,
	`{"TableName":"bench","Key":{"pk":{"S":"k"}}} x`,
	`{"TableName":"bench","Key":[]}`,
	`{"TableName":"bench","Key":{"pk":{"S":"k"}},"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"pk"}}`,
	`{"TableName":"bench","Item":{"pk":{"S":"k"}},"ConditionExpression":"attribute_not_exists(pk)"}`,
	`[]`,
	`null`,
	``,
}

// outcome decodes body with decode (the fast path, then encoding/json) and
// with encoding/json alone, and renders both results.
func outcomes(body []byte) (fast, slow string) {
	var g1, g2 getItemInput
	e1, e2 := g1.decode(body), decode(body, &g2)
	var p1, p2 putItemInput
	e3, e4 := p1.decode(body), decode(body, &p2)
	render := func(g getItemInput, ge error, p putItemInput, pe error) string {
		return fmt.Sprintf("%#v %v | %#v %v", g, ge, p, pe)
	}
	fast, slow = render(g1, e1, p1, e3), render(g2, e2, p2, e4)
	if reflect.DeepEqual(g1, g2) && reflect.DeepEqual(p1, p2) && fmt.Sprint(e1, e3) == fmt.Sprint(e2, e4) {
		return slow, slow // equal, even where %#v would show pointers
	}
	return fast, slow
}

// The fast decode of GetItem and PutItem must give what encoding/json
// gives, errors included, on every body.
func TestDecodeFast_MatchesEncodingJSON(t *testing.T) {
	for _, body := range fastDecodeSeeds {
		if fast, slow := outcomes([]byte(body)); fast != slow {
			t.Errorf("%s:\nfast %s\njson %s", body, fast, slow)
		}
	}
	// The plain shapes the SDKs send must take the fast path.
	var g getItemInput
	if !decodeFast([]byte(fastDecodeSeeds[0]), g.fastFields()) {
		t.Error("a plain GetItem body did not take the fast path")
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if fast, slow := outcomes(body); fast != slow {
			t.Fatalf("%q:\nfast %s\njson %s", body, fast, slow)
		}
	})
}

// BenchmarkDecodeGetItem and BenchmarkDecodePutItem compare the request
// decode of the hot operations with encoding/json (reflect) and with the
// fast path (fast), on the bodies the Go SDK sends in scripts/bench.sh.
func BenchmarkDecodeGetItem(b *testing.B) {
	body := []byte(`{"Key":{"pk":{"S":"key-4711"}},"TableName":"bench"}`)
	b.Run("reflect", func(b *testing.B) {
		for b.Loop() {
			var in getItemInput
			if err := decode(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var in getItemInput
			if err := in.decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodePutItem(b *testing.B) {
	body := []byte(`{"Item":{"pk":{"S":"key-4711"},"v":{"S":"` + strings.Repeat("ab", 100) + `"}},"TableName":"bench"}`)
	b.Run("reflect", func(b *testing.B) {
		for b.Loop() {
			var in putItemInput
			if err := decode(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var in putItemInput
			if err := in.decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestDecodeFast_PutTakesFastPath(t *testing.T) {
	var p putItemInput
	if !decodeFast([]byte(`{"Item":{"pk":{"S":"key-4711"},"v":{"S":"abab"}},"TableName":"bench"}`), p.fastFields()) {
		t.Error("a plain PutItem body did not take the fast path")
	}
}

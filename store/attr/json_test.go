package attr

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"strings"
	"testing"
	"testing/quick"
)

// decodeAttr decodes {"a": <value>} as an item, the way PutItem sees it.
func decodeAttr(value string) (Item, error) {
	var it Item
	err := it.UnmarshalJSON([]byte(`{"a":` + value + `}`))
	return it, err
}

// TestItem_UnmarshalJSONValidation covers DynamoDB's validation messages, as
// recorded by dynalite against the real service.
func TestItem_UnmarshalJSONValidation(t *testing.T) {
	tests := []struct{ value, msg string }{
		{`{}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"a":""}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"S":null}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`null`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"S":"a","N":"1"}`, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
		{`{"NULL":true,"BOOL":false}`, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
		{`{"NULL":false}`, "One or more parameter values were invalid: Null attribute value types must have the value of true"},
		{`{"SS":[]}`, "One or more parameter values were invalid: An string set  may not be empty"},
		{`{"NS":[]}`, "One or more parameter values were invalid: An number set  may not be empty"},
		{`{"BS":[]}`, "One or more parameter values were invalid: Binary sets should not be empty"},
		{`{"SS":["a","a"]}`, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."},
		{`{"BS":["Yg==","Yg=="]}`, "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates."},
		{`{"NS":["1","1"]}`, "Input collection contains duplicates"},
		{`{"NS":["1","1.0"]}`, "Input collection contains duplicates"},
		{`{"NS":["1",""]}`, "The parameter cannot be converted to a numeric value"},
		{`{"NS":["1","b"]}`, "The parameter cannot be converted to a numeric value: b"},
		{`{"NS":["1",null]}`, "The parameter cannot be converted to a numeric value"},
		{`{"SS":["a",null]}`, "One or more parameter values were invalid: Set members may not be null"},
		{`{"BS":["Yg==",null]}`, "One or more parameter values were invalid: Set members may not be null"},
		{`{"S":"","N":""}`, "The parameter cannot be converted to a numeric value"},
		{`{"S":"a","N":"b"}`, "The parameter cannot be converted to a numeric value: b"},
		{`{"N":"123456789012345678901234567890123456789"}`, "Attempting to store more than 38 significant digits in a Number"},
		{`{"N":"-1.23456789012345678901234567890123456789"}`, "Attempting to store more than 38 significant digits in a Number"},
		{`{"N":"1e126"}`, "Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{`{"N":"-1e126"}`, "Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{`{"N":"1e-131"}`, "Number underflow. Attempting to store a number with magnitude smaller than supported range"},
		{`{"N":"-1e-131"}`, "Number underflow. Attempting to store a number with magnitude smaller than supported range"},
		{`{"M":{"x":{}}}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"M":{"x":null}}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"L":[{"S":"ok"},{"NULL":false}]}`, "One or more parameter values were invalid: Null attribute value types must have the value of true"},
		{`{"L":[null]}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		// A member's problem is found before the value's own type count.
		{`{"S":"a","M":{"x":{"SS":[]}}}`, "One or more parameter values were invalid: An string set  may not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			_, err := decodeAttr(tt.value)
			mustError(t, err, KindValidation, tt.msg)
		})
	}
}

// TestItem_UnmarshalJSONWrongShape covers DynamoDB's serialization
// messages, which depend on where the value sits.
func TestItem_UnmarshalJSONWrongShape(t *testing.T) {
	const (
		startOfMap = "Start of structure or map found where not expected"
		fieldType  = "Unexpected field type"
		valueType  = "Unexpected value type in payload"
		valueList  = "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
		mapList    = "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
		blobScalar = "only base-64-encoded strings are convertible to bytes"
	)
	// Each row is tried for S and N (String), B (Blob), BOOL and NULL
	// (Boolean), SS/NS/BS/L (List), members of SS/NS (String), members of BS
	// (Blob), members of L and M (AttributeValue), and M (Map).
	type row struct{ json, str, blob, boolean, list, value, mapping string }
	rows := []row{
		{`"23"`, "", "Base64 encoded length is expected a multiple of 4 bytes but found: 2", "Unexpected token received from parser", fieldType, valueType, fieldType},
		{`true`, "TRUE_VALUE cannot be converted to String", blobScalar, "", fieldType, valueType, fieldType},
		{`false`, "FALSE_VALUE cannot be converted to String", blobScalar, "", fieldType, valueType, fieldType},
		{`23`, "NUMBER_VALUE cannot be converted to String", blobScalar, "NUMBER_VALUE cannot be converted to Boolean", fieldType, valueType, fieldType},
		{`-2147483648`, "NUMBER_VALUE cannot be converted to String", blobScalar, "NUMBER_VALUE cannot be converted to Boolean", fieldType, valueType, fieldType},
		{`2147483648`, "NUMBER_VALUE cannot be converted to String", blobScalar, "NUMBER_VALUE cannot be converted to Boolean", fieldType, valueType, fieldType},
		{`34.56`, "DECIMAL_VALUE cannot be converted to String", blobScalar, "DECIMAL_VALUE cannot be converted to Boolean", fieldType, valueType, fieldType},
		{`1e3`, "DECIMAL_VALUE cannot be converted to String", blobScalar, "DECIMAL_VALUE cannot be converted to Boolean", fieldType, valueType, fieldType},
		{`[]`, "Unrecognized collection type class java.lang.String", "Unrecognized collection type class java.nio.ByteBuffer", "Unrecognized collection type class java.lang.Boolean", "", valueList, mapList},
		{`{}`, startOfMap, startOfMap, startOfMap, startOfMap, "", ""},
	}
	check := func(t *testing.T, value, want string) {
		t.Helper()
		_, err := decodeAttr(value)
		if want == "" {
			var e *Error
			if errors.As(err, &e) && e.Kind == KindSerialization {
				t.Fatalf("%s: unexpected serialization error %q", value, e.Message)
			}
			return
		}
		mustError(t, err, KindSerialization, want)
	}
	for _, r := range rows {
		t.Run(r.json, func(t *testing.T) {
			for _, f := range []string{"S", "N"} {
				check(t, `{"`+f+`":`+r.json+`}`, r.str)
			}
			for _, f := range []string{"SS", "NS"} {
				check(t, `{"`+f+`":[`+r.json+`]}`, r.str)
			}
			check(t, `{"B":`+r.json+`}`, r.blob)
			check(t, `{"BS":[`+r.json+`]}`, r.blob)
			for _, f := range []string{"BOOL", "NULL"} {
				check(t, `{"`+f+`":`+r.json+`}`, r.boolean)
			}
			for _, f := range []string{"SS", "NS", "BS", "L"} {
				check(t, `{"`+f+`":`+r.json+`}`, r.list)
			}
			check(t, r.json, r.value)
			check(t, `{"L":[`+r.json+`]}`, r.value)
			check(t, `{"M":{"x":`+r.json+`}}`, r.value)
			check(t, `{"M":`+r.json+`}`, r.mapping)
		})
	}
}

func TestItem_UnmarshalJSONTopLevelShape(t *testing.T) {
	tests := []struct{ json, msg string }{
		{`"x"`, "Unexpected field type"},
		{`5`, "Unexpected field type"},
		{`true`, "Unexpected field type"},
		{`[]`, "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"},
	}
	for _, tt := range tests {
		var it Item
		mustError(t, it.UnmarshalJSON([]byte(tt.json)), KindSerialization, tt.msg)
	}
}

func TestItem_UnmarshalJSONBase64(t *testing.T) {
	tests := []struct {
		b64  string
		want string // decoded, or "" with msg
		msg  string
	}{
		{"", "", ""},
		{"Yg==", "b", ""},
		{"YWJj", "abc", ""},
		{"23456", "", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{"=+/=", "", "Invalid last non-pad Base64 character dectected"},
		{"+/+=", "", "Invalid last non-pad Base64 character dectected"},
		{"Yh==", "", "Invalid last non-pad Base64 character dectected"},
		{"Y!==", "", "Invalid last non-pad Base64 character dectected"},
		{"Yg\\n==", "", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{"YW\\nJj", "", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{"YWJ\\nj", "", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{"Y\\nWJ", "", "Invalid last non-pad Base64 character dectected"},
		{"YWJjZA", "", "Base64 encoded length is expected a multiple of 4 bytes but found: 6"},
		{"YWJj====", "", "Invalid last non-pad Base64 character dectected"},
	}
	for _, tt := range tests {
		t.Run(tt.b64, func(t *testing.T) {
			it, err := decodeAttr(`{"B":"` + tt.b64 + `"}`)
			if tt.msg != "" {
				mustError(t, err, KindSerialization, tt.msg)
				return
			}
			if err != nil || string(it["a"].B) != tt.want {
				t.Fatalf("B = %q, %v; want %q", it["a"].B, err, tt.want)
			}
		})
	}
}

func TestItem_UnmarshalJSONStrings(t *testing.T) {
	tests := []struct{ json, want string }{
		{`"plain"`, "plain"},
		{`""`, ""},
		{`"é😀"`, "é😀"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u0041\u00e9\u20ac"`, "Aé€"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\uD83D\uDE00x"`, "😀x"},
		{`"\ud83d"`, "\ufffd"},
		{`"\ud83dx"`, "\ufffdx"},
		{`"\ude00\ud83d"`, "\ufffd\ufffd"},
		{`"\ud83d\u0041"`, "\ufffdA"},
		{`"a\u0000b"`, "a\x00b"},
		{`"pre é \n post"`, "pre é \n post"},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			it, err := decodeAttr(`{"S":` + tt.json + `}`)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got := it["a"].S; got != tt.want {
				t.Fatalf("S = %q, want %q", got, tt.want)
			}
			var std string
			if err := json.Unmarshal([]byte(tt.json), &std); err != nil || std != tt.want {
				t.Fatalf("encoding/json reads %q, %v: the test case is wrong", std, err)
			}
		})
	}
	// Attribute names are unescaped too.
	var it Item
	if err := it.UnmarshalJSON([]byte(`{"\u0061\ud83d\ude00":{"\u0053":"x"}}`)); err != nil || it["a😀"].S != "x" {
		t.Fatalf("escaped names: %v, %v", it, err)
	}
}

func TestItem_UnmarshalJSONMalformed(t *testing.T) {
	tests := []string{
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":{"S":"x"}`, `{"a":{"S":"x"}}}`, `{"a":{"S":"x"},}`,
		`{"a":{"S":"x"} "b":{"S":"y"}}`, `{a:{"S":"x"}}`, `{"a":{"S":"x}}`, `{"a":{"S":"\x"}}`,
		`{"a":{"S":"\u12"}}`, `{"a":{"S":"\u12G4"}}`, "{\"a\":{\"S\":\"tab\there\"}}", `{"a":{"S":'x'}}`,
		`{"a":{"BOOL":tru}}`, `{"a":{"BOOL":truex}}`, `{"a":{"NULL":nul}}`, `{"a":{"N":01}}`, `{"a":{"N":1.}}`,
		`{"a":{"N":-}}`, `{"a":{"N":1e}}`, `{"a":{"N":.5}}`, `{"a":{"N":+1}}`, `{"a":{"L":[{"S":"x"},]}}`,
		`{"a":{"L":[{"S":"x"}}}`, `{"a":{"SS":["x"}}`, `{"a":{"zz":[1,2,}}}`, `{"a":{"zz":{"q":}}}`,
		`{"a":{"zz":tx}}`, `{"a":{"S":"x"}} x`, `{"a":{"S":"x"}}{}`, "{\"a\":{\"S\":\"\xff\"}}",
		"{\"a\":{\"S\":\"\\n\xff\"}}", "{\"\xc3\":{\"S\":\"x\"}}", `{"a":{"S":"x"}`, `nul`, `{"a":{"M":{"b":{"S":"x"}}}`,
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			var it Item
			err := it.UnmarshalJSON([]byte(in))
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindSerialization {
				t.Fatalf("UnmarshalJSON(%q) = %v, %v; want a serialization error", in, it, err)
			}
		})
	}
}

// TestItem_UnmarshalJSONSerializationWins: DynamoDB parses the whole
// request before validating, so a later shape error beats an earlier rule
// violation.
func TestItem_UnmarshalJSONSerializationWins(t *testing.T) {
	var it Item
	err := it.UnmarshalJSON([]byte(`{"a":{"SS":[]},"b":{"NULL":false},"c":{"S":5}}`))
	mustError(t, err, KindSerialization, "NUMBER_VALUE cannot be converted to String")
	err = it.UnmarshalJSON([]byte(`{"a":{"SS":[]},"b":{"NULL":false}} junk`))
	if e, ok := err.(*Error); !ok || e.Kind != KindSerialization {
		t.Fatalf("err = %v, want serialization error for the trailing junk", err)
	}
	// Without a shape error, the first rule violation in the document wins.
	err = it.UnmarshalJSON([]byte(`{"a":{"SS":[]},"b":{"NULL":false}}`))
	mustError(t, err, KindValidation, msgEmptySS)
}

func TestItem_UnmarshalJSONNesting(t *testing.T) {
	wrap := func(n int, open, close, leaf string) string {
		return strings.Repeat(open, n) + leaf + strings.Repeat(close, n)
	}
	// 31 containers around a leaf are fine, 32 are not; M and L count alike.
	for _, tc := range []struct {
		name        string
		open, close string
	}{
		{"L", `{"L":[`, `]}`},
		{"M", `{"M":{"k":`, `}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeAttr(wrap(31, tc.open, tc.close, `{"NULL":true}`)); err != nil {
				t.Fatalf("31 levels: %v", err)
			}
			_, err := decodeAttr(wrap(32, tc.open, tc.close, `{"NULL":true}`))
			mustError(t, err, KindValidation, msgNesting)
			_, err = decodeAttr(wrap(100000, tc.open, tc.close, `{"NULL":true}`))
			mustError(t, err, KindValidation, msgNesting)
		})
	}
	// Unknown members are skipped, however deep (up to a sane bound).
	if _, err := decodeAttr(`{"S":"x","zz":` + wrap(1000, "[", "]", "1") + `}`); err != nil {
		t.Fatalf("deep unknown member: %v", err)
	}
	_, err := decodeAttr(`{"S":"x","zz":` + wrap(20000, "[", "]", "1") + `}`)
	mustError(t, err, KindSerialization, msgMaxJSONDepth)
}

func TestItem_UnmarshalJSONValues(t *testing.T) {
	in := `{
		"s": {"S": "x"}, "n": {"N": "01.50"}, "b": {"B": "AAEC"}, "t": {"BOOL": true},
		"f": {"BOOL": "FALSE"}, "z": {"NULL": "true"}, "ss": {"SS": ["b", "a"]},
		"ns": {"NS": ["1e2", "-0.5"]}, "bs": {"BS": ["AQ==", ""]}, "l": {"L": []},
		"m": {"M": {"k": {"L": [{"S": "deep"}]}}}, "ignored": {"S": "y", "Extra": [1, {"a": null}]},
		"nulls": {"S": "z", "N": null, "M": null}
	}`
	var got Item
	if err := got.UnmarshalJSON([]byte(in)); err != nil {
		t.Fatal(err)
	}
	want := Item{
		"s": String("x"), "n": Number("1.5"), "b": Binary([]byte{0, 1, 2}), "t": Bool(true),
		"f": Bool(false), "z": Null(), "ss": StringSet([]string{"b", "a"}),
		"ns": NumberSet([]string{"100", "-0.5"}), "bs": BinarySet([][]byte{{1}, {}}), "l": List(nil),
		"m":       Map(map[string]Value{"k": List([]Value{String("deep")})}),
		"ignored": String("y"), "nulls": String("z"),
	}
	if !ItemsEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	if got["ns"].NS[0] != "100" || got["ss"].SS[0] != "b" {
		t.Fatalf("set members not canonical or reordered: %v %v", got["ns"].NS, got["ss"].SS)
	}
	// L and empty M decode as empty, not nil, so they re-encode as [] and {}.
	if got["l"].L == nil {
		t.Fatal("empty L decoded as nil")
	}
}

func TestValue_UnmarshalJSON(t *testing.T) {
	var v Value
	if err := v.UnmarshalJSON([]byte(` {"N":"-0"} `)); err != nil || !Equal(v, Number("0")) || v.N != "0" {
		t.Fatalf("got %v, %v", v, err)
	}
	before := v
	if err := v.UnmarshalJSON([]byte(`null`)); err != nil || !Equal(v, before) {
		t.Fatalf("null changed the value: %v, %v", v, err)
	}
	mustError(t, v.UnmarshalJSON([]byte(`{}`)), KindValidation, msgValueEmpty)
	mustError(t, v.UnmarshalJSON([]byte(`"S"`)), KindSerialization, msgValueType)
}

// request mimics how region/api decodes a request with encoding/json.
type request struct {
	TableName                 string
	Item                      Item
	ExpressionAttributeValues map[string]Value
	Value                     *Value
	List                      []Value
}

func TestUnmarshalJSON_ThroughEncodingJSON(t *testing.T) {
	in := `{"TableName":"t","Item":{"a":{"S":"x"},"n":{"N":"1E1"}},
		"ExpressionAttributeValues":{":v":{"SS":["q"]}},"Value":{"BOOL":true},"List":[{"NULL":true}]}`
	var req request
	if err := json.Unmarshal([]byte(in), &req); err != nil {
		t.Fatal(err)
	}
	if req.Item["n"].N != "10" || req.ExpressionAttributeValues[":v"].SS[0] != "q" || !req.Value.BOOL || req.List[0].Type != TypeNULL {
		t.Fatalf("decoded %+v", req)
	}
	for _, tc := range []struct {
		in   string
		kind ErrorKind
		msg  string
	}{
		{`{"Item":{"a":{"SS":[]}}}`, KindValidation, msgEmptySS},
		{`{"Item":{"a":{"S":true}}}`, KindSerialization, "TRUE_VALUE cannot be converted to String"},
		{`{"ExpressionAttributeValues":{":v":{"N":"x"}}}`, KindValidation, "The parameter cannot be converted to a numeric value: x"},
		{`{"Value":{"B":"abc"}}`, KindSerialization, "Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
	} {
		var req request
		err := json.Unmarshal([]byte(tc.in), &req)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: err = %v (%T), want *Error", tc.in, err, err)
		}
		if e.Kind != tc.kind || e.Message != tc.msg {
			t.Fatalf("%s: err = %s %q, want %s %q", tc.in, e.Kind, e.Message, tc.kind, tc.msg)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{String("x"), `{"S":"x"}`},
		{String("q\"\\\n\r\t\x01\x1f<>&é😀\u2028\u2029"), `{"S":"q\"\\\n\r\t\u0001\u001f<>&é😀\u2028\u2029"}`},
		{String("bad\xffutf8"), `{"S":"bad\ufffdutf8"}`},
		{Number("-1.5"), `{"N":"-1.5"}`},
		{Binary([]byte{0, 1, 2}), `{"B":"AAEC"}`},
		{Binary(nil), `{"B":""}`},
		{Bool(true), `{"BOOL":true}`},
		{Bool(false), `{"BOOL":false}`},
		{Null(), `{"NULL":true}`},
		{Map(map[string]Value{"b": Null(), "a": String("x")}), `{"M":{"a":{"S":"x"},"b":{"NULL":true}}}`},
		{Map(nil), `{"M":{}}`},
		{List([]Value{Number("1"), List(nil)}), `{"L":[{"N":"1"},{"L":[]}]}`},
		{StringSet([]string{"b", "a"}), `{"SS":["b","a"]}`},
		{NumberSet([]string{"1", "2"}), `{"NS":["1","2"]}`},
		{BinarySet([][]byte{{1}, {2}}), `{"BS":["AQ==","Ag=="]}`},
		{Value{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := AppendJSON([]byte("prefix:"), tt.v)
			if string(got) != "prefix:"+tt.want {
				t.Fatalf("AppendJSON = %s, want %s", got, tt.want)
			}
			if !json.Valid(got[len("prefix:"):]) {
				t.Fatalf("AppendJSON wrote invalid JSON %s", got)
			}
		})
	}
	if _, err := (Value{}).MarshalJSON(); err == nil {
		t.Fatal("MarshalJSON of an invalid value succeeded")
	}
	if _, err := List([]Value{{}}).MarshalJSON(); err == nil {
		t.Fatal("MarshalJSON of a list holding an invalid value succeeded")
	}
	if _, err := (Item{"a": {}}).MarshalJSON(); err == nil {
		t.Fatal("MarshalJSON of an item holding an invalid value succeeded")
	}
	if got := string(AppendItemJSON(nil, nil)); got != "{}" {
		t.Fatalf("AppendItemJSON(nil) = %s", got)
	}
}

func TestJSON_RandomRoundTrip(t *testing.T) {
	err := quick.Check(func(seed int64) bool {
		r := rand.New(rand.NewSource(seed))
		it := randItem(r)
		b, err := json.Marshal(it)
		if err != nil {
			t.Logf("Marshal: %v", err)
			return false
		}
		if !bytes.Equal(b, AppendItemJSON(nil, it)) {
			t.Logf("MarshalJSON and AppendItemJSON differ")
			return false
		}
		var got Item
		if err := json.Unmarshal(b, &got); err != nil {
			t.Logf("Unmarshal(%s): %v", b, err)
			return false
		}
		if !ItemsEqual(got, it) {
			t.Logf("round trip of %s gave %v", b, got)
			return false
		}
		// encoding/json must read our output the same way: a cross-check of
		// string escaping.
		var generic map[string]map[string]any
		if err := json.Unmarshal(b, &generic); err != nil {
			t.Logf("encoding/json rejects %s: %v", b, err)
			return false
		}
		for k, v := range it {
			if v.Type == TypeS && generic[k]["S"] != v.S {
				t.Logf("encoding/json reads S %q as %q", v.S, generic[k]["S"])
				return false
			}
		}
		return true
	}, &quick.Config{MaxCount: 3000})
	if err != nil {
		t.Fatal(err)
	}
}

package attr

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand"
	"runtime"
	"testing"
	"testing/quick"
)

// sampleItem holds every type, empty containers and awkward strings.
func sampleItem() Item {
	return Item{
		"pk":    String("user#1"),
		"n":     Number("-12.5"),
		"b":     Binary([]byte{0, 1, 2}),
		"empty": Binary([]byte{}),
		"t":     Bool(true),
		"f":     Bool(false),
		"null":  Null(),
		"ss":    StringSet([]string{"b", "a", ""}),
		"ns":    NumberSet([]string{"1", "0.5", "-3"}),
		"bs":    BinarySet([][]byte{{1}, {}}),
		"m": Map(map[string]Value{
			"":      String("empty key"),
			"inner": Map(map[string]Value{}),
			"list":  List([]Value{Number("1"), String("x"), List(nil)}),
		}),
		"l":  List([]Value{}),
		"é😀": String("\x00\"\\"),
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	tests := map[string]Item{
		"empty":  {},
		"sample": sampleItem(),
		"one":    {"a": String("b")},
	}
	for name, it := range tests {
		t.Run(name, func(t *testing.T) {
			enc := AppendItem(nil, it)
			got, err := DecodeItem(enc)
			if err != nil {
				t.Fatalf("DecodeItem: %v", err)
			}
			if !ItemsEqual(got, it) {
				t.Fatalf("round trip changed the item:\n got %v\nwant %v", got, it)
			}
			if again := AppendItem(nil, got); !bytes.Equal(again, enc) {
				t.Fatalf("re-encoding differs:\n%x\n%x", again, enc)
			}
		})
	}
}

// TestCodec_Format pins the format: stored rows must stay readable.
func TestCodec_Format(t *testing.T) {
	it := Item{"b": Number("1.5"), "a": Map(map[string]Value{"x": Bool(true)}), "c": StringSet([]string{"z", "y"})}
	want := "01" + "03" + // format, 3 attributes
		"0161" + "06" + "01" + "0178" + "04" + "01" + // a: M{x: BOOL true}
		"0162" + "02" + "03" + "312e35" + // b: N "1.5"
		"0163" + "08" + "02" + "017a" + "0179" // c: SS [z y]
	if got := hex.EncodeToString(AppendItem(nil, it)); got != want {
		t.Fatalf("AppendItem = %s, want %s", got, want)
	}
}

func TestCodec_DeterministicAcrossInsertionOrder(t *testing.T) {
	a, b := Item{}, Item{}
	keys := []string{"z", "a", "m", "b", "y", "c"}
	for i, k := range keys {
		a[k] = Number(string(rune('1' + i)))
	}
	for i := len(keys) - 1; i >= 0; i-- {
		b[keys[i]] = Number(string(rune('1' + i)))
	}
	if !bytes.Equal(AppendItem(nil, a), AppendItem(nil, b)) {
		t.Fatal("equal items encoded differently")
	}
}

func TestCodec_RandomRoundTrip(t *testing.T) {
	err := quick.Check(func(seed int64) bool {
		r := rand.New(rand.NewSource(seed))
		it := randItem(r)
		enc := AppendItem(nil, it)
		got, err := DecodeItem(enc)
		if err != nil {
			t.Logf("DecodeItem(%x): %v", enc, err)
			return false
		}
		if !ItemsEqual(got, it) || !bytes.Equal(AppendItem(nil, got), enc) {
			t.Logf("round trip of %v gave %v", it, got)
			return false
		}
		// Values decode on their own too, reporting what they used.
		v := randValue(r, 3)
		venc := AppendValue([]byte("prefix"), v)[len("prefix"):]
		venc = append(venc, "trailer"...)
		dv, n, err := DecodeValue(venc)
		return err == nil && n == len(venc)-len("trailer") && Equal(dv, v)
	}, &quick.Config{MaxCount: 3000})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecodeItem_SharesNoMemory(t *testing.T) {
	enc := AppendItem(nil, Item{"b": Binary([]byte("abc")), "s": String("xyz")})
	got, err := DecodeItem(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] = 0xEE
	}
	if string(got["b"].B) != "abc" || got["s"].S != "xyz" {
		t.Fatalf("decoded item changed with its input: %v", got)
	}
}

func TestDecodeItem_Truncated(t *testing.T) {
	enc := AppendItem(nil, sampleItem())
	for n := 0; n < len(enc); n++ {
		if _, err := DecodeItem(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeItem of %d/%d bytes: err = %v, want ErrCorrupt", n, len(enc), err)
		}
	}
}

func TestDecodeItem_Corrupt(t *testing.T) {
	tests := map[string]string{
		"empty input":          "",
		"unknown format":       "02" + "00",
		"trailing bytes":       "01" + "00" + "00",
		"unknown tag":          "01" + "01" + "0161" + "0b",
		"invalid tag":          "01" + "01" + "0161" + "00",
		"length past end":      "01" + "01" + "0161" + "01" + "05" + "6162",
		"huge count":           "01" + "ffffffffffffffffff01",
		"bad varint":           "01" + "80808080808080808080",
		"over-long varint":     "01" + "8000",
		"keys out of order":    "01" + "02" + "0162" + "05" + "0161" + "05",
		"duplicate keys":       "01" + "02" + "0161" + "05" + "0161" + "05",
		"non-canonical number": "01" + "01" + "0161" + "02" + "03" + "312e30",
		"invalid number":       "01" + "01" + "0161" + "02" + "01" + "78",
		"empty number":         "01" + "01" + "0161" + "02" + "00",
		"bad bool":             "01" + "01" + "0161" + "04" + "02",
		"empty SS":             "01" + "01" + "0161" + "08" + "00",
		"empty NS":             "01" + "01" + "0161" + "09" + "00",
		"empty BS":             "01" + "01" + "0161" + "0a" + "00",
		"non-canonical NS":     "01" + "01" + "0161" + "09" + "01" + "02" + "3031",
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			if it, err := DecodeItem(b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeItem(%s) = %v, %v; want ErrCorrupt", h, it, err)
			}
		})
	}
}

func TestDecodeValue_DeepNesting(t *testing.T) {
	// 1000 nested single-element lists: corrupt (too deep), not a stack overflow.
	var b []byte
	for i := 0; i < 1000; i++ {
		b = append(b, byte(TypeL), 1)
	}
	b = append(b, byte(TypeNULL))
	if _, _, err := DecodeValue(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

// TestDecodeItem_ClaimedCountsDoNotAllocate: nested lists that each claim
// as many elements as there are bytes left must not reserve memory for
// them (found by FuzzDecodeItem, which stalled on such inputs).
func TestDecodeItem_ClaimedCountsDoNotAllocate(t *testing.T) {
	const depth, pad = 200, 20000
	b := []byte{itemFormatV1, 1, 1, 'a'}
	for i := 0; i < depth; i++ {
		b = append(b, byte(TypeL))
		b = binary.AppendUvarint(b, pad)
	}
	b = append(b, make([]byte, pad)...)
	var stats struct{ before, after uint64 }
	stats.before = totalAlloc()
	if _, err := DecodeItem(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	stats.after = totalAlloc()
	if used := stats.after - stats.before; used > 16<<20 {
		t.Fatalf("decoding %d corrupt bytes allocated %d bytes", len(b), used)
	}
}

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

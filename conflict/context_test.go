package conflict

import (
	"math/rand"
	"testing"
)

func randomContext(r *rand.Rand) Context {
	c := Context{}
	for i := 0; i < r.Intn(4); i++ {
		v := randomVersion(r)
		if v.Region == "" {
			continue
		}
		c = c.With(v)
	}
	return c
}

func TestContext_MergeProperties(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 5000; i++ {
		a, b, c := randomContext(r), randomContext(r), randomContext(r)
		if !a.Merge(b).Equal(b.Merge(a)) {
			t.Fatalf("merge not commutative: %v %v", a, b)
		}
		if !a.Merge(b).Merge(c).Equal(a.Merge(b.Merge(c))) {
			t.Fatalf("merge not associative")
		}
		if !a.Merge(a).Equal(a) {
			t.Fatalf("merge not idempotent: %v", a)
		}
		for _, v := range b {
			if !a.Merge(b).Covers(v) {
				t.Fatalf("merge lost %v", v)
			}
		}
	}
}

func TestContext_BinaryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 2000; i++ {
		c := randomContext(r)
		b := append(c.AppendBinary(nil), 0xAA)
		got, n, err := DecodeContext(b)
		if err != nil || !got.Equal(c) || n != len(b)-1 {
			t.Fatalf("round trip of %v: %v %v %d", c, got, err, n)
		}
	}
}

func FuzzDecodeContext(f *testing.F) {
	f.Add(Context{"a": {Wall: 1, Region: "a"}}.AppendBinary(nil))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := DecodeContext(b)
		if err != nil {
			return
		}
		if got := c.AppendBinary(nil); string(got) != string(b[:n]) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func TestClassify(t *testing.T) {
	v0 := Version{Wall: 5, Region: "us"}
	v1 := Version{Wall: 10, Region: "us"}
	v2 := Version{Wall: 12, Region: "eu"}
	v3 := Version{Wall: 14, Region: "ap"}
	ctx := func(vs ...Version) Context {
		c := Context{}
		for _, v := range vs {
			c = c.With(v)
		}
		return c
	}
	tests := []struct {
		name                    string
		local                   Version
		localCtx                Context
		incoming                Version
		incomingCtx             Context
		want                    Outcome
		concurrent, isDuplicate bool
	}{
		{"nothing local", Version{}, nil, v1, ctx(v1), Replace, false, false},
		{"duplicate", v1, ctx(v0, v1), v1, ctx(v0, v1), Keep, false, true},
		{"succession", v1, ctx(v1), v2, ctx(v1, v2), Replace, false, false},
		{"late old delivery", v2, ctx(v1, v2), v1, ctx(v1), Keep, false, false},
		{"concurrent, incoming wins", v1, ctx(v0, v1), v2, ctx(v0, v2), Replace, true, false},
		{"concurrent, local wins", v2, ctx(v0, v2), v1, ctx(v0, v1), Keep, true, false},
		// us wrote v1, eu replaced it with v2, ap replaced v2 with v3; a
		// replica still holding v1 receives v3 before v2: succession, not a
		// conflict, which a single previous-version pointer would get wrong.
		{"chain out of order", v1, ctx(v1), v3, ctx(v1, v2, v3), Replace, false, false},
		{"tombstone versions follow the same rule", v2, ctx(v2), v1, ctx(v1), Keep, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.local, tt.localCtx, tt.incoming, tt.incomingCtx)
			if got.Outcome != tt.want || got.Concurrent != tt.concurrent || got.Duplicate != tt.isDuplicate {
				t.Fatalf("Classify = %+v, want outcome %v concurrent %v duplicate %v", got, tt.want, tt.concurrent, tt.isDuplicate)
			}
		})
	}
}

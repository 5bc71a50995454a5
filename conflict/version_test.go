package conflict

import (
	"math/rand"
	"testing"
	"testing/quick"
	"time"
)

func TestVersion_Compare(t *testing.T) {
	tests := []struct {
		name string
		a, b Version
		want int
	}{
		{"zero equals zero", Version{}, Version{}, 0},
		{"zero before any", Version{}, Version{Wall: 1, Region: "a"}, -1},
		{"wall decides", Version{Wall: 2, Logical: 0, Region: "a"}, Version{Wall: 1, Logical: 9, Region: "z"}, 1},
		{"logical decides within wall", Version{Wall: 5, Logical: 1, Region: "z"}, Version{Wall: 5, Logical: 2, Region: "a"}, -1},
		{"region breaks ties", Version{Wall: 5, Logical: 1, Region: "eu-west-1"}, Version{Wall: 5, Logical: 1, Region: "us-east-1"}, -1},
		{"identical", Version{Wall: 5, Logical: 1, Region: "a"}, Version{Wall: 5, Logical: 1, Region: "a"}, 0},
		{"negative wall (clock before 1970)", Version{Wall: -5, Region: "a"}, Version{Wall: 0, Logical: 1, Region: "a"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Fatalf("Compare(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := tt.b.Compare(tt.a); got != -tt.want {
				t.Fatalf("Compare is not antisymmetric: reverse gave %d", got)
			}
		})
	}
}

func TestVersion_TokenRoundTrip(t *testing.T) {
	f := func(wall int64, logical uint32, region string) bool {
		v := Version{Wall: wall, Logical: logical, Region: region}
		got, err := ParseToken(v.Token())
		return err == nil && got == v
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "1.2", "x.1@a", "1.x@a", "1@a", "1.99999999999@a"} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) succeeded", bad)
		}
	}
}

func TestVersion_BinaryRoundTrip(t *testing.T) {
	f := func(wall int64, logical uint32, region string, tail []byte) bool {
		v := Version{Wall: wall, Logical: logical, Region: region}
		b := append(v.AppendBinary(nil), tail...)
		got, n, err := DecodeVersion(b)
		return err == nil && got == v && n == len(b)-len(tail)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeVersion(f *testing.F) {
	f.Add(Version{Wall: 1, Logical: 2, Region: "us-east-1"}.AppendBinary(nil))
	f.Add([]byte{})
	f.Add(make([]byte, 13))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := DecodeVersion(b)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		if got := v.AppendBinary(nil); string(got) != string(b[:n]) {
			t.Fatalf("re-encoding differs: %x vs %x", got, b[:n])
		}
	})
}

// randomVersion draws from a small space so that ties on wall, logical and
// region all occur often.
func randomVersion(r *rand.Rand) Version {
	regions := []string{"", "ap-southeast-1", "eu-west-1", "us-east-1"}
	return Version{Wall: r.Int63n(4), Logical: uint32(r.Intn(3)), Region: regions[r.Intn(len(regions))]}
}

func TestResolve_Properties(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		a, b, c := randomVersion(r), randomVersion(r), randomVersion(r)
		if Resolve(a, b) != Resolve(b, a) {
			t.Fatalf("not commutative: %v %v", a, b)
		}
		if Resolve(Resolve(a, b), c) != Resolve(a, Resolve(b, c)) {
			t.Fatalf("not associative: %v %v %v", a, b, c)
		}
		if Resolve(a, a) != a {
			t.Fatalf("not idempotent: %v", a)
		}
		if w := Resolve(a, b); w != a && w != b {
			t.Fatalf("winner %v is neither input", w)
		}
	}
}

// TestResolve_OrderIndependent applies the same multiset of versions, with
// duplicates, in random orders through Decide, as a replica would, and checks
// that every order ends on the maximum.
func TestResolve_OrderIndependent(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for round := 0; round < 500; round++ {
		vs := make([]Version, 1+r.Intn(10))
		for i := range vs {
			vs[i] = randomVersion(r)
		}
		vs = append(vs, vs[:r.Intn(len(vs))]...) // duplicates
		var want Version
		for _, v := range vs {
			want = Resolve(want, v)
		}
		for trial := 0; trial < 5; trial++ {
			r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
			var local Version
			for _, v := range vs {
				if Decide(local, v) == Replace {
					local = v
				}
			}
			if local != want {
				t.Fatalf("order %v ended on %v, want %v", vs, local, want)
			}
		}
	}
}

func TestDecide(t *testing.T) {
	old := Version{Wall: 10, Region: "a"}
	newer := Version{Wall: 11, Region: "b"}
	if Decide(old, newer) != Replace {
		t.Error("newer version must replace")
	}
	if Decide(newer, old) != Keep {
		t.Error("older version must be dropped")
	}
	if Decide(newer, newer) != Keep {
		t.Error("a duplicate delivery must be a no-op")
	}
	if Decide(Version{}, old) != Replace {
		t.Error("anything replaces the zero version")
	}
}

func TestHLC_MonotonicWhenClockStepsBack(t *testing.T) {
	now := time.Unix(100, 0)
	c := NewHLC("us-east-1", func() time.Time { return now })
	prev := c.Now()
	for i := 0; i < 1000; i++ {
		switch i % 3 {
		case 0:
			now = now.Add(-time.Second) // clock steps back
		case 1:
			// clock stalls
		case 2:
			now = now.Add(time.Millisecond)
		}
		v := c.Now()
		if !prev.Less(v) {
			t.Fatalf("step %d: %v not after %v", i, v, prev)
		}
		prev = v
	}
}

func TestHLC_NextFollowsObservedVersion(t *testing.T) {
	// Region "b" runs 10 s behind region "a". A write in b that replaces a's
	// write must still carry the greater version.
	slow := NewHLC("b", func() time.Time { return time.Unix(1000, 0) })
	remote := Version{Wall: time.Unix(1010, 0).UnixNano(), Logical: 3, Region: "a"}
	v := slow.Next(remote)
	if !remote.Less(v) {
		t.Fatalf("Next(%v) = %v, want greater", remote, v)
	}
	if v.Region != "b" {
		t.Fatalf("region = %q", v.Region)
	}
	if w := slow.Now(); !v.Less(w) {
		t.Fatalf("Now after Next went back: %v then %v", v, w)
	}
	slow.Observe(Version{Wall: remote.Wall + 5, Region: "c"})
	if w := slow.Now(); w.Wall < remote.Wall+5 {
		t.Fatalf("Observe did not advance the clock: %v", w)
	}
}

func TestHLC_TracksPhysicalTime(t *testing.T) {
	now := time.Unix(100, 0)
	c := NewHLC("a", func() time.Time { return now })
	c.Now()
	now = now.Add(time.Second)
	v := c.Now()
	if v.Wall != now.UnixNano() || v.Logical != 0 {
		t.Fatalf("got %v, want wall=%d logical=0", v, now.UnixNano())
	}
}

func TestHLC_LogicalOverflowBorrowsWall(t *testing.T) {
	c := NewHLC("a", func() time.Time { return time.Unix(0, 5) })
	c.Observe(Version{Wall: 5, Logical: ^uint32(0)})
	v := c.Now()
	if v.Wall != 6 || v.Logical != 0 {
		t.Fatalf("got %v", v)
	}
}

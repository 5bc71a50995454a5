package clock

import (
	"sync"
	"testing"
	"time"
)

// fakeReal is a hand-driven real clock.
type fakeReal struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeReal) now() time.Time      { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeReal) add(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

func TestSkewed_OffsetAndDrift(t *testing.T) {
	real := &fakeReal{t: time.Unix(1000, 0)}
	c := New(real.now, -250*time.Millisecond, 0)
	if got := c.Now(); !got.Equal(time.Unix(1000, 0).Add(-250 * time.Millisecond)) {
		t.Fatalf("offset clock reads %v", got)
	}
	c.Set(0, 50) // 50 ppm: 50 µs per second
	real.add(1000 * time.Second)
	if got := c.Get().Current; got != 50*time.Millisecond {
		t.Fatalf("after 1000 s at 50 ppm the skew is %v, want 50ms", got)
	}
	c.Set(time.Second, -100)
	real.add(10 * time.Second)
	if got := c.Get().Current; got != time.Second-time.Millisecond {
		t.Fatalf("skew = %v", got)
	}
}

func TestParseDrift(t *testing.T) {
	for in, want := range map[string]float64{"50ppm": 50, "-20ppm": -20, "0": 0, "": 0, " 7.5 ppm": 7.5} {
		got, err := ParseDrift(in)
		if err != nil || got != want {
			t.Errorf("ParseDrift(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"fast", "1e9ppm", "5%"} {
		if _, err := ParseDrift(bad); err == nil {
			t.Errorf("ParseDrift(%q) succeeded", bad)
		}
	}
}

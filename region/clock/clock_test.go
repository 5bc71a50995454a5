package clock

import (
	"errors"
	"math"
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
	c, err := New(real.now, -250*time.Millisecond, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(time.Unix(1000, 0).Add(-250 * time.Millisecond)) {
		t.Fatalf("offset clock reads %v", got)
	}
	mustSet(t, c, 0, 50) // 50 ppm: 50 µs per second
	real.add(1000 * time.Second)
	if got := c.Get().Current; got != 50*time.Millisecond {
		t.Fatalf("after 1000 s at 50 ppm the skew is %v, want 50ms", got)
	}
	mustSet(t, c, time.Second, -100)
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
	for _, bad := range []string{"fast", "1e9ppm", "5%", "NaN", "nanppm", "Inf", "-inf", "1e400", "1001ppm"} {
		if _, err := ParseDrift(bad); err == nil {
			t.Errorf("ParseDrift(%q) succeeded", bad)
		}
	}
}

func mustSet(t *testing.T, c *Skewed, offset time.Duration, ppm float64) {
	t.Helper()
	if err := c.Set(offset, ppm); err != nil {
		t.Fatal(err)
	}
}

// Issue 7: an offset of 2000000h and a drift of NaN were accepted.
func TestSkewed_RefusesBeyondLimit(t *testing.T) {
	real := &fakeReal{t: time.Unix(1000, 0)}
	c, err := New(real.now, 0, 0, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		offset time.Duration
		ppm    float64
	}{
		{"offset far ahead", 2000000 * time.Hour, 0},
		{"offset just beyond", 5*time.Minute + time.Nanosecond, 0},
		{"offset far behind", -time.Hour, 0},
		{"NaN drift", 0, math.NaN()},
		{"infinite drift", 0, math.Inf(1)},
		{"drift beyond bound", 0, -MaxDriftPPM - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Set(tc.offset, tc.ppm)
			if !errors.Is(err, ErrBadSkew) {
				t.Fatalf("Set(%s, %v) = %v, want ErrBadSkew", tc.offset, tc.ppm, err)
			}
			if got := c.Get(); got.Offset != 0 || got.DriftPPM != 0 {
				t.Fatalf("a refused skew was set: %+v", got)
			}
		})
	}
	mustSet(t, c, 5*time.Minute, MaxDriftPPM)
	if _, err := New(real.now, time.Hour, 0, time.Minute); !errors.Is(err, ErrBadSkew) {
		t.Fatalf("New beyond the limit: %v", err)
	}
}

func TestSkewed_DriftStopsAtLimit(t *testing.T) {
	real := &fakeReal{t: time.Unix(1000, 0)}
	c, err := New(real.now, 4*time.Minute, MaxDriftPPM, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	real.add(100 * time.Hour) // 360 s of drift
	if got := c.Get().Current; got != 5*time.Minute {
		t.Fatalf("skew after long drift = %v, want the 5m limit", got)
	}
}

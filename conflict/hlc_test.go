package conflict

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// manual is a hand-driven physical clock.
type manual struct {
	mu sync.Mutex
	t  time.Time
}

func (m *manual) now() time.Time  { m.mu.Lock(); defer m.mu.Unlock(); return m.t }
func (m *manual) set(t time.Time) { m.mu.Lock(); m.t = t; m.mu.Unlock() }

// Issue 7: one region's +1h skew dragged every region an hour ahead.
func TestHLC_BoundedObserveIgnoresFarFuture(t *testing.T) {
	real := time.Unix(1_000_000, 0)
	c := NewHLC("b", func() time.Time { return real })
	c.SetMaxAhead(5 * time.Second)
	far := Version{Wall: real.Add(time.Hour).UnixNano(), Region: "a"}
	if err := c.Admit(far); !errors.Is(err, ErrAhead) {
		t.Fatalf("Admit(+1h) = %v, want ErrAhead", err)
	}
	var ae *AheadError
	if err := c.Admit(far); !errors.As(err, &ae) || ae.Ahead != time.Hour || ae.Max != 5*time.Second {
		t.Fatalf("Admit(+1h) = %#v", err)
	}
	c.Observe(far)
	if v := c.Now(); v.Wall != real.UnixNano() {
		t.Fatalf("after observing +1h the clock mints %v, want real time", v)
	}
	near := Version{Wall: real.Add(4 * time.Second).UnixNano(), Region: "a"}
	if err := c.Admit(near); err != nil {
		t.Fatalf("Admit(+4s) = %v", err)
	}
	c.Observe(near)
	if v := c.Now(); v.Compare(near) <= 0 {
		t.Fatalf("after observing +4s the clock mints %v, not after it", v)
	}
}

func TestHLC_NextOrdersAfterFarFutureWithoutMovingTheClock(t *testing.T) {
	real := time.Unix(1_000_000, 0)
	c := NewHLC("b", func() time.Time { return real })
	c.SetMaxAhead(5 * time.Second)
	far := Version{Wall: real.Add(time.Hour).UnixNano(), Logical: 7, Region: "a"}
	v := c.Next(far)
	if v.Compare(far) <= 0 || v.Wall != far.Wall {
		t.Fatalf("Next(+1h) = %v, want far's immediate successor", v)
	}
	if w := c.Now(); w.Wall != real.UnixNano() {
		t.Fatalf("after Next(+1h) an unrelated write gets %v, want real time", w)
	}
	top := Version{Wall: far.Wall, Logical: ^uint32(0), Region: "z"}
	if v := c.Next(top); v.Compare(top) <= 0 {
		t.Fatalf("Next(%v) = %v", top, v)
	}
}

// A region whose own clock ran an hour ahead comes back to real time once
// the clock is corrected, instead of minting +1h versions for an hour.
func TestHLC_StepsBackWhenPhysicalTimeDoes(t *testing.T) {
	real := time.Unix(1_000_000, 0)
	m := &manual{t: real.Add(time.Hour)}
	c := NewHLC("a", m.now)
	c.SetMaxAhead(5 * time.Second)
	ahead := c.Now()
	m.set(real)
	if v := c.Now(); v.Wall != real.UnixNano() {
		t.Fatalf("after the clock was corrected, Now = %v, want real time", v)
	}
	if c.Resets() != 1 {
		t.Fatalf("Resets = %d", c.Resets())
	}
	// A write replacing the +1h version still wins over it.
	if v := c.Next(ahead); v.Compare(ahead) <= 0 {
		t.Fatalf("Next(%v) = %v", ahead, v)
	}
	// A small step back is absorbed by the logical counter, as before.
	m.set(real.Add(-time.Second))
	before := c.Now()
	if v := c.Now(); v.Compare(before) <= 0 {
		t.Fatalf("versions went back within the bound: %v then %v", before, v)
	}
}

func TestHLC_UnboundedAdmitsAll(t *testing.T) {
	c := NewHLC("a", func() time.Time { return time.Unix(0, 0) })
	far := Version{Wall: time.Unix(1<<40, 0).UnixNano(), Region: "b"}
	if err := c.Admit(far); err != nil {
		t.Fatal(err)
	}
	c.Observe(far)
	if v := c.Now(); v.Compare(far) <= 0 {
		t.Fatalf("unbounded clock did not absorb: %v", v)
	}
}

package conflict

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrAhead is wrapped by the error Admit returns for a version too far
// ahead of the clock's physical time.
var ErrAhead = errors.New("version too far ahead of this region's clock")

// AheadError says that a version is further ahead of a region's physical
// time than the clock's bound allows. It wraps ErrAhead.
type AheadError struct {
	// Version is the version refused.
	Version Version
	// Ahead is how far its wall time is ahead of the physical time it was
	// compared with; Max is the bound.
	Ahead, Max time.Duration
}

func (e *AheadError) Error() string {
	return fmt.Sprintf("version %s is %s ahead of this region's clock, beyond max_clock_skew %s: the clock of region %s (or this one) is wrong",
		e.Version.Token(), e.Ahead.Round(time.Millisecond), e.Max, e.Version.Region)
}

// Unwrap returns ErrAhead.
func (e *AheadError) Unwrap() error { return ErrAhead }

// HLC is a hybrid logical clock: it mints versions whose physical part tracks
// a time source, and whose logical part keeps them strictly increasing when
// the time source stalls, steps back a little, or lags a remote version
// already seen.
//
// A version minted by Next(after) is greater than after, always: that is
// what makes a write which replaces an item (it read or overwrote it) win
// over what it replaced under last-writer-wins, even when its region's clock
// is behind.
//
// With a bound (SetMaxAhead), the clock never lets a version pull it further
// than the bound ahead of its physical time: Observe ignores such versions
// and Admit reports them, and a clock whose floor is more than the bound
// ahead of physical time (its physical time was stepped back, or was wrong
// when it minted) steps back to physical time. Per-item succession does not
// need the floor: Next(after) orders a write after the item's own version.
// docs/replication.md, "Bounded clock", explains why this is enough.
type HLC struct {
	region string
	now    func() time.Time

	mu       sync.Mutex // guards the fields below
	wall     int64
	logical  uint32
	maxAhead time.Duration // 0: unbounded
	resets   uint64
}

// NewHLC returns a clock for region that reads physical time from now. A nil
// now means time.Now. The clock is unbounded until SetMaxAhead.
func NewHLC(region string, now func() time.Time) *HLC {
	if now == nil {
		now = time.Now
	}
	return &HLC{region: region, now: now}
}

// SetMaxAhead bounds how far ahead of physical time the clock may run
// (a topology's max_clock_skew); 0 removes the bound.
func (c *HLC) SetMaxAhead(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maxAhead = max(d, 0)
}

// MaxAhead returns the bound set by SetMaxAhead (0: none).
func (c *HLC) MaxAhead() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxAhead
}

// Region returns the name of the region whose versions c mints.
func (c *HLC) Region() string { return c.region }

// Now mints a new version, greater than every version minted or observed
// before, unless the clock stepped back to physical time since (see
// SetMaxAhead).
func (c *HLC) Now() Version {
	pt := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick(pt)
	return Version{Wall: c.wall, Logical: c.logical, Region: c.region}
}

// Next mints a version greater than after and than everything before: the
// version of a local write that replaces an item (or setting) whose current
// version is after. When after is beyond the bound, the version is after's
// immediate successor and the clock's floor does not move to it.
func (c *HLC) Next(after Version) Version {
	pt := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observe(after, pt)
	c.tick(pt)
	v := Version{Wall: c.wall, Logical: c.logical, Region: c.region}
	if v.Compare(after) <= 0 {
		v = after.successor(c.region)
	}
	return v
}

// successor returns the least version of region greater than v.
func (v Version) successor(region string) Version {
	s := Version{Wall: v.Wall, Logical: v.Logical, Region: region}
	if s.Compare(v) > 0 {
		return s
	}
	if s.Logical == ^uint32(0) {
		return Version{Wall: v.Wall + 1, Region: region}
	}
	s.Logical++
	return s
}

// Observe advances the clock past a remote version, so that every version
// minted afterwards is greater than v, unless v is beyond the bound: such a
// version is not absorbed (the clock would carry its error to every later
// write of this region).
func (c *HLC) Observe(v Version) {
	pt := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observe(v, pt)
}

// Admit reports, as an *AheadError, whether v is further ahead of the
// clock's physical time than the bound. An unbounded clock admits all.
func (c *HLC) Admit(v Version) error {
	pt := c.now().UnixNano()
	c.mu.Lock()
	maxAhead := c.maxAhead
	c.mu.Unlock()
	if maxAhead <= 0 || v.Wall-pt <= int64(maxAhead) {
		return nil
	}
	return &AheadError{Version: v, Ahead: time.Duration(v.Wall - pt), Max: maxAhead}
}

// Peek returns the clock's last minted or observed timestamp without
// advancing it.
func (c *HLC) Peek() Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Version{Wall: c.wall, Logical: c.logical, Region: c.region}
}

// Resets counts the times the clock stepped back to physical time because
// its floor was more than the bound ahead.
func (c *HLC) Resets() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

func (c *HLC) observe(v Version, pt int64) {
	if c.maxAhead > 0 && v.Wall-pt > int64(c.maxAhead) {
		return
	}
	switch {
	case v.Wall > c.wall:
		c.wall, c.logical = v.Wall, v.Logical
	case v.Wall == c.wall && v.Logical > c.logical:
		c.logical = v.Logical
	}
}

// tick moves the clock forward for a new event at physical time pt.
func (c *HLC) tick(pt int64) {
	if pt > c.wall {
		c.wall, c.logical = pt, 0
		return
	}
	if c.maxAhead > 0 && c.wall-pt > int64(c.maxAhead) {
		// The floor is beyond the bound: the physical clock was stepped
		// back (or was wrong when it minted the floor). Follow it back
		// rather than mint far-future versions until it catches up.
		c.wall, c.logical = pt, 0
		c.resets++
		return
	}
	if c.logical == ^uint32(0) {
		// The logical counter is exhausted within one nanosecond of wall
		// time; borrow the next nanosecond rather than wrap.
		c.wall++
		c.logical = 0
		return
	}
	c.logical++
}

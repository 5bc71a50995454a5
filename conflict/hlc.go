package conflict

import (
	"sync"
	"time"
)

// HLC is a hybrid logical clock: it mints versions whose physical part tracks
// a time source, and whose logical part keeps them strictly increasing when
// the time source stalls, steps back, or lags a remote version already seen.
//
// A version minted after Observe(v) is greater than v. That is the property
// that makes a write which follows another causally (it read or replaced it)
// win over it under last-writer-wins, even when its region's clock is behind.
type HLC struct {
	region string
	now    func() time.Time

	mu      sync.Mutex // guards wall and logical
	wall    int64
	logical uint32
}

// NewHLC returns a clock for region that reads physical time from now. A nil
// now means time.Now.
func NewHLC(region string, now func() time.Time) *HLC {
	if now == nil {
		now = time.Now
	}
	return &HLC{region: region, now: now}
}

// Region returns the name of the region whose versions c mints.
func (c *HLC) Region() string { return c.region }

// Now mints a new version, greater than every version minted or observed
// before.
func (c *HLC) Now() Version {
	pt := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick(pt)
	return Version{Wall: c.wall, Logical: c.logical, Region: c.region}
}

// Next mints a version greater than after and than everything before: the
// version of a local write that replaces an item whose current version is
// after.
func (c *HLC) Next(after Version) Version {
	pt := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observe(after)
	c.tick(pt)
	return Version{Wall: c.wall, Logical: c.logical, Region: c.region}
}

// Observe advances the clock past a remote version, so that every version
// minted afterwards is greater than v.
func (c *HLC) Observe(v Version) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observe(v)
}

// Peek returns the clock's last minted or observed timestamp without
// advancing it.
func (c *HLC) Peek() Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Version{Wall: c.wall, Logical: c.logical, Region: c.region}
}

func (c *HLC) observe(v Version) {
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
	if c.logical == ^uint32(0) {
		// The logical counter is exhausted within one nanosecond of wall
		// time; borrow the next nanosecond rather than wrap.
		c.wall++
		c.logical = 0
		return
	}
	c.logical++
}

// Package clock provides a region's wall clock: the machine's clock,
// optionally offset and drifting, so that experiments can show what skewed
// clocks do to last-writer-wins. The region's hybrid logical clock reads it;
// replication latency is measured on the real clock, never on this one.
//
// Invariant: a skew is bounded. An offset beyond the limit (the topology's
// max_clock_skew), a drift that is not a finite number or one beyond
// MaxDriftPPM is refused, and a drifting clock stops drifting at the limit,
// so the lab never runs a clock the replication would refuse (issue 7).
package clock

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxSkew is the default limit of a skew: the default of the
// topology's max_clock_skew.
const DefaultMaxSkew = 5 * time.Minute

// MaxDriftPPM bounds a drift, either way: 1000 ppm is a millisecond per
// second, ten times what a bad quartz crystal does.
const MaxDriftPPM = 1000

// ErrBadSkew is wrapped by the errors that refuse a skew.
var ErrBadSkew = errors.New("clock skew refused")

// Check reports whether offset and driftPPM make an acceptable skew under
// limit (0: no limit on the offset), saying why not.
func Check(offset time.Duration, driftPPM float64, limit time.Duration) error {
	switch {
	case math.IsNaN(driftPPM) || math.IsInf(driftPPM, 0):
		return fmt.Errorf("%w: drift %v is not a finite number", ErrBadSkew, driftPPM)
	case math.Abs(driftPPM) > MaxDriftPPM:
		return fmt.Errorf("%w: drift %gppm is beyond ±%dppm", ErrBadSkew, driftPPM, MaxDriftPPM)
	case limit > 0 && (offset > limit || offset < -limit):
		return fmt.Errorf("%w: offset %s is beyond max_clock_skew %s (the other regions would stop applying this region's writes)", ErrBadSkew, offset, limit)
	}
	return nil
}

// Skewed is a wall clock that runs Offset ahead of the real one (behind if
// negative) and gains DriftPPM microseconds per real second from the moment
// the skew was set. Changes take effect at once; the hybrid logical clock
// above it keeps versions increasing whatever a change does.
type Skewed struct {
	real func() time.Time

	mu     sync.Mutex // guards the fields below
	offset time.Duration
	drift  float64       // parts per million
	anchor time.Time     // real time at which the skew was set
	limit  time.Duration // 0: none
}

// New returns a clock reading real (time.Now if nil), skewed as given and
// limited to ±limit (0: no limit), or an error if the skew is refused
// (see Check).
func New(real func() time.Time, offset time.Duration, driftPPM float64, limit time.Duration) (*Skewed, error) {
	if err := Check(offset, driftPPM, limit); err != nil {
		return nil, err
	}
	if real == nil {
		real = time.Now
	}
	return &Skewed{real: real, offset: offset, drift: driftPPM, anchor: real(), limit: max(limit, 0)}, nil
}

// Limit returns the clock's limit (0: none).
func (s *Skewed) Limit() time.Duration { return s.limit }

// Now returns the skewed time.
func (s *Skewed) Now() time.Time {
	r := s.real()
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.Add(s.skewAt(r))
}

func (s *Skewed) skewAt(r time.Time) time.Duration {
	d := s.offset + time.Duration(float64(r.Sub(s.anchor))*s.drift/1e6)
	if s.limit > 0 {
		// A drifting clock stops at the limit rather than run past what
		// replication accepts.
		d = min(max(d, -s.limit), s.limit)
	}
	return d
}

// Set changes the skew: from now on the clock is offset ahead and drifts.
// A skew Check refuses is not set, and the error says why.
func (s *Skewed) Set(offset time.Duration, driftPPM float64) error {
	if err := Check(offset, driftPPM, s.limit); err != nil {
		return err
	}
	r := s.real()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset, s.drift, s.anchor = offset, driftPPM, r
	return nil
}

// Skew describes a clock's settings and how far it is off right now.
type Skew struct {
	Offset   time.Duration `json:"offset_ns"`
	DriftPPM float64       `json:"drift_ppm"`
	// Current is the clock's present distance from real time.
	Current time.Duration `json:"current_ns"`
}

// Get returns the clock's settings and current skew.
func (s *Skewed) Get() Skew {
	r := s.real()
	s.mu.Lock()
	defer s.mu.Unlock()
	return Skew{Offset: s.offset, DriftPPM: s.drift, Current: s.skewAt(r)}
}

// ParseDrift reads a drift such as "50ppm", "-20ppm" or "0". It refuses
// what Check refuses of a drift: NaN, infinities, and beyond MaxDriftPPM.
func ParseDrift(s string) (float64, error) {
	v := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "ppm"))
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: drift %q: want parts per million, e.g. \"50ppm\"", ErrBadSkew, s)
	}
	if err := Check(0, f, 0); err != nil {
		return 0, err
	}
	return f, nil
}

// Package clock provides a region's wall clock: the machine's clock,
// optionally offset and drifting, so that experiments can show what skewed
// clocks do to last-writer-wins. The region's hybrid logical clock reads it;
// replication latency is measured on the real clock, never on this one.
package clock

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Skewed is a wall clock that runs Offset ahead of the real one (behind if
// negative) and gains DriftPPM microseconds per real second from the moment
// the skew was set. Changes take effect at once; the hybrid logical clock
// above it keeps versions increasing whatever a change does.
type Skewed struct {
	real func() time.Time

	mu     sync.Mutex // guards the fields below
	offset time.Duration
	drift  float64   // parts per million
	anchor time.Time // real time at which the skew was set
}

// New returns a clock reading real (time.Now if nil), skewed as given.
func New(real func() time.Time, offset time.Duration, driftPPM float64) *Skewed {
	if real == nil {
		real = time.Now
	}
	return &Skewed{real: real, offset: offset, drift: driftPPM, anchor: real()}
}

// Now returns the skewed time.
func (s *Skewed) Now() time.Time {
	r := s.real()
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.Add(s.skewAt(r))
}

func (s *Skewed) skewAt(r time.Time) time.Duration {
	return s.offset + time.Duration(float64(r.Sub(s.anchor))*s.drift/1e6)
}

// Set changes the skew: from now on the clock is offset ahead and drifts.
func (s *Skewed) Set(offset time.Duration, driftPPM float64) {
	r := s.real()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset, s.drift, s.anchor = offset, driftPPM, r
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

// maxDriftPPM bounds drift to what a broken, not an absurd, clock does.
const maxDriftPPM = 1e5

// ParseDrift reads a drift such as "50ppm", "-20ppm" or "0".
func ParseDrift(s string) (float64, error) {
	v := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "ppm"))
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("drift %q: want parts per million, e.g. \"50ppm\"", s)
	}
	if f > maxDriftPPM || f < -maxDriftPPM {
		return 0, errors.New("drift beyond ±100000ppm")
	}
	return f, nil
}

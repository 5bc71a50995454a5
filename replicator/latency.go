package replicator

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histogram geometry: microseconds from 1µs to 1h, two significant
// digits (1% precision), which keeps one histogram near 30 KB.
const (
	latencyMinMicros = 1
	latencyMaxMicros = int64(time.Hour / time.Microsecond)
	latencySigFigs   = 2
	// latencySlices × latencySlice is the recent window: the last 60 s,
	// rotated every 10 s.
	latencySlices = 6
	latencySlice  = 10 * time.Second
)

// latencies records replication latencies, for the recent window and
// since start. It is safe for concurrent use.
type latencies struct {
	mu      sync.Mutex // guards the fields below
	all     *hdrhistogram.Histogram
	win     *hdrhistogram.WindowedHistogram
	rotated time.Time // when win was last rotated
}

func newLatencies(now time.Time) *latencies {
	return &latencies{
		all:     hdrhistogram.New(latencyMinMicros, latencyMaxMicros, latencySigFigs),
		win:     hdrhistogram.NewWindowed(latencySlices, latencyMinMicros, latencyMaxMicros, latencySigFigs),
		rotated: now,
	}
}

// rotate brings the window up to now. l.mu is held.
func (l *latencies) rotate(now time.Time) {
	n := int(now.Sub(l.rotated) / latencySlice)
	if n <= 0 {
		return
	}
	if n > latencySlices {
		n = latencySlices
		l.rotated = now
	} else {
		l.rotated = l.rotated.Add(time.Duration(n) * latencySlice)
	}
	for range n {
		l.win.Rotate()
	}
}

// record adds the latency of each of ds. Negative ones (clocks that
// disagree) count as zero; values past an hour as an hour.
func (l *latencies) record(now time.Time, ds ...time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	for _, d := range ds {
		us := min(max(int64(d/time.Microsecond), latencyMinMicros), latencyMaxMicros)
		_ = l.all.RecordValue(us) // in range by construction
		_ = l.win.Current.RecordValue(us)
	}
}

// latencySummary is a few quantiles of a histogram.
type latencySummary struct {
	P50, P99, Max time.Duration
	Count         int64
}

func summarize(h *hdrhistogram.Histogram) latencySummary {
	if h.TotalCount() == 0 {
		return latencySummary{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return latencySummary{
		P50:   us(h.ValueAtQuantile(50)),
		P99:   us(h.ValueAtQuantile(99)),
		Max:   us(h.Max()),
		Count: h.TotalCount(),
	}
}

// summary returns the recent window's quantiles and those since start.
func (l *latencies) summary(now time.Time) (recent, all latencySummary) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	return summarize(l.win.Merge()), summarize(l.all)
}

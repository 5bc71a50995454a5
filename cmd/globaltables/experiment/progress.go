package experiment

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Counter is what a progress line reads from the workload.
type Counter interface {
	Counts() (writes, reads, errors int)
}

// Progress keeps a live progress line at the bottom of a terminal:
// elapsed time, operations per second, errors, conflicts and pending
// changes. Other output written through it goes above the line. Use it
// only when the output is a terminal; elsewhere the line's redraws would
// be noise.
type Progress struct {
	mu    sync.Mutex // guards w and line
	w     io.Writer
	line  string
	start time.Time
}

// NewProgress returns a progress line drawn on w.
func NewProgress(w io.Writer) *Progress { return &Progress{w: w, start: time.Now()} }

// clear and redraw: carriage return, erase to the end of the line.
const clearLine = "\r\x1b[K"

// Write writes b above the progress line.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.w, clearLine); err != nil {
		return 0, err
	}
	n, err := p.w.Write(b)
	if err == nil && p.line != "" {
		_, err = io.WriteString(p.w, p.line)
	}
	return n, err
}

// Run redraws the line once a second until ctx ends, then erases it.
func (p *Progress) Run(ctx context.Context, c Counter, m *Monitor) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastOps, lastAt := 0, time.Now()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.line = ""
			io.WriteString(p.w, clearLine)
			p.mu.Unlock()
			return
		case now := <-t.C:
			writes, reads, errs := c.Counts()
			conflicts, pending, known := m.Now()
			rate := float64(writes+reads-lastOps) / now.Sub(lastAt).Seconds()
			lastOps, lastAt = writes+reads, now
			pend := "pending unknown"
			if known {
				pend = fmt.Sprintf("%d pending", pending)
			}
			line := fmt.Sprintf("  %s elapsed · %.0f ops/s · %d errors · %d conflicts · %s",
				now.Sub(p.start).Round(time.Second), rate, errs, conflicts, pend)
			p.mu.Lock()
			p.line = line
			io.WriteString(p.w, clearLine+line)
			p.mu.Unlock()
		}
	}
}

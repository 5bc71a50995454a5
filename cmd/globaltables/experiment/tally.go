package experiment

import (
	"fmt"
	"time"
)

// Tally counts what the workload's clients did. The running counts (the
// progress line, a drill's "load stopped" event), the result's summary, its
// report and a drill's phase table all count with it, so that they cannot
// disagree.
type Tally struct {
	// Writes counts the client's writes; a write its region refused and
	// that was retried in another (Config.Failover) counts once, and also
	// in FailedOver. WriteErrors counts writes that failed for good.
	Writes      int `json:"writes"`
	FailedOver  int `json:"failed_over"`
	WriteErrors int `json:"write_errors"`
	// Reads counts every read the client made, answered or not;
	// ReadErrors those that failed (reads are not retried elsewhere).
	Reads      int `json:"reads"`
	ReadErrors int `json:"read_errors"`
	// StaleReads counts answered reads that missed a write already
	// acknowledged in some region.
	StaleReads int `json:"stale_reads"`
}

// addWrite counts w; a retry counts with the write it retried.
func (t *Tally) addWrite(w *Write) {
	if w.RetryOf != "" {
		return
	}
	t.Writes++
	switch {
	case w.FailedOver:
		t.FailedOver++
	case w.Err != "":
		t.WriteErrors++
	}
}

// addRead counts r.
func (t *Tally) addRead(r *Read) {
	t.Reads++
	switch {
	case r.Err != "":
		t.ReadErrors++
	case r.Missed != "":
		t.StaleReads++
	}
}

// Tally counts the recording's writes and reads so far; with a non-nil
// in, only those whose start it accepts (e.g. one phase of a drill).
func (rec *Recording) Tally(in func(start time.Time) bool) Tally {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var t Tally
	for _, w := range rec.Writes {
		if in == nil || in(w.Start) {
			t.addWrite(w)
		}
	}
	for _, r := range rec.Reads {
		if in == nil || in(r.Start) {
			t.addRead(r)
		}
	}
	return t
}

// WritesText says what became of the client's writes, e.g. "1527 writes
// (203 refused by their region and retried in another, 0 failed)".
func (t Tally) WritesText() string {
	if t.FailedOver > 0 {
		return fmt.Sprintf("%d writes (%d refused by their region and retried in another, %d failed)", t.Writes, t.FailedOver, t.WriteErrors)
	}
	return fmt.Sprintf("%d writes (%d failed)", t.Writes, t.WriteErrors)
}

// ReadsText says what became of the client's reads, e.g. "118 reads (94
// answered, 24 failed)".
func (t Tally) ReadsText() string {
	return fmt.Sprintf("%d reads (%d answered, %d failed)", t.Reads, t.Reads-t.ReadErrors, t.ReadErrors)
}

// Text is WritesText and ReadsText together.
func (t Tally) Text() string { return t.WritesText() + ", " + t.ReadsText() }

package replicator

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/replicator/natstest"
)

// Issue 7: a change from a clock an hour ahead was absorbed everywhere.
// The link applies what comes before it, stops at it (neither applying,
// acknowledging nor skipping it) with the reason in its status, and goes on
// once the clock admits it.
func TestLink_StopsAtAChangeFromTheFuture(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	now := time.Now()
	cs := items("t", 0, 3)
	// The source's clock jumps an hour ahead, and stays there.
	future := itemChange("t", "future", now.Add(time.Hour))
	cs = append(cs, future, itemChange("t", "future2", now.Add(time.Hour+time.Second)), itemChange("t", "future3", now.Add(time.Hour+2*time.Second)))
	publish(t, js, "src", cs...)

	var behind atomic.Int64 // how far the test clock is behind real time
	behind.Store(int64(2 * time.Hour))
	clk := conflict.NewHLC("dst", func() time.Time { return time.Now().Add(-time.Duration(behind.Load())) })
	clk.SetMaxAhead(time.Minute)
	st := newFakeStore()
	l := newTestLink(t, url, st, func(c *LinkConfig) { c.Admit = clk.Admit })
	run(t, l.Run)
	// The clock is 2h behind: even the present is from the future. Now
	// only the far-future change is.
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); s.Stall == nil || s.Stall.Seq != 1 {
			return fmt.Errorf("not stopped at 1: %+v", s.Stall)
		}
		return nil
	})
	behind.Store(0)
	waitCursor(t, st, "src", 3)
	natstest.WaitFor(t, waitLong, func() error {
		s := l.Status()
		if s.Stall == nil || s.Stall.Seq != 4 || s.Stall.Version != future.Version.Token() ||
			!strings.Contains(s.Stall.Reason, "max_clock_skew") || s.Stall.AheadMs < 50*60*1000 {
			return fmt.Errorf("stall %+v", s.Stall)
		}
		if !strings.Contains(s.LastError, "ahead") {
			return fmt.Errorf("last error %q", s.LastError)
		}
		return nil
	})
	checkAppliedOnce(t, st, seqRange(1, 3))
	if c := st.cursor("src"); c != 3 {
		t.Fatalf("cursor %d past the stopped change", c)
	}
	// The destination's clock catches up (here: the bound is widened).
	clk.SetMaxAhead(2 * time.Hour)
	waitCursor(t, st, "src", 6)
	checkAppliedOnce(t, st, seqRange(1, 6))
	if s := l.Status(); s.Stall != nil || s.Stalls != 2 {
		t.Fatalf("after admission: stall %+v, stalls %d", s.Stall, s.Stalls)
	}
}

// A stopped link applies the changes once the source's clock is back: its
// newest change is within the bound.
func TestLink_ResumesWhenTheSourceClockIsBack(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 2)...)
	publish(t, js, "src", itemChange("t", "future", time.Now().Add(time.Hour)))
	clk := conflict.NewHLC("dst", nil)
	clk.SetMaxAhead(time.Minute)
	st := newFakeStore()
	l := newTestLink(t, url, st, func(c *LinkConfig) { c.Admit = clk.Admit })
	run(t, l.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); s.Stall == nil || s.Stall.Seq != 3 {
			return fmt.Errorf("not stopped at 3: %+v", s.Stall)
		}
		return nil
	})
	waitCursor(t, st, "src", 2)
	publish(t, js, "src", items("t", 2, 1)...) // minted at real time
	waitCursor(t, st, "src", 4)
	checkAppliedOnce(t, st, seqRange(1, 4))
	if got := clk.Now(); time.Since(got.Time()) > time.Minute || time.Until(got.Time()) > time.Minute {
		t.Fatalf("the far-future change moved the clock to %v", got)
	}
}

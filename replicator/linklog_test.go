package replicator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/replicator/shaper"
)

// Issue 9: while a peer was down, each live region logged about three
// lines a second (the shaping proxy's refused dials, as raw JSON inside
// WARN lines). An outage is now logged once when it starts and once when it
// ends, with its duration; the proxy's lines go to debug.
func TestLink_OutageLoggedOnceAtStartAndEnd(t *testing.T) {
	var logs natstest.LogBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	dir := t.TempDir()
	srv := natstest.StartServer(t, "src", dir)
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	createStream(t, js, "src", nil)
	publish(t, js, "src", items("t", 0, 10)...)
	// The link reaches the source through a shaping proxy, as in a region.
	sh := shaper.New(log.Named("shaper"))
	t.Cleanup(sh.Close)
	via, err := sh.Add("src->dst", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	st := newFakeStore()
	l := newTestLink(t, "nats://"+via, st, func(c *LinkConfig) {
		c.Logger = log
		c.QuietFor = 300 * time.Millisecond
	})
	run(t, l.Run)
	waitCursor(t, st, "src", 10)
	if bad := logs.Lines(`\[(WARN|ERROR)\]`); len(bad) > 0 {
		t.Fatalf("a link starting with its source up logged:\n%s", strings.Join(bad, "\n"))
	}

	cfg, addr := srv.Config(), srv.Addr()
	srv.Shutdown()
	began := time.Now()
	natstest.WaitFor(t, waitLong, func() error {
		if len(logs.Lines(`\[WARN\].*replicating from src failed`)) == 0 {
			return fmt.Errorf("the outage was not logged")
		}
		return nil
	})
	// Let the outage last: the link and its proxy retry many times.
	for time.Since(began) < 3*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	srv = natstest.StartServerAt(t, cfg.Name, cfg.StoreDir, addr)
	js = jsFor(t, natstest.Connect(t, srv.ClientURL()))
	publish(t, js, "src", items("t", 10, 10)...)
	waitCursor(t, st, "src", 20)
	natstest.WaitFor(t, waitLong, func() error {
		if len(logs.Lines(`\[INFO\].*recovered`)) == 0 {
			return fmt.Errorf("the end of the outage was not logged")
		}
		return nil
	})
	warns := logs.Lines(`\[(WARN|ERROR)\]`)
	recovered := logs.Lines(`\[INFO\].*recovered`)
	if len(warns) != 1 || len(recovered) != 1 || !strings.Contains(recovered[0], "after=") {
		t.Fatalf("an outage of 3s logged %d warnings and %d recoveries, want one of each (with its duration):\n%s",
			len(warns), len(recovered), logs.String())
	}
	t.Logf("outage:\n%s\n%s", warns[0], recovered[0])
}

// A link started before its source is a wait, not a failure: no warning,
// however the source appears (its server, then its stream), and no last
// error in its status (issue 9: status showed "recovered 12s ago (was:
// replicator: source stream not found)" after every clean start), but a
// Waiting state until it works.
func TestLink_WaitsForASourceNotThereYet(t *testing.T) {
	var logs natstest.LogBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	dir := t.TempDir()
	srv := natstest.StartServer(t, "src", dir)
	cfg, addr := srv.Config(), srv.Addr()
	srv.Shutdown()
	st := newFakeStore()
	l := newTestLink(t, "nats://"+addr, st, func(c *LinkConfig) {
		c.Logger = log
		c.QuietFor = 200 * time.Millisecond
	})
	stop := run(t, l.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if len(logs.Lines(`\[INFO\].*waiting for src`)) == 0 {
			return fmt.Errorf("no waiting line")
		}
		return nil
	})
	srv = natstest.StartServerAt(t, cfg.Name, cfg.StoreDir, addr)
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	// The server is up, its stream not yet.
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); !s.Connected || s.Waiting != "waiting for src" {
			return fmt.Errorf("connected %v, waiting %q", s.Connected, s.Waiting)
		}
		return nil
	})
	if s := l.Status(); s.LastError != "" || s.WaitingSince.IsZero() {
		t.Errorf("waiting for the source's stream: last error %q, waiting since %v", s.LastError, s.WaitingSince)
	}
	createStream(t, js, "src", nil)
	publish(t, js, "src", items("t", 0, 5)...)
	waitCursor(t, st, "src", 5)
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); s.Waiting != "" {
			return fmt.Errorf("still %q", s.Waiting)
		}
		return nil
	})
	if s := l.Status(); s.LastError != "" || s.Recovered() {
		t.Errorf("after waiting for its source, the link's last error is %q (recovered %v)", s.LastError, s.Recovered())
	}
	natstest.WaitFor(t, waitLong, func() error {
		if len(logs.Lines(`\[INFO\].*ready`)) == 0 {
			return fmt.Errorf("no ready line")
		}
		return nil
	})
	stop()
	if bad := logs.Lines(`\[(WARN|ERROR)\]`); len(bad) > 0 {
		t.Fatalf("waiting for a source logged:\n%s", logs.String())
	}
}

// A wait that lasts as long as the log lets it before warning (a
// minute; shortened here) is an error in the status too, while the
// Waiting state stays.
func TestLink_LongWaitBecomesAnError(t *testing.T) {
	srv := natstest.StartServer(t, "src", t.TempDir())
	l := newTestLink(t, "nats://"+srv.Addr(), newFakeStore(), nil)
	l.fails.waitWarn = 500 * time.Millisecond
	run(t, l.Run)
	natstest.WaitFor(t, waitLong, func() error {
		if s := l.Status(); !strings.Contains(s.LastError, ErrStreamNotFound.Error()) {
			return fmt.Errorf("last error %q", s.LastError)
		}
		return nil
	})
	s := l.Status()
	if s.Waiting != "waiting for src" || s.LastErrorAt.Sub(s.WaitingSince) < l.fails.waitWarn {
		t.Errorf("waiting %q since %v; last error at %v: want the error only after %s of waiting",
			s.Waiting, s.WaitingSince, s.LastErrorAt, l.fails.waitWarn)
	}
}

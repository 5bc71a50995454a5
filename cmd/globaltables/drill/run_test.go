package drill

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/replicator/shaper"
)

// deadLab is a lab whose regions answer nothing: enough to run a drill's
// timeline without regions.
type deadLab struct{ url string }

func (l deadLab) Regions() []string                                         { return []string{"a", "b"} }
func (l deadLab) Endpoint(string) string                                    { return l.url }
func (l deadLab) Kill(string) error                                         { return nil }
func (l deadLab) Stop(string) error                                         { return nil }
func (l deadLab) Restart(context.Context, string) error                     { return nil }
func (l deadLab) Cut(context.Context, [][2]string) error                    { return nil }
func (l deadLab) Heal(context.Context) error                                { return nil }
func (l deadLab) Shape(context.Context, string, string, shaper.Shape) error { return nil }
func (l deadLab) SetClock(context.Context, string, string, string) error    { return nil }

// TestRun_CancelGivesInterruptedVerdict cancels a drill in the middle of a
// wait, as Ctrl-C does, and checks that it ends with an INTERRUPTED
// verdict, not a pass or an error without results.
func TestRun_CancelGivesInterruptedVerdict(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: every request is refused at once
	d, err := Parse("t.hcl", []byte(`name = "t"
load {
  keys = 5
  rate = 5
}
step "start_load" {}
step "phase" { name = "waiting" }
step "wait" { for = "10m" }
step "stop_load" {}
step "assert" {}
`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan struct{})
	var res *Result
	go func() {
		defer close(done)
		res, err = Run(ctx, deadLab{url: url}, d, Options{Table: "t", Out: &out})
	}()
	time.AfterFunc(300*time.Millisecond, cancel)
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the cancelled drill did not end")
	}
	if err != nil {
		t.Fatalf("a cancelled drill returned an error and no results: %v", err)
	}
	if !res.Interrupted || res.Passed || !strings.HasPrefix(res.Verdict, "INTERRUPTED at step 3 (wait)") {
		t.Fatalf("verdict %q (interrupted %v, passed %v), want INTERRUPTED at step 3", res.Verdict, res.Interrupted, res.Passed)
	}
	if res.Result == nil || !res.Result.Interrupted || len(res.Phases) != 2 {
		t.Fatalf("the interrupted drill's figures: %+v", res.Result)
	}
	for _, f := range res.Facts() {
		if f.Name == "recovery point (RPO)" && !strings.Contains(f.Value, "not judged") {
			t.Errorf("recovery point of an interrupted drill: %q", f.Value)
		}
	}
}

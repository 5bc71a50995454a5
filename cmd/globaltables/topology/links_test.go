package topology

import (
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/replicator/shaper"
)

func TestParse_LinkShapesBothEnds(t *testing.T) {
	top, err := Parse([]byte(`
region "a" { listen = "127.0.0.1:1" }
region "b" { listen = "127.0.0.1:2" }
link "a" "b" {
  latency      = "80ms"
  loss_percent = 1.5
}`), "test.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := shaper.Shape{Latency: 80 * time.Millisecond, LossPercent: 1.5}
	// The destination runs the proxy the link's changes come through; the
	// source shapes its requests to the destination alike.
	if got := top.LinksTo("b")["a"]; got != want {
		t.Fatalf("LinksTo(b)[a] = %+v, want %+v", got, want)
	}
	if got := top.LinksFrom("a")["b"]; got != want {
		t.Fatalf("LinksFrom(a)[b] = %+v, want %+v", got, want)
	}
	if len(top.LinksTo("a")) != 0 || len(top.LinksFrom("b")) != 0 {
		t.Fatalf("the reverse link b → a is shaped: %v %v", top.LinksTo("a"), top.LinksFrom("b"))
	}
	_, err = Parse([]byte(`
region "a" { listen = "127.0.0.1:1" }
region "b" { listen = "127.0.0.1:2" }
link "a" "b" { loss_percent = 100 }`), "test.hcl")
	if err == nil || !strings.Contains(err.Error(), "loss") {
		t.Fatalf("100%% loss: %v", err)
	}
}

// TestParse_LinkShapeLimits: a bandwidth that overflows the proxy's
// arithmetic, or a latency longer than a day, is refused with the
// attribute named, not started (the bandwidth used to crash the region as
// soon as data flowed).
func TestParse_LinkShapeLimits(t *testing.T) {
	for attr, body := range map[string]string{
		"bandwidth_kbps": `bandwidth_kbps = 92233720368547759`,
		"latency":        `latency = "25h"`,
	} {
		_, err := Parse([]byte(`
region "a" { listen = "127.0.0.1:1" }
region "b" { listen = "127.0.0.1:2" }
link "a" "b" { `+body+` }`), "test.hcl")
		if err == nil || !strings.Contains(err.Error(), attr) {
			t.Errorf("%s: %v, want an error naming %s", body, err, attr)
		}
	}
}

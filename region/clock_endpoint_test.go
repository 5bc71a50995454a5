package region_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/clock"
)

// Issue 7: PUT /_globaltables/clock {"offset":"2000000h"} was accepted and
// moved the region to the year 2255; a drift of NaN was accepted and made
// the clock endpoint unreadable.
func TestRegion_ClockEndpointRefusesUnboundedSkew(t *testing.T) {
	dir := t.TempDir()
	r, _ := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: dir,
		MaxClockSkew: time.Minute})
	ctx := context.Background()
	token, err := region.ReadControlToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &region.Client{Token: token}
	url := r.URL() + region.ClockPath
	for _, tc := range []struct {
		name, offset, drift, why string
	}{
		{"offset of 2000000h", "2000000h", "", "beyond max_clock_skew"},
		{"offset beyond the bound", "61s", "", "beyond max_clock_skew"},
		{"negative offset beyond the bound", "-2m", "", "beyond max_clock_skew"},
		{"NaN drift", "", "NaN", "not a finite number"},
		{"NaN drift in ppm", "", "nanppm", "not a finite number"},
		{"infinite drift", "", "+Inf", "not a finite number"},
		{"overflowing drift", "", "1e999ppm", "not a finite number"},
		{"drift beyond the bound", "", "5000ppm", "beyond ±1000ppm"},
		{"malformed offset", "soon", "", "offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.PutJSON(ctx, url, region.ClockSetting{Offset: tc.offset, Drift: tc.drift}, nil)
			var ee *region.EndpointError
			if !errors.As(err, &ee) || ee.Status != http.StatusBadRequest || !strings.Contains(ee.Message, tc.why) {
				t.Fatalf("PUT %+v = %v, want 400 saying %q", tc, err, tc.why)
			}
			var sk clock.Skew
			if err := region.GetJSON(ctx, url, &sk); err != nil {
				t.Fatalf("clock unreadable after a refused skew: %v", err)
			}
			if sk.Offset != 0 || sk.DriftPPM != 0 {
				t.Fatalf("a refused skew was set: %+v", sk)
			}
		})
	}
	var sk clock.Skew
	if err := c.PutJSON(ctx, url, region.ClockSetting{Offset: "-59s", Drift: "-1000ppm"}, &sk); err != nil {
		t.Fatalf("in-bound skew refused: %v", err)
	}
	if sk.Offset != -59*time.Second || sk.DriftPPM != -1000 {
		t.Fatalf("in-bound skew set as %+v", sk)
	}
	if _, err := region.New(region.Config{Name: "x", Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		ClockOffset: 2 * time.Hour}); !errors.Is(err, clock.ErrBadSkew) {
		t.Fatalf("a region configured beyond the default bound: %v", err)
	}
}

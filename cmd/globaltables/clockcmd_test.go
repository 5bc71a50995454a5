package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7: `clock set` accepted an offset of 2000000h and a NaN drift. Now
// each is refused with the reason, and the command exits non-zero; a skew
// within max_clock_skew is set.
func TestCLI_ClockSetRefusesUnboundedSkew(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region process")
	}
	dir := t.TempDir()
	topo := filepath.Join(dir, "topology.hcl")
	hcl := fmt.Sprintf("data_dir = %q\nmax_clock_skew = \"1m\"\nregion \"solo\" {\n  listen = \"127.0.0.1:%d\"\n}\n", filepath.Join(dir, "data"), freePorts(t, 1)[0])
	if err := os.WriteFile(topo, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	startRegionProc(t, "--config", topo, "--name", "solo")
	run := func(args ...string) (string, int) {
		out, err := exec.Command(binary, append(args, "--config", topo)...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--offset", "2000000h"}, "beyond max_clock_skew 1m0s"},
		{[]string{"--offset", "-61s"}, "beyond max_clock_skew 1m0s"},
		{[]string{"--drift", "NaN"}, "not a finite number"},
		{[]string{"--drift", "inf"}, "not a finite number"},
		{[]string{"--drift", "2000ppm"}, "beyond ±1000ppm"},
	} {
		out, code := run(append([]string{"clock", "set", "solo"}, tc.args...)...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("clock set %v: exit %d, output %q; want a refusal saying %q", tc.args, code, out, tc.want)
		}
	}
	if out, code := run("clock", "set", "solo", "--offset", "30s", "--drift", "20ppm"); code != 0 {
		t.Fatalf("in-bound skew refused: %s", out)
	}
	out, _ := run("clock", "show")
	if !strings.Contains(out, "solo") || !strings.Contains(out, "30s") || strings.Contains(out, "unreachable") {
		t.Fatalf("clock show:\n%s", out)
	}
	// The topology file is held to the same bound.
	bad := strings.Replace(hcl, "}\n", "  clock_offset = \"2h\"\n}\n", 1)
	if err := os.WriteFile(topo, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run("up", "--check-config"); code == 0 || !strings.Contains(out, "beyond max_clock_skew") {
		t.Fatalf("a topology with clock_offset 2h under max_clock_skew 1m: exit %d\n%s", code, out)
	}
}

//go:build scenario

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/cmd/globaltables/drill"
)

// TestScenario_FailureEdgeDrills runs the built-in drills of the failure
// edges: a region killed in the middle of a replica join, a region killed
// during an index backfill, and a region away longer than the tombstone
// horizon while items are deleted elsewhere. Each must PASS: the drill's
// tables end ACTIVE and whole in every region, no deleted item is back and
// no acknowledged write of the workload is lost.
func TestScenario_FailureEdgeDrills(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scale string // long-outage's waits must outlast its horizon
	}{{"join-crash", "0.5"}, {"backfill-crash", "0.5"}, {"long-outage", "1"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := exec.Command(binary, "drill", filepath.Join("..", "..", "configs", "drills", tc.name+".hcl"), "--scale", tc.scale,
				"--out", filepath.Join(dir, "r.json")).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "PASS: no acknowledged write lost") {
				t.Fatalf("drill %s: %v\n%s", tc.name, err, out)
			}
			var res drill.Result
			b, err := os.ReadFile(filepath.Join(dir, "r.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &res); err != nil || !res.Passed || len(res.Tables) != 0 {
				t.Fatalf("results file: %v %+v", err, res)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/cmd/globaltables/drill"
)

// TestDrill_BuiltinScenariosPass runs every built-in drill in a short form
// (waits scaled down) through the binary and checks its verdict and outputs.
func TestDrill_BuiltinScenariosPass(t *testing.T) {
	if testing.Short() {
		t.Skip("drills: skipped in -short mode")
	}
	for _, name := range []string{"region-outage", "partition", "slow-link", "clock-skew"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := exec.Command(binary, "drill", filepath.Join("..", "..", "configs", "drills", name+".hcl"), "--scale", "0.3",
				"--out", filepath.Join(dir, "r.json"), "--html", filepath.Join(dir, "r.html")).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "PASS: no acknowledged write lost") {
				t.Fatalf("drill %s: %v\n%s", name, err, out)
			}
			var res drill.Result
			b, err := os.ReadFile(filepath.Join(dir, "r.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &res); err != nil || !res.Passed || len(res.Phases) < 2 {
				t.Fatalf("results file: %v %+v", err, res)
			}
			h, err := os.ReadFile(filepath.Join(dir, "r.html"))
			if err != nil || !strings.Contains(string(h), "<svg") {
				t.Fatalf("report: %v", err)
			}
			for _, want := range []string{`class="verdict-box pass"`, "recovery point (RPO)", "recovery time (RTO)", "maximum pending", "time to converge", `<table class="phases">`} {
				if !strings.Contains(string(h), want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			// The regions' logs go to a file beside the report, not among
			// the drill's own lines.
			if strings.Contains(string(out), "[INFO]") || strings.Contains(string(out), "[WARN]") {
				t.Errorf("region log lines in the drill's output:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(dir, "r-regions.log")); err != nil {
				t.Errorf("no region log file: %v", err)
			}
			// The drill names every file it wrote.
			for _, f := range []string{"r.json", "r.html", "r-regions.log"} {
				if !strings.Contains(string(out), "written to "+filepath.Join(dir, f)) {
					t.Errorf("no line names %s:\n%s", f, out)
				}
			}
			// The load-stopped event and the summary count reads alike.
			for _, line := range strings.Split(string(out), "\n") {
				if i := strings.Index(line, "load stopped: "); i >= 0 {
					if counts := line[i+len("load stopped: "):]; !strings.Contains(string(out), "workload: "+counts) {
						t.Errorf("the load-stopped event says %q, the summary does not:\n%s", counts, out)
					}
				}
			}
			if name == "region-outage" && len(res.Recover) == 0 {
				t.Fatalf("region-outage measured no recovery time:\n%s", out)
			}
			// A write the dead region refused and another took is not a
			// failed write.
			if name == "region-outage" && (res.Result.FailedOver == 0 || !strings.Contains(string(out), "refused by their region and retried in another, 0 failed")) {
				t.Errorf("region-outage does not report its failed-over writes as such:\n%s", out)
			}
		})
	}
}

// TestDrill_BrokenReplicatorFails checks the verdict itself: a build whose
// replicator drops every tenth change must fail a drill.
func TestDrill_BrokenReplicatorFails(t *testing.T) {
	if testing.Short() {
		t.Skip("drills: skipped in -short mode")
	}
	dir := t.TempDir()
	broken := filepath.Join(dir, "globaltables-broken")
	build := exec.Command("go", "build", "-tags", "brokenreplicator", "-o", broken, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the broken replicator: %v\n%s", err, out)
	}
	drill := filepath.Join(dir, "drill.hcl")
	if err := os.WriteFile(drill, []byte(`name = "broken"
load {
  keys = 50
  rate = 40
}
step "start_load" {}
step "wait" { for = "3s" }
step "stop_load" {}
step "assert" { converged_within = "10s" }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(broken, "drill", drill)
	run.Dir = dir // where the region log file goes
	out, err := run.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(string(out), "FAIL") {
		t.Fatalf("the drill passed a replicator that drops every tenth change: %v\n%s", err, out)
	}
}

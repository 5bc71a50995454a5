package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/drill"
	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
)

// TestDrillLogPath_OnePerRun checks that a run's region log goes beside
// its report, named after it, and that runs without a report do not
// overwrite each other's logs.
func TestDrillLogPath_OnePerRun(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct{ out, html, want string }{
		{"", filepath.Join("x", "r.html"), filepath.Join("x", "r-regions.log")},
		{filepath.Join("y", "r.json"), filepath.Join("x", "q.html"), filepath.Join("x", "q-regions.log")},
		{filepath.Join("y", "r.json"), "", filepath.Join("y", "r-regions.log")},
		{"", "", "drill-partition-20261130-080000-regions.log"},
	} {
		if got := drillLogPath("partition", c.out, c.html, t0); got != c.want {
			t.Errorf("out %q html %q: log at %q, want %q", c.out, c.html, got, c.want)
		}
	}
	if drillLogPath("partition", "", "", t0) == drillLogPath("partition", "", "", t0.Add(time.Second)) {
		t.Error("two runs a second apart share a region log")
	}
}

// TestWriteDrillFiles_PrintsPaths checks that a drill names every file it
// wrote, as experiment does.
func TestWriteDrillFiles_PrintsPaths(t *testing.T) {
	dir := t.TempDir()
	out, html := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	now := time.Now()
	res := &drill.Result{Drill: "partition", Regions: []string{"us-east-1"}, Verdict: "PASS", Passed: true,
		Result: &experiment.Result{Began: now, Ended: now.Add(time.Second), Converged: true}}
	var w bytes.Buffer
	if err := writeDrillFiles(&w, res, "partition", out, html); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{out, html} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("not written: %v", err)
		}
		if !strings.Contains(w.String(), "written to "+p) {
			t.Errorf("no line names %s:\n%s", p, w.String())
		}
	}
}

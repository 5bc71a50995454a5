package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
)

// TestLoadTopology_FindsTheRunningOne checks how the commands find a
// topology without --config, in a folder outside the repository: the one
// `up`'s state file names (with its data folder), else ./globaltables.hcl,
// else the built-in one; and that --config always wins.
func TestLoadTopology_FindsTheRunningOne(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)

	got, err := loadTopology("")
	if err != nil || got.Path != BuiltinTopology || len(got.Regions) != 3 {
		t.Fatalf("empty folder: %v, %+v; want the built-in topology", err, got)
	}

	const custom = `region "r1" {
  listen = "127.0.0.1:18000"
}
region "r2" {
  listen = "127.0.0.1:18001"
}
`
	if err := os.WriteFile(InitTopologyFile, []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err = loadTopology(""); err != nil || got.Path != InitTopologyFile {
		t.Fatalf("with %s: %v, %+v", InitTopologyFile, err, got)
	}

	// A running up, started elsewhere on another file, with --data.
	other := filepath.Join(t.TempDir(), "lab.hcl")
	if err := os.WriteFile(other, []byte(strings.ReplaceAll(custom, `"r`, `"lab`)), 0o644); err != nil {
		t.Fatal(err)
	}
	running, err := openTopology(other, filepath.Join(dir, "elsewhere"))
	if err != nil {
		t.Fatal(err)
	}
	running.DataDir = topology.DefaultDataDir // the state file lives in ./data
	state, err := writeUpState(running)
	if err != nil {
		t.Fatal(err)
	}
	var st upState
	raw, _ := os.ReadFile(state)
	if err := json.Unmarshal(raw, &st); err != nil || st.Topology != other || st.PID != os.Getpid() ||
		!strings.HasSuffix(st.Regions[0].ControlTokenFile, filepath.Join("elsewhere", "lab1", "control-token")) {
		t.Fatalf("state file %s: %v\n%s", state, err, raw)
	}
	got, err = loadTopology("")
	if err != nil || got.Path != other || got.Regions[0].Name != "lab1" {
		t.Fatalf("with up's state file: %v, %+v", err, got)
	}

	for _, byData := range []string{topology.DefaultDataDir, state} {
		if got, err = loadTopology(byData); err != nil || got.Path != other {
			t.Fatalf("--config %s: %v, %+v", byData, err, got)
		}
	}
	if _, err := loadTopology(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no globaltables up state file") {
		t.Fatalf("--config on a folder without a state file: %v", err)
	}
	if got, err = loadTopology(InitTopologyFile); err != nil || got.Regions[0].Name != "r1" {
		t.Fatalf("--config %s: %v, %+v", InitTopologyFile, err, got)
	}
	if _, err := loadTopology("missing.hcl"); err == nil || !strings.Contains(err.Error(), "missing.hcl not found") {
		t.Fatalf("--config missing.hcl: %v", err)
	}
}

// TestOpenTopology_DataRoot checks that --data moves the regions whose
// data folder is the default one, and only those.
func TestOpenTopology_DataRoot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.hcl")
	src := `region "a" {
  listen = "127.0.0.1:18000"
}
region "b" {
  listen   = "127.0.0.1:18001"
  data_dir = "/srv/b"
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := openTopology(path, "/tmp/root")
	if err != nil {
		t.Fatal(err)
	}
	if got.Regions[0].DataDir != "/tmp/root/a" || got.Regions[1].DataDir != "/srv/b" || got.DataDir != "/tmp/root" {
		t.Fatalf("data folders: %q %q %q", got.DataDir, got.Regions[0].DataDir, got.Regions[1].DataDir)
	}
}

// TestBuiltins_EveryOfferedNameLoads checks, outside the repository, that
// every drill and experiment name the binary offers is one it accepts.
func TestBuiltins_EveryOfferedNameLoads(t *testing.T) {
	t.Chdir(t.TempDir())
	drills := builtinDrills()
	if !slices.Contains(drills, "region-outage") {
		t.Fatalf("built-in drills %v lack region-outage", drills)
	}
	_, err := loadDrill("no-such-drill")
	if err == nil {
		t.Fatal("an unknown drill loaded")
	}
	for _, n := range drills {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("the error for an unknown drill does not offer %s: %v", n, err)
		}
		if _, err := loadDrill(n); err != nil {
			t.Errorf("offered drill %s: %v", n, err)
		}
	}
	exps := embeddedNames("experiments")
	if len(exps) == 0 {
		t.Fatal("no built-in experiment")
	}
	for _, n := range exps {
		cmd := newExperimentCmd()
		conflict, _, err := cmd.Find([]string{"conflict"})
		if err != nil {
			t.Fatal(err)
		}
		var cfg experiment.Config
		if err := applyExperimentFile(conflict, n, &cfg); err != nil {
			t.Errorf("offered experiment %s: %v", n, err)
		}
	}
}

// TestUp_CheckConfigAnywhere checks that `up` in an empty folder, with no
// flags, takes the built-in topology and its completion offers its regions
// and the built-in drills.
func TestUp_CheckConfigAnywhere(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("up", "--check-config"); !strings.Contains(out, "3 regions: config ok") {
		t.Fatalf("up --check-config in an empty folder:\n%s", out)
	}
	if out := run("__complete", "partition", "--isolate", ""); !strings.Contains(out, "eu-west-1\n") {
		t.Fatalf("completion of --isolate:\n%s", out)
	}
	if out := run("__complete", "drill", ""); !strings.Contains(out, "region-outage\n") {
		t.Fatalf("completion of drill:\n%s", out)
	}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/configs"
	"github.com/globaltables/globaltables/region"
)

// How the commands find a topology, so that the binary works in any folder
// and the commands that talk to a running topology need no flags:
//
//  1. --config FILE, when given, always wins. It may also name the data
//     folder of a running `up` (or the state file in it): `up --data DIR`
//     is found with --config DIR.
//  2. Otherwise the state file `up` left in ./data, the data folder `up`
//     uses by default: it names the topology `up` runs and its data folder.
//  3. Otherwise ./globaltables.hcl, the file `globaltables init` writes.
//  4. Otherwise the default topology built into the binary.
//
// `up` itself skips step 2: it starts what the user asks for, not what ran
// last.

// DefaultTopology is the --config default: "" means "find it as above".
const DefaultTopology = ""

// BuiltinTopology names the default topology built into the binary
// (configs/default.hcl, embedded) wherever a topology file is expected: in
// --config and in the state file.
const BuiltinTopology = "builtin:default.hcl"

// InitTopologyFile is the topology file `init` writes and `up` reads
// without --config, in the current folder.
const InitTopologyFile = "globaltables.hcl"

// StateFile is the file, in the data folder of a running `up`, that names
// what it runs. It holds no secret: credentials stay in the topology file
// and control tokens in their own 0600 files.
const StateFile = "globaltables-up.json"

// upState is the content of StateFile.
type upState struct {
	// PID is the process of `up`.
	PID int `json:"pid"`
	// Started is when `up` started the regions.
	Started time.Time `json:"started"`
	// Topology is the absolute path of the topology file, or BuiltinTopology.
	Topology string `json:"topology"`
	// DataDir is the absolute data folder of the topology.
	DataDir string `json:"data_dir"`
	// Regions are the regions `up` runs.
	Regions []upStateRegion `json:"regions"`
}

// upStateRegion is one region of upState.
type upStateRegion struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	DataDir  string `json:"data_dir"`
	// ControlTokenFile is where the region's control token is (a 0600 file
	// the CLI reads when it runs on the region's machine).
	ControlTokenFile string `json:"control_token_file"`
}

// openTopology reads the topology at path (a file, or BuiltinTopology) and,
// when dataRoot is not "", moves every region whose data folder is the
// default one under the topology's data_dir to the same place under
// dataRoot: `up --data` and the region processes it starts see the same
// folders.
func openTopology(path, dataRoot string) (*topology.Topology, error) {
	var t *topology.Topology
	var err error
	if path == BuiltinTopology {
		src, rerr := fs.ReadFile(configs.FS, configs.DefaultTopology)
		if rerr != nil {
			return nil, fmt.Errorf("built-in topology: %w", rerr)
		}
		t, err = topology.Parse(src, BuiltinTopology)
	} else {
		if _, serr := os.Stat(path); serr != nil {
			return nil, usagef("topology file %s not found (pass --config FILE, or run without --config to use the built-in topology)", path)
		}
		t, err = topology.Load(path)
	}
	if err != nil || dataRoot == "" {
		return t, err
	}
	for _, r := range t.Regions {
		if filepath.Clean(r.DataDir) == filepath.Join(t.DataDir, r.Name) {
			r.DataDir = filepath.Join(dataRoot, r.Name)
			if err := t.SetRegion(r); err != nil {
				return nil, err
			}
		}
	}
	t.DataDir = dataRoot
	return t, nil
}

// upTopologyPath is the topology `up` runs when given configPath: the
// file, else ./globaltables.hcl if there is one, else the built-in one.
func upTopologyPath(configPath string) string {
	if configPath != "" {
		return configPath
	}
	if _, err := os.Stat(InitTopologyFile); err == nil {
		return InitTopologyFile
	}
	return BuiltinTopology
}

// loadTopology reads the topology named by --config or, without it, the
// one running from this folder (see the top of this file).
func loadTopology(path string) (*topology.Topology, error) {
	statePath := filepath.Join(topology.DefaultDataDir, StateFile)
	if path != "" {
		fi, err := os.Stat(path)
		switch {
		case err == nil && fi.IsDir():
			statePath = filepath.Join(path, StateFile)
		case filepath.Base(path) == StateFile:
			statePath = path
		default:
			return openTopology(path, "")
		}
	}
	st, err := readUpState(statePath)
	switch {
	case err == nil:
		if !upRunning(st) {
			fmt.Fprintf(os.Stderr, "globaltables: note: the globaltables up that wrote %s (pid %d) is not running; start it again with globaltables up\n", statePath, st.PID)
		}
		t, err := openTopology(st.Topology, st.DataDir)
		if err != nil {
			return nil, fmt.Errorf("the topology %s names (written by globaltables up): %w", statePath, err)
		}
		return t, nil
	case path != "":
		return nil, usagef("%s: no globaltables up state file in it (%v): pass a topology file or the data folder of a running up", path, err)
	case errors.Is(err, fs.ErrNotExist):
		return openTopology(upTopologyPath(""), "")
	default:
		return nil, err
	}
}

// readUpState reads a state file.
func readUpState(path string) (*upState, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st upState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("read %s (delete it if no globaltables up runs here): %w", path, err)
	}
	return &st, nil
}

// writeUpState writes the state file of `up` running t into t's data
// folder, and returns its path.
func writeUpState(t *topology.Topology) (string, error) {
	dataDir, err := filepath.Abs(t.DataDir)
	if err != nil {
		return "", err
	}
	st := upState{PID: os.Getpid(), Started: time.Now().UTC(), Topology: t.Path, DataDir: dataDir}
	if t.Path != BuiltinTopology {
		if st.Topology, err = filepath.Abs(t.Path); err != nil {
			return "", err
		}
	}
	for _, r := range t.Regions {
		dir, err := filepath.Abs(r.DataDir)
		if err != nil {
			return "", err
		}
		st.Regions = append(st.Regions, upStateRegion{Name: r.Name, Endpoint: r.Endpoint(), DataDir: dir,
			ControlTokenFile: filepath.Join(dir, region.ControlTokenFile)})
	}
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dataDir, StateFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// embeddedNames returns the names (without .hcl) of the files in dir of the
// embedded configs: the built-in drills or experiments.
func embeddedNames(dir string) []string {
	entries, err := fs.ReadDir(configs.FS, dir)
	if err != nil {
		return nil // a build without the folder has none built in
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".hcl"); ok {
			names = append(names, n)
		}
	}
	return names
}

// readFileOrBuiltin reads the file arg or, when there is no such file, the
// built-in file dir/arg.hcl (dir: "drills" or "experiments"), and returns
// the name to parse it under (its suffix tells HCL from JSON). what names
// the kind of file in the error for an unknown name, which lists the
// built-in ones: every name it offers is one it accepts.
func readFileOrBuiltin(what, dir, arg string) (name string, src []byte, err error) {
	src, err = os.ReadFile(arg)
	if err == nil {
		return arg, src, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	name = path.Join(dir, arg+".hcl")
	src, err = fs.ReadFile(configs.FS, name)
	if err != nil {
		return "", nil, usagef("no %s %q: give a file, or one of %s", what, arg, strings.Join(embeddedNames(dir), ", "))
	}
	return "builtin:" + name, src, nil
}

// removeUpState removes the state file of this `up` once its regions have
// stopped, so that commands run here afterwards do not take a stopped
// topology for a running one. A file another `up` has since written (its
// pid is not ours) is left alone.
func removeUpState(path string) {
	if st, err := readUpState(path); err == nil && st.PID == os.Getpid() {
		os.Remove(path)
	}
}

// upRunning reports whether the `up` that wrote st still runs (signal 0
// to its pid). A state file left by an `up` that was killed names a
// topology that is not running.
func upRunning(st *upState) bool {
	return supervise.Alive(st.PID)
}

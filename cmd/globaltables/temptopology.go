package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
)

// tempTopology writes a topology of the named regions, on free loopback
// ports and with data under dir, plus the extra HCL, and loads it. The
// benchmarks and drills run on such throwaway topologies.
func tempTopology(dir string, names []string, extra string) (*topology.Topology, error) {
	ports, err := freeLoopbackPorts(2 * len(names))
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir = %q\nlog_level = \"warn\"\n%s\n", filepath.Join(dir, "data"), extra)
	for i, n := range names {
		fmt.Fprintf(&b, "region %q {\n  listen = \"127.0.0.1:%d\"\n  nats_listen = \"127.0.0.1:%d\"\n}\n", n, ports[2*i], ports[2*i+1])
	}
	path := filepath.Join(dir, "topology.hcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	t, err := topology.Load(path)
	if err != nil {
		return nil, err
	}
	// As up does: every region's NATS identity exists before any starts.
	for _, r := range t.Regions {
		if _, err := t.Identity(r.Name); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// startTopology starts every region of t as a process of self under sup,
// with extra region arguments, and waits until each answers.
func startTopology(ctx context.Context, sup *supervise.Supervisor, self string, t *topology.Topology, extra ...string) error {
	for _, r := range t.Regions {
		if err := startRegionOf(sup, self, t, r.Name, extra...); err != nil {
			return err
		}
	}
	return waitHealthy(ctx, sup, t)
}

// regionBinary is the program a benchmark runs its regions with: path
// when given (--region-binary, to compare two builds under one client and
// one set of instruments), else this program.
func regionBinary(path string) (string, error) {
	if path == "" {
		return os.Executable()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", usagef("--region-binary %s: not an executable file", path)
	}
	return abs, nil
}

// benchTopology is a throwaway topology of region processes that a
// benchmark runs on.
type benchTopology struct {
	T   *topology.Topology
	Sup *supervise.Supervisor
	// Args are the region arguments every region started with (restart a
	// region with the same).
	Args []string
	dir  string
}

// startBenchTopology starts the named regions, under a temporary folder
// whose name begins with prefix, with the extra HCL; with pprof each
// region serves profiles and their addresses go to logw. Close stops the
// regions and removes the folder, also after an error.
func startBenchTopology(ctx context.Context, self, prefix string, names []string, extra string, pprof bool, logw io.Writer) (*benchTopology, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	bt := &benchTopology{Sup: supervise.New(logw), dir: dir}
	if bt.T, err = tempTopology(dir, names, extra); err != nil {
		bt.Close()
		return nil, err
	}
	if pprof {
		bt.Args = append(bt.Args, "--pprof")
		for _, r := range bt.T.Regions {
			fmt.Fprintf(logw, "%s profiles at http://%s/debug/pprof/\n", r.Name, r.Listen)
		}
	}
	if err := startTopology(ctx, bt.Sup, self, bt.T, bt.Args...); err != nil {
		bt.Close()
		return nil, err
	}
	return bt, nil
}

// Close stops the regions (20 s at most) and removes their folder.
func (bt *benchTopology) Close() {
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bt.Sup.Stop(sctx)
	os.RemoveAll(bt.dir)
}

// startRegionOf starts one region of t.
func startRegionOf(sup *supervise.Supervisor, self string, t *topology.Topology, name string, extra ...string) error {
	return sup.Start(name, self, append([]string{"region", "--config", t.Path, "--name", name}, extra...)...)
}

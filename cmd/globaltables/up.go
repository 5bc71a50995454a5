package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
)

// upStartTimeout bounds how long `up` waits for every region to answer.
const upStartTimeout = 60 * time.Second

// upStopTimeout bounds how long `up` waits for its regions to close their
// stores after its SIGTERM before it kills them.
const upStopTimeout = 30 * time.Second

func newUpCmd() *cobra.Command {
	var configPath, dataDir string
	var checkConfig bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every region of a topology, one process each",
		Long: `Run every region of a topology file as its own process (this binary's
'region' subcommand), print each region's endpoint, tag each process's log
lines with its region, and stop them all cleanly on Ctrl-C.

Without --config, up runs ./` + InitTopologyFile + ` if there is one ('globaltables init'
writes it), else the three-region topology built into the binary, with
its data under ./data. It works in any folder. It leaves a state file,
` + StateFile + `, in the data folder: status, link, partition, heal, clock,
conflicts and experiment, run in the same folder without --config, find
the running topology through it.

Before starting anything, up checks that every port of the topology is
free. A region that dies is not restarted: up prints how to restart it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := upTopologyPath(configPath)
			var root string
			if cmd.Flags().Changed("data") {
				if dataDir == "" {
					return usagef("--data needs a folder, e.g. --data ./data")
				}
				root = dataDir
			}
			t, err := openTopology(path, root)
			if err != nil {
				return err
			}
			if checkConfig {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d regions: config ok; API authentication %s\n",
					t.Path, len(t.Regions), authMode(len(t.CredentialsFor(t.Regions[0].Name))))
				return nil
			}
			return runUp(cmd.Context(), t, root, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL); default: ./"+InitTopologyFile+" if present, else the built-in topology")
	cmd.Flags().StringVar(&dataDir, "data", "", "data folder of every region (each in a sub-folder named after it); default: the topology's data_dir, ./data")
	cmd.Flags().BoolVar(&checkConfig, "check-config", false, "validate the topology and exit")
	return cmd
}

// runUp starts one region process per region of t and supervises them until
// ctx ends or every region has exited. dataRoot, if not "", is the --data
// folder, passed on to each region.
func runUp(ctx context.Context, t *topology.Topology, dataRoot string, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	cfgPath := t.Path
	if cfgPath != BuiltinTopology {
		if cfgPath, err = filepath.Abs(t.Path); err != nil {
			return err
		}
	}
	if err := checkPortsFree(t); err != nil {
		return err
	}
	// Every region's NATS identity exists before any region starts, so
	// that each embedded server admits all its peers from the start.
	for _, r := range t.Regions {
		if _, err := t.Identity(r.Name); err != nil {
			return err
		}
	}
	sup := supervise.New(out)
	var statePath string // once written: removed when every region has stopped
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), upStopTimeout)
		defer cancel()
		sup.Stop(sctx)
		if statePath != "" {
			removeUpState(statePath)
		}
	}()
	args := []string{"--config", cfgPath}
	if dataRoot != "" {
		abs, err := filepath.Abs(dataRoot)
		if err != nil {
			return err
		}
		args = append(args, "--data-root", abs)
	}
	for _, r := range t.Regions {
		if err := sup.Start(r.Name, self, append([]string{"region", "--name", r.Name}, args...)...); err != nil {
			return err
		}
	}
	if err := waitHealthy(ctx, sup, t); err != nil {
		return err
	}
	if err := checkOwnChildren(ctx, sup, t); err != nil {
		return err
	}
	statePath, err = writeUpState(t)
	if err != nil {
		return fmt.Errorf("write the state file: %w", err)
	}
	fmt.Fprintf(out, "\nstatus, link, partition, heal, clock, conflicts and experiment find this topology\n(state file %s) %s\n",
		statePath, findHint(statePath))
	printEndpoints(out, t)

	running := len(t.Regions)
	for running > 0 {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "stopping every region...")
			return nil
		case ex := <-sup.Exits():
			running--
			restart := fmt.Sprintf("globaltables region --config %s --name %s", cfgPath, ex.Name)
			if dataRoot != "" {
				restart += " --data-root " + dataRoot
			}
			if ex.Err != nil {
				fmt.Fprintf(out, "region %s exited: %v (not restarted; restart it with: %s)\n", ex.Name, ex.Err, restart)
			} else {
				fmt.Fprintf(out, "region %s exited (restart it with: %s)\n", ex.Name, restart)
			}
		}
	}
	return fmt.Errorf("every region has exited")
}

// waitHealthy polls each region's endpoint until it answers, a region
// exits, or the start timeout passes.
func waitHealthy(ctx context.Context, sup *supervise.Supervisor, t *topology.Topology) error {
	ctx, cancel := context.WithTimeout(ctx, upStartTimeout)
	defer cancel()
	client, err := cliHTTP(t, time.Second)
	if err != nil {
		return err
	}
	for _, r := range t.Regions {
		url := r.Endpoint() + "/"
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if !sup.Running(r.Name) {
				return fmt.Errorf("region %s failed to start (see its log lines above)", r.Name)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("region %s did not answer on %s within %s", r.Name, url, upStartTimeout)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func printEndpoints(out io.Writer, t *topology.Topology) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nREGION\tENDPOINT\tDATA")
	for _, r := range t.Regions {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, r.Endpoint(), r.DataDir)
	}
	w.Flush()
	first := t.Regions[0]
	fmt.Fprintf(out, "\nAPI authentication: %s\n", authMode(len(t.CredentialsFor(first.Name))))
	for _, r := range t.Regions[1:] {
		if n := len(t.CredentialsFor(r.Name)); n != len(t.CredentialsFor(first.Name)) {
			fmt.Fprintf(out, "  %s: %s\n", r.Name, authMode(n))
		}
	}
	ca := ""
	if t.APITLSCA != "" {
		ca = "AWS_CA_BUNDLE=" + t.APITLSCA + " "
	}
	fmt.Fprintf(out, "\nall %d regions are up; try:\n  %saws dynamodb list-tables --region %s --endpoint-url %s\nCtrl-C stops every region.\n\n",
		len(t.Regions), ca, first.Name, first.Endpoint())
}

// findHint says how the other commands find the topology whose state file
// is at statePath: by themselves in the folder whose ./data holds it, and
// from anywhere with --config and the data folder.
func findHint(statePath string) string {
	dir := filepath.Dir(statePath)
	if here, err := filepath.Abs(topology.DefaultDataDir); err == nil && dir == here {
		return "by themselves when run in this folder, or from anywhere with --config " + dir
	}
	return "with --config " + dir
}

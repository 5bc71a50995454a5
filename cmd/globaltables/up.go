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

// DefaultTopology is the topology `up` runs without --config.
const DefaultTopology = "configs/default.hcl"

// upStartTimeout bounds how long `up` waits for every region to answer.
const upStartTimeout = 60 * time.Second

func newUpCmd() *cobra.Command {
	var configPath string
	var checkConfig bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every region of a topology, one process each",
		Long: `Run every region of a topology file as its own process (this binary's
'region' subcommand), print each region's endpoint, tag each process's log
lines with its region, and stop them all cleanly on Ctrl-C.

A region that dies is not restarted: restart it by hand with
  globaltables region --config ` + DefaultTopology + ` --name NAME`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(configPath); err != nil {
				return usagef("topology file %s not found: run from the repository root or pass --config FILE", configPath)
			}
			t, err := topology.Load(configPath)
			if err != nil {
				return err
			}
			if checkConfig {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d regions: config ok; API authentication %s\n",
					t.Path, len(t.Regions), authMode(len(t.CredentialsFor(t.Regions[0].Name))))
				return nil
			}
			return runUp(cmd.Context(), t, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	cmd.Flags().BoolVar(&checkConfig, "check-config", false, "validate the topology and exit")
	return cmd
}

// runUp starts one region process per region of t and supervises them until
// ctx ends or every region has exited.
func runUp(ctx context.Context, t *topology.Topology, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	cfgPath, err := filepath.Abs(t.Path)
	if err != nil {
		return err
	}
	sup := supervise.New(out)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		sup.Stop(sctx)
	}()
	for _, r := range t.Regions {
		if err := sup.Start(r.Name, self, "region", "--config", cfgPath, "--name", r.Name); err != nil {
			return err
		}
	}
	if err := waitHealthy(ctx, sup, t); err != nil {
		return err
	}
	printEndpoints(out, t)

	running := len(t.Regions)
	for running > 0 {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "stopping every region...")
			return nil
		case ex := <-sup.Exits():
			running--
			if ex.Err != nil {
				fmt.Fprintf(out, "region %s exited: %v (not restarted; restart it with: globaltables region --config %s --name %s)\n",
					ex.Name, ex.Err, t.Path, ex.Name)
			} else {
				fmt.Fprintf(out, "region %s exited\n", ex.Name)
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

package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/clock"
)

func newClockCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "clock",
		Short: "Show or skew the regions' clocks on a running topology",
		Long: `Each region's hybrid logical clock reads a wall clock that can run ahead
or behind real time and drift. Causally related writes stay correctly
ordered whatever the skew; concurrent writes are decided by the skewed
timestamps, as they would be in production.

A skew is bounded: an offset beyond the topology's max_clock_skew (5m by
default), a drift beyond ±1000ppm or one that is not a finite number is
refused, and a drifting clock stops at max_clock_skew.`,
	}
	cmd.PersistentFlags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	var offset time.Duration
	var drift string
	set := &cobra.Command{
		Use:     "set REGION",
		Short:   "Skew a region's clock (no flags: back to real time)",
		Example: "  globaltables clock set ap-southeast-1 --offset -250ms --drift 50ppm",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ppm, err := clock.ParseDrift(drift)
			if err != nil {
				return usagef("--drift: %v", err)
			}
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			r, err := t.Region(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			if err := setClock(cmd.Context(), t, r.Name, offset.String(), drift); err != nil {
				var ee *region.EndpointError
				if errors.As(err, &ee) {
					return fmt.Errorf("%s refused the skew: %s", r.Name, ee.Message)
				}
				return fmt.Errorf("skew %s (is the topology running?): %w", r.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: clock offset %s, drift %gppm\n", r.Name, offset, ppm)
			return nil
		},
	}
	set.Flags().DurationVar(&offset, "offset", 0, "how far the clock runs ahead (negative: behind), e.g. -250ms")
	set.Flags().StringVar(&drift, "drift", "", "how fast it drifts, e.g. 50ppm")
	show := &cobra.Command{
		Use:   "show",
		Short: "Show every region's clock skew",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "REGION\tOFFSET\tDRIFT\tNOW OFF BY")
			for _, r := range t.Regions {
				var sk clock.Skew
				if err := regionGet(cmd.Context(), t, r, region.ClockPath, &sk); err != nil {
					fmt.Fprintf(w, "%s\tunreachable\t\t\n", r.Name)
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%gppm\t%s\n", r.Name, sk.Offset, sk.DriftPPM, sk.Current.Round(time.Microsecond))
			}
			return w.Flush()
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

// setClock skews a region's clock through its endpoint.
func setClock(ctx context.Context, t *topology.Topology, name, offset, drift string) error {
	r, err := t.Region(name)
	if err != nil {
		return err
	}
	return regionPut(ctx, t, r, region.ClockPath, region.ClockSetting{Offset: offset, Drift: drift}, nil)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/replicator/shaper"
)

// A link's shape is set in its destination region, which runs the proxy
// its changes come through, and in its source region, whose proxy to the
// destination carries the source's requests to the destination
// (region.OutLinksPath): a link's shape is that of everything its source
// sends its destination.

// putShape sets the shape of the link from → to on a running topology: in
// the destination, which shapes the source's data, and in the source,
// which shapes the destination's requests and acks with it (the return
// direction of the reverse link). A region that did not answer is named
// by the *regionDown it returns; when only the source did not answer, the
// destination has the new shape already.
func putShape(ctx context.Context, t *topology.Topology, from, to string, sh shaper.Shape) error {
	dest, err := t.Region(to)
	if err != nil {
		return usagef("%v", err)
	}
	src, err := t.Region(from)
	if err != nil && from != region.ClientLink {
		return usagef("%v", err)
	}
	if err := regionPut(ctx, t, dest, region.LinksPath+"/"+from, sh, nil); err != nil {
		return &regionDown{name: to, err: fmt.Errorf("shape %s -> %s (is the topology running?): %w", from, to, err)}
	}
	if from == region.ClientLink {
		return nil
	}
	if err := regionPut(ctx, t, src, region.OutLinksPath+"/"+to, sh, nil); err != nil {
		return &regionDown{name: from, err: fmt.Errorf("shape %s -> %s in %s: %w", from, to, from, err)}
	}
	return nil
}

// regionDown is a region a command could not reach.
type regionDown struct {
	name string
	err  error
}

func (e *regionDown) Error() string { return e.err.Error() }
func (e *regionDown) Unwrap() error { return e.err }

// getShapes returns the shapes of the links into region to, by source.
func getShapes(ctx context.Context, t *topology.Topology, to string) (map[string]shaper.Shape, error) {
	r, err := t.Region(to)
	if err != nil {
		return nil, err
	}
	var out map[string]shaper.Shape
	err = regionGet(ctx, t, r, region.LinksPath, &out)
	return out, err
}

func newLinkCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Show or change the shape of replication links on a running topology",
	}
	cmd.PersistentFlags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")

	var sh shaper.Shape
	set := &cobra.Command{
		Use:   "set FROM TO",
		Short: "Shape the link carrying FROM's changes to TO (no flags: unshaped); FROM \"client\" shapes a region's client endpoint",
		Example: `  globaltables link set us-east-1 eu-west-1 --latency 80ms --jitter 10ms
  globaltables link set eu-west-1 us-east-1 --latency 80ms   # the way back: a 160 ms round trip
  globaltables link set us-east-1 eu-west-1 --bandwidth 64
  globaltables link set us-east-1 eu-west-1 --latency 80ms --loss 1
  globaltables link set us-east-1 eu-west-1 --cut
  globaltables link set us-east-1 eu-west-1
  globaltables link set client eu-west-1 --latency 120ms   # its client_listen endpoint`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sh.Validate(); err != nil {
				return usagef("%v", err)
			}
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			if err := putShape(cmd.Context(), t, args[0], args[1], sh); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s → %s: %s\n", args[0], args[1], sh)
			return nil
		},
	}
	f := set.Flags()
	f.DurationVar(&sh.Latency, "latency", 0, "one-way delay of everything the source sends the destination: its changes, and its answers to the destination's requests (ms resolution)")
	f.DurationVar(&sh.Jitter, "jitter", 0, "random variation of the latency, up to this much either way")
	f.Int64Var(&sh.BandwidthKBps, "bandwidth", 0, "cap on the source's data rate, KB/s (0: unlimited)")
	f.Float64Var(&sh.LossPercent, "loss", 0, "percentage of TCP segments lost, each arriving a retransmission timeout late (a model: docs/lab.md)")
	f.BoolVar(&sh.Stall, "stall", false, "hold all data without closing the connection")
	f.DurationVar(&sh.ResetAfter, "reset-after", 0, "reset every connection this long after it opens (a flapping link)")
	f.BoolVar(&sh.Cut, "cut", false, "close the link and refuse new connections")

	show := &cobra.Command{
		Use:   "show",
		Short: "Show every link's shape",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "LINK\tSHAPE")
			for _, to := range t.Names() {
				shapes, err := getShapes(cmd.Context(), t, to)
				if err != nil {
					fmt.Fprintf(w, "* → %s\tunreachable: %v\n", to, err)
					continue
				}
				froms := make([]string, 0, len(shapes))
				for f := range shapes {
					froms = append(froms, f)
				}
				sort.Strings(froms)
				for _, from := range froms {
					fmt.Fprintf(w, "%s → %s\t%s\n", from, to, shapes[from])
				}
			}
			return w.Flush()
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

func newPartitionCmd() *cobra.Command {
	var configPath, isolate string
	var between, oneWay []string
	cmd := &cobra.Command{
		Use:   "partition",
		Short: "Cut replication links: isolate a region, or cut between two regions",
		Example: `  globaltables partition --isolate ap-southeast-1
  globaltables partition --between us-east-1,eu-west-1
  globaltables partition --one-way us-east-1,eu-west-1   # us-east-1's changes stop reaching eu-west-1
  globaltables heal`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			var cuts [][2]string
			switch {
			case isolate != "":
				if _, err := t.Region(isolate); err != nil {
					return usagef("%v", err)
				}
				for _, other := range t.Names() {
					if other != isolate {
						cuts = append(cuts, [2]string{isolate, other}, [2]string{other, isolate})
					}
				}
			case len(between) == 2:
				cuts = [][2]string{{between[0], between[1]}, {between[1], between[0]}}
			case len(oneWay) == 2:
				cuts = [][2]string{{oneWay[0], oneWay[1]}}
			default:
				return usagef("say what to cut: --isolate REGION, --between A,B or --one-way FROM,TO")
			}
			return cutLinks(cmd.Context(), cmd.OutOrStdout(), t, cuts)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	cmd.Flags().StringVar(&isolate, "isolate", "", "cut every link from and to this region")
	cmd.Flags().StringSliceVar(&between, "between", nil, "cut both links between two regions: A,B")
	cmd.Flags().StringSliceVar(&oneWay, "one-way", nil, "cut the link carrying FROM's changes to TO: FROM,TO")
	return cmd
}

// cutLinks cuts each link, keeping the rest of its shape for when it heals.
// A link is set in its destination region: the links into an unreachable
// region are left as they are, the others are cut all the same, and the
// unreachable regions are listed and returned as an error.
func cutLinks(ctx context.Context, out io.Writer, t *topology.Topology, cuts [][2]string) error {
	var un unreachable
	for _, c := range cuts {
		if un.has(c[1]) {
			continue
		}
		shapes, err := getShapes(ctx, t, c[1])
		if err != nil {
			un.add(c[1], err)
			continue
		}
		sh := shapes[c[0]]
		sh.Cut = true
		if err := putShape(ctx, t, c[0], c[1], sh); err != nil {
			var down *regionDown
			if !errors.As(err, &down) {
				return err
			}
			un.add(down.name, down.err)
			if down.name == c[1] {
				continue
			}
			// Only the source did not answer: the destination refuses
			// the link's connections all the same.
		}
		fmt.Fprintf(out, "%s → %s: cut\n", c[0], c[1])
	}
	return un.report(out)
}

// unreachable collects the regions a command could not change, so that it
// changes every other one and then says which it could not.
type unreachable struct {
	names []string
	errs  map[string]error
}

func (u *unreachable) has(name string) bool { _, ok := u.errs[name]; return ok }

func (u *unreachable) add(name string, err error) {
	if u.errs == nil {
		u.errs = map[string]error{}
	}
	if u.has(name) {
		return
	}
	u.names = append(u.names, name)
	u.errs[name] = err
}

// report lists the unreachable regions on out and returns an error naming
// them, or nil if there are none.
func (u *unreachable) report(out io.Writer) error {
	if len(u.names) == 0 {
		return nil
	}
	for _, n := range u.names {
		fmt.Fprintf(out, "unreachable: %s: %v\n", n, u.errs[n])
	}
	return fmt.Errorf("%s unreachable: the links it shapes are unchanged (every other region was changed; run this again once it is back)",
		strings.Join(u.names, ", "))
}

func newHealCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "heal",
		Short: "Restore every link to the shape the topology file gives it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			return healLinks(cmd.Context(), cmd.OutOrStdout(), t)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	return cmd
}

// healLinks sets every link back to its configured shape in every
// reachable region, and lists the unreachable ones.
func healLinks(ctx context.Context, out io.Writer, t *topology.Topology) error {
	var un unreachable
	for _, to := range t.Names() {
		want := t.LinksTo(to)
		for _, from := range t.Names() {
			if from == to {
				continue
			}
			if un.has(to) {
				break
			}
			if err := putShape(ctx, t, from, to, want[from]); err != nil {
				var down *regionDown
				if !errors.As(err, &down) {
					return err
				}
				un.add(down.name, down.err)
			}
		}
	}
	if err := un.report(out); err != nil {
		return err
	}
	fmt.Fprintf(out, "every link restored to its configured shape at %s\n", time.Now().Format(time.RFC3339))
	return nil
}

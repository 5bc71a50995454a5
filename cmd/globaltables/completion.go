package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// Shell completion (cobra's `globaltables completion bash|zsh|fish`)
// offers region names, from the topology the command would use (its
// --config, else the one found as loadTopology finds it), and the names of
// the built-in drills and experiments.

// registerCompletions attaches the completion functions to the commands
// of root that take region, drill or experiment names. It is done here, in
// one place, rather than in each command's constructor, so that a command
// keeps one concern.
func registerCompletions(root *cobra.Command) {
	find := func(path ...string) *cobra.Command {
		c, _, err := root.Find(path)
		if err != nil || c == root {
			return nil
		}
		return c
	}
	if c := find("link", "set"); c != nil {
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) >= 2 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			if len(args) == 0 {
				return append(regionNames(cmd), "client"), cobra.ShellCompDirectiveNoFileComp
			}
			var to []string
			for _, n := range regionNames(cmd) {
				if n != args[0] {
					to = append(to, n)
				}
			}
			return to, cobra.ShellCompDirectiveNoFileComp
		}
	}
	if c := find("clock", "set"); c != nil {
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) >= 1 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return regionNames(cmd), cobra.ShellCompDirectiveNoFileComp
		}
	}
	if c := find("partition"); c != nil {
		c.RegisterFlagCompletionFunc("isolate", completeRegions)
		c.RegisterFlagCompletionFunc("between", completeRegionList)
		c.RegisterFlagCompletionFunc("one-way", completeRegionList)
	}
	if c := find("experiment", "conflict"); c != nil {
		c.RegisterFlagCompletionFunc("regions", completeRegionList)
		c.RegisterFlagCompletionFunc("file", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return embeddedNames("experiments"), cobra.ShellCompDirectiveDefault // or a file
		})
	}
	if c := find("drill"); c != nil {
		c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) >= 1 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return builtinDrills(), cobra.ShellCompDirectiveDefault // or a drill file
		}
	}
	if c := find("region"); c != nil {
		c.RegisterFlagCompletionFunc("name", completeRegions)
	}
	if c := find("tail"); c != nil {
		c.RegisterFlagCompletionFunc("region", func(cmd *cobra.Command, args []string, s string) ([]string, cobra.ShellCompDirective) {
			names, d := completeRegions(cmd, args, s)
			return append(names, "all"), d
		})
	}
	for _, sub := range []string{"add", "list", "remove"} {
		if c := find("trigger", sub); c != nil {
			c.RegisterFlagCompletionFunc("region", completeRegions)
		}
	}
	for _, c := range root.Commands() {
		if c.Flag("config") != nil {
			// A persistent --config (link, clock) is completed for every
			// subcommand from the command that declares it.
			c.RegisterFlagCompletionFunc("config", completeHCL)
		}
	}
}

// regionNames returns the region names of the topology cmd would use, or
// none if it cannot be read (completion never fails loudly).
func regionNames(cmd *cobra.Command) []string {
	path, _ := cmd.Flags().GetString("config")
	t, err := loadTopology(path)
	if err != nil {
		return nil
	}
	return t.Names()
}

func completeRegions(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return regionNames(cmd), cobra.ShellCompDirectiveNoFileComp
}

// completeRegionList completes the next name of a comma-separated list of
// regions (A,B).
func completeRegionList(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	prefix := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix = toComplete[:i+1]
	}
	var out []string
	for _, n := range regionNames(cmd) {
		if !strings.Contains(","+prefix, ","+n+",") {
			out = append(out, prefix+n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

func completeHCL(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{"hcl"}, cobra.ShellCompDirectiveFilterFileExt
}

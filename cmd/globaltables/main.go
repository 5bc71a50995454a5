// Command globaltables runs DynamoDB-style global tables on one machine:
// several region processes, each with its own storage and DynamoDB endpoint.
//
// It is one binary with subcommands: `up` runs a whole topology of region
// processes from a config file, `region` runs one region. main only parses
// flags and config files, wires packages together and handles signals; the
// behaviour lives in the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// stopBound is how long `up` or `region` may take to stop once signalled
// before it exits anyway (`up` gives its regions 30 s before killing
// them). GLOBALTABLES_STOP_BOUND (a Go duration) overrides it.
var stopBound = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("GLOBALTABLES_STOP_BOUND")); err == nil && d > 0 {
		return d
	}
	return 60 * time.Second
}()

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := newRootCmd()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if supervising(root, os.Args[1:]) {
		// `up` and `region` own data that a half-done stop damages: once
		// stopping, they finish in their own bounded time, whatever signals
		// follow; and a reader that went away (`up | tee log`, then Ctrl-C)
		// fails their writes instead of killing them before they stop.
		signal.Ignore(syscall.SIGPIPE)
		go func() {
			<-ctx.Done()
			// Bounded: a store that cannot close (Badger retries a
			// memtable flush for ever when its folder was removed or
			// its disk fails) must not leave the process behind. Its
			// write-ahead log is on disk: the next start recovers.
			time.AfterFunc(stopBound, func() {
				fmt.Fprintf(os.Stderr, "globaltables: the stop did not finish within %s; exiting without a clean close (the next start recovers from the write-ahead log)\n", stopBound)
				os.Exit(1)
			})
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			for range ch {
				fmt.Fprintln(os.Stderr, "globaltables: already stopping; waiting for the stores to close")
			}
		}()
	} else {
		go func() {
			// A second signal exits at once, for when a clean stop hangs.
			<-ctx.Done()
			stop()
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			<-ch
			fmt.Fprintln(os.Stderr, "globaltables: second signal, exiting now")
			os.Exit(130)
		}()
	}
	if err := root.ExecuteContext(ctx); err != nil {
		var ue *usageError
		fmt.Fprintln(os.Stderr, "globaltables:", err)
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// supervising reports whether args run `up` or `region`, the commands
// that hold stores and stop them in order on a signal.
func supervising(root *cobra.Command, args []string) bool {
	c, _, err := root.Find(args)
	return err == nil && (c.Name() == "up" || c.Name() == "region")
}

// usageError is a mistake in how the command was called; it exits with
// status 2, as flag parsing errors do.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "globaltables",
		Short: "DynamoDB-style global tables on your own machine",
		Long: `globaltables runs several region processes, each storing items in Badger and
serving DynamoDB's API, so that any DynamoDB client can use them unmodified.

Start the default three-region topology:
  globaltables up

Run one region:
  globaltables region --name us-east-1 --listen 127.0.0.1:8000 --data ./data/us-east-1`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%v (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(newRegionCmd(), newUpCmd(), newStatusCmd(), newConflictsCmd(), newLinkCmd(), newPartitionCmd(), newHealCmd(), newClockCmd(), newExperimentCmd(), newDrillCmd(), newBenchCmd(), newTriggerCmd(), newTailCmd(), newVersionCmd(), newInitCmd())
	registerCompletions(root)
	return root
}

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestConfigurationDoc_ListsEveryFlag checks that
// docs/configuration.md has a row for every flag of `region` and `up`, in
// the command's section, so that the reference stays complete when a flag
// is added.
func TestConfigurationDoc_ListsEveryFlag(t *testing.T) {
	src, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []*cobra.Command{newRegionCmd(), newUpCmd()} {
		heading := "\n## `" + cmd.Name() + "` flags\n"
		_, section, ok := strings.Cut(string(src), heading)
		if !ok {
			t.Errorf("docs/configuration.md has no section %q", strings.TrimSpace(heading))
			continue
		}
		section, _, _ = strings.Cut(section, "\n## ")
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !strings.Contains("\n"+section, "\n| `--"+f.Name+"`") {
				t.Errorf("docs/configuration.md, %q: no row for `--%s`", strings.TrimSpace(heading), f.Name)
			}
		})
	}
}

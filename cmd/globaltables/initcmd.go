package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/configs"
)

func newInitCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write the default topology to a file, for editing",
		Long: `Write the built-in three-region topology to FILE (default ` + InitTopologyFile + `), to
edit. Run without --config in the same folder, 'globaltables up' reads
` + InitTopologyFile + ` if it is there, and the built-in topology otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := InitTopologyFile
			if len(args) == 1 {
				path = args[0]
			}
			src, err := fs.ReadFile(configs.FS, configs.DefaultTopology)
			if err != nil {
				return fmt.Errorf("built-in topology: %w", err)
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return usagef("%s already exists: edit it, or pass --force to overwrite it with the default topology", path)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(src); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote the default topology to %s; edit it, then run: globaltables up\n", path)
			if path != InitTopologyFile {
				fmt.Fprintf(cmd.OutOrStdout(), "(with --config %s, as it is not named %s)\n", path, InitTopologyFile)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the file if it exists")
	return cmd
}

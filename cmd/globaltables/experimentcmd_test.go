package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
)

func TestExperimentFile_FlagsOverrideTheFile(t *testing.T) {
	cmd := newExperimentCmd()
	conflict, _, err := cmd.Find([]string{"conflict"})
	if err != nil {
		t.Fatal(err)
	}
	if err := conflict.ParseFlags([]string{"--rate", "7"}); err != nil {
		t.Fatal(err)
	}
	var cfg experiment.Config
	cfg.Rate = 7
	if err := applyExperimentFile(conflict, filepath.Join("..", "..", "configs", "experiments", "hot-keys.hcl"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Keys != 50 || cfg.Zipf != 1.3 || cfg.Seed != 42 || cfg.Duration != 20*time.Second || cfg.ReadRatio != 0.3 {
		t.Fatalf("file not applied: %+v", cfg)
	}
	if cfg.Rate != 7 {
		t.Fatalf("the --rate flag was overridden by the file: %v", cfg.Rate)
	}
}

// TestHelpTexts_WorkOutsideTheRepository checks that the texts a user of
// the installed binary reads name commands that work in any folder: the
// experiment's example file is the built-in one by name (and that name
// works), and the topology init writes says to run `globaltables up`.
func TestHelpTexts_WorkOutsideTheRepository(t *testing.T) {
	conflict, _, err := newExperimentCmd().Find([]string{"conflict"})
	if err != nil {
		t.Fatal(err)
	}
	help := conflict.Example + conflict.Flags().Lookup("file").Usage
	if strings.Contains(help, "configs/") || !strings.Contains(help, "--file hot-keys") {
		t.Errorf("the experiment's help gives a path that exists only in the repository:\n%s", help)
	}
	var cfg experiment.Config
	if err := applyExperimentFile(conflict, "hot-keys", &cfg); err != nil || cfg.Keys != 50 {
		t.Errorf("--file hot-keys: %v %+v", err, cfg)
	}

	path := filepath.Join(t.TempDir(), "globaltables.hcl")
	initCmd := newInitCmd()
	initCmd.SetArgs([]string{path})
	initCmd.SetOut(io.Discard)
	if err := initCmd.Execute(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^#\s+globaltables up\b`).Match(b) {
		t.Errorf("the written topology does not say to run `globaltables up`:\n%s", b[:min(len(b), 400)])
	}
}

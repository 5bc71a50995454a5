package main

import (
	"path/filepath"
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

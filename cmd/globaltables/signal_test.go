package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/globaltables/globaltables/region/regiontest"
)

// TestRegion_RepeatedSignalsDoNotInterruptItsStop sends a region SIGTERM
// and then SIGINT and SIGTERM again and again until it exits, as a
// terminal's Ctrl-C and a supervisor's stop can both reach it: it must
// finish its orderly stop anyway, exit 0 and leave its store closed
// (Badger removes its LOCK file only on a clean close).
func TestRegion_RepeatedSignalsDoNotInterruptItsStop(t *testing.T) {
	dir := t.TempDir()
	p := startRegionProc(t, "--name", "us-east-1", "--listen", "127.0.0.1:0", "--data", dir)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	sigs := []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	for i := 0; ; i++ {
		select {
		case <-p.exited:
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("region exited %d after %d repeated signals:\n%s", code, i, p.Log())
			}
			if _, err := os.Stat(filepath.Join(dir, "db", "LOCK")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("store not closed cleanly (LOCK left: %v):\n%s", err, p.Log())
			}
			return
		case <-deadline:
			t.Fatalf("region did not stop:\n%s", p.Log())
		case <-tick.C:
			p.cmd.Process.Signal(sigs[i%2])
		}
	}
}

// TestRegion_StopIsBoundedWhenTheStoreCannotClose removes a region's data
// folder under it and then stops it: Badger cannot flush its memtable and
// retries for ever, so before the bound the region never exited (an
// orphan of `up`'s tests, found holding a removed folder 17 minutes
// later). Now it exits, non-zero, once the bound has passed.
func TestRegion_StopIsBoundedWhenTheStoreCannotClose(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cmd := exec.Command(binary, "region", "--name", "us-east-1", "--listen", "127.0.0.1:0", "--data", data)
	cmd.Env = append(os.Environ(), "GLOBALTABLES_STOP_BOUND=3s")
	p := startRegionCmd(t, cmd, nil)
	c := regiontest.NewClient(p.URL)
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Bounded"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("region still closing a minute after SIGTERM, past its 3s bound:\n%s", p.Log())
	}
	if code := p.cmd.ProcessState.ExitCode(); code == 0 {
		t.Fatalf("region exited 0 although its store could not close:\n%s", p.Log())
	}
	if !strings.Contains(p.Log(), "did not finish within 3s") {
		t.Fatalf("no word of the bound in the log:\n%s", p.Log())
	}
}

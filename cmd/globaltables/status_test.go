package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/metrics/metricstest"
)

// runStatus runs `globaltables status` with args against the cluster's
// topology and returns its output and exit status.
func (c *cluster) runStatus(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runStatusWith(t, c.path, args...)
}

func runStatusWith(t *testing.T, topo string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"status", "--config", topo}, args...)...).Output()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("globaltables status: %v", err)
	return "", 0
}

// statusReport runs `status --json` and decodes its report.
func (c *cluster) statusReport(t *testing.T) (*statusReport, int) {
	t.Helper()
	out, code := c.runStatus(t, "--json")
	var rep statusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return &rep, code
}

// link returns the report's row for source → dest.
func (rep *statusReport) link(source, dest string) (*linkReport, error) {
	for i := range rep.Links {
		if rep.Links[i].Source == source && rep.Links[i].Dest == dest {
			return &rep.Links[i], nil
		}
	}
	return nil, fmt.Errorf("no link %s → %s in the status report", source, dest)
}

// sourcePending returns the pending count of source → dest as `status
// --json` reports it (measured at the source), or an error if unknown.
func (c *cluster) sourcePending(t *testing.T, source, dest string) (uint64, error) {
	rep, _ := c.statusReport(t)
	l, err := rep.link(source, dest)
	if err != nil {
		return 0, err
	}
	if l.Pending == nil {
		return 0, fmt.Errorf("pending on %s → %s unknown: %s", source, dest, l.PendingUnknown)
	}
	return *l.Pending, nil
}

// metricPending scrapes a region's /metrics for its pending count to dest.
func (c *cluster) metricPending(source, dest string) (float64, error) {
	fams, err := metricstest.Scrape(context.Background(), nil, c.url(source)+"/metrics", "")
	if err != nil {
		return 0, err
	}
	return fams.Get("globaltables_replication_pending_changes", map[string]string{"source": source, "destination": dest})
}

// TestStatus_ExitsOneWhenRegionsAreUnreachable runs status against a
// topology none of whose regions runs: it says so, shows no figure it
// does not have, and exits 1, in text and in JSON.
func TestStatus_ExitsOneWhenRegionsAreUnreachable(t *testing.T) {
	dir := t.TempDir()
	ports := freePorts(t, 4)
	topo := filepath.Join(dir, "topology.hcl")
	hcl := fmt.Sprintf(`data_dir = %q
region "us-east-1" {
  listen = "127.0.0.1:%d"
  nats_listen = "127.0.0.1:%d"
}
region "eu-west-1" {
  listen = "127.0.0.1:%d"
  nats_listen = "127.0.0.1:%d"
}
`, filepath.Join(dir, "data"), ports[0], ports[1], ports[2], ports[3])
	if err := os.WriteFile(topo, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runStatusWith(t, topo)
	if code != 1 {
		t.Fatalf("status with every region down exited %d, want 1:\n%s", code, out)
	}
	if strings.Count(out, "UNREACHABLE") != 2 {
		t.Fatalf("status does not mark both regions unreachable:\n%s", out)
	}
	out, code = runStatusWith(t, topo, "--json")
	var rep statusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if code != 1 || rep.Healthy || len(rep.Problems) != 3 || rep.Regions[0].Status != nil || !strings.Contains(rep.Problems[2], "no region answers") {
		t.Fatalf("status --json with every region down: exit %d, report %s", code, out)
	}
}

// TestLastErrorCell: a link waiting for a peer that has not started yet
// reads as waiting, not as an error; an error reads with its age, and a
// recovered one as recovered.
func TestLastErrorCell(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		l    region.LinkStatus
		want string
	}{
		{region.LinkStatus{}, ""},
		{region.LinkStatus{Waiting: "waiting for us-east-1", WaitingSince: now.Add(-12 * time.Second)}, "(waiting for us-east-1, 12s so far)"},
		{region.LinkStatus{LastError: "cut", LastErrorAt: now.Add(-3 * time.Second)}, "3s ago: cut"},
		{region.LinkStatus{LastError: "cut", Recovered: true, RecoveredAt: now.Add(-5 * time.Second)}, "recovered 5s ago (was: cut)"},
	} {
		if got := lastErrorCell(&c.l, now); got != c.want {
			t.Errorf("%+v: %q, want %q", c.l, got, c.want)
		}
	}
}

package experiment

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region"
)

func sampleResult() *Result {
	t0 := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	r := &Result{Began: t0, Ended: t0.Add(20 * time.Second), Converged: true, ConvergeAfter: 40 * time.Millisecond,
		Tally: Tally{Writes: 300, FailedOver: 12, Reads: 100, StaleReads: 3}, Conflicts: 2, Lost: 2,
		LostBy: map[string]int{"eu-west-1": 2}, WonBy: map[string]int{"us-east-1": 2},
		Config: Config{Keys: 10, Rate: 20, ReadRatio: 0.3, ItemSize: 100, Duration: time.Hour, WriteRegions: []string{"us-east-1", "eu-west-1"}}}
	for _, link := range [][2]string{{"us-east-1", "eu-west-1"}, {"eu-west-1", "us-east-1"}} {
		ls := LinkSeries{Source: link[0], Dest: link[1]}
		for i := 0; i < 200; i++ {
			at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
			if at.After(t0.Add(8*time.Second)) && at.Before(t0.Add(14*time.Second)) && link[0] == "eu-west-1" {
				continue // the partition: nothing arrives
			}
			ls.Probes = append(ls.Probes, Probe{Acked: at, Seen: at.Add(time.Duration(80+i%7) * time.Millisecond)})
		}
		for i := 0; i < 20; i++ {
			p := uint64(0)
			if i > 8 && i < 14 && link[0] == "eu-west-1" {
				p = uint64(40 * (i - 8))
			}
			ls.Pending = append(ls.Pending, PendingSample{At: t0.Add(time.Duration(i) * time.Second), Pending: &p})
		}
		r.Links = append(r.Links, ls.window(r.Began, r.Ended.Add(r.ConvergeAfter)))
	}
	r.Conflicted = []region.ConflictRecord{{Table: "t", DetectedAt: t0.Add(5 * time.Second)}, {Table: "t", DetectedAt: t0.Add(12 * time.Second)}}
	r.Events = []Event{{At: t0.Add(8 * time.Second), What: "partition --isolate eu-west-1 <script>alert(1)</script>"},
		{At: t0.Add(14 * time.Second), What: "healed every link"}}
	return r
}

func sampleReport() Report {
	t0 := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	return Report{Kind: "drill", Name: "partition", Verdict: "PASS: no acknowledged write lost", Passed: true,
		Facts: []Fact{{"recovery point (RPO)", "0 acknowledged writes lost"}, {"recovery time (RTO)", "no region was restarted"},
			{"maximum pending", "200 changes on eu-west-1 → us-east-1 at 07:00:13"}, {"time to converge", "40ms after the load stopped"}},
		Phases: []Phase{{Name: "start", Start: t0, End: t0.Add(8 * time.Second)}, {Name: "partitioned", Start: t0.Add(8 * time.Second), End: t0.Add(14 * time.Second)},
			{Name: "healed", Start: t0.Add(14 * time.Second), End: t0.Add(20 * time.Second)}},
		Topology: "2 regions: us-east-1, eu-west-1", Version: "v0.0.0-test"}
}

// TestReport_HeaderDurationAndVerdict checks the header's workload
// duration (the run's, not the configured hour a drill's load is given),
// the verdict box and the per-phase table.
func TestReport_HeaderDurationAndVerdict(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleResult().WriteHTML(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "1h0m0s") || !strings.Contains(html, "workload 20s") {
		t.Error("the header does not give the run's own duration (20s)")
	}
	for _, want := range []string{"2026-11-21 07:00:00 UTC", "2 regions: us-east-1, eu-west-1", "v0.0.0-test", `class="verdict-box pass"`,
		"recovery point (RPO)", "recovery time (RTO)", "maximum pending", "time to converge", `<table class="phases">`, "<td>partitioned</td>",
		"300 writes (12 refused by their region and retried in another, 0 failed)"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(html, "map[") {
		t.Error("the report prints a Go map")
	}
}

// TestReport_ExperimentHeadline checks that an experiment's report opens
// with a verdict of its own, and an interrupted one says so.
func TestReport_ExperimentHeadline(t *testing.T) {
	r := sampleResult()
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf, Report{Kind: "experiment", Name: "conflict"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<p class="verdict">Converged 40ms after the load stopped`) {
		t.Error("the experiment report has no headline verdict")
	}
	r.Interrupted, r.Converged = true, false
	buf.Reset()
	if err := r.WriteHTML(&buf, Report{Kind: "experiment", Name: "conflict"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `class="verdict-box fail"`) || !strings.Contains(buf.String(), "INTERRUPTED after 20s") {
		t.Error("an interrupted experiment's report does not say so")
	}
}

func TestReport_SelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleResult().WriteHTML(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).MatchString(html) {
		t.Fatal("the report loads something from the network")
	}
	if strings.Contains(html, "<script>alert(1)</script>") {
		t.Fatal("an event's text was not escaped")
	}
	if n := strings.Count(html, `class="series`); n != 8 {
		t.Fatalf("%d series drawn, want 4 latency lines, 2 pending lines and 2 conflict bars", n)
	}
}

// TestReport_RendersInChromium opens the report in headless Chromium
// (Debian's chromium package), lets its script run, and checks that the
// charts rendered and nothing was logged as an error.
func TestReport_RendersInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it (apt-get install chromium)")
		}
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sampleResult().WriteHTML(f, sampleReport()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=2000", "--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("chromium did not finish:\n%s", stderr.String())
	}
	dom := stdout.String()
	m := regexp.MustCompile(`data-rendered="(\d+) charts, (\d+) series, (\d+) verdict rows, (\d+) bands, (\d+) event labels"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the report's script did not run; DOM:\n%.2000s\nstderr:\n%s", dom, stderr.String())
	}
	// 3 charts (latency, pending, conflicts); 4 latency lines, 2 pending
	// lines, 2 conflict bars; the verdict box's 4 facts; 3 phases and 2
	// events on each chart.
	if got := strings.Join(m[1:], " "); got != "3 8 4 9 6" {
		t.Fatalf("rendered charts, series, verdict rows, phase bands, event labels = %s, want 3 8 4 9 6", got)
	}
	if p := regexp.MustCompile(`data-phases="([^"]*)"`).FindStringSubmatch(dom); p == nil || p[1] != "start|partitioned|healed" {
		t.Fatalf("phase labels on the first chart: %v, want start|partitioned|healed", p)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") {
			t.Fatalf("console message while rendering the report: %s", line)
		}
	}
}

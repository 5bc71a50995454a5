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
		Writes: 300, Reads: 100, StaleReads: 3, Conflicts: 2, Lost: 2,
		LostBy: map[string]int{"eu-west-1": 2}, WonBy: map[string]int{"us-east-1": 2},
		Config: Config{Keys: 10, Rate: 20, ReadRatio: 0.3, ItemSize: 100, Duration: 20 * time.Second, WriteRegions: []string{"us-east-1", "eu-west-1"}}}
	for _, link := range [][2]string{{"us-east-1", "eu-west-1"}, {"eu-west-1", "us-east-1"}} {
		ls := LinkSeries{Source: link[0], Dest: link[1]}
		for i := 0; i < 20; i++ {
			ls.Samples = append(ls.Samples, LinkSample{At: t0.Add(time.Duration(i) * time.Second), P50Ms: 80 + float64(i%3), P99Ms: 95, MaxMs: 120})
		}
		r.Links = append(r.Links, ls)
	}
	r.Conflicted = []region.ConflictRecord{{Table: "t", DetectedAt: t0.Add(5 * time.Second)}, {Table: "t", DetectedAt: t0.Add(12 * time.Second)}}
	r.Events = []Event{{At: t0.Add(8 * time.Second), What: "partition --isolate eu-west-1 <script>alert(1)</script>"}}
	return r
}

func TestReport_SelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleResult().WriteHTML(&buf, "drill", "partition", "PASS", true); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).MatchString(html) {
		t.Fatal("the report loads something from the network")
	}
	if strings.Contains(html, "<script>alert(1)</script>") {
		t.Fatal("an event's text was not escaped")
	}
	if n := strings.Count(html, `class="series`); n != 6 {
		t.Fatalf("%d series drawn, want 4 latency lines and 2 conflict bars", n)
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
	if err := sampleResult().WriteHTML(f, "drill", "partition", "PASS", true); err != nil {
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
	m := regexp.MustCompile(`data-rendered="(\d+) charts, (\d+) series"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the report's script did not run; DOM:\n%.2000s\nstderr:\n%s", dom, stderr.String())
	}
	if m[1] != "2" || m[2] != "6" {
		t.Fatalf("rendered %s charts and %s series, want 2 and 6", m[1], m[2])
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") {
			t.Fatalf("console message while rendering the report: %s", line)
		}
	}
}

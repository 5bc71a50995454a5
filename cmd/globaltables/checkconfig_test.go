package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckConfig_RefusesBadPorts checks that --check-config refuses a
// port out of 1..65535, from a flag or from a topology file, with a
// sentence that says what to write instead (issue 9: port 99999 passed).
// Port 0, a free port, is refused in a topology, where the other regions
// and commands must find the region, and taken by a region run alone.
// TestParse_RefusesBadPorts covers every address of a topology file.
func TestCheckConfig_RefusesBadPorts(t *testing.T) {
	dir := t.TempDir()
	topo := func(port string) string {
		path := filepath.Join(dir, "port"+port+".hcl")
		src := "region \"a\" {\n  listen      = \"127.0.0.1:" + port + "\"\n  nats_listen = \"127.0.0.1:9000\"\n}\n"
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := topo("8000")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"flag 99999", []string{"region", "--name", "a", "--listen", "127.0.0.1:99999", "--data", dir, "--check-config"}, 2,
			[]string{`--listen "127.0.0.1:99999": port 99999 is out of range`, `e.g. "127.0.0.1:8000"`}},
		{"flag -1", []string{"region", "--name", "a", "--listen", "127.0.0.1:-1", "--data", dir, "--check-config"}, 2,
			[]string{"port -1 is out of range"}},
		{"flag 0 with a topology", []string{"region", "--config", good, "--name", "a", "--listen", "127.0.0.1:0", "--check-config"}, 2,
			[]string{"port 0 would pick a random free port"}},
		{"file 99999 via region", []string{"region", "--config", topo("99999"), "--name", "a", "--check-config"}, 1,
			[]string{"port99999.hcl:2:17", "port 99999 is out of range; use 1 to 65535"}},
		{"file 0 via up", []string{"up", "--config", topo("0"), "--check-config"}, 1,
			[]string{"port0.hcl:2:17", "port 0 would pick a random free port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(binary, tt.args...).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
				t.Fatalf("exit = %v, want status %d; output:\n%s", err, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
		})
	}
	for _, args := range [][]string{
		{"region", "--name", "a", "--listen", "127.0.0.1:0", "--data", dir, "--check-config"},
		{"region", "--config", good, "--name", "a", "--listen", "127.0.0.1:65535", "--check-config"},
	} {
		if out, err := exec.Command(binary, args...).CombinedOutput(); err != nil || !strings.Contains(string(out), "config ok") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}

// TestCheckConfig_ShowsEveryError checks that the command line shows
// every mistake of a topology file, each with its place, not the first
// one and "and 1 other diagnostic(s)" (issue 9).
func TestCheckConfig_ShowsEveryError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.hcl")
	src := "colour = \"red\"\nregion \"a\" {\n  listen = \"127.0.0.1:99999\"\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "up", "--config", path, "--check-config").CombinedOutput()
	if err == nil {
		t.Fatalf("accepted:\n%s", out)
	}
	for _, w := range []string{"2 errors", path + ":1:1:", `"colour" is not expected here`, path + ":3:12, in region \"a\":", "port 99999 is out of range"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("output does not mention %q:\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "other diagnostic") {
		t.Errorf("output hides diagnostics:\n%s", out)
	}
}

// TestRegionFlags_OpenMetricsFromTopology checks that a topology's
// open_metrics reaches the region, as `up`, which passes no flags, needs
// for the compose file's Prometheus, and that --open-metrics overrides it.
func TestRegionFlags_OpenMetricsFromTopology(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "open.hcl")
	src := "open_metrics = true\nregion \"a\" {\n  listen = \"127.0.0.1:8000\"\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		flag string // "" for none
		want bool
	}{{"from the file", "", true}, {"flag overrides", "false", false}} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newRegionCmd()
			args := []string{"--config", path, "--name", "a"}
			if tt.flag != "" {
				args = append(args, "--open-metrics="+tt.flag)
			}
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			f := regionFlags{config: path, name: "a", openMetrics: tt.flag == "true"}
			cfg, _, err := f.resolve(cmd)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.OpenMetrics != tt.want {
				t.Fatalf("OpenMetrics = %v, want %v", cfg.OpenMetrics, tt.want)
			}
		})
	}
}

// TestRegionFlags_Memory checks how the Go runtime's memory settings are
// resolved: the defaults for a lab region, $GOGC and $GOMEMLIMIT over the
// defaults (the runtime read them at start: they are left alone), the
// flags over both, and usage errors for values the runtime cannot take.
func TestRegionFlags_Memory(t *testing.T) {
	for _, tt := range []struct {
		name              string
		args              []string
		env               map[string]string
		wantGC, wantLimit bool // whether to set them
		gcPercent         int
		limit             int64
		releaseAfter      time.Duration
		wantErr           string
	}{
		{name: "defaults", wantGC: true, gcPercent: 50, releaseAfter: 10 * time.Second},
		{name: "GOGC wins over the default", env: map[string]string{"GOGC": "200", "GOMEMLIMIT": "1GiB"},
			gcPercent: 50, releaseAfter: 10 * time.Second},
		{name: "flags win over GOGC and GOMEMLIMIT", env: map[string]string{"GOGC": "200", "GOMEMLIMIT": "1GiB"},
			args:   []string{"--gogc", "100", "--memory-limit-mb", "512", "--memory-release-after", "30s"},
			wantGC: true, wantLimit: true, gcPercent: 100, limit: 512 << 20, releaseAfter: 30 * time.Second},
		{name: "no release", args: []string{"--memory-release-after", "0"}, wantGC: true, gcPercent: 50, releaseAfter: -1},
		{name: "zero gogc", args: []string{"--gogc", "0"}, wantErr: "--gogc must be a positive percent"},
		{name: "negative limit", args: []string{"--memory-limit-mb", "-1"}, wantErr: "--memory-limit-mb must be 0"},
		{name: "negative release", args: []string{"--memory-release-after", "-1s"}, wantErr: "--memory-release-after must be 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newRegionCmd()
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			f := regionFlags{}
			fl := cmd.Flags()
			var err error
			if f.gogc, err = fl.GetInt("gogc"); err != nil {
				t.Fatal(err)
			}
			if f.memLimitMB, err = fl.GetInt64("memory-limit-mb"); err != nil {
				t.Fatal(err)
			}
			if f.releaseAfter, err = fl.GetDuration("memory-release-after"); err != nil {
				t.Fatal(err)
			}
			m, err := f.memory(cmd, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.setGC != tt.wantGC || m.setLimit != tt.wantLimit || m.cfg.GCPercent != tt.gcPercent ||
				m.cfg.LimitBytes != tt.limit || m.cfg.ReleaseAfter != tt.releaseAfter {
				t.Fatalf("got %+v, want set GC %v (%d), set limit %v (%d), release after %s",
					m, tt.wantGC, tt.gcPercent, tt.wantLimit, tt.limit, tt.releaseAfter)
			}
		})
	}
}

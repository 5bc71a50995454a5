package main

import (
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestCLI_UsageErrors checks that mistakes on the command line say what is
// wrong and how to fix it, and exit with status 2.
func TestCLI_UsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"region without name", []string{"region"}, "--name is required"},
		{"region without listen", []string{"region", "--name", "a"}, "--listen is required"},
		{"region without data", []string{"region", "--name", "a", "--listen", "127.0.0.1:0"}, "--data is required"},
		{"unknown flag", []string{"region", "--colour", "red"}, "unknown flag"},
		{"bad log level", []string{"region", "--name", "a", "--listen", "127.0.0.1:0", "--data", "/tmp/x", "--log-level", "loud"}, "--log-level"},
		{"missing topology", []string{"up", "--config", "/nonexistent.hcl"}, "not found"},
		{"negative block cache", []string{"region", "--name", "a", "--listen", "127.0.0.1:0", "--data", "/tmp/x", "--block-cache-mb", "-1"}, "must not be negative"},
		{"server pids not one per endpoint", []string{"bench", "--endpoint", "http://127.0.0.1:1", "--server-pid", "1,2"}, "one per --endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(binary, tt.args...).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit = %v, want status 2; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Fatalf("output %q does not mention %q", out, tt.want)
			}
		})
	}
	out, err := exec.Command(binary, "up", "--check-config", "--config", "../../configs/default.hcl").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 regions: config ok") {
		t.Fatalf("check-config: %v %s", err, out)
	}
}

// TestCLI_Version checks that `version` and `--version` say which build
// this is: the TestMain build carries no -ldflags version, so the version
// comes from the build info.
func TestCLI_Version(t *testing.T) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "globaltables ") || !strings.Contains(string(out), runtime.Version()) {
		t.Fatalf("version: %v %q", err, out)
	}
	flag, err := exec.Command(binary, "--version").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	if err != nil || !strings.Contains(string(flag), strings.TrimPrefix(first, "globaltables ")) {
		t.Fatalf("--version %q does not match version %q: %v", flag, out, err)
	}
}

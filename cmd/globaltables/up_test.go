package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports, err := freeLoopbackPorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

// TestUp_StartsEveryRegionAndStopsCleanly runs `globaltables up` on a
// three-region topology, checks that every endpoint answers and that log
// lines carry their region's name, then interrupts it and checks that every
// region process is gone.
func TestUp_StartsEveryRegionAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	ports := freePorts(t, 3)
	names := []string{"us-east-1", "eu-west-1", "ap-southeast-1"}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "data_dir = %q\n", filepath.Join(dir, "data"))
	for i, n := range names {
		fmt.Fprintf(&cfg, "region %q {\n  listen = \"127.0.0.1:%d\"\n}\n", n, ports[i])
	}
	path := filepath.Join(dir, "topology.hcl")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, exited, output := startUp(t, path, len(names))
	for i, n := range names {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", ports[i]))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		resp.Body.Close()
		if !strings.Contains(output(), fmt.Sprintf("http://127.0.0.1:%d", ports[i])) {
			t.Fatalf("endpoint of %s not printed:\n%s", n, output())
		}
		found := false
		for _, l := range strings.Split(output(), "\n") {
			if strings.HasPrefix(l, n) && strings.Contains(l, "region serving") {
				found = true
			}
		}
		if !found {
			t.Fatalf("no log line tagged %s:\n%s", n, output())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("up did not stop on SIGINT:\n%s", output())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("up exited %d:\n%s", code, output())
	}
	for i, n := range names {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports[i]), time.Second); err == nil {
			c.Close()
			t.Fatalf("%s still listening after up stopped", n)
		}
		if !strings.Contains(output(), n) || !strings.Contains(output(), "region stopped") {
			t.Fatalf("%s did not log a clean stop:\n%s", n, output())
		}
	}
}

// startUp runs `globaltables up` on the topology file path until the test
// ends, and waits until its n regions are up. It returns the process, a
// channel closed when it has exited, and its output so far.
func startUp(t *testing.T, path string, n int) (*exec.Cmd, <-chan struct{}, func() string) {
	t.Helper()
	cmd := exec.Command(binary, "up", "--config", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var mu sync.Mutex
	var lines []string
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			if strings.Contains(sc.Text(), fmt.Sprintf("all %d regions are up", n)) {
				once.Do(func() { close(ready) })
			}
		}
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "\n")
	}
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("up exited early:\n%s", output())
	case <-time.After(90 * time.Second):
		t.Fatalf("regions did not come up:\n%s", output())
	}
	return cmd, exited, output
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// upArgs are the arguments TestUp_WorksAnywhereAndStopsCleanly gives
// `up`: none, as a new user types it.
var upArgs []string

// TestUp_WorksAnywhereAndStopsCleanly runs `globaltables up` with no flags
// in a folder that holds nothing but the topology `init` wrote (on free
// ports), as a user's shell runs it: in a process group of its own, as a
// terminal's foreground job, with its output going into a pipe that dies
// before the stop, as `up | tee log` does on Ctrl-C. It checks that:
//   - every endpoint answers and log lines carry their region's name;
//   - commands run in the same folder find the running topology by themselves;
//   - a second `up` there refuses at once, with a plain sentence;
//   - a region started on a locked data folder says so in plain words;
//   - partition and heal with one region down change every reachable
//     region, name the unreachable one and exit non-zero;
//   - one SIGINT to the whole group stops everything in order: up exits 0
//     after its children, and every store is closed (Badger removes its LOCK
//     file only on a clean close).
func TestUp_WorksAnywhereAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	ports := freePorts(t, 6)
	names := []string{"us-east-1", "eu-west-1", "ap-southeast-1"}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("init"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if out, err := run("init"); err == nil || !strings.Contains(out, "--force") {
		t.Fatalf("a second init overwrote the file or did not say how to: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "globaltables.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(src)
	for i := range names {
		cfg = strings.Replace(cfg, fmt.Sprintf("\"127.0.0.1:%d\"", 8000+i), fmt.Sprintf("\"127.0.0.1:%d\"", ports[i]), 1)
		cfg = strings.Replace(cfg, fmt.Sprintf("\"127.0.0.1:%d\"", 9000+i), fmt.Sprintf("\"127.0.0.1:%d\"", ports[3+i]), 1)
	}
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(binary, append([]string{"up"}, upArgs...)...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	exited, output, closeOut := startUpCmd(t, cmd, len(names))
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
	if out, err := run("link", "show"); err != nil || strings.Contains(out, "unreachable") {
		t.Fatalf("link show, run where up runs, did not find the topology: %v\n%s", err, out)
	}

	// A second up on the same ports and data refuses before starting anything.
	second, err := run("up")
	want := fmt.Sprintf("127.0.0.1:%d is in use — another globaltables up?", ports[0])
	if err == nil || !strings.Contains(second, want) || strings.Contains(second, "regions are up") {
		t.Fatalf("second up: %v, want a refusal saying %q:\n%s", err, want, second)
	}
	locked, err := run("region", "--config", "globaltables.hcl", "--name", names[0],
		"--listen", fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0]), "--no-sync")
	if err == nil || !strings.Contains(locked, "is in use by another process (another globaltables up?)") ||
		strings.Contains(locked, "Cannot acquire directory lock") {
		t.Fatalf("region on a locked data folder: %v, want a plain sentence:\n%s", err, locked)
	}

	// With ap-southeast-1 stopped, partition and heal change the others.
	down := names[2]
	stopRegion(t, filepath.Join(dir, "data", down), ports[2])
	out, err := run("partition", "--isolate", down)
	if err == nil || !strings.Contains(out, "unreachable: "+down) {
		t.Fatalf("partition with %s down: %v, want it listed as unreachable and a non-zero exit:\n%s", down, err, out)
	}
	shapes, _ := run("link", "show")
	for _, live := range names[:2] {
		if !regexp.MustCompile(down + ` → ` + live + `\s+cut`).MatchString(shapes) {
			t.Fatalf("partition left %s → %s uncut:\n%s\n%s", down, live, out, shapes)
		}
	}
	out, err = run("heal")
	if err == nil || !strings.Contains(out, "unreachable: "+down) {
		t.Fatalf("heal with %s down: %v, want it listed as unreachable and a non-zero exit:\n%s", down, err, out)
	}
	if shapes, _ := run("link", "show"); strings.Contains(shapes, "cut") {
		t.Fatalf("heal left a reachable link cut:\n%s", shapes)
	}

	// Ctrl-C: one SIGINT to the whole group, whose output reader is gone.
	closeOut()
	interruptGroup(t, cmd, exited, output)
	for i, n := range names {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports[i]), time.Second); err == nil {
			c.Close()
			t.Fatalf("%s still listening after up stopped", n)
		}
		if _, err := os.Stat(filepath.Join(dir, "data", n, "db", "LOCK")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: store not closed cleanly (Badger's LOCK file is left: %v):\n%s", n, err, output())
		}
	}
	// Stopped: the state file is gone, so that commands run here do not
	// take the stopped topology for a running one; status says what is
	// wrong and how to fix it.
	if _, err := os.Stat(filepath.Join(dir, "data", StateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file left after up stopped (%v)", err)
	}
	if out, err := run("status"); err == nil || !strings.Contains(out, "no region answers") {
		t.Fatalf("status with nothing running (%v):\n%s", err, out)
	}
}

// interruptGroup sends SIGINT to the process group of cmd, a `globaltables
// up` started with Setpgid, as a terminal's Ctrl-C does, and checks that
// up exits 0 (not killed by a signal) once it has stopped.
func interruptGroup(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}, output func() string) {
	t.Helper()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(90 * time.Second):
		t.Fatalf("up did not stop on SIGINT:\n%s", output())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("up was killed by %v (it must survive a broken pipe and wait for its regions)", ws.Signal())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("up exited %d:\n%s", code, output())
	}
}

// stopRegion stops the region whose data folder is dataDir with SIGTERM,
// as a crash of that region alone would look to the others, and waits
// until its endpoint on port is closed.
func stopRegion(t *testing.T, dataDir string, port int) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, "db", "LOCK")) // Badger writes its PID there
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("region %s did not stop on SIGTERM", dataDir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startUp runs `globaltables up` on the topology file path until the test
// ends, and waits until its n regions are up. It returns the process, a
// channel closed when it has exited, and its output so far.
func startUp(t *testing.T, path string, n int) (*exec.Cmd, <-chan struct{}, func() string) {
	t.Helper()
	cmd := exec.Command(binary, "up", "--config", path)
	exited, output, _ := startUpCmd(t, cmd, n)
	return cmd, exited, output
}

// startUpCmd is startUp with the command given. It also returns a func
// that closes the reading end of cmd's output, as a dead `tee` would.
func startUpCmd(t *testing.T, cmd *exec.Cmd, n int) (<-chan struct{}, func() string, func()) {
	t.Helper()
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = wr, wr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	exited := make(chan struct{})
	var mu sync.Mutex
	var lines []string
	ready := make(chan struct{})
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(rd)
		once := sync.Once{}
		up := false
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			// Ready once the whole "all N regions are up" message is
			// read: its last line, not its first.
			if strings.Contains(sc.Text(), fmt.Sprintf("all %d regions are up", n)) {
				up = true
			}
			if up && strings.Contains(sc.Text(), "Ctrl-C stops every region") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(exited)
	}()
	var closeOnce sync.Once
	closeOut := func() { closeOnce.Do(func() { rd.Close(); <-read }) }
	t.Cleanup(func() {
		// An orderly stop first: up stops its regions, which run in
		// process groups of their own, and waits for them, so that their
		// data folders are no longer in use when the test removes them
		// (a region closing a store whose folder was removed cannot
		// finish). SIGKILL only if that does not end within the bound.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
			cmd.Process.Kill()
			<-exited
		}
		closeOut()
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
	return exited, output, closeOut
}

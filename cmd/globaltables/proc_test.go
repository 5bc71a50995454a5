package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the globaltables binary built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "globaltables-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "globaltables")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build globaltables:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// regionProc is a region running as a child process of the test.
type regionProc struct {
	cmd    *exec.Cmd
	URL    string
	logMu  sync.Mutex
	log    bytes.Buffer
	exited chan struct{}
}

var endpointRE = regexp.MustCompile(`endpoint=(http://[0-9.:]+)`)

// startRegionProc runs `globaltables region` with args and waits until it
// prints its endpoint. The process is killed when the test ends.
func startRegionProc(t *testing.T, args ...string) *regionProc {
	t.Helper()
	return startRegionCmd(t, exec.Command(binary, append([]string{"region"}, args...)...), args)
}

// startRegionCmd is startRegionProc with the command given: the region
// run through a wrapper (a shell that lowers a limit, say).
func startRegionCmd(t *testing.T, cmd *exec.Cmd, args []string) *regionProc {
	t.Helper()
	p := &regionProc{exited: make(chan struct{}), cmd: cmd}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			p.logMu.Lock()
			p.log.WriteString(line + "\n")
			p.logMu.Unlock()
			if m := endpointRE.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			log := p.Log()
			if len(log) > 8000 {
				log = "..." + log[len(log)-8000:]
			}
			t.Logf("log of %v:\n%s", args, log)
		}
	})
	select {
	case p.URL = <-urls:
	case <-p.exited:
		t.Fatalf("region exited before serving:\n%s", p.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("region did not start:\n%s", p.Log())
	}
	return p
}

// Log returns what the process has printed so far.
func (p *regionProc) Log() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.log.String()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *regionProc) Kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-p.exited
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *regionProc) Stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("region did not stop on SIGTERM:\n%s", p.Log())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("region exited with %d after SIGTERM:\n%s", code, p.Log())
	}
}

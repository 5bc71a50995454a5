// Package supervise runs region processes as children of the current
// process: it starts them, tags every line they print with the region's
// name, signals and kills them on demand, and stops them all on shutdown.
//
// Each child runs in a process group of its own: a Ctrl-C at the terminal
// reaches the supervising process alone, which stops every child with one
// SIGTERM and waits for it, instead of each child getting the terminal's
// SIGINT and then the supervisor's SIGTERM on top of it.
//
// It restarts nothing by itself. A region that dies stays dead until a
// caller starts it again: a failover drill must see an outage as an outage.
package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ErrUnknown is returned for a process name the supervisor is not running.
var ErrUnknown = errors.New("supervise: no such process")

// ErrRunning is returned by Start for a name that is already running.
var ErrRunning = errors.New("supervise: process already running")

// Exit reports a child process that ended.
type Exit struct {
	Name string
	Err  error // nil for exit status 0
}

// Supervisor owns a set of named child processes.
type Supervisor struct {
	out   io.Writer
	outMu sync.Mutex // serialises whole lines written to out

	mu    sync.Mutex // guards procs
	procs map[string]*proc

	exits chan Exit
	wg    sync.WaitGroup
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
}

// New returns a supervisor that writes its children's output to out, each
// line prefixed with the child's name.
func New(out io.Writer) *Supervisor {
	return &Supervisor{out: out, procs: map[string]*proc{}, exits: make(chan Exit, 64)}
}

// Exits delivers a notice for every child that ends, expectedly or not.
func (s *Supervisor) Exits() <-chan Exit { return s.exits }

// Start runs binary with args as the child called name.
func (s *Supervisor) Start(name, binary string, args ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs[name]; ok {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("%w: %s", ErrRunning, name)
		}
	}
	cmd := exec.Command(binary, args...)
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	s.procs[name] = p
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.copyLines(name, stdout)
		err := cmd.Wait()
		close(p.done)
		select {
		case s.exits <- Exit{Name: name, Err: err}:
		default:
		}
	}()
	return nil
}

// copyLines copies r to the supervisor's output line by line, prefixed.
func (s *Supervisor) copyLines(name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		s.outMu.Lock()
		fmt.Fprintf(s.out, "%-15s | %s\n", name, sc.Bytes())
		s.outMu.Unlock()
	}
}

// Signal sends sig to the child called name.
func (s *Supervisor) Signal(name string, sig os.Signal) error {
	s.mu.Lock()
	p, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	return p.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL to the child called name and waits until it is gone.
func (s *Supervisor) Kill(name string) error {
	s.mu.Lock()
	p, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}

// PID returns the process ID of the running child called name, or 0 if
// there is none.
func (s *Supervisor) PID(name string) int {
	s.mu.Lock()
	p, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return 0
	}
	select {
	case <-p.done:
		return 0
	default:
		return p.cmd.Process.Pid
	}
}

// Running reports whether the child called name is running.
func (s *Supervisor) Running(name string) bool {
	s.mu.Lock()
	p, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop asks every child to stop with SIGTERM and waits for them; children
// still running when ctx ends are killed. It returns once every child and
// every goroutine of the supervisor has ended.
func (s *Supervisor) Stop(ctx context.Context) {
	s.mu.Lock()
	procs := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-ctx.Done():
			p.cmd.Process.Kill()
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
			}
		}
	}
	s.wg.Wait()
}

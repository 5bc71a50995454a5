package trigger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// deliverer hands one batch's event, already encoded, to the handler.
type deliverer interface {
	deliver(ctx context.Context, event []byte) error
}

// newDeliverer returns the deliverer of a normalized spec.
func newDeliverer(s *Spec, region string, hc *http.Client) deliverer {
	if s.URL != "" {
		return &poster{url: s.URL, client: hc, timeout: time.Duration(s.Timeout)}
	}
	return &runner{command: s.Command, timeout: time.Duration(s.Timeout),
		env: []string{"AWS_REGION=" + region, "GLOBALTABLES_TRIGGER=" + s.Name, "GLOBALTABLES_TABLE=" + s.Table}}
}

// tailLimit bounds how much of a failed handler's output an error keeps.
const tailLimit = 512

// runner runs a command per batch, the event on its standard input.
type runner struct {
	command string
	timeout time.Duration
	env     []string
}

func (r *runner) deliver(ctx context.Context, event []byte) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", r.command)
	cmd.Stdin = bytes.NewReader(event)
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(cmd.Environ(), r.env...)
	// A handler that leaves a child holding its output open is not waited
	// for past this.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	switch {
	case err == nil:
		return nil
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("command timed out after %v%s", r.timeout, out.suffix())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("command exited with status %d%s", ee.ExitCode(), out.suffix())
	}
	return fmt.Errorf("run command: %w", err)
}

// poster POSTs each batch to a URL.
type poster struct {
	url     string
	client  *http.Client
	timeout time.Duration
}

func (p *poster) deliver(ctx context.Context, event []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(event))
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, tailLimit))
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(body))
		if msg != "" {
			msg = ": " + msg
		}
		return fmt.Errorf("post: %s%s", resp.Status, msg)
	}
	return nil
}

// tailBuffer keeps the last tailLimit bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailLimit {
		t.b = append(t.b[:0], t.b[len(t.b)-tailLimit:]...)
	}
	return len(p), nil
}

// suffix is the output for an error message: ": <output>" or nothing.
func (t *tailBuffer) suffix() string {
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return ": " + s
}

package natstest

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
)

// LogBuffer collects log output (an hclog Output) for tests that check
// what was logged. It is safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines returns the lines written so far that match the regular
// expression re.
func (l *LogBuffer) Lines(re string) []string {
	m := regexp.MustCompile(re)
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if m.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

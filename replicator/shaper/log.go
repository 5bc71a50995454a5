package shaper

import (
	"encoding/json"
	"sort"

	"github.com/hashicorp/go-hclog"
	"github.com/rs/zerolog"
)

// toxiproxy logs with zerolog, one JSON object a line. Its warnings and
// errors are the ordinary life of a proxy for this lab (a peer that is not
// up yet refuses the upstream dial; a connection closed at shutdown ends
// its copy loops with "use of closed network connection"), so they go to
// hclog at debug, with their fields as hclog fields. The link they belong
// to reports what matters about them (replicator.Link).

// acceptFailure is the message toxiproxy logs when its accept loop ends on
// an error (proxy.go, Proxy.server), after which it accepts no more.
const acceptFailure = "Error while accepting client"

// newZerolog returns a zerolog logger writing to l at debug, and calling
// acceptFailed with a proxy's name when its accept loop dies. Lines below
// warning level are dropped unless l logs debug.
func newZerolog(l hclog.Logger, acceptFailed func(name string)) zerolog.Logger {
	level := zerolog.WarnLevel
	if l.IsDebug() || l.IsTrace() {
		level = zerolog.DebugLevel
	}
	return zerolog.New(zerologWriter{l: l, acceptFailed: acceptFailed}).Level(level)
}

// zerologWriter is the io.Writer behind newZerolog's logger.
type zerologWriter struct {
	l            hclog.Logger
	acceptFailed func(name string)
}

func (w zerologWriter) Write(p []byte) (int, error) {
	var fields map[string]any
	if err := json.Unmarshal(p, &fields); err != nil {
		w.l.Debug("toxiproxy", "line", string(p))
		return len(p), nil
	}
	msg, _ := fields["message"].(string)
	name, _ := fields["name"].(string)
	delete(fields, "message")
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k, fields[k])
	}
	if msg == "" {
		msg = "toxiproxy"
	}
	w.l.Debug(msg, args...)
	if msg == acceptFailure && name != "" && w.acceptFailed != nil {
		w.acceptFailed(name)
	}
	return len(p), nil
}

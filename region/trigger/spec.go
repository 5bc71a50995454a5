package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Defaults and bounds of a Spec, as Lambda's event source mappings for
// DynamoDB Streams have them where Lambda has one.
const (
	// DefaultBatchSize is Lambda's default BatchSize for DynamoDB streams.
	DefaultBatchSize = 100
	// MaxBatchSize is Lambda's maximum.
	MaxBatchSize = 10000
	// MaxBatchingWindow is Lambda's MaximumBatchingWindowInSeconds bound.
	MaxBatchingWindow = 300 * time.Second
	// DefaultMaxRetries is how often a failed batch is retried before it
	// is bisected or logged. Lambda's default is -1 (retry until the
	// records expire); a lab wants to see the failure path, so 3.
	DefaultMaxRetries = 3
	// MaxRetriesLimit is Lambda's bound on MaximumRetryAttempts.
	MaxRetriesLimit = 10000
	// DefaultTimeout bounds one delivery (a command's run, a POST).
	DefaultTimeout = 30 * time.Second
)

// Starting positions.
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
)

// Sources of a trigger.
const (
	// SourceTopology marks a trigger defined by a trigger block of the
	// topology: it is re-created from the file on each start, and removed
	// when the file no longer has it.
	SourceTopology = "topology"
	// SourceAPI marks a trigger added through the control endpoint
	// (`globaltables trigger add`).
	SourceAPI = "api"
)

// ErrInvalid is wrapped by the errors of an invalid Spec.
var ErrInvalid = errors.New("invalid trigger")

// ErrNotFound is returned for a trigger the region does not have.
var ErrNotFound = errors.New("no such trigger")

// Duration is a time.Duration written in JSON as Go writes durations
// ("1.5s").
type Duration time.Duration

// MarshalJSON writes d as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "1.5s" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration must be a string such as \"1s\"")
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Spec is what a trigger does: which table's stream it reads, where it
// delivers, and how it batches and retries.
type Spec struct {
	// Name identifies the trigger in its region: letters, digits, '.',
	// '_' and '-', at most 64.
	Name string `json:"name"`
	// Table is the table whose stream (in this region) is read.
	Table string `json:"table"`
	// Command is run with /bin/sh -c for each batch, the event on its
	// standard input; exit status 0 is success. Exactly one of Command
	// and URL.
	Command string `json:"command,omitempty"`
	// URL receives each batch as a POST with a JSON body; a 2xx answer is
	// success.
	URL string `json:"url,omitempty"`
	// BatchSize is the largest batch, in records. Default
	// DefaultBatchSize, at most MaxBatchSize.
	BatchSize int `json:"batch_size,omitempty"`
	// BatchingWindow is how long a batch waits for more records once it
	// has its first one. Default 0: deliver what is there.
	BatchingWindow Duration `json:"batching_window,omitempty"`
	// StartingPosition is where a new trigger starts: TRIM_HORIZON (the
	// oldest record kept, the default) or LATEST (records written after
	// it was created).
	StartingPosition string `json:"starting_position,omitempty"`
	// MaxRetries is how often a failed delivery is retried; nil means
	// DefaultMaxRetries.
	MaxRetries *int `json:"max_retries,omitempty"`
	// Bisect splits a batch that keeps failing in two and retries each
	// half (Lambda's BisectBatchOnFunctionError); nil means true.
	Bisect *bool `json:"bisect,omitempty"`
	// Timeout bounds one delivery. Default DefaultTimeout.
	Timeout Duration `json:"timeout,omitempty"`
	// Source says where the trigger was defined: SourceTopology or
	// SourceAPI (the default).
	Source string `json:"source,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Normalize fills in the defaults and checks the spec; the errors wrap
// ErrInvalid and say what to change.
func (s *Spec) Normalize() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !nameRE.MatchString(s.Name) {
		bad("name %q: use 1 to 64 letters, digits, '.', '_' or '-'", s.Name)
	}
	if s.Table == "" {
		bad("table is required")
	}
	s.Command, s.URL = strings.TrimSpace(s.Command), strings.TrimSpace(s.URL)
	switch {
	case s.Command == "" && s.URL == "":
		bad("give a command or a url to deliver to")
	case s.Command != "" && s.URL != "":
		bad("give a command or a url, not both")
	case s.URL != "":
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url %q: use an http:// or https:// URL", s.URL)
		}
	}
	if s.BatchSize == 0 {
		s.BatchSize = DefaultBatchSize
	}
	if s.BatchSize < 1 || s.BatchSize > MaxBatchSize {
		bad("batch size %d: use 1 to %d", s.BatchSize, MaxBatchSize)
	}
	if s.BatchingWindow < 0 || time.Duration(s.BatchingWindow) > MaxBatchingWindow {
		bad("batching window %v: use 0 to %v", time.Duration(s.BatchingWindow), MaxBatchingWindow)
	}
	switch p := strings.ToUpper(strings.ReplaceAll(s.StartingPosition, "-", "_")); p {
	case "":
		s.StartingPosition = TrimHorizon
	case TrimHorizon, Latest:
		s.StartingPosition = p
	default:
		bad("starting position %q: use trim-horizon or latest", s.StartingPosition)
	}
	if s.MaxRetries == nil {
		n := DefaultMaxRetries
		s.MaxRetries = &n
	}
	if *s.MaxRetries < 0 || *s.MaxRetries > MaxRetriesLimit {
		bad("max retries %d: use 0 to %d", *s.MaxRetries, MaxRetriesLimit)
	}
	if s.Bisect == nil {
		b := true
		s.Bisect = &b
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(DefaultTimeout)
	}
	if s.Timeout < 0 {
		bad("timeout must be positive")
	}
	switch s.Source {
	case "":
		s.Source = SourceAPI
	case SourceAPI, SourceTopology:
	default:
		bad("source %q: use %s or %s", s.Source, SourceAPI, SourceTopology)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalid, s.Name, err)
	}
	return nil
}

// Target says where the trigger delivers, for listings: the URL or the
// command.
func (s *Spec) Target() string {
	if s.URL != "" {
		return s.URL
	}
	return s.Command
}

// sameSource reports whether two normalized specs read the same table
// from the same starting position: a topology trigger whose block changed
// only in how it delivers keeps its position.
func (s *Spec) sameSource(o *Spec) bool {
	return s.Table == o.Table && s.StartingPosition == o.StartingPosition
}

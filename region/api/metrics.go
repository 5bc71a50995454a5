package api

import "time"

// Metrics receives the API's measurements; region/metrics implements it
// with Prometheus collectors. The server resolves one RequestObserver per
// operation when it starts, so that a request costs no label lookup.
type Metrics interface {
	// Operation returns the observer of one operation's requests; op is
	// an operation name, or UnknownOperationLabel for targets the server does
	// not know (so that clients cannot grow the label set).
	Operation(op string) RequestObserver
	// ConsumedCapacity adds capacity units consumed on a table, read or
	// written, whether or not the request asked for ReturnConsumedCapacity.
	ConsumedCapacity(table string, read, write float64)
}

// RequestObserver records one operation's requests.
type RequestObserver interface {
	// Done records a request answered with errCode (a DynamoDB error code
	// such as "ConditionalCheckFailedException"), or "" on success, after
	// d.
	Done(errCode string, d time.Duration)
}

// UnknownOperationLabel is the operation label of requests whose target names
// no operation the server answers.
const UnknownOperationLabel = "unknown"

// observers resolves the request observer of every operation the server
// answers, and of unknown ones.
func (s *Server) observers() map[string]RequestObserver {
	m := s.cfg.Metrics
	if m == nil {
		return nil
	}
	out := make(map[string]RequestObserver, len(s.ops)+len(s.streamOps)+1)
	for name := range s.ops {
		out[name] = m.Operation(name)
	}
	for name := range s.streamOps { // DynamoDB Streams' names differ from DynamoDB's
		out[name] = m.Operation(name)
	}
	out[UnknownOperationLabel] = m.Operation(UnknownOperationLabel)
	return out
}

// observer returns the observer of operation name (prefixed says the
// target had the API version's prefix), nil without metrics.
func (s *Server) observer(name string, prefixed bool) RequestObserver {
	if s.obs == nil {
		return nil
	}
	if o, ok := s.obs[name]; ok && prefixed && name != UnknownOperationLabel {
		return o
	}
	return s.obs[UnknownOperationLabel]
}

// newMeter returns a meter for one operation, reporting to the server's
// metrics (if any) whatever ReturnConsumedCapacity says.
func (s *Server) newMeter(mode *string) *meter {
	m := newMeter(mode)
	m.sink = s.cfg.Metrics
	return m
}

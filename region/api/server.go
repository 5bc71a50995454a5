package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
)

// Defaults for Config.
const (
	// DefaultMaxBodyBytes is DynamoDB's request size limit, 16 MB.
	DefaultMaxBodyBytes = 16 << 20
	// DefaultItemCollectionLimit is DynamoDB's 10 GB item collection limit.
	DefaultItemCollectionLimit = 10 << 30
	// DefaultAccountID is the account shown in ARNs.
	DefaultAccountID = "000000000000"
)

// targetPrefix is the X-Amz-Target prefix of DynamoDB's current API version.
const targetPrefix = "DynamoDB_20120810."

// Config configures a Server.
type Config struct {
	// Region is the region name shown in ARNs and the health check.
	Region string
	// DB is the region's storage.
	DB *store.DB
	// Logger receives request errors; default: a null logger.
	Logger hclog.Logger
	// AccountID appears in table ARNs; default DefaultAccountID.
	AccountID string
	// MaxBodyBytes limits the request body; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Now is the wall clock used for CreationDateTime and TTL decisions;
	// default time.Now. The lab's clock-skew experiments replace it.
	Now func() time.Time
	// ItemCollectionLimit is the size limit, in bytes, of an item
	// collection (the items sharing a partition key) in a table with local
	// secondary indexes; default DefaultItemCollectionLimit (10 GB).
	ItemCollectionLimit int64
	// Regions are every region of the topology, this one included; empty
	// for a region running alone, which then refuses ReplicaUpdates.
	Regions []string
	// GlobalByDefault makes every new table global across all Regions.
	GlobalByDefault bool
	// Clock mints the versions of global table settings and replica
	// entries; the region passes its hybrid logical clock. Default: a
	// clock of its own.
	Clock Clock
	// Hooks are optional callbacks for the region that embeds the server
	// (index backfills, replica updates); nil fields are skipped.
	Hooks Hooks
	// Auth, if set, checks every API request's signature (SigV4) before it
	// is handled; nil accepts any request, signed or not.
	Auth Authenticator
	// TransientStatusDelay is how long tables and indexes show CREATING,
	// UPDATING or DELETING after a change (see transient.go); default 0,
	// changes show at once.
	TransientStatusDelay time.Duration
	// BackfillRate caps each index backfill, in rows read per second, so
	// that a backfill leaves room for foreground traffic (and, in the lab,
	// lasts long enough to be interrupted on purpose). 0: unlimited.
	BackfillRate int
	// Metrics, if set, is told each request's outcome and duration and
	// the capacity it consumed (see metrics.go).
	Metrics Metrics
}

// Hooks let the process that embeds the API react to control-plane calls
// without the API package knowing about replication.
type Hooks struct {
	// IndexAdded is called after UpdateTable added a global secondary
	// index, to start its backfill. If nil, the server backfills in a
	// goroutine of its own.
	IndexAdded func(table, index string)
	// ReplicaJoined is called after this region created its replica of a
	// global table it was added to, so that the region copies the table's
	// items and then calls ReplicaReady.
	ReplicaJoined func(table, source string)
	// LinkDown reports whether replication from region has been
	// disconnected, and since when, for DescribeTable's replica details.
	LinkDown func(region string) (since time.Time, down bool)
	// JoinProgress reports how far the copy filling this region's new
	// replica of table has come, in percent, for DescribeTable's
	// ReplicaStatusPercentProgress; known is false when the region cannot
	// tell (the figure is then left out, not shown as 0).
	JoinProgress func(table string) (percent int, known bool)
}

// Clock mints and observes versions; *conflict.HLC implements it.
type Clock interface {
	Now() conflict.Version
	// Next mints a version greater than after: a setting's new version.
	Next(after conflict.Version) conflict.Version
	Observe(v conflict.Version)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Region == "" {
		return errors.New("api: region name is required")
	}
	if c.DB == nil {
		return errors.New("api: store is required")
	}
	return nil
}

// Server serves DynamoDB's JSON 1.0 protocol over HTTP for one region.
type Server struct {
	cfg Config
	db  *store.DB
	log hclog.Logger
	ops map[string]opFunc
	// streamOps are DynamoDB Streams' operations (streams.go).
	streamOps map[string]opFunc
	extra     *http.ServeMux // GET endpoints beside the API: status, conflicts, pprof
	reqID     atomic.Uint64
	idBase    string
	tokens    *tokenCache
	clock     Clock
	// transient holds the statuses shown for TransientStatusDelay.
	transient transients
	// obs are the request observers by operation (metrics.go); nil
	// without Config.Metrics.
	obs map[string]RequestObserver

	// bg owns the server's background work (GSI backfills, table deletes).
	bgCtx     context.Context
	bgCancel  context.CancelFunc
	bg        sync.WaitGroup
	backfills backfills
	// replicaSets caches tables' decoded replica sets (global.go).
	replicaSets replicaSets
}

// opFunc handles one operation: it decodes the body and returns the value
// to encode as the response.
type opFunc func(ctx context.Context, body []byte) (any, error)

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ItemCollectionLimit <= 0 {
		cfg.ItemCollectionLimit = DefaultItemCollectionLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:    cfg,
		db:     cfg.DB,
		log:    cfg.Logger,
		extra:  http.NewServeMux(),
		idBase: randomID(),
		tokens: newTokenCache(10 * time.Minute),
	}
	s.clock = cfg.Clock
	if s.clock == nil {
		s.clock = conflict.NewHLC(cfg.Region, cfg.Now)
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.ops = map[string]opFunc{
		"CreateTable":         s.createTable,
		"DescribeTable":       s.describeTable,
		"ListTables":          s.listTables,
		"UpdateTable":         s.updateTable,
		"DeleteTable":         s.deleteTable,
		"UpdateTimeToLive":    s.updateTimeToLive,
		"DescribeTimeToLive":  s.describeTimeToLive,
		"PutItem":             s.putItem,
		"GetItem":             s.getItem,
		"UpdateItem":          s.updateItem,
		"DeleteItem":          s.deleteItem,
		"Query":               s.query,
		"Scan":                s.scan,
		"BatchGetItem":        s.batchGetItem,
		"BatchWriteItem":      s.batchWriteItem,
		"TransactWriteItems":  s.transactWriteItems,
		"TransactGetItems":    s.transactGetItems,
		"DescribeEndpoints":   s.describeEndpoints,
		"DescribeLimits":      s.describeLimits,
		"ListTagsOfResource":  s.listTagsOfResource,
		"TagResource":         s.tagResource,
		"UntagResource":       s.untagResource,
		"DescribeGlobalTable": s.describeGlobalTableUnsupported,
	}
	s.ops["DescribeContinuousBackups"] = s.describeContinuousBackups
	s.streamOps = s.streamOpsByName()
	s.obs = s.observers()
	if err := s.resumeBackfills(); err != nil {
		s.Close()
		return nil, fmt.Errorf("resume index backfills: %w", err)
	}
	return s, nil
}

// Handle serves non-POST requests matching pattern (a http.ServeMux
// pattern) with h, beside the API. The region mounts its status, conflict
// and profiling endpoints here.
func (s *Server) Handle(pattern string, h http.Handler) { s.extra.Handle(pattern, h) }

// Close stops the server's background work (index backfills) and waits for
// it. It does not close the store.
func (s *Server) Close() error {
	s.bgCancel()
	s.bg.Wait()
	return nil
}

// goBackground runs fn in a goroutine owned by the server.
func (s *Server) goBackground(fn func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn(s.bgCtx)
	}()
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// handle runs the operation named by an X-Amz-Target value on a request
// body, writes the JSON response into out and returns the HTTP status. It
// is the whole protocol but for HTTP itself, which the net/http and
// fasthttp front ends share.
func (s *Server) handle(ctx context.Context, target string, body []byte, out *bytes.Buffer) (int, [][2]string) {
	name, ok := strings.CutPrefix(target, targetPrefix)
	op := s.ops[name]
	if !ok {
		name, ok = strings.CutPrefix(target, streamsTargetPrefix)
		op = s.streamOps[name]
	}
	var errCode string // for the metrics: "" is success
	if obs := s.observer(name, ok && op != nil); obs != nil {
		start := time.Now()
		defer func() { obs.Done(errCode, time.Since(start)) }()
	}
	if !ok || op == nil {
		errCode = "UnknownOperationException"
		return s.encodeError(out, unknownOperationFor(name)), nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		errCode = "SerializationException"
		return s.encodeError(out, Serialization("")), nil
	}
	resp, err := s.call(ctx, name, op, body)
	if err != nil {
		var ae *Error
		var full *store.DiskFullError
		var flush *store.FlushError
		switch {
		case errors.As(err, &ae):
		case errors.As(err, &full):
			ae = StoreRefused(full)
		case errors.As(err, &flush):
			ae = StoreRefused(flush)
		default:
			s.log.Error("request failed", "operation", name, "error", err)
			ae = InternalServerError()
		}
		errCode = ae.Code()
		return s.encodeError(out, ae), nil
	}
	var hdr [][2]string
	if h, ok := resp.(interface{ headers() [][2]string }); ok {
		hdr = h.headers()
	}
	return s.encode(out, http.StatusOK, resp), hdr
}

// call runs op, and turns a panic into DynamoDB's 500 InternalServerError:
// a bug that some input reaches costs that request, not the region's
// process and with it every client and every link into the region (Go's
// net/http servers recover the same way). The panic is logged once, with
// its stack and without the request's body, which may hold secrets.
func (s *Server) call(ctx context.Context, name string, op opFunc, body []byte) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("operation panicked (a bug: please report it); the request failed, the region goes on",
				"operation", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, InternalServerError()
		}
	}()
	return op(ctx, body)
}

// ServeHTTP implements http.Handler: the API over net/http, and beside it
// the GET endpoints (health, and whatever Handle mounted). The region serves
// clients through HandleFastHTTP; this front end serves embedding, tests and
// the GET endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("x-amzn-RequestId", s.newRequestID())
	if r.Method != http.MethodPost {
		s.serveGet(w, r)
		return
	}
	in := bufPool.Get().(*bytes.Buffer)
	in.Reset()
	defer bufPool.Put(in)
	out := bufPool.Get().(*bytes.Buffer)
	out.Reset()
	defer bufPool.Put(out)
	var status int
	var extra [][2]string
	n, err := in.ReadFrom(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
	switch {
	case err != nil:
		status = s.encodeError(out, Serialization("could not read request body: %v", err))
	case n > s.cfg.MaxBodyBytes:
		status = s.encodeError(out, RequestTooLarge())
	default:
		if e := s.authHTTP(r, in.Bytes()); e != nil {
			status = s.encodeError(out, e)
			break
		}
		status, extra = s.handle(withExtensions(r.Context(), r.Header.Get(ExtensionsHeader)), r.Header.Get("X-Amz-Target"), in.Bytes(), out)
	}
	for _, kv := range extra {
		h.Set(kv[0], kv[1])
	}
	b := out.Bytes()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// serveGet answers requests other than POST: the mounted endpoints, and
// DynamoDB's health line for GET /.
func (s *Server) serveGet(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.extra.Handler(r); pattern != "" {
		// A panic in an endpoint (status, links, clock, …) is a bug: say
		// so at ERROR and answer 500. Through fasthttp's adaptor it would
		// end the process: the adaptor recovers it in the handler's
		// goroutine and panics again in fasthttp's. http.ErrAbortHandler
		// (an endpoint abandoning its response on purpose) is not re-raised
		// for the same reason.
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					return
				}
				s.log.Error("endpoint panicked (a bug: please report it); the request failed, the region goes on",
					"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				http.Error(w, "internal error: see the region's log", http.StatusInternalServerError)
			}
		}()
		// Through the mux, not the handler it found: only the mux fills
		// in the request's path values ({source} and the like).
		s.extra.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		// DynamoDB answers a plain GET with a health line; load balancers
		// and scripts use it to see that the endpoint is up.
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "healthy: dynamodb.%s.amazonaws.com ", s.cfg.Region)
		return
	}
	w.Header().Set("x-amz-crc32", unknownOperationPageCRC)
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, unknownOperationPage)
}

// encode writes v as the JSON body of a response and returns status.
func (s *Server) encode(out *bytes.Buffer, status int, v any) int {
	if m, ok := v.(jsonAppender); ok {
		out.Write(m.appendJSON(out.AvailableBuffer()))
		return status
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.log.Error("encode response", "error", err)
		out.Reset()
		out.WriteString(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`)
		return http.StatusInternalServerError
	}
	// json.Encoder ends every value with a newline; DynamoDB's bodies do not.
	out.Truncate(out.Len() - 1)
	return status
}

// jsonAppender is implemented by hot-path responses that encode themselves
// without reflection.
type jsonAppender interface {
	appendJSON(dst []byte) []byte
}

type errorBody struct {
	Type                string               `json:"__type"`
	Message             string               `json:"message,omitempty"`
	CancellationReasons []CancellationReason `json:"CancellationReasons,omitempty"`
	Item                any                  `json:"Item,omitempty"`
}

// encodeError writes an error response body and returns its status.
func (s *Server) encodeError(out *bytes.Buffer, e *Error) int {
	if e.Code() == "SerializationException" {
		return s.encode(out, e.Status, serializationBody{Type: e.Type, Message: e.Message})
	}
	body := errorBody{Type: e.Type, Message: e.Message, CancellationReasons: e.Reasons}
	if e.Item != nil {
		body.Item = e.Item
	}
	return s.encode(out, e.Status, body)
}

// newRequestID returns a 52-character request ID in DynamoDB's alphabet.
// A random per-process prefix and a counter make IDs unique without the
// cost of reading random bytes per request.
func (s *Server) newRequestID() string {
	n := s.reqID.Add(1)
	c := strings.ToUpper(strconv.FormatUint(n, 36))
	return s.idBase[:52-len(c)] + c
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomID() string {
	b := make([]byte, 52)
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}

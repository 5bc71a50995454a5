package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/globaltables/globaltables/store"
)

// TestServer_FlushFailureIs500NamingTheCause: a write the store refuses
// because a flush of its logs failed gets DynamoDB's 500
// InternalServerError with the store's message (the file, the cause, and
// that the region must restart), and the server does not log it per
// request: the store logged the failure once.
func TestServer_FlushFailureIs500NamingTheCause(t *testing.T) {
	var logs bytes.Buffer
	s := memServer(t, "us-east-1", nil, &logs)
	flush := &store.FlushError{File: "00002.mem", Err: syscall.EIO, At: time.Now()}
	s.ops["PutItem"] = func(context.Context, []byte) (any, error) {
		return nil, fmt.Errorf("put: commit: %w", flush)
	}
	if msg := put500(t, s, `{}`); msg != flush.Error() {
		t.Errorf("message %q, want the store's %q", msg, flush.Error())
	}
	if logs.Len() > 0 {
		t.Errorf("the refusal was logged per request:\n%s", logs.String())
	}
}

// TestServer_PanicInAnOperationIsA500 runs an operation that panics, as a
// bug reached by some input would: the request gets DynamoDB's 500
// InternalServerError, the panic and its stack are logged once at ERROR
// without the request's body, and the server goes on serving. A panic
// that escaped the handler would end the region's process, and with it
// every client's requests and every link into the region.
func TestServer_PanicInAnOperationIsA500(t *testing.T) {
	var logs bytes.Buffer
	s := memServer(t, "us-east-1", nil, &logs)
	s.ops["PutItem"] = func(context.Context, []byte) (any, error) {
		var m map[string]int
		m["boom"] = 1 // assignment to entry in nil map
		return nil, nil
	}
	put500(t, s, `{"secret":"s3cr3t-value"}`)
	log := logs.String()
	if strings.Count(log, "[ERROR]") != 1 || !strings.Contains(log, "assignment to entry in nil map") ||
		!strings.Contains(log, "status500_internal_test.go") {
		t.Errorf("want one ERROR line with the panic and its stack, got:\n%s", log)
	}
	if strings.Contains(log, "s3cr3t-value") {
		t.Errorf("the request's body reached the log:\n%s", log)
	}
	var out bytes.Buffer
	if status, _ := s.handle(context.Background(), targetPrefix+"ListTables", []byte(`{}`), &out); status != http.StatusOK {
		t.Errorf("after the panic, ListTables got %d %q, want 200", status, out.Bytes())
	}
}

// put500 sends a PutItem with body through s.handle, fails the test unless
// the answer is DynamoDB's 500 InternalServerError, and returns its message.
func put500(t *testing.T, s *Server, body string) string {
	t.Helper()
	var out bytes.Buffer
	status, _ := s.handle(context.Background(), targetPrefix+"PutItem", []byte(body), &out)
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(out.Bytes(), &e); err != nil {
		t.Fatalf("body %q: %v", out.Bytes(), err)
	}
	if status != http.StatusInternalServerError || !strings.HasSuffix(e.Type, "#InternalServerError") {
		t.Errorf("got %d %q, want 500 InternalServerError", status, out.Bytes())
	}
	return e.Message
}

// TestServer_PanicInAnEndpointIsA500: an endpoint mounted beside the API
// (status, links, …) that panics, served by the region's fasthttp server,
// answers 500 and logs the panic at ERROR with its stack. Through
// fasthttp's adaptor such a panic ended the process (the adaptor recovers
// it and panics again in fasthttp's goroutine); so would an endpoint that
// aborts with http.ErrAbortHandler.
func TestServer_PanicInAnEndpointIsA500(t *testing.T) {
	var logs bytes.Buffer
	s := memServer(t, "us-east-1", nil, &logs)
	s.Handle("GET /_test/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		var m map[string]int
		m["boom"] = 1
	}))
	s.Handle("GET /_test/abort", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Shutdown() })
	get := func(path string) (int, error) {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get("/_test/boom"); err != nil || code != http.StatusInternalServerError {
		t.Errorf("GET /_test/boom: %d %v, want 500", code, err)
	}
	if log := logs.String(); !strings.Contains(log, "[ERROR]") || !strings.Contains(log, "assignment to entry in nil map") ||
		!strings.Contains(log, "/_test/boom") {
		t.Errorf("want the panic at ERROR, got:\n%s", log)
	}
	get("/_test/abort") // whatever it answers, the server must live on
	if code, err := get("/"); err != nil || code != http.StatusOK {
		t.Errorf("GET / after the panics: %d %v, want 200", code, err)
	}
}

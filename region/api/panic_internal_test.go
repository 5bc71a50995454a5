package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/store"
)

// TestServer_PanicInAnOperationIsA500 runs an operation that panics, as a
// bug reached by some input would: the request gets DynamoDB's 500
// InternalServerError, the panic and its stack are logged once at ERROR
// without the request's body, and the server goes on serving. A panic
// that escaped the handler would end the region's process, and with it
// every client's requests and every link into the region.
func TestServer_PanicInAnOperationIsA500(t *testing.T) {
	cfg := store.DefaultConfig()
	cfg.InMemory, cfg.Region = true, "us-east-1"
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs bytes.Buffer
	s, err := New(Config{Region: "us-east-1", DB: db, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ops["PutItem"] = func(context.Context, []byte) (any, error) {
		var m map[string]int
		m["boom"] = 1 // assignment to entry in nil map
		return nil, nil
	}
	var out bytes.Buffer
	status, _ := s.handle(context.Background(), targetPrefix+"PutItem", []byte(`{"secret":"s3cr3t-value"}`), &out)
	var body struct {
		Type string `json:"__type"`
	}
	if err := json.Unmarshal(out.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", out.Bytes(), err)
	}
	if status != http.StatusInternalServerError || !strings.HasSuffix(body.Type, "#InternalServerError") {
		t.Errorf("got %d %q, want 500 InternalServerError", status, out.Bytes())
	}
	log := logs.String()
	if strings.Count(log, "[ERROR]") != 1 || !strings.Contains(log, "assignment to entry in nil map") ||
		!strings.Contains(log, "panic_internal_test.go") {
		t.Errorf("want one ERROR line with the panic and its stack, got:\n%s", log)
	}
	if strings.Contains(log, "s3cr3t-value") {
		t.Errorf("the request's body reached the log:\n%s", log)
	}
	out.Reset()
	if status, _ := s.handle(context.Background(), targetPrefix+"ListTables", []byte(`{}`), &out); status != http.StatusOK {
		t.Errorf("after the panic, ListTables got %d %q, want 200", status, out.Bytes())
	}
}

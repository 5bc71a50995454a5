package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/store"
)

// TestServer_FlushFailureIs500NamingTheCause: a write the store refuses
// because a flush of its logs failed gets DynamoDB's 500
// InternalServerError with the store's message (the file, the cause, and
// that the region must restart), and the server does not log it per
// request: the store logged the failure once.
func TestServer_FlushFailureIs500NamingTheCause(t *testing.T) {
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
	flush := &store.FlushError{File: "00002.mem", Err: syscall.EIO, At: time.Now()}
	s.ops["PutItem"] = func(context.Context, []byte) (any, error) {
		return nil, fmt.Errorf("put: commit: %w", flush)
	}
	var out bytes.Buffer
	status, _ := s.handle(context.Background(), targetPrefix+"PutItem", []byte(`{}`), &out)
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(out.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", out.Bytes(), err)
	}
	if status != http.StatusInternalServerError || !strings.HasSuffix(body.Type, "#InternalServerError") ||
		body.Message != flush.Error() {
		t.Errorf("got %d %+v, want 500 InternalServerError with the store's message %q", status, body, flush.Error())
	}
	if logs.Len() > 0 {
		t.Errorf("the refusal was logged per request:\n%s", logs.String())
	}
}

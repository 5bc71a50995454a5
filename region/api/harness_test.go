package api_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/store"
)

// testRegion is a region's API served over real HTTP on a random loopback
// port, backed by a real Badger database in a temporary folder.
type testRegion struct {
	URL    string
	Client *dynamodb.Client
	DB     *store.DB
	Server *api.Server
}

// startRegion starts a region for one test and stops it when the test ends.
func startRegion(t *testing.T) *testRegion {
	t.Helper()
	return startRegionWithHooks(t, api.Hooks{})
}

// startRegionWithHooks is startRegion with the server's Hooks set, for tests
// that control when index backfills run.
func startRegionWithHooks(t testing.TB, hooks api.Hooks) *testRegion {
	t.Helper()
	return startRegionWith(t, api.Config{Hooks: hooks}, nil)
}

// startRegionWith starts a region whose server has cfg (Region and DB are
// filled in), over TLS if tlsCfg is not nil.
func startRegionWith(t testing.TB, acfg api.Config, tlsCfg *tls.Config) *testRegion {
	t.Helper()
	return startRegionStore(t, acfg, tlsCfg, nil)
}

// startRegionStore is startRegionWith whose store config is changed by
// storeOpt (if not nil) before it is opened.
func startRegionStore(t testing.TB, acfg api.Config, tlsCfg *tls.Config, storeOpt func(*store.Config)) *testRegion {
	t.Helper()
	cfg := store.DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.Region = "us-east-1"
	if storeOpt != nil {
		storeOpt(&cfg)
	}
	db, err := store.Open(cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	acfg.Region, acfg.DB = "us-east-1", db
	srv, err := api.New(acfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	if tlsCfg != nil {
		ln, url = tls.NewListener(ln, tlsCfg), "https://"+ln.Addr().String()
	}
	hs := srv.HTTPServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.ShutdownWithContext(ctx)
		<-done
		srv.Close()
		db.Close()
	})
	return &testRegion{URL: url, Client: regiontest.NewClient(url), DB: db, Server: srv}
}

// apiErrorCode returns the error code of an SDK error, or "" for nil.
func apiErrorCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode()
}

// wantAPIError fails the test unless err is an API error with the given code
// and, if msg is not empty, exactly that message.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("message = %q\n                 want %q", ae.ErrorMessage(), msg)
	}
}

// withRetries lets one call retry as the SDK does by default. The tests that
// read pages near DynamoDB's size limits use it for their reads: under the
// race detector on a loaded 2-core machine, the SDK's HTTP client has been
// seen to drop such a response mid-read ("use of closed network connection",
// on the client's side of the connection, with either HTTP front end of the
// server). The reads are idempotent and the tests check every item they get.
func withRetries(o *dynamodb.Options) { o.RetryMaxAttempts = 3 }

package api

import (
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/store"
)

// memServer returns a server of region on an in-memory store, both closed
// when the test ends. regions (nil: none) is the topology's regions; logs
// (nil: discarded) receives the server's log.
func memServer(tb testing.TB, region string, regions []string, logs io.Writer) *Server {
	tb.Helper()
	cfg := store.DefaultConfig()
	cfg.InMemory, cfg.Region = true, region
	db, err := store.Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if logs == nil {
		logs = io.Discard
	}
	s, err := New(Config{Region: region, DB: db, Regions: regions, Logger: hclog.New(&hclog.LoggerOptions{Output: logs})})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

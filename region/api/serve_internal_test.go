package api

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// BenchmarkServeFast measures the server's own work for the requests of
// scripts/bench.sh, GetItem and PutItem of 200-byte items, without the
// network: the fasthttp handler from the parsed request to the response
// ready to send, on an in-memory store (the group commit's fsync is
// store.BenchmarkPut's business).
func BenchmarkServeFast(b *testing.B) {
	cfg := store.DefaultConfig()
	cfg.InMemory, cfg.Region = true, "us-east-1"
	db, err := store.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := New(Config{Region: "us-east-1", DB: db})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := db.CreateTable(&store.Table{Name: "bench", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}}); err != nil {
		b.Fatal(err)
	}
	put := `{"Item":{"pk":{"S":"key-4711"},"v":{"S":"` + strings.Repeat("ab", 85) + `"}},"TableName":"bench"}`
	get := `{"Key":{"pk":{"S":"key-4711"}},"TableName":"bench"}`
	serve := func(b *testing.B, target, body string) {
		var req fasthttp.Request
		req.Header.SetMethod("POST")
		req.SetRequestURI("/")
		req.Header.SetContentType(amzJSON)
		req.Header.Set("X-Amz-Target", targetPrefix+target)
		req.SetBodyString(body)
		var ctx fasthttp.RequestCtx
		for b.Loop() {
			ctx.Init(&req, nil, nil) // a copy of req, with a server behind it
			s.serveFast(&ctx, nil)
			if ctx.Response.StatusCode() != fasthttp.StatusOK {
				b.Fatalf("%s: %d %s", target, ctx.Response.StatusCode(), ctx.Response.Body())
			}
		}
	}
	b.ReportAllocs()
	b.Run("PutItem", func(b *testing.B) { serve(b, "PutItem", put) })
	b.Run("GetItem", func(b *testing.B) { serve(b, "GetItem", get) })
}

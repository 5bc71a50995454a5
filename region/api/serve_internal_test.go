package api

import (
	"strconv"
	"strings"
	"syscall"
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
	cfg.InMemory = true
	s := benchServer(b, cfg)
	put := `{"Item":{"pk":{"S":"key-4711"},"v":{"S":"` + strings.Repeat("ab", 85) + `"}},"TableName":"bench"}`
	get := `{"Key":{"pk":{"S":"key-4711"}},"TableName":"bench"}`
	serve := func(b *testing.B, target, body string) {
		req := benchRequest(target)
		req.SetBodyString(body)
		var ctx fasthttp.RequestCtx
		for b.Loop() {
			serveOK(b, s, &ctx, req)
		}
	}
	b.ReportAllocs()
	b.Run("PutItem", func(b *testing.B) { serve(b, "PutItem", put) })
	b.Run("GetItem", func(b *testing.B) { serve(b, "GetItem", get) })
}

// benchServer returns a server on a new store of cfg that holds the table
// "bench" (hash key pk, a string); both close when b ends.
func benchServer(b *testing.B, cfg store.Config) *Server {
	cfg.Region = "us-east-1"
	db, err := store.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s, err := New(Config{Region: "us-east-1", DB: db})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := db.CreateTable(&store.Table{Name: "bench", Hash: store.KeyElement{Name: "pk", Type: attr.TypeS}}); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchRequest returns a request of the operation target as SDKs send it,
// without its body.
func benchRequest(target string) *fasthttp.Request {
	req := new(fasthttp.Request)
	req.Header.SetMethod("POST")
	req.SetRequestURI("/")
	req.Header.SetContentType(amzJSON)
	req.Header.Set("X-Amz-Target", targetPrefix+target)
	return req
}

// serveOK serves req with ctx (Init gives it a copy of req, with a server
// behind it) and fails b on any answer but 200.
func serveOK(b *testing.B, s *Server, ctx *fasthttp.RequestCtx, req *fasthttp.Request) {
	ctx.Init(req, nil, nil)
	s.serveFast(ctx, nil)
	if ctx.Response.StatusCode() != fasthttp.StatusOK {
		b.Fatalf("%s: %d %s", req.Header.Peek("X-Amz-Target"), ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// BenchmarkServeFastLoaded is BenchmarkServeFast on a table shaped like
// scripts/bench.sh's after its warmup: an on-disk store without fsync (a
// region's --no-sync), 10,000 keys each written twice, and each request on
// the next key, so that point reads search a memtable of tens of thousands
// of entries, as they do under that load. Run it with a fixed count
// (-benchtime 5000x): cpu-ns/op is the process's CPU over the loop, so a
// longer run that fills the memtable would charge its flush to the requests.
func BenchmarkServeFastLoaded(b *testing.B) {
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.SyncWrites = b.TempDir(), false
	// One memtable holds the whole run (at -benchtime 5000x or so), so that
	// no flush or compaction runs beside the requests measured.
	cfg.MemTableSize = 128 << 20
	s := benchServer(b, cfg)
	const keys = 10000
	value := strings.Repeat("ab", 100)
	putBody := func(i int) string {
		return `{"Item":{"pk":{"S":"key-` + strconv.Itoa(i%keys) + `"},"v":{"S":"` + value + `"}},"TableName":"bench"}`
	}
	getBody := func(i int) string {
		return `{"Key":{"pk":{"S":"key-` + strconv.Itoa(i%keys) + `"}},"TableName":"bench"}`
	}
	var ctx fasthttp.RequestCtx
	put := benchRequest("PutItem")
	for i := range 2 * keys {
		put.SetBodyString(putBody(i))
		serveOK(b, s, &ctx, put)
	}
	get := benchRequest("GetItem")
	// The bodies are made before the timer runs: their cost is the client's.
	puts, gets := make([]string, keys), make([]string, keys)
	for i := range keys {
		puts[i], gets[i] = putBody(i*7919), getBody(i*7919)
	}
	b.ReportAllocs()
	run := func(req *fasthttp.Request, bodies []string) func(*testing.B) {
		return func(b *testing.B) {
			i, cpu0 := 0, processCPU()
			for b.Loop() {
				req.SetBodyString(bodies[i%keys])
				serveOK(b, s, &ctx, req)
				i++
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		}
	}
	b.Run("PutItem", run(put, puts))
	b.Run("GetItem", run(get, gets))
}

// processCPU is the process's CPU time so far (user and system), in
// nanoseconds: with Badger's goroutines beside the handler, wall time per
// operation says less than the CPU the operation cost.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

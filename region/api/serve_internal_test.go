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

// BenchmarkServeFastLoaded is BenchmarkServeFast on a table shaped like
// scripts/bench.sh's after its warmup: an on-disk store without fsync (a
// region's --no-sync), 10,000 keys each written twice, and each request on
// the next key, so that point reads search a memtable of tens of thousands
// of entries, as they do under that load. Run it with a fixed count
// (-benchtime 5000x): cpu-ns/op is the process's CPU over the loop, so a
// longer run that fills the memtable would charge its flush to the requests.
func BenchmarkServeFastLoaded(b *testing.B) {
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Region, cfg.SyncWrites = b.TempDir(), "us-east-1", false
	// One memtable holds the whole run (at -benchtime 5000x or so), so that
	// no flush or compaction runs beside the requests measured.
	cfg.MemTableSize = 128 << 20
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
	const keys = 10000
	value := strings.Repeat("ab", 100)
	putBody := func(i int) string {
		return `{"Item":{"pk":{"S":"key-` + strconv.Itoa(i%keys) + `"},"v":{"S":"` + value + `"}},"TableName":"bench"}`
	}
	getBody := func(i int) string {
		return `{"Key":{"pk":{"S":"key-` + strconv.Itoa(i%keys) + `"}},"TableName":"bench"}`
	}
	var ctx fasthttp.RequestCtx
	serveOne := func(b *testing.B, req *fasthttp.Request) {
		ctx.Init(req, nil, nil)
		s.serveFast(&ctx, nil)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
	newReq := func(target string) *fasthttp.Request {
		req := new(fasthttp.Request)
		req.Header.SetMethod("POST")
		req.SetRequestURI("/")
		req.Header.SetContentType(amzJSON)
		req.Header.Set("X-Amz-Target", targetPrefix+target)
		return req
	}
	put := newReq("PutItem")
	for i := range 2 * keys {
		put.SetBodyString(putBody(i))
		serveOne(b, put)
	}
	get := newReq("GetItem")
	// The bodies are made before the timer runs: their cost is the client's.
	puts, gets := make([]string, keys), make([]string, keys)
	for i := range keys {
		puts[i], gets[i] = putBody(i*7919), getBody(i*7919)
	}
	b.ReportAllocs()
	b.Run("PutItem", func(b *testing.B) {
		i, cpu0 := 0, processCPU()
		for b.Loop() {
			put.SetBodyString(puts[i%keys])
			serveOne(b, put)
			i++
		}
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	})
	b.Run("GetItem", func(b *testing.B) {
		i, cpu0 := 0, processCPU()
		for b.Loop() {
			get.SetBodyString(gets[i%keys])
			serveOne(b, get)
			i++
		}
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	})
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

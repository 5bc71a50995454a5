package api

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// DefaultIdleTimeout is how long an idle keep-alive connection stays open.
const DefaultIdleTimeout = 2 * time.Minute

// HTTPServer returns the HTTP server a region serves its endpoint with.
//
// It is fasthttp rather than net/http because the API's cost per request is
// dominated by the HTTP layer on small items: on a 2-core machine, net/http
// spends about 95 µs of CPU on a request that does nothing, fasthttp about
// 60 µs (fewer system calls and no per-request goroutine work), and the
// benchmark client shares the same two cores. ServeHTTP remains the
// reference front end; both call the same handle.
func (s *Server) HTTPServer() *fasthttp.Server {
	get := fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(s.serveGet))
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) { s.serveFast(ctx, get) },
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			// Errors before the handler runs: a malformed request line or
			// headers, or a body over the size limit; or a connection that
			// sent no request within the idle timeout, which is closed
			// after this answer.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				ctx.Error("Request timeout", fasthttp.StatusRequestTimeout)
				return
			}
			out := bufPool.Get().(*bytes.Buffer)
			out.Reset()
			defer bufPool.Put(out)
			e := Serialization("malformed HTTP request: %v", err)
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				e = RequestTooLarge()
			}
			status := s.encodeError(out, e)
			ctx.SetStatusCode(status)
			ctx.SetContentType("application/x-amz-json-1.0")
			ctx.Response.Header.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(out.Bytes())), 10))
			ctx.SetBody(out.Bytes())
		},
		Name:                  "",
		NoDefaultServerHeader: true,
		MaxRequestBodySize:    int(s.cfg.MaxBodyBytes),
		IdleTimeout:           DefaultIdleTimeout,
		ReadTimeout:           DefaultIdleTimeout,
		CloseOnShutdown:       true,
		Logger:                fastLogger{s.log},
		// The region's callers are SDKs that send small JSON bodies; the
		// default 4 KB read buffer would split many requests over two reads.
		ReadBufferSize: 16 << 10,
		// The handler reads the body itself (serveFast), so that a body
		// over the limit gets DynamoDB's 413 rather than a reset.
		StreamRequestBody: true,
	}
}

// fastLogger sends fasthttp's messages (connection errors) to hclog.
type fastLogger struct{ l hclog.Logger }

func (f fastLogger) Printf(format string, args ...any) {
	f.l.Debug("http: " + fmt.Sprintf(format, args...))
}

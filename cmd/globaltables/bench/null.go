package bench

import (
	"bytes"
	"hash/crc32"
	"net"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

// NullEndpoint serves canned DynamoDB responses on a loopback port: no
// parsing, no storage. Measured like any endpoint, it shows what the client
// and the HTTP layer alone cost on this machine, the ceiling any
// implementation measured with the same client can reach.
type NullEndpoint struct {
	ln  net.Listener
	srv *fasthttp.Server
}

// StartNullEndpoint starts a null endpoint listening on addr; Close stops
// it.
func StartNullEndpoint(addr string) (*NullEndpoint, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	item := []byte(`{"Item":{"pk":{"S":"key-1"},"v":{"S":"` + strings.Repeat("a", 200) + `"}}}`)
	table := []byte(`{"Table":{"TableName":"bench","TableStatus":"ACTIVE"},"TableDescription":{"TableName":"bench","TableStatus":"ACTIVE"}}`)
	empty := []byte(`{}`)
	n := &NullEndpoint{ln: ln, srv: &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		target := ctx.Request.Header.Peek("X-Amz-Target")
		body := empty
		switch {
		case bytes.HasSuffix(target, []byte(".GetItem")):
			body = item
		case bytes.HasSuffix(target, []byte("Table")):
			body = table
		}
		ctx.SetContentType("application/x-amz-json-1.0")
		ctx.Response.Header.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		ctx.SetBody(body)
	}}}
	go n.srv.Serve(ln)
	return n, nil
}

// URL returns the endpoint URL.
func (n *NullEndpoint) URL() string { return "http://" + n.ln.Addr().String() }

// Close stops the endpoint.
func (n *NullEndpoint) Close() error { return n.srv.Shutdown() }

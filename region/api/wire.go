package api

import (
	"bytes"
	"hash/crc32"
	"io"
	"strconv"

	"github.com/valyala/fasthttp"
)

// DynamoDB's HTTP behaviour around the JSON protocol, as recorded against
// the service (dynalite's notes) and documented: which methods and content
// types it answers, its CORS headers, and its answer to an oversized body.

// The content types of DynamoDB's JSON protocol. A response has the type
// of its request: SDKs send amzJSON; plain JSON is accepted too.
const (
	amzJSON   = "application/x-amz-json-1.0"
	plainJSON = "application/json"
)

// unknownOperationPage is DynamoDB's answer to a method other than POST,
// GET and OPTIONS, or a POST body of another content type: a bare 404 with
// this body, whose CRC32 DynamoDB sends as well.
const unknownOperationPage = "<UnknownOperationException/>\n"

// unknownOperationPageCRC is the x-amz-crc32 of unknownOperationPage.
const unknownOperationPageCRC = "3552371480"

// corsExposedHeaders are the response headers DynamoDB lets browser
// scripts read.
const corsExposedHeaders = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"

// corsMaxAge is how long, in seconds, browsers may cache DynamoDB's
// preflight answers.
const corsMaxAge = "172800"

// maxDrainBytes bounds what the server reads and drops of a body over the
// size limit. Reading the rest of the body before answering lets the client
// finish sending and read the 413; without it, closing the connection with
// unread data makes the kernel reset it under the client. Past this bound
// the connection is closed anyway.
const maxDrainBytes = 64 << 20

// serveFast handles one request of the fasthttp front end. fasthttp streams
// the body (Server.StreamRequestBody), so a body over the limit, declared or
// chunked, is read here and answered with 413, not refused by fasthttp
// before the handler runs.
func (s *Server) serveFast(ctx *fasthttp.RequestCtx, get fasthttp.RequestHandler) {
	h := &ctx.Response.Header
	h.Set("x-amzn-RequestId", s.newRequestID())
	if len(ctx.Request.Header.Peek("Origin")) > 0 {
		h.Set("Access-Control-Allow-Origin", "*")
		if ctx.IsOptions() {
			preflight(ctx)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
	}
	in := bufPool.Get().(*bytes.Buffer)
	in.Reset()
	defer bufPool.Put(in)
	out := bufPool.Get().(*bytes.Buffer)
	out.Reset()
	defer bufPool.Put(out)

	respType := amzJSON
	tooLarge, err := s.readBody(ctx, in)
	if !ctx.IsPost() && err == nil && !tooLarge {
		// GET / is the health check; the region mounts its own endpoints
		// beside the API (some take a body: they read it from the
		// request, which must hold it whole); anything else is the bare
		// 404.
		ctx.Request.SetBody(in.Bytes())
		get(ctx)
		return
	}
	switch {
	case err != nil:
		writeJSON(ctx, s.encodeError(out, Serialization("could not read request body: %v", err)), respType, out.Bytes())
		ctx.SetConnectionClose()
		return
	case tooLarge:
		writeJSON(ctx, s.encodeError(out, RequestTooLarge()), respType, out.Bytes())
		ctx.SetConnectionClose()
		return
	}
	switch mediaType(ctx.Request.Header.ContentType()) {
	case amzJSON:
	case plainJSON:
		respType = plainJSON
	default:
		if in.Len() > 0 {
			writeUnknownOperationPage(ctx)
			return
		}
	}
	var status int
	var extra [][2]string
	if s.cfg.Auth != nil {
		// authFast reads the body through the request, whose stream this
		// handler has consumed.
		ctx.Request.SetBodyRaw(in.Bytes())
	}
	if e := s.authFast(ctx); e != nil {
		status = s.encodeError(out, e)
	} else {
		status, extra = s.handle(withExtensions(ctx, string(ctx.Request.Header.Peek(ExtensionsHeader))), string(ctx.Request.Header.Peek("X-Amz-Target")), in.Bytes(), out)
	}
	for _, kv := range extra {
		h.Set(kv[0], kv[1])
	}
	writeJSON(ctx, status, respType, out.Bytes())
}

// readBody reads the request body into buf, up to the configured limit.
// Over the limit it reads and drops the rest (up to maxDrainBytes) and
// reports tooLarge.
func (s *Server) readBody(ctx *fasthttp.RequestCtx, buf *bytes.Buffer) (tooLarge bool, err error) {
	r := ctx.RequestBodyStream()
	if r == nil {
		buf.Write(ctx.PostBody())
		return int64(buf.Len()) > s.cfg.MaxBodyBytes, nil
	}
	n, err := buf.ReadFrom(io.LimitReader(r, s.cfg.MaxBodyBytes+1))
	if err != nil {
		return false, err
	}
	if n <= s.cfg.MaxBodyBytes {
		return false, nil
	}
	io.CopyN(io.Discard, r, maxDrainBytes) // best effort; the connection closes after
	return true, nil
}

// mediaType returns a Content-Type header's media type, without parameters.
func mediaType(ct []byte) string {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return string(bytes.TrimSpace(ct))
}

// writeJSON sends a JSON response with DynamoDB's headers.
func writeJSON(ctx *fasthttp.RequestCtx, status int, contentType string, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType(contentType)
	ctx.Response.Header.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	ctx.SetBody(body)
}

// writeUnknownOperationPage sends DynamoDB's bare 404.
func writeUnknownOperationPage(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusNotFound)
	ctx.Response.Header.SetNoDefaultContentType(true)
	ctx.Response.Header.Set("x-amz-crc32", unknownOperationPageCRC)
	ctx.SetBodyString(unknownOperationPage)
}

// preflight answers a CORS preflight request as DynamoDB does: it allows
// the method and headers the browser asks for, for two days.
func preflight(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	if v := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(v) > 0 {
		h.SetBytesV("Access-Control-Allow-Headers", v)
	}
	if v := ctx.Request.Header.Peek("Access-Control-Request-Method"); len(v) > 0 {
		h.SetBytesV("Access-Control-Allow-Methods", v)
	}
	h.Set("Access-Control-Max-Age", corsMaxAge)
	h.SetNoDefaultContentType(true)
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// serializationBody is the body of a SerializationException. The service
// framework that reports it spells the member "Message", unlike the
// "message" of every other error, and leaves it out when it has nothing to
// say (a body that is not JSON at all).
type serializationBody struct {
	Type    string `json:"__type"`
	Message string `json:"Message,omitempty"`
}

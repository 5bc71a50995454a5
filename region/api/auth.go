package api

import (
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/globaltables/globaltables/region/api/sigv4"
)

// Authenticator checks a request's signature; *sigv4.Verifier implements
// it. The API only needs to know whether a request may go on, and why not.
type Authenticator interface {
	Verify(r sigv4.Request) (accessKeyID string, err *sigv4.Error)
}

// authError is DynamoDB's answer to a refused signature: the service
// framework's namespace and HTTP 400, whatever the reason.
func authError(e *sigv4.Error) *Error {
	return newError(nsService+e.Code, http.StatusBadRequest, "%s", e.Message)
}

// authFast checks the signature of a request received by the fasthttp
// front end; nil when it may go on, or when the server checks none.
func (s *Server) authFast(ctx *fasthttp.RequestCtx) *Error {
	if s.cfg.Auth == nil {
		return nil
	}
	_, e := s.cfg.Auth.Verify(sigv4.Request{
		Method: string(ctx.Method()),
		URI:    string(ctx.RequestURI()),
		Host:   string(ctx.Host()),
		Header: func(name string) []string {
			var out []string
			for _, v := range ctx.Request.Header.PeekAll(name) {
				out = append(out, string(v))
			}
			return out
		},
		Body: ctx.PostBody(),
	})
	if e != nil {
		return authError(e)
	}
	return nil
}

// authHTTP is authFast for the net/http front end.
func (s *Server) authHTTP(r *http.Request, body []byte) *Error {
	if s.cfg.Auth == nil {
		return nil
	}
	_, e := s.cfg.Auth.Verify(sigv4.Request{
		Method: r.Method,
		URI:    r.RequestURI,
		Host:   r.Host,
		Header: func(name string) []string { return r.Header.Values(name) },
		Body:   body,
	})
	if e != nil {
		return authError(e)
	}
	return nil
}

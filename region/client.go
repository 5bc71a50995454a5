package region

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/globaltables/globaltables/region/api/sigv4"
)

// httpClient is the client of the region's own endpoints.
var httpClient = &http.Client{Timeout: 5 * time.Second}

// EndpointError is an answer other than 200 OK from a region's endpoint:
// its HTTP status and the reason it gave (the "error" of its JSON body).
type EndpointError struct {
	Status  int
	Message string
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Client calls a region's endpoints with the credentials its control
// endpoints want. The zero Client sends none, which the read-only
// endpoints of a region without access keys accept.
type Client struct {
	// HTTP sends the requests; default a client with a 5 s timeout. Give
	// one that trusts the region's certificate for an https endpoint.
	HTTP *http.Client
	// Token is the region's control token (ReadControlToken), sent as a
	// bearer token.
	Token string
	// Credential, used when Token is empty, signs each request (SigV4)
	// for Region.
	Credential *sigv4.Credential
	Region     string
}

// GetJSON fetches one of a region's endpoints (StatusPath, ConflictsPath,
// DigestPath, LinksPath, ClockPath) and decodes its JSON body into v.
func (c *Client) GetJSON(ctx context.Context, url string, v any) error {
	return c.do(ctx, http.MethodGet, url, nil, v)
}

// PutJSON sends body as JSON to one of a region's PUT endpoints (LinksPath/
// <source>, ClockPath) and decodes the answer into v, if not nil.
func (c *Client) PutJSON(ctx context.Context, url string, body, v any) error {
	return c.do(ctx, http.MethodPut, url, body, v)
}

// GetJSON is (&Client{}).GetJSON: no credentials.
func GetJSON(ctx context.Context, url string, v any) error {
	return (&Client{}).GetJSON(ctx, url, v)
}

// PutJSON is (&Client{}).PutJSON: no credentials, which a region refuses;
// use a Client with the region's token or credentials.
func PutJSON(ctx context.Context, url string, body, v any) error {
	return (&Client{}).PutJSON(ctx, url, body, v)
}

func (c *Client) do(ctx context.Context, method, u string, body, v any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.Credential != nil:
		if err := sigv4.Sign(req, b, *c.Credential, c.Region, time.Now()); err != nil {
			return fmt.Errorf("sign request: %w", err)
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = httpClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		e := &EndpointError{Status: resp.StatusCode, Message: string(bytes.TrimSpace(b))}
		var body struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &body) == nil && body.Error != "" {
			e.Message = body.Error
		}
		return fmt.Errorf("%s %s: %w", method, redactURL(u), e)
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// redactURL hides any user information in u: an error must not carry a
// password.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Redacted()
}

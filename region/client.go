package region

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
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

// GetJSON fetches one of a region's endpoints (StatusPath, ConflictsPath,
// DigestPath, LinksPath, ClockPath) and decodes its JSON body into v.
func GetJSON(ctx context.Context, url string, v any) error {
	return doJSON(ctx, http.MethodGet, url, nil, v)
}

// PutJSON sends body as JSON to one of a region's PUT endpoints (LinksPath/
// <source>, ClockPath) and decodes the answer into v, if not nil.
func PutJSON(ctx context.Context, url string, body, v any) error {
	return doJSON(ctx, http.MethodPut, url, body, v)
}

func doJSON(ctx context.Context, method, url string, body, v any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
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
		return fmt.Errorf("%s %s: %w", method, url, e)
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

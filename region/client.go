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
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

package region_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/api/sigv4"
	"github.com/globaltables/globaltables/region/clock"
	"github.com/globaltables/globaltables/region/regiontest"
)

// call sends one request to a region's endpoint and returns the status.
func call(t *testing.T, method, url, host, contentType, auth, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// clockOffset reads a region's clock offset through its endpoint.
func clockOffset(t *testing.T, c *region.Client, url string) string {
	t.Helper()
	var sk clock.Skew
	if err := c.GetJSON(t.Context(), url+region.ClockPath, &sk); err != nil {
		t.Fatal(err)
	}
	return sk.Offset.String()
}

func TestControl_RefusesWithoutToken(t *testing.T) {
	dir := t.TempDir()
	r, _ := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: dir})
	st, err := os.Stat(filepath.Join(dir, region.ControlTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("control token mode %v, want 0600", st.Mode().Perm())
	}
	token, err := region.ReadControlToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	url := r.URL()
	clockURL := url + region.ClockPath
	const body = `{"offset": "1h"}`
	const js = "application/json"
	cases := []struct {
		name, method, host, ctype, auth, body string
		want                                  int
	}{
		{name: "no credentials", method: http.MethodPut, ctype: js, body: body, want: http.StatusUnauthorized},
		{name: "wrong token", method: http.MethodPut, ctype: js, auth: "Bearer " + strings.Repeat("0", len(token)), body: body, want: http.StatusUnauthorized},
		{name: "garbage authorization", method: http.MethodPut, ctype: js, auth: "AWS4-HMAC-SHA256 Credential=x", body: body, want: http.StatusUnauthorized},
		{name: "foreign host", method: http.MethodPut, host: "evil.example:80", ctype: js, auth: "Bearer " + token, body: body, want: http.StatusForbidden},
		{name: "foreign host GET", method: http.MethodGet, host: "rebound.example", want: http.StatusForbidden},
		{name: "not JSON", method: http.MethodPut, ctype: "text/plain", auth: "Bearer " + token, body: body, want: http.StatusUnsupportedMediaType},
		{name: "no content type", method: http.MethodPut, auth: "Bearer " + token, body: body, want: http.StatusUnsupportedMediaType},
		// The API's front end answers a method no endpoint takes with 404.
		{name: "DELETE", method: http.MethodDelete, auth: "Bearer " + token, want: http.StatusNotFound},
		{name: "GET stays open", method: http.MethodGet, want: http.StatusOK},
		{name: "GET by localhost", method: http.MethodGet, host: "localhost", want: http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := call(t, tc.method, clockURL, tc.host, tc.ctype, tc.auth, tc.body); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			if got := clockOffset(t, &region.Client{}, url); got != "0s" {
				t.Fatalf("clock offset changed to %s", got)
			}
		})
	}
	// A POST goes to the DynamoDB API, which knows no such operation.
	if got := call(t, http.MethodPost, clockURL, "", "application/json", "Bearer "+token, body); got != http.StatusBadRequest {
		t.Fatalf("POST: status %d, want 400", got)
	}
	if got := clockOffset(t, &region.Client{}, url); got != "0s" {
		t.Fatalf("clock offset changed to %s by a POST", got)
	}
	// Links, too.
	if got := call(t, http.MethodPut, url+region.LinksPath+"/"+region.ClientLink, "", js, "", `{"cut": true}`); got != http.StatusUnauthorized {
		t.Fatalf("links PUT without credentials: status %d, want 401", got)
	}
	// The CLI's client with the token works.
	c := &region.Client{Token: token}
	if err := c.PutJSON(t.Context(), clockURL, region.ClockSetting{Offset: "2m"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := clockOffset(t, c, url); got != "2m0s" {
		t.Fatalf("clock offset %s after the CLI set 2m", got)
	}
}

func TestControl_Credentials(t *testing.T) {
	cred := sigv4.Credential{AccessKeyID: "AKIDCONTROL", SecretAccessKey: "control-secret-0123"}
	dir := t.TempDir()
	r, _ := startRegion(t, region.Config{Name: "eu-west-1", Listen: "127.0.0.1:0", DataDir: dir,
		Credentials: []sigv4.Credential{cred}})
	url := r.URL()
	signed := &region.Client{Credential: &cred, Region: "eu-west-1"}
	if err := signed.PutJSON(t.Context(), url+region.ClockPath, region.ClockSetting{Offset: "2s"}, nil); err != nil {
		t.Fatalf("signed PUT: %v", err)
	}
	if got := clockOffset(t, signed, url); got != "2s" {
		t.Fatalf("offset %s, want 2s", got)
	}
	wrong := &region.Client{Credential: &sigv4.Credential{AccessKeyID: cred.AccessKeyID, SecretAccessKey: "wrong"}, Region: "eu-west-1"}
	if err := wrong.PutJSON(t.Context(), url+region.ClockPath, region.ClockSetting{Offset: "9s"}, nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("PUT signed with a wrong secret: %v, want 401", err)
	}
	// With access keys, the read-only endpoints want them too.
	if got := call(t, http.MethodGet, url+region.StatusPath, "", "", "", ""); got != http.StatusUnauthorized {
		t.Fatalf("unsigned GET status: %d, want 401", got)
	}
	token, err := region.ReadControlToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	var st region.Status
	if err := (&region.Client{Token: token}).GetJSON(t.Context(), url+region.StatusPath, &st); err != nil {
		t.Fatalf("GET status with the token: %v", err)
	}
	if got := clockOffset(t, signed, url); got != "2s" {
		t.Fatalf("offset %s after refused calls, want 2s", got)
	}
}

func TestRegion_TLSEndpoint(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := regiontest.SelfSignedCert(t, t.TempDir())
	r, _ := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: dir,
		TLSCertFile: certFile, TLSKeyFile: keyFile})
	if !strings.HasPrefix(r.URL(), "https://") {
		t.Fatalf("URL %s, want https", r.URL())
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	token, err := region.ReadControlToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &region.Client{HTTP: hc, Token: token}
	var st region.Status
	if err := c.GetJSON(t.Context(), r.URL()+region.StatusPath, &st); err != nil {
		t.Fatalf("status over TLS: %v", err)
	}
	if st.Endpoint != r.URL() {
		t.Fatalf("status shows endpoint %s, want %s", st.Endpoint, r.URL())
	}
	resp, err := hc.Post(r.URL()+"/", "application/x-amz-json-1.0", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

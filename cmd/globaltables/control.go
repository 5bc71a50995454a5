package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

// The CLI's calls to a region's endpoints (status, links, clock) go
// through regionGet and regionPut, which find the region's credentials by
// themselves: its control token, read from its data folder when the CLI
// runs on the region's machine, or else the topology's access keys, which
// sign the request (SigV4) from anywhere. Over https, the topology's
// api_tls_ca is trusted besides the system's roots.

// authMode says how a region with n access keys checks its callers.
func authMode(n int) string {
	if n == 0 {
		return "off: any request is accepted (add credentials blocks to the topology to require SigV4)"
	}
	return fmt.Sprintf("SigV4 required (%d access keys)", n)
}

// cliHTTP returns the HTTP client of the topology's endpoints.
func cliHTTP(t *topology.Topology, timeout time.Duration) (*http.Client, error) {
	if t.APITLSCA == "" {
		return &http.Client{Timeout: timeout}, nil
	}
	pem, err := os.ReadFile(t.APITLSCA)
	if err != nil {
		return nil, fmt.Errorf("api_tls_ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("api_tls_ca %s: no PEM certificate in it", t.APITLSCA)
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true, // one client per call: leave no idle connection behind
	}}, nil
}

// regionClient returns the client of region r's endpoints, with the
// credentials r's control endpoints want.
func regionClient(t *topology.Topology, r topology.Region) (*region.Client, error) {
	hc, err := cliHTTP(t, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &region.Client{HTTP: hc, Region: r.Name}
	if tok, err := region.ReadControlToken(r.DataDir); err == nil {
		c.Token = tok
	}
	if creds := t.CredentialsFor(r.Name); len(creds) > 0 {
		c.Credential = &creds[0]
	}
	return c, nil
}

// regionGet fetches path (StatusPath, ...) from region r into v.
func regionGet(ctx context.Context, t *topology.Topology, r topology.Region, path string, v any) error {
	c, err := regionClient(t, r)
	if err != nil {
		return err
	}
	return c.GetJSON(ctx, r.Endpoint()+path, v)
}

// regionPut sends body to path (ClockPath, ...) of region r.
func regionPut(ctx context.Context, t *topology.Topology, r topology.Region, path string, body, v any) error {
	c, err := regionClient(t, r)
	if err != nil {
		return err
	}
	return c.PutJSON(ctx, r.Endpoint()+path, body, v)
}

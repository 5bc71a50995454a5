package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/regiontest"
)

// TestCLI_ProtectedTopology runs a topology whose regions want SigV4, one
// of them over TLS with a self-signed certificate, and checks that `up`
// says so, that the CLI's commands work against it by themselves (with the
// control token on this machine, and with the access keys alone, as from
// another machine), that unsigned callers are refused, and that no secret
// reaches any output.
func TestCLI_ProtectedTopology(t *testing.T) {
	dir := t.TempDir()
	const keyID, secret = "AKIDCLITEST", "cli-test-secret-5e4d3c2b1a"
	certFile, keyFile := regiontest.SelfSignedCert(t, dir)
	ports := freePorts(t, 4)
	topo := func(dataDir string) string {
		return fmt.Sprintf(`data_dir = %q
api_tls_ca = %q
credentials {
  access_key_id     = %q
  secret_access_key = %q
}
region "us-east-1" {
  listen       = "127.0.0.1:%d"
  nats_listen  = "127.0.0.1:%d"
  api_tls_cert = %q
  api_tls_key  = %q
}
region "eu-west-1" {
  listen      = "127.0.0.1:%d"
  nats_listen = "127.0.0.1:%d"
}
`, dataDir, certFile, keyID, secret, ports[0], ports[1], certFile, keyFile, ports[2], ports[3])
	}
	path := filepath.Join(dir, "topology.hcl")
	if err := os.WriteFile(path, []byte(topo(filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	// The same topology with the data elsewhere: the CLI finds no control
	// token, as on another machine, and signs with the access key.
	remote := filepath.Join(dir, "remote.hcl")
	if err := os.WriteFile(remote, []byte(topo(filepath.Join(dir, "elsewhere"))), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, output := startUp(t, path, 2)
	east, west := fmt.Sprintf("https://127.0.0.1:%d", ports[0]), fmt.Sprintf("http://127.0.0.1:%d", ports[2])
	for _, want := range []string{"API authentication: SigV4 required (1 access keys)", east, west, "AWS_CA_BUNDLE=" + certFile} {
		if !strings.Contains(output(), want) {
			t.Fatalf("up does not say %q:\n%s", want, output())
		}
	}

	var transcript strings.Builder
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binary, args...).CombinedOutput()
		transcript.Write(out)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, cfg := range []string{path, remote} {
		if out := run("status", "--config", cfg); strings.Contains(out, "unreachable") || !strings.Contains(out, east) {
			t.Fatalf("status with %s:\n%s", cfg, out)
		}
		run("clock", "set", "us-east-1", "--config", cfg, "--offset", "1s")
		if out := run("clock", "show", "--config", cfg); strings.Contains(out, "unreachable") || !strings.Contains(out, "1s") {
			t.Fatalf("clock show with %s:\n%s", cfg, out)
		}
		run("link", "set", "us-east-1", "eu-west-1", "--config", cfg, "--latency", "10ms")
	}
	if out := run("link", "show", "--config", remote); !strings.Contains(out, "latency 10ms") {
		t.Fatalf("link show:\n%s", out)
	}

	// Unsigned calls are refused, signed ones served.
	ctx := context.Background()
	anon := regiontest.NewClient(west)
	anon = dynamodb.New(anon.Options(), func(o *dynamodb.Options) { o.Credentials = aws.AnonymousCredentials{} })
	if _, err := anon.ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil || !strings.Contains(err.Error(), "MissingAuthenticationTokenException") {
		t.Fatalf("unsigned ListTables: %v", err)
	}
	signed := dynamodb.New(anon.Options(), func(o *dynamodb.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(keyID, secret, "")
	})
	if _, err := signed.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("signed ListTables: %v", err)
	}
	if err := region.PutJSON(ctx, west+region.ClockPath, region.ClockSetting{Offset: "5s"}, nil); err == nil {
		t.Fatal("a clock PUT without credentials was accepted")
	}

	token, err := region.ReadControlToken(filepath.Join(dir, "data", "eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	all := output() + transcript.String()
	for name, s := range map[string]string{"secret access key": secret, "control token": token} {
		if strings.Contains(all, s) {
			t.Fatalf("the %s appears in the output:\n%s", name, all)
		}
	}
}

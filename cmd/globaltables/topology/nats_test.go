package topology

import (
	"strings"
	"testing"

	"github.com/globaltables/globaltables/replicator/natsauth"
)

// Every URL form nats.go takes is accepted; a malformed one is caught by
// validation (so --check-config says so), without showing its password.
func TestParse_NATSSettings(t *testing.T) {
	ok := `
replication { stream_replicas = 3 }
region "a" {
  listen   = "127.0.0.1:1"
  nats_url = "nats://u:secret@h1:4222,nats://u:secret@h2:4222, h3"
}
region "b" {
  listen   = "127.0.0.1:2"
  nats_url = "tls://tok3n@h:4443"
  stream_replicas = 1
  nats_tls {
    ca_file     = "/etc/gt/ca.pem"
    server_name = "nats.b"
  }
}
region "c" {
  listen = "127.0.0.1:3"
  nats_tls {
    cert_file = "/etc/gt/c.pem"
    key_file  = "/etc/gt/c-key.pem"
  }
}`
	top, err := Parse([]byte(ok), "ok.hcl")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := top.Region("a")
	b, _ := top.Region("b")
	c, _ := top.Region("c")
	if top.StreamReplicas(a) != 3 || top.StreamReplicas(b) != 1 {
		t.Fatalf("stream replicas %d, %d", top.StreamReplicas(a), top.StreamReplicas(b))
	}
	// c reaches b over TLS with b's CA and its own certificate; a's URL
	// carries the credentials, so nothing else is sent there.
	id, err := natsauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cb := top.NATSClient(c, b, &id)
	if cb.TLS.CAFile != "/etc/gt/ca.pem" || cb.TLS.ServerName != "nats.b" || cb.TLS.CertFile != "/etc/gt/c.pem" || cb.Identity != nil {
		t.Fatalf("c -> b: %+v", cb)
	}
	if ca := top.NATSClient(c, a, &id); ca.Identity != nil || ca.TLS.Enabled() {
		t.Fatalf("c -> a: %+v", ca)
	}
	if cc := top.NATSClient(c, c, &id); cc.Identity == nil || cc.TLS.Enabled() {
		t.Fatalf("c -> c (embedded): %+v", cc)
	}

	for name, tc := range map[string]struct{ src, want string }{
		"bad scheme":   {`nats_url = "http://u:secret@h:1"`, "scheme"},
		"no host":      {`nats_url = "nats://u:secret@:4222"`, "no host"},
		"bad seed":     {`nats_url = "nats://h:1,nats://u:secret@%zz"`, "not a URL"},
		"bad nkey":     {`nats_nkey = "SUAB"`, "nats_nkey"},
		"replicas":     {`stream_replicas = 7`, "stream_replicas"},
		"cert alone":   {"nats_url = \"tls://h:1\"\nnats_tls {\n cert_file = \"x\"\n}", "go together"},
		"CA, embedded": {"nats_tls {\n ca_file = \"x\"\n}", "external NATS"},
	} {
		t.Run(name, func(t *testing.T) {
			src := "region \"a\" {\n listen = \"127.0.0.1:1\"\n " + tc.src + "\n}"
			_, err := Parse([]byte(src), "bad.hcl")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

// The identity is created once in the region's data folder, and a
// nats_nkey that does not match it is an error.
func TestTopology_Identity(t *testing.T) {
	dir := t.TempDir()
	other, err := natsauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := `data_dir = "` + dir + `"
region "a" { listen = "127.0.0.1:1" }
region "b" {
  listen    = "127.0.0.1:2"
  nats_nkey = "` + other.Public + `"
}`
	top, err := Parse([]byte(src), "t.hcl")
	if err != nil {
		t.Fatal(err)
	}
	a1, err := top.Identity("a")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := top.Identity("a")
	if err != nil || a1.Public != a2.Public {
		t.Fatalf("identity changed: %v, %v", a1, err)
	}
	if _, err := top.Identity("b"); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("mismatched nats_nkey: %v", err)
	}
	keys, dirs := top.NATSKeys("a")
	if keys["b"] == "" || dirs["b"] != "" || dirs["a"] != "" {
		t.Fatalf("keys %v, dirs %v", keys, dirs)
	}
}

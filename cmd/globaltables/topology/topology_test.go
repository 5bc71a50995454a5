package topology

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLoad_DefaultTopology(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "..", "configs", "default.hcl")
	top, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range top.Regions {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "us-east-1,eu-west-1,ap-southeast-1" {
		t.Fatalf("regions = %v", names)
	}
	r, err := top.Region("eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Listen != "127.0.0.1:8001" || r.DataDir != filepath.Join("data", "eu-west-1") {
		t.Fatalf("eu-west-1 = %+v", r)
	}
	if d, _ := top.TTL(); d != 10*time.Second {
		t.Fatalf("ttl = %v", d)
	}
	if _, err := top.Region("mars-1"); err == nil || !strings.Contains(err.Error(), "us-east-1") {
		t.Fatalf("unknown region error should list the known ones: %v", err)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"no regions", `data_dir = "d"`, "no regions"},
		{"duplicate region", `
region "a" { listen = "127.0.0.1:1" }
region "a" { listen = "127.0.0.1:2" }`, `region "a" is defined twice`},
		{"duplicate listen", `
region "a" { listen = "127.0.0.1:1" }
region "b" { listen = "127.0.0.1:1" }`, "both listen on"},
		{"bad listen", `region "a" { listen = "nope" }`, "is not host:port"},
		{"bad name", `region "a b" { listen = "127.0.0.1:1" }`, "a name is 1 to 64"},
		{"bad ttl", `ttl_interval = "soon"
region "a" { listen = "127.0.0.1:1" }`, "ttl_interval"},
		{"bad transient delay", `transient_status_delay = "-1s"
region "a" { listen = "127.0.0.1:1" }`, "transient_status_delay"},
		{"bad level", `log_level = "loud"
region "a" { listen = "127.0.0.1:1" }`, "log_level"},
		{"missing listen", `region "a" {}`, "listen"},
		{"unknown attribute", `colour = "red"
region "a" { listen = "127.0.0.1:1" }`, "colour"},
		{"syntax", `region "a" {`, "topology"},
		{"shared data folder", `
region "a" {
  listen   = "127.0.0.1:1"
  data_dir = "x"
}
region "b" {
  listen   = "127.0.0.1:2"
  data_dir = "x"
}`, "share the data folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "test.hcl")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`region "a" { listen = "127.0.0.1:1" }`)
	f.Add("data_dir = \"d\"\nregion \"x\" {\n  listen = \":0\"\n  data_dir = \"y\"\n}")
	f.Fuzz(func(t *testing.T, src string) {
		top, err := Parse([]byte(src), "fuzz.hcl")
		if err != nil {
			return
		}
		if len(top.Regions) == 0 {
			t.Fatal("accepted a topology without regions")
		}
	})
}

func TestParse_TransientStatusDelay(t *testing.T) {
	top, err := Parse([]byte(`transient_status_delay = "2s"
region "a" { listen = "127.0.0.1:1" }`), "test.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := top.TransientDelay(); err != nil || d != 2*time.Second {
		t.Fatalf("TransientDelay = %v, %v; want 2s", d, err)
	}
	top, err = Parse([]byte(`region "a" { listen = "127.0.0.1:1" }`), "test.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := top.TransientDelay(); err != nil || d != 0 {
		t.Fatalf("default TransientDelay = %v, %v; want 0", d, err)
	}
}

func TestParse_Credentials(t *testing.T) {
	top, err := Parse([]byte(`
api_tls_ca = "ca.pem"
credentials {
  access_key_id     = "AKIDSHARED"
  secret_access_key = "shared-secret"
}
region "a" {
  listen       = "127.0.0.1:1"
  api_tls_cert = "a.pem"
  api_tls_key  = "a-key.pem"
  credentials {
    access_key_id     = "AKIDA"
    secret_access_key = "a-secret"
  }
}
region "b" { listen = "127.0.0.1:2" }
`), "creds.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if got := top.CredentialsFor("a"); len(got) != 2 || got[0].AccessKeyID != "AKIDSHARED" || got[1].SecretAccessKey != "a-secret" {
		t.Fatalf("a's credentials: %v", got)
	}
	if got := top.CredentialsFor("b"); len(got) != 1 || got[0].AccessKeyID != "AKIDSHARED" {
		t.Fatalf("b's credentials: %v", got)
	}
	a, _ := top.Region("a")
	b, _ := top.Region("b")
	if a.Endpoint() != "https://127.0.0.1:1" || b.Endpoint() != "http://127.0.0.1:2" {
		t.Fatalf("endpoints %s, %s", a.Endpoint(), b.Endpoint())
	}
	js, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	for _, dump := range []string{fmt.Sprintf("%v %+v %#v", top, a, a), string(js)} {
		if strings.Contains(dump, "secret\"") || strings.Contains(dump, "shared-secret") || strings.Contains(dump, "a-secret") {
			t.Fatalf("a dump of the topology shows a secret: %s", dump)
		}
	}
}

func TestParse_CredentialErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"no secret", `
credentials { access_key_id = "A" }
region "a" { listen = "127.0.0.1:1" }`, "secret_access_key"},
		{"empty secret", `
credentials {
  access_key_id     = "A"
  secret_access_key = ""
}
region "a" { listen = "127.0.0.1:1" }`, "needs both"},
		{"two secrets", `
credentials {
  access_key_id     = "A"
  secret_access_key = "x"
}
region "a" {
  listen = "127.0.0.1:1"
  credentials {
    access_key_id     = "A"
    secret_access_key = "y"
  }
}`, "different secrets"},
		{"cert without key", `region "a" {
  listen       = "127.0.0.1:1"
  api_tls_cert = "a.pem"
}`, "api_tls_cert and api_tls_key go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "t.hcl")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), `"x"`) || strings.Contains(err.Error(), `"y"`)) {
				t.Fatalf("error shows a secret: %v", err)
			}
		})
	}
}

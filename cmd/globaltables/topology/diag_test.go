package topology

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad_ShowsEveryDiagnostic checks that a file with several mistakes
// gets all of them, each with file:line:col, its line of the file and
// what to do, instead of the first one and "and 1 other diagnostic(s)"
// (issue 9). The mistakes are of both kinds: the decoder's (unknown keys)
// and Validate's (a port out of range), which are reported together.
func TestLoad_ShowsEveryDiagnostic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.hcl")
	src := `data_dir = "d"
colour   = "red"
region "a" {
  listen     = "127.0.0.1:99999"
  nats_listn = "127.0.0.1:9000"
}
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load accepted a topology with three mistakes")
	}
	msg := err.Error()
	t.Logf("error:\n%s", msg)
	for _, want := range []string{
		"3 errors",
		path + ":2:1:", `An argument named "colour" is not expected here`, `colour   = "red"`,
		path + ":4:16, in region \"a\":", "port 99999 is out of range; use 1 to 65535",
		path + ":5:3, in region \"a\":", `Did you mean "nats_listen"?`,
		"docs/configuration.md",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q", want)
		}
	}
	if strings.Contains(msg, "other diagnostic") {
		t.Error("error still hides diagnostics")
	}
	if i, j := strings.Index(msg, `"colour"`), strings.Index(msg, "99999 is out"); i > j {
		t.Error("diagnostics are not in file order")
	}
	var te *Error
	if !errors.As(err, &te) || len(te.Diags) != 3 {
		t.Fatalf("error is not an *Error with 3 diagnostics: %#v", err)
	}
}

// TestParse_RefusesBadPorts checks that every address of a topology is
// checked for a port from 1 to 65535 (issue 9: 99999 passed
// --check-config), with its place in the file and a corrected example.
func TestParse_RefusesBadPorts(t *testing.T) {
	for _, port := range []string{"99999", "0", "-1", "http"} {
		for _, tt := range []struct{ key, src, example string }{
			{"listen", `region "a" { listen = "127.0.0.1:PORT" }`, `"127.0.0.1:8000"`},
			{"nats_listen", `region "a" {
  listen      = "127.0.0.1:8000"
  nats_listen = "127.0.0.1:PORT"
}`, `"127.0.0.1:9000"`},
			{"client_listen", `region "a" {
  listen        = "127.0.0.1:8000"
  client_listen = "127.0.0.1:PORT"
}`, `"127.0.0.1:8100"`},
			{"nats_url", `region "a" {
  listen   = "127.0.0.1:8000"
  nats_url = "nats://nats.example:PORT"
}`, `"nats.example:4222"`},
		} {
			t.Run(tt.key+"="+port, func(t *testing.T) {
				_, err := Parse([]byte(strings.ReplaceAll(tt.src, "PORT", port)), "p.hcl")
				if err == nil {
					t.Fatalf("port %s accepted", port)
				}
				msg := err.Error()
				want := "out of range"
				switch port {
				case "0":
					want = "port 0 would pick a random free port"
				case "http":
					want = `port "http" is not a number`
				}
				if tt.key == "nats_url" && (port == "-1" || port == "http") {
					want = "is not a URL" // url.Parse refuses it first
				}
				for _, w := range []string{want, "p.hcl:", tt.key} {
					if !strings.Contains(msg, w) {
						t.Errorf("error does not mention %q:\n%s", w, msg)
					}
				}
				if want != "is not a URL" && !strings.Contains(msg, tt.example) {
					t.Errorf("error gives no example such as %s:\n%s", tt.example, msg)
				}
			})
		}
	}
	for _, ok := range []string{"1", "65535"} {
		if _, err := Parse([]byte(`region "a" {
  listen      = "127.0.0.1:`+ok+`"
  nats_listen = "127.0.0.1:9000"
}`), "ok.hcl"); err != nil {
			t.Errorf("port %s refused: %v", ok, err)
		}
	}
}

// TestParse_NoRoomForDefaultNATS checks the message when listen's port
// plus 1000, the default nats_listen, is past 65535: it used to read
// `nats_listen "" is not host:port`, about a key the file does not have.
func TestParse_NoRoomForDefaultNATS(t *testing.T) {
	_, err := Parse([]byte(`region "a" { listen = "127.0.0.1:65000" }`), "n.hcl")
	if err == nil || !strings.Contains(err.Error(), "leaves no room for the default nats_listen") || !strings.Contains(err.Error(), "set nats_listen") {
		t.Fatalf("error = %v", err)
	}
}

// TestError_MasksSecrets checks that the lines of the file an error shows
// never show a secret: an error ends up in terminals, logs and bug reports.
func TestError_MasksSecrets(t *testing.T) {
	_, err := Parse([]byte(`credentials {
  access_key_id     = "AKID"
  secret_access_key = "s3cret-one"
  colour            = 1
}
region "a" {
  listen   = "127.0.0.1:8000"
  nats_url = "nats://alice:pa55word@nats.example:99999"
  credentials {
    access_key_id     = "AKID"
    secret_access_key = "s3cret-two"
  }
}
region "b" {
  listen = "127.0.0.1:8001"
  credentials {
    access_key_id     = "AKIDB"
    secret_access_key = ["s3cret-three"]
  }
}`), "s.hcl")
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	t.Logf("error:\n%s", msg)
	for _, secret := range []string{"s3cret-one", "s3cret-two", "s3cret-three", "pa55word"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows the secret %q", secret)
		}
	}
	if !strings.Contains(msg, "s.hcl:4:3") || !strings.Contains(msg, "s.hcl:8:14") || !strings.Contains(msg, "s.hcl:18:25") {
		t.Errorf("error lacks the places of the mistakes")
	}
}

// TestParse_ValidationErrorsHavePlaces checks that Validate's problems
// point at the key that is wrong, in the block that holds it.
func TestParse_ValidationErrorsHavePlaces(t *testing.T) {
	_, err := Parse([]byte(`log_level = "loud"
replication {
  stream_max_age    = "2h"
  tombstone_horizon = "1h"
}
region "a" { listen = "127.0.0.1:8000" }
region "a" { listen = "127.0.0.1:8001" }
link "a" "b" { latency = "fast" }
streams_retention = "0s"
trigger "t" {
  table   = "Music"
  url     = "http://127.0.0.1:9999/"
  regions = ["mars-1"]
}
`), "v.hcl")
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	t.Logf("error:\n%s", msg)
	for _, want := range []string{
		"v.hcl:1:13:", "log_level \"loud\"",
		"v.hcl:4:23, in replication:", "must be at least stream_max_age",
		"v.hcl:7:1, in region \"a\":", "defined twice",
		"v.hcl:8:1, in link \"a\" \"b\":", "both ends must be different regions",
		"v.hcl:8:26, in link \"a\" \"b\":", "latency",
		"v.hcl:9:21:", "streams_retention: 0s is not positive",
		"v.hcl:13:13, in trigger \"t\":", `trigger "t": no region "mars-1"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q", want)
		}
	}
}

// FuzzParse_ErrorText checks that the text of any topology's error is
// made without a panic (it slices the source by the diagnostics'
// positions) and never shows the value of a secret_access_key put
// anywhere in the file, well formed, without its "=", or in a heredoc.
func FuzzParse_ErrorText(f *testing.F) {
	f.Add("colour = 1\nregion \"a\" { listen = \"127.0.0.1:99999\" }", uint8(0), uint16(0))
	f.Add("credentials {\n  access_key_id = \"A\"\n}\nregion \"a\" {\n\tlisten = \"é:0\"\n}", uint8(1), uint16(14))
	f.Add("region \"a\" {\r\n  listen = \"x\"\r\n  nats_tls {\r\n    cert_file = \"c\"\r\n  }\r\n}", uint8(2), uint16(30))
	f.Add("region \"a\" {", uint8(1), uint16(12))
	const value = "zz-SECRET-zz"
	forms := []string{
		"\nsecret_access_key = \"" + value + "\"\n",
		"\nsecret_access_key \"" + value + "\"\n",
		"\nsecret_access_key = <<EOT\n" + value + "\nEOT\n",
	}
	f.Fuzz(func(t *testing.T, src string, form uint8, at uint16) {
		if strings.Contains(src, value) {
			return
		}
		pos := int(at) % (len(src) + 1)
		src = src[:pos] + forms[int(form)%len(forms)] + src[pos:]
		_, err := Parse([]byte(src), "fuzz.hcl")
		if err != nil && strings.Contains(err.Error(), value) {
			t.Fatalf("error shows the secret:\n%s", err)
		}
	})
}

package sigv4_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region/api/sigv4"
)

var cred = sigv4.Credential{AccessKeyID: "AKIDTEST", SecretAccessKey: "s3cr3t-value"}

// signed returns a request signed with c at time at, and its body.
func signed(t *testing.T, c sigv4.Credential, region string, at time.Time) (*http.Request, []byte) {
	t.Helper()
	body := []byte(`{"offset":"1s"}`)
	req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:8000/_globaltables/clock?x=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := sigv4.Sign(req, body, c, region, at); err != nil {
		t.Fatal(err)
	}
	return req, body
}

func request(req *http.Request, body []byte) sigv4.Request {
	return sigv4.Request{Method: req.Method, URI: req.URL.RequestURI(), Host: req.URL.Host,
		Header: func(n string) []string { return req.Header.Values(n) }, Body: body}
}

func TestVerifier_Verify(t *testing.T) {
	now := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	v, err := sigv4.New([]sigv4.Credential{cred}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		mutate    func(r *http.Request, body []byte) []byte
		code, msg string
	}{
		{name: "ok"},
		{name: "body changed", mutate: func(_ *http.Request, _ []byte) []byte { return []byte(`{"offset":"9h"}`) },
			code: sigv4.InvalidSignature, msg: "The request signature we calculated"},
		{name: "query changed", mutate: func(r *http.Request, b []byte) []byte { r.URL.RawQuery = "x=2"; return b },
			code: sigv4.InvalidSignature, msg: "The request signature we calculated"},
		{name: "unsupported algorithm", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SHA256", "SHA512", 1))
			return b
		}, code: sigv4.IncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"},
		{name: "no equal sign", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential")
			return b
		}, code: sigv4.IncompleteSignature, msg: "'Credential' not a valid key=value pair"},
		{name: "short credential", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261130, SignedHeaders=host, Signature=00")
			return b
		}, code: sigv4.IncompleteSignature, msg: "Credential must have exactly 5 slash-delimited elements"},
		{name: "host not signed", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=x-amz-date, Signature=00")
			return b
		}, code: sigv4.IncompleteSignature, msg: "'Host' or ':authority' must be a 'SignedHeader'"},
		{name: "other service", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/dynamodb/", "/s3/", 1))
			return b
		}, code: sigv4.InvalidSignature, msg: "Credential should be scoped to correct service: 'dynamodb'."},
		{name: "no date", mutate: func(r *http.Request, b []byte) []byte { r.Header.Del("X-Amz-Date"); return b },
			code: sigv4.IncompleteSignature, msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{name: "bad date", mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Date", "yesterday"); return b },
			code: sigv4.IncompleteSignature, msg: "Date must be in ISO-8601 'basic format'. Got 'yesterday'."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, body := signed(t, cred, "us-east-1", now.Add(-time.Minute))
			if tc.mutate != nil {
				body = tc.mutate(req, body)
			}
			id, e := v.Verify(request(req, body))
			if tc.code == "" {
				if e != nil || id != cred.AccessKeyID {
					t.Fatalf("got %q, %v; want %s accepted", id, e, cred.AccessKeyID)
				}
				return
			}
			if e == nil || e.Code != tc.code || !strings.HasPrefix(e.Message, tc.msg) {
				t.Fatalf("got %v, want %s: %s...", e, tc.code, tc.msg)
			}
			if strings.Contains(e.Message, cred.SecretAccessKey) {
				t.Fatalf("error shows the secret: %v", e)
			}
		})
	}
}

func TestVerifier_ExpiredMessage(t *testing.T) {
	now := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	v, err := sigv4.New([]sigv4.Credential{cred}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	req, body := signed(t, cred, "eu-west-1", now.Add(-20*time.Minute))
	_, e := v.Verify(request(req, body))
	want := "Signature expired: 20261130T034000Z is now earlier than 20261130T034500Z (20261130T040000Z - 15 min.)"
	if e == nil || e.Code != sigv4.InvalidSignature || e.Message != want {
		t.Fatalf("got %v, want InvalidSignatureException: %s", e, want)
	}
}

func TestCredential_StringRedactsSecret(t *testing.T) {
	for _, s := range []string{cred.String(), cred.GoString()} {
		if strings.Contains(s, cred.SecretAccessKey) || !strings.Contains(s, cred.AccessKeyID) {
			t.Fatalf("%q", s)
		}
	}
}

func TestNew_RejectsConflictingSecrets(t *testing.T) {
	if _, err := sigv4.New([]sigv4.Credential{cred, {AccessKeyID: cred.AccessKeyID, SecretAccessKey: "other"}}, nil); err == nil {
		t.Fatal("two secrets for one key accepted")
	}
	if _, err := sigv4.New([]sigv4.Credential{{AccessKeyID: "A"}}, nil); err == nil {
		t.Fatal("empty secret accepted")
	}
}

package api_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/api/sigv4"
	"github.com/globaltables/globaltables/region/regiontest"
)

const (
	testKeyID  = "AKIDGLOBALTABLES"
	testSecret = "test-secret-9f8e7d6c5b4a"
)

// startAuthRegion serves a region's API that accepts only requests signed
// with testKeyID, over TLS if tlsCfg is not nil, and returns its URL.
func startAuthRegion(t *testing.T, tlsCfg *tls.Config) string {
	t.Helper()
	v, err := sigv4.New([]sigv4.Credential{{AccessKeyID: testKeyID, SecretAccessKey: testSecret}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return startRegionWith(t, api.Config{Auth: v}, tlsCfg).URL
}

// authClient is an SDK client of url with the given credentials and
// options, retries off.
func authClient(url string, creds aws.CredentialsProvider, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      creds,
		RetryMaxAttempts: 1,
	}, opts...)
}

// skewedSigner signs with a clock that runs off by offset.
type skewedSigner struct {
	s      *v4.Signer
	offset time.Duration
}

func (k skewedSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, hash, svc, region string, at time.Time, o ...func(*v4.SignerOptions)) error {
	return k.s.SignHTTP(ctx, c, r, hash, svc, region, at.Add(k.offset), o...)
}

// headerRewriter sets a header on every request after the SDK signed it.
type headerRewriter struct{ name, value string }

func (h headerRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

func TestAuth_SigV4Errors(t *testing.T) {
	url := startAuthRegion(t, nil)
	right := credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
	const mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	cases := []struct {
		name      string
		client    *dynamodb.Client
		code, msg string // code "" means the call succeeds
	}{
		{name: "right key", client: authClient(url, right)},
		{name: "wrong secret", client: authClient(url, credentials.NewStaticCredentialsProvider(testKeyID, "not-the-secret", "")),
			code: "InvalidSignatureException", msg: mismatch},
		{name: "unknown key", client: authClient(url, credentials.NewStaticCredentialsProvider("AKIDUNKNOWN", testSecret, "")),
			code: "UnrecognizedClientException", msg: "The security token included in the request is invalid."},
		{name: "stale date", client: authClient(url, right, func(o *dynamodb.Options) {
			o.HTTPSignerV4 = skewedSigner{s: v4.NewSigner(), offset: -20 * time.Minute}
		}), code: "InvalidSignatureException", msg: "Signature expired: "},
		{name: "future date", client: authClient(url, right, func(o *dynamodb.Options) {
			o.HTTPSignerV4 = skewedSigner{s: v4.NewSigner(), offset: 20 * time.Minute}
		}), code: "InvalidSignatureException", msg: "Signature not yet current: "},
		{name: "no header", client: authClient(url, aws.AnonymousCredentials{}),
			code: "MissingAuthenticationTokenException", msg: "Request is missing Authentication Token"},
		{name: "malformed header", client: authClient(url, right, func(o *dynamodb.Options) {
			o.HTTPClient = &http.Client{Transport: headerRewriter{"Authorization", "garbage"}}
		}), code: "IncompleteSignatureException", msg: "Authorization header requires 'Credential' parameter."},
		{name: "tampered body", client: authClient(url, right, func(o *dynamodb.Options) {
			// A signed header changed after signing.
			o.HTTPClient = &http.Client{Transport: headerRewriter{"X-Amz-Target", "DynamoDB_20120810.DeleteTable"}}
		}), code: "InvalidSignatureException", msg: mismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.ListTables(t.Context(), &dynamodb.ListTablesInput{})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("ListTables: %v", err)
				}
				return
			}
			// The DynamoDB client has no exception types of its own for
			// these common errors: it raises a GenericAPIError with the code.
			var ae *smithy.GenericAPIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if ae.Code != tc.code || !strings.HasPrefix(ae.Message, tc.msg) {
				t.Fatalf("got %s %q, want %s %q", ae.Code, ae.Message, tc.code, tc.msg)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
				t.Fatalf("HTTP status: got %v, want 400", err)
			}
		})
	}
}

func TestAuth_WriteAndReadSigned(t *testing.T) {
	url := startAuthRegion(t, nil)
	c := authClient(url, credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""))
	createTable(t, c, "signed", "pk", types.ScalarAttributeTypeS, "", "")
	put(t, c, "signed", item{"pk": S("a"), "v": N("1")})
	if got := get(t, c, "signed", item{"pk": S("a")}); num(got["v"]) != "1" {
		t.Fatalf("signed write read back as %v", got)
	}
}

func TestAuth_TLS(t *testing.T) {
	certFile, keyFile := regiontest.SelfSignedCert(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	url := startAuthRegion(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("url %s", url)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	trusting := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	})
	right := credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
	c := authClient(url, right, func(o *dynamodb.Options) { o.HTTPClient = trusting })
	if _, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables over TLS: %v", err)
	}
	// A client that does not trust the certificate is refused by its own
	// TLS check, and a plain-HTTP client gets no answer it can read.
	if _, err := authClient(url, right).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	plain := authClient("http://"+strings.TrimPrefix(url, "https://"), right)
	if _, err := plain.ListTables(t.Context(), &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("plain HTTP answered on a TLS endpoint")
	}
}

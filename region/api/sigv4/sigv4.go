package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Service is the signing name every request must be scoped to, DynamoDB's.
const Service = "dynamodb"

// MaxSkew is how far a request's X-Amz-Date may be from the verifier's
// clock, either way, as in DynamoDB.
const MaxSkew = 15 * time.Minute

// The error codes of a refused request, DynamoDB's.
const (
	// MissingAuthenticationToken: the request has no Authorization header.
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	// IncompleteSignature: the Authorization header is malformed.
	IncompleteSignature = "IncompleteSignatureException"
	// UnrecognizedClient: the access key id is not one of the known keys.
	UnrecognizedClient = "UnrecognizedClientException"
	// InvalidSignature: the signature is wrong, or the request is too old
	// or too far in the future, or scoped to another service.
	InvalidSignature = "InvalidSignatureException"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	amzDate    = "20060102T150405Z"
)

// Error is why a request was refused: DynamoDB's error code and message.
// DynamoDB answers each of them with HTTP 400.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Credential is an access key pair.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
}

// String shows the access key id only, so that printing or logging a
// Credential never shows its secret.
func (c Credential) String() string { return c.AccessKeyID + ":<redacted>" }

// GoString is String, for %#v.
func (c Credential) GoString() string { return c.String() }

// Validate checks that both halves are set.
func (c Credential) Validate() error {
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return errors.New("a credential needs both access_key_id and secret_access_key")
	}
	if strings.ContainsAny(c.AccessKeyID, "/, =") {
		return fmt.Errorf("access key id %q must not contain '/', ',', '=' or spaces", c.AccessKeyID)
	}
	return nil
}

// Request is what the verifier needs of an HTTP request, whichever HTTP
// server received it.
type Request struct {
	// Method is the HTTP method.
	Method string
	// URI is the request target as received: the path and query.
	URI string
	// Host is the Host header as received.
	Host string
	// Header returns every value of a header, by case-insensitive name.
	Header func(name string) []string
	// Body is the whole request body.
	Body []byte
}

// Verifier checks requests against a fixed set of credentials. It is safe
// for concurrent use.
type Verifier struct {
	secrets map[string]string // guards nothing: read-only after New
	signer  *v4.Signer
	now     func() time.Time
}

// New returns a verifier accepting the given credentials. now is its clock
// (default time.Now). Two credentials with the same access key id must
// have the same secret.
func New(creds []Credential, now func() time.Time) (*Verifier, error) {
	if len(creds) == 0 {
		return nil, errors.New("sigv4: no credentials")
	}
	if now == nil {
		now = time.Now
	}
	v := &Verifier{secrets: map[string]string{}, signer: v4.NewSigner(), now: now}
	for _, c := range creds {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("sigv4: %w", err)
		}
		if s, dup := v.secrets[c.AccessKeyID]; dup && s != c.SecretAccessKey {
			return nil, fmt.Errorf("sigv4: access key id %q is given twice with different secrets", c.AccessKeyID)
		}
		v.secrets[c.AccessKeyID] = c.SecretAccessKey
	}
	return v, nil
}

// Keys returns how many distinct access keys the verifier accepts.
func (v *Verifier) Keys() int { return len(v.secrets) }

// authHeader is a parsed Authorization header.
type authHeader struct {
	keyID, date, region, service, term string
	signedHeaders                      []string
	signedHeadersRaw                   string
	signature                          string
}

// Verify checks r's signature and returns the access key id that signed
// it, or why r is refused.
func (v *Verifier) Verify(r Request) (string, *Error) {
	auth := strings.Join(r.Header("Authorization"), ",")
	if strings.TrimSpace(auth) == "" {
		return "", fail(MissingAuthenticationToken, "Request is missing Authentication Token")
	}
	dateVals := r.Header("X-Amz-Date")
	h, e := parseAuth(auth, len(dateVals) > 0 || len(r.Header("Date")) > 0)
	if e != nil {
		return "", e
	}
	if len(dateVals) == 0 {
		// Signed with the Date header only: the SDK signer always signs
		// X-Amz-Date, so such a request cannot be checked here.
		return "", fail(InvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	at, err := time.Parse(amzDate, dateVals[0])
	if err != nil {
		return "", fail(IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", dateVals[0])
	}
	secret, ok := v.secrets[h.keyID]
	if !ok {
		return "", fail(UnrecognizedClient, "The security token included in the request is invalid.")
	}
	switch {
	case h.term != terminator:
		return "", fail(InvalidSignature, "Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, h.term)
	case h.service != Service:
		return "", fail(InvalidSignature, "Credential should be scoped to correct service: '%s'. ", Service)
	case h.region == "":
		return "", fail(InvalidSignature, "Credential should be scoped to a valid region. ")
	case h.date != at.Format("20060102"):
		return "", fail(InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			h.date, at.Format("20060102"), dateVals[0])
	}
	now := v.now().UTC()
	if at.Before(now.Add(-MaxSkew)) {
		return "", fail(InvalidSignature, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			at.Format(amzDate), now.Add(-MaxSkew).Format(amzDate), now.Format(amzDate))
	}
	if at.After(now.Add(MaxSkew)) {
		return "", fail(InvalidSignature, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			at.Format(amzDate), now.Add(MaxSkew).Format(amzDate), now.Format(amzDate))
	}
	want, err := v.expected(r, h, secret, at)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(h.signature)) != 1 {
		return "", fail(InvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return h.keyID, nil
}

// expected signs a copy of r holding only the headers h names, with the
// SDK's signer, and returns the signature it computed. A signed header the
// SDK's signer would not sign (User-Agent, for one) makes the header lists
// differ, and the request is refused.
func (v *Verifier) expected(r Request, h authHeader, secret string, at time.Time) (string, error) {
	u, err := url.ParseRequestURI(r.URI)
	if err != nil {
		return "", err
	}
	req := &http.Request{
		Method: r.Method,
		// No scheme: the signer must not strip a port from the Host the
		// client signed.
		URL:    &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	for _, name := range h.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			// net/http takes Content-Length out of the headers; the body
			// read in full has that length.
			req.ContentLength = int64(len(r.Body))
		default:
			if vals := r.Header(name); len(vals) > 0 {
				req.Header[textproto.CanonicalMIMEHeaderKey(name)] = vals
			}
		}
	}
	sum := sha256.Sum256(r.Body)
	creds := aws.Credentials{AccessKeyID: h.keyID, SecretAccessKey: secret}
	if err := v.signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), h.service, h.region, at); err != nil {
		return "", err
	}
	got, e := parseAuth(req.Header.Get("Authorization"), true)
	if e != nil {
		return "", e
	}
	if got.signedHeadersRaw != h.signedHeadersRaw {
		return "", errors.New("signed headers differ")
	}
	return got.signature, nil
}

// parseAuth parses an Authorization header ("AWS4-HMAC-SHA256
// Credential=AKID/20260101/us-east-1/dynamodb/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex"). hasDate says whether the
// request carries X-Amz-Date or Date, which DynamoDB reports together with
// the missing parameters.
func parseAuth(s string, hasDate bool) (authHeader, *Error) {
	var h authHeader
	alg, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	if alg != algorithm && strings.HasPrefix(alg, "AWS4-") {
		return h, fail(IncompleteSignature, "Unsupported AWS 'algorithm': '%s'", alg)
	}
	if alg != algorithm {
		rest = ""
	}
	params := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return h, fail(IncompleteSignature, "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", kv, s)
		}
		params[k] = val
	}
	var missing []string
	for _, p := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[p] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", p))
		}
	}
	if !hasDate {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return h, fail(IncompleteSignature, "%s", strings.Join(missing, " "))
	}
	parts := strings.Split(params["Credential"], "/")
	if len(parts) != 5 {
		return h, fail(IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", params["Credential"])
	}
	h.keyID, h.date, h.region, h.service, h.term = parts[0], parts[1], parts[2], parts[3], parts[4]
	h.signedHeadersRaw = params["SignedHeaders"]
	h.signedHeaders = strings.Split(h.signedHeadersRaw, ";")
	hasHost := false
	for _, name := range h.signedHeaders {
		hasHost = hasHost || name == "host"
	}
	if !hasHost {
		return h, fail(IncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	h.signature = params["Signature"]
	return h, nil
}

// Sign signs req, whose body is body, with cred for region at time at, as
// an SDK would: the CLI uses it to call a region's control endpoints.
func Sign(req *http.Request, body []byte, cred Credential, region string, at time.Time) error {
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey}
	return v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), Service, region, at)
}

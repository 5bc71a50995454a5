package api_test

import (
	"bytes"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// rawRequest sends a request without the SDK and returns the response and
// its body.
func rawRequest(t *testing.T, method, url string, header map[string]string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func jsonHeaders(target, contentType string) map[string]string {
	return map[string]string{"X-Amz-Target": "DynamoDB_20120810." + target, "Content-Type": contentType}
}

// The error bodies of the service framework are DynamoDB's: no message for
// malformed JSON, an empty body or an unknown operation, and "Message"
// (capitalised) for a member of the wrong type.
func TestWire_FrameworkErrorBodies(t *testing.T) {
	r := startRegion(t)
	const ct = "application/x-amz-json-1.0"
	tests := []struct {
		name, target, body, want string
	}{
		{"malformed json", "ListTables", "{", `{"__type":"com.amazon.coral.service#SerializationException"}`},
		{"empty body", "ListTables", "", `{"__type":"com.amazon.coral.service#SerializationException"}`},
		{"unknown operation", "Frobnicate", "{}", `{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{"wrong member type", "DescribeTable", `{"TableName":5}`,
			`{"__type":"com.amazon.coral.service#SerializationException","Message":"NUMBER_VALUE cannot be converted to String"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, http.MethodPost, r.URL, jsonHeaders(tc.target, ct), strings.NewReader(tc.body))
			if resp.StatusCode != 400 || body != tc.want {
				t.Fatalf("got %d %s\nwant 400 %s", resp.StatusCode, body, tc.want)
			}
			if got, want := resp.Header.Get("x-amz-crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10); got != want {
				t.Fatalf("x-amz-crc32 = %s, want %s", got, want)
			}
		})
	}
}

// DynamoDB answers in the JSON flavour the request used, and refuses other
// content types and methods with its bare 404.
func TestWire_ContentTypesAndMethods(t *testing.T) {
	r := startRegion(t)
	for _, ct := range []string{"application/x-amz-json-1.0", "application/json"} {
		resp, body := rawRequest(t, http.MethodPost, r.URL, jsonHeaders("ListTables", ct+"; charset=utf-8"), strings.NewReader("{}"))
		if resp.StatusCode != 200 || body != `{"TableNames":[]}` || resp.Header.Get("Content-Type") != ct {
			t.Fatalf("%s: %d %q, Content-Type %q", ct, resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
	}
	const unknown = "<UnknownOperationException/>\n"
	for _, tc := range []struct{ method, ct string }{
		{http.MethodPost, "text/plain"},
		{http.MethodPost, "application/x-amz-cbor-1.1"},
		{http.MethodPut, "application/x-amz-json-1.0"},
		{http.MethodDelete, "application/x-amz-json-1.0"},
	} {
		resp, body := rawRequest(t, tc.method, r.URL, jsonHeaders("ListTables", tc.ct), strings.NewReader("{}"))
		if resp.StatusCode != 404 || body != unknown || resp.Header.Get("x-amz-crc32") != "3552371480" {
			t.Fatalf("%s %s: %d %q crc %q", tc.method, tc.ct, resp.StatusCode, body, resp.Header.Get("x-amz-crc32"))
		}
	}
}

// Browsers get DynamoDB's CORS answers: any origin, and preflights that
// allow what they ask for.
func TestWire_CORS(t *testing.T) {
	r := startRegion(t)
	h := jsonHeaders("ListTables", "application/x-amz-json-1.0")
	h["Origin"] = "https://app.example"
	resp, _ := rawRequest(t, http.MethodPost, r.URL, h, strings.NewReader("{}"))
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "x-amzn-RequestId") {
		t.Fatalf("POST with Origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := rawRequest(t, http.MethodOptions, r.URL, map[string]string{
		"Origin":                         "https://app.example",
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "content-type,x-amz-target,authorization",
	}, nil)
	if resp.StatusCode != 200 || body != "" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "content-type,x-amz-target,authorization" ||
		resp.Header.Get("Access-Control-Max-Age") != "172800" {
		t.Fatalf("preflight: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

// A body over 16 MB gets 413 whether its length is declared or it is
// streamed in chunks, and the connection is not reset under the client.
func TestWire_BodyOver16MBIs413(t *testing.T) {
	r := startRegion(t)
	big := bytes.Repeat([]byte(" "), 16<<20+1)
	h := jsonHeaders("ListTables", "application/x-amz-json-1.0")
	resp, _ := rawRequest(t, http.MethodPost, r.URL, h, bytes.NewReader(big))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared length: status %d", resp.StatusCode)
	}
	// io.MultiReader hides the length, so the client sends it chunked.
	resp, _ = rawRequest(t, http.MethodPost, r.URL, h, io.MultiReader(bytes.NewReader(big)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status %d", resp.StatusCode)
	}
	// A chunked body within the limit is served.
	resp, body := rawRequest(t, http.MethodPost, r.URL, h, io.MultiReader(strings.NewReader("{}")))
	if resp.StatusCode != 200 || body != `{"TableNames":[]}` {
		t.Fatalf("small chunked body: %d %q", resp.StatusCode, body)
	}
}

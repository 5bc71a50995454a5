package region

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/globaltables/globaltables/region/api/sigv4"
)

// ControlTokenFile is the file, in a region's data folder, holding the
// token that authorizes calls to the region's control endpoints. The region
// writes it on first start, readable by its owner only (mode 0600); the CLI
// reads it from there.
const ControlTokenFile = "control-token"

// maxControlBody bounds the body of a control request.
const maxControlBody = 1 << 16

// loadControlToken reads the region's control token, creating it on first
// start. A token file readable by others is refused rather than trusted.
func loadControlToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, ControlTokenFile)
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		tok := hex.EncodeToString(b)
		_, werr := f.WriteString(tok + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("write control token %s: %w", path, werr)
		}
		return tok, nil
	case !errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("create control token %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("control token %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read control token: %w", err)
	}
	tok := strings.TrimSpace(string(raw))
	if len(tok) < 32 {
		return "", fmt.Errorf("control token %s is too short: delete it to have a new one made", path)
	}
	return tok, nil
}

// ReadControlToken reads the control token of the region whose data
// folder is dataDir, for the CLI.
func ReadControlToken(dataDir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, ControlTokenFile))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(raw)), nil
}

// controlGuard protects the region's /_globaltables endpoints.
//
// Every one of them answers only to a Host header naming the region's
// listen address or a loopback name, so that a web page cannot reach them
// through DNS rebinding (its requests carry the attacker's host name). The
// ones that change something also require PUT or POST with a JSON body and
// the region's credentials: its control token as a bearer token, or a SigV4
// signature by one of the topology's access keys. When the region has
// access keys, its read-only endpoints want them too: the conflict log and
// the status show item contents and topology details.
type controlGuard struct {
	token    string
	verifier *sigv4.Verifier // nil without credentials
	hosts    map[string]bool // host names accepted, lower case
	anyIP    bool            // the region listens on every address: any IP literal is its own
}

func newControlGuard(token string, verifier *sigv4.Verifier, listens ...string) *controlGuard {
	g := &controlGuard{token: token, verifier: verifier,
		hosts: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}}
	for _, l := range listens {
		if l == "" {
			continue
		}
		host, _, err := net.SplitHostPort(l)
		if err != nil {
			host = l
		}
		switch ip := net.ParseIP(host); {
		case host == "" || ip != nil && ip.IsUnspecified():
			g.anyIP = true
		default:
			g.hosts[strings.ToLower(host)] = true
		}
	}
	return g
}

// hostAllowed reports whether a Host header names this region.
func (g *controlGuard) hostAllowed(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	host = strings.ToLower(host)
	if g.hosts[host] {
		return true
	}
	// An IP literal cannot be rebound: a rebinding page's requests carry
	// its own host name.
	return g.anyIP && net.ParseIP(host) != nil
}

// authorized reports whether req, whose body is body, carries the region's
// control token or a valid signature.
func (g *controlGuard) authorized(req *http.Request, body []byte) bool {
	auth := req.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(tok), []byte(g.token)) == 1
	}
	if g.verifier == nil || auth == "" {
		return false
	}
	_, e := g.verifier.Verify(sigv4.Request{
		Method: req.Method, URI: req.RequestURI, Host: req.Host, Body: body,
		Header: func(name string) []string { return req.Header.Values(name) },
	})
	return e == nil
}

// wrap guards h; mutating says whether h changes anything.
func (g *controlGuard) wrap(h http.Handler, mutating bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !g.hostAllowed(req.Host) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": fmt.Sprintf(
				"host %q is not this region's: control endpoints answer only to its listen address or a loopback name", req.Host)})
			return
		}
		if mutating {
			if req.Method != http.MethodPut && req.Method != http.MethodPost {
				w.Header().Set("Allow", "PUT, POST")
				writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use PUT or POST with a JSON body"})
				return
			}
			if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "the body must be JSON, sent with Content-Type: application/json"})
				return
			}
		}
		if !mutating && g.verifier == nil {
			h.ServeHTTP(w, req)
			return
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, maxControlBody+1))
		if err != nil || len(body) > maxControlBody {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "could not read a body of at most 64 KiB"})
			return
		}
		if !g.authorized(req, body) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="globaltables"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "control endpoints need the region's control token " +
				"(Authorization: Bearer, from " + ControlTokenFile + " in its data folder) or a SigV4 signature by one of the topology's credentials"})
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, req)
	})
}

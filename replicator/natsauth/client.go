package natsauth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ErrInvalid is returned for a malformed URL or client setting.
var ErrInvalid = errors.New("natsauth: invalid setting")

// Seed is one server of a NATS URL list.
type Seed struct {
	// Scheme is nats, tls, ws or wss.
	Scheme string
	// Host is host:port, the port defaulted to 4222 as nats.go does.
	Host string
	// User holds credentials given in the URL (user:password@ or
	// token@), or nil.
	User *url.Userinfo
}

// URL returns the seed as a URL, credentials included: for nats.Connect,
// never for a log line (use Redact).
func (s Seed) URL() string {
	u := url.URL{Scheme: s.Scheme, Host: s.Host, User: s.User}
	return u.String()
}

// ParseURLs splits a NATS URL list the way nats.go reads one: comma
// separated, each nats://, tls://, ws:// or wss://, with optional
// credentials, the scheme defaulted to nats and the port to 4222. Errors
// never hold the credentials.
func ParseURLs(list string) ([]Seed, error) {
	var out []Seed
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if !strings.Contains(raw, "://") {
			raw = "nats://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: NATS URL %q is not a URL", ErrInvalid, Redact(raw))
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return nil, fmt.Errorf("%w: NATS URL %q: scheme %q (want nats, tls, ws or wss)", ErrInvalid, Redact(raw), u.Scheme)
		}
		host := u.Host
		if u.Port() == "" {
			port := "4222"
			switch u.Scheme {
			case "ws":
				port = "80"
			case "wss":
				port = "443"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
		if u.Hostname() == "" {
			return nil, fmt.Errorf("%w: NATS URL %q has no host", ErrInvalid, Redact(raw))
		}
		out = append(out, Seed{Scheme: u.Scheme, Host: host, User: u.User})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty NATS URL", ErrInvalid)
	}
	return out, nil
}

// JoinURLs is the inverse of ParseURLs, credentials included.
func JoinURLs(seeds []Seed) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = s.URL()
	}
	return strings.Join(parts, ",")
}

// Redact returns a NATS URL list with every password or token replaced by
// "redacted", for logs, status and errors. Something that does not parse
// is shown only up to its first '@'-free part.
func Redact(list string) string {
	parts := strings.Split(list, ",")
	for i, raw := range parts {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || !strings.Contains(raw, "://") {
			if at := strings.LastIndex(raw, "@"); at >= 0 {
				raw = "redacted@" + raw[at+1:]
			}
			parts[i] = raw
			continue
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "redacted")
			} else {
				u.User = url.User("redacted") // a token
			}
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// TLS is how a client checks a server and, optionally, shows a
// certificate of its own.
type TLS struct {
	// CAFile is a PEM file of the CAs that signed the server's
	// certificate. Default: the system's.
	CAFile string
	// CertFile and KeyFile are the client's certificate and key, for
	// servers that verify clients. Both or neither.
	CertFile, KeyFile string
	// ServerName is the name the server's certificate must hold. Default:
	// the host of the URL dialled.
	ServerName string
}

// Enabled reports whether any TLS setting is given.
func (t TLS) Enabled() bool { return t != TLS{} }

// Config builds the tls.Config.
func (t TLS) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: TLS CA %s holds no PEM certificate", ErrInvalid, t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, fmt.Errorf("%w: TLS client certificate and key go together", ErrInvalid)
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate %s: %w", t.CertFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Client is how a region connects to one NATS server or cluster: as whom,
// and how it checks the server.
type Client struct {
	// Region names the connecting region (its inbox prefix).
	Region string
	// Identity, if set, authenticates with the region's nkey.
	Identity *Identity
	// CredsFile, if set, authenticates with a NATS credentials file
	// (JWT and seed), instead of Identity.
	CredsFile string
	// TLS checks the server (and shows the client's certificate).
	TLS TLS
}

// Options returns the nats.go options of c. Credentials in the URL need
// no option: nats.go takes them from the URL.
func (c Client) Options() ([]nats.Option, error) {
	var opts []nats.Option
	if c.Region != "" {
		opts = append(opts, nats.CustomInboxPrefix(InboxPrefix(c.Region)))
	}
	switch {
	case c.CredsFile != "":
		if _, err := os.Stat(c.CredsFile); err != nil {
			return nil, fmt.Errorf("NATS credentials file: %w", err)
		}
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.Identity != nil:
		opts = append(opts, c.Identity.Option())
	}
	if c.TLS.Enabled() {
		cfg, err := c.TLS.Config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(cfg))
	}
	return opts, nil
}

// Dialer is a nats.CustomDialer that dials each known server through the
// address standing in for it (a shaping proxy), and refuses any other:
// a server the cluster advertised must not let a link bypass its proxy.
type Dialer struct {
	// Via maps a server's host:port, as written in the URL, to the
	// address to dial instead.
	Via map[string]string
}

// dialTimeout is nats.go's default connect timeout, which it applies only
// to its own dialer.
const dialTimeout = 2 * time.Second

// Dial implements nats.CustomDialer.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	via, ok := d.Via[address]
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a configured server of this link", ErrInvalid, address)
	}
	nd := net.Dialer{Timeout: dialTimeout}
	return nd.Dial(network, via)
}

// Options returns the options that route a connection through d: the
// dialer, no host lookup (the dialer is keyed by the URL's host) and no
// servers learnt from the cluster.
func (d *Dialer) Options() []nats.Option {
	return []nats.Option{nats.SetCustomDialer(d), nats.SkipHostLookup(), nats.IgnoreDiscoveredServers()}
}

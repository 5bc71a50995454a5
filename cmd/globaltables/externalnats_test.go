package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// pki is a test CA with a server certificate (for nats.test and 127.0.0.1)
// and a client certificate, as PEM files.
type pki struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
	pool                                             *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "globaltables test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p := &pki{pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.CA = write("ca.pem", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames: []string{name}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".pem", "CERTIFICATE", der), write(name+"-key.pem", "EC PRIVATE KEY", kder)
	}
	p.ServerCert, p.ServerKey = leaf("nats.test", 2, x509.ExtKeyUsageServerAuth)
	p.ClientCert, p.ClientKey = leaf("client.test", 3, x509.ExtKeyUsageClientAuth)
	return p
}

// serverTLS is the server side: its certificate, and client certificates
// required and checked against the CA.
func (p *pki) serverTLS(t *testing.T) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

// extNATS is a region's external NATS, run in the test process: one server
// or a cluster, on fixed loopback ports so that a server can be restarted.
type extNATS struct {
	name    string
	opts    []*server.Options
	servers []*server.Server
	scheme  string
}

// extAuth is who an external NATS admits.
type extAuth struct {
	nkeys []*server.NkeyUser
	users []*server.User
	tls   *tls.Config
}

func startExtNATS(t *testing.T, name string, n int, auth extAuth) *extNATS {
	t.Helper()
	ports := freePorts(t, 2*n)
	e := &extNATS{name: name, scheme: "nats"}
	if auth.tls != nil {
		e.scheme = "tls"
	}
	for i := 0; i < n; i++ {
		o := &server.Options{
			ServerName: fmt.Sprintf("%s-%d", name, i), Host: "127.0.0.1", Port: ports[2*i],
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Nkeys: auth.nkeys, Users: auth.users,
			MaxPayload: 8 << 20,
		}
		if auth.tls != nil {
			o.TLS, o.TLSVerify, o.TLSConfig, o.TLSTimeout = true, true, auth.tls, 5
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: name, Host: "127.0.0.1", Port: ports[2*i+1]}
			for j := 0; j < n; j++ {
				if j != i {
					o.Routes = append(o.Routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*j+1])})
				}
			}
		}
		e.opts = append(e.opts, o)
	}
	e.servers = make([]*server.Server, n)
	for i := range e.opts {
		e.start(t, i)
	}
	t.Cleanup(func() {
		for _, s := range e.servers {
			if s != nil {
				s.Shutdown()
				s.WaitForShutdown()
			}
		}
	})
	if n > 1 {
		regiontest.WaitFor(t, 60*time.Second, func() error {
			for _, s := range e.servers {
				if !s.JetStreamIsCurrent() || s.NumRoutes() < n-1 {
					return fmt.Errorf("cluster %s is not formed yet", name)
				}
			}
			return nil
		})
	}
	return e
}

// start starts (or restarts) server i.
func (e *extNATS) start(t *testing.T, i int) {
	t.Helper()
	s, err := server.NewServer(e.opts[i].Clone())
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatalf("nats server %s-%d did not start", e.name, i)
	}
	e.servers[i] = s
}

// stop shuts server i down.
func (e *extNATS) stop(i int) {
	e.servers[i].Shutdown()
	e.servers[i].WaitForShutdown()
}

// url is the seed list, with userinfo (user:password or "") in each, of
// the first n servers (all with n = 0).
func (e *extNATS) url(userinfo string, n ...int) string {
	parts := make([]string, len(e.opts))
	for i, o := range e.opts {
		parts[i] = fmt.Sprintf("%s://%s127.0.0.1:%d", e.scheme, userinfo, o.Port)
	}
	if len(n) > 0 && n[0] > 0 {
		parts = parts[:n[0]]
	}
	return strings.Join(parts, ",")
}

// extRegion describes one region of an external-NATS topology.
type extRegion struct {
	name     string
	nats     *extNATS
	userinfo string // credentials in the URL ("user:password@"), if any
	replicas int
	tlsCA    bool // the server speaks TLS: give its CA and name
	seeds    int  // how many of its servers the URL lists (0: all)
}

// extCluster runs regions, each against its own external NATS, with link
// shaping on.
type extCluster struct {
	*cluster
	regions map[string]extRegion
	pki     *pki
	seeds   map[string]string // region -> nkey seed file
	oldLogs []string          // of region processes restarted
}

// restart stops region name cleanly and starts it again.
func (ec *extCluster) restart(t *testing.T, name string) {
	t.Helper()
	p := ec.proc(name)
	p.Stop(t)
	ec.oldLogs = append(ec.oldLogs, p.Log())
	ec.start(name)
}

// logs returns every region process's log, restarted ones included.
func (ec *extCluster) logs() map[string]string {
	out := map[string]string{}
	for i, l := range ec.oldLogs {
		out[fmt.Sprintf("restarted process %d", i)] = l
	}
	for _, n := range ec.names {
		out[n] = ec.proc(n).Log()
	}
	return out
}

// startExtCluster writes the topology and starts every region. The NATS
// servers of rs must already admit the regions' identities, created in
// their data folders by identities.
func startExtCluster(t *testing.T, dir string, p *pki, rs []extRegion) *extCluster {
	t.Helper()
	ports := freePorts(t, len(rs))
	ec := &extCluster{
		cluster: &cluster{t: t, listen: map[string]string{}, nats: map[string]string{}, procs: map[string]*regionProc{}},
		regions: map[string]extRegion{}, pki: p, seeds: map[string]string{},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir = %q\nlog_level = \"debug\"\nglobal_tables = true\n", filepath.Join(dir, "data"))
	for i, r := range rs {
		ec.names = append(ec.names, r.name)
		ec.regions[r.name] = r
		ec.listen[r.name] = fmt.Sprintf("127.0.0.1:%d", ports[i])
		ec.nats[r.name] = r.nats.url(r.userinfo, r.seeds)
		ec.seeds[r.name] = filepath.Join(dir, "data", r.name, natsauth.SeedFile)
		fmt.Fprintf(&b, "region %q {\n  listen = %q\n  nats_url = %q\n  nats_nkey_seed_file = %q\n", r.name, ec.listen[r.name], ec.nats[r.name], ec.seeds[r.name])
		if r.replicas > 0 {
			fmt.Fprintf(&b, "  stream_replicas = %d\n", r.replicas)
		}
		fmt.Fprintf(&b, "  nats_tls {\n    cert_file = %q\n    key_file = %q\n", p.ClientCert, p.ClientKey)
		if r.tlsCA {
			fmt.Fprintf(&b, "    ca_file = %q\n    server_name = \"nats.test\"\n", p.CA)
		}
		b.WriteString("  }\n}\n")
	}
	ec.path = filepath.Join(dir, "topology.hcl")
	if err := os.WriteFile(ec.path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	topo, err := topology.Load(ec.path)
	if err != nil {
		t.Fatal(err)
	}
	ec.topo = topo
	for _, r := range rs {
		ec.start(r.name)
	}
	return ec
}

// identities creates each region's nkey in dir/data/<name> and returns
// the public keys.
func identities(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, n := range names {
		id, err := natsauth.LoadOrCreate(filepath.Join(dir, "data", n))
		if err != nil {
			t.Fatal(err)
		}
		keys[n] = id.Public
	}
	return keys
}

// connectAs connects to region target's NATS as region as (its nkey and
// client certificate, target's CA), or anonymously with as == "".
func (ec *extCluster) connectAs(as, target string) (*nats.Conn, error) {
	r := ec.regions[target]
	opts := []nats.Option{nats.Timeout(5 * time.Second), nats.NoReconnect()}
	if r.tlsCA {
		tc := natsauth.TLS{CAFile: ec.pki.CA, ServerName: "nats.test", CertFile: ec.pki.ClientCert, KeyFile: ec.pki.ClientKey}
		cfg, err := tc.Config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(cfg))
	}
	if as != "" {
		id, err := natsauth.LoadSeed(ec.seeds[as])
		if err != nil {
			return nil, err
		}
		opts = append(opts, id.Option(), nats.CustomInboxPrefix(natsauth.InboxPrefix(as)))
	}
	return nats.Connect(r.nats.url(""), opts...)
}

// streamMsgs counts the messages in region's stream, read as region.
func (ec *extCluster) streamMsgs(t *testing.T, name string) (uint64, int) {
	t.Helper()
	nc, err := ec.connectAs(name, name)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, replicator.StreamName(name))
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	return info.State.Msgs, info.Config.Replicas
}

// checkRefused checks that an anonymous client and a stranger's nkey are
// refused by every region's NATS, and that region as cannot publish into
// region victim's stream.
func (ec *extCluster) checkRefused(t *testing.T, as, victim string) {
	t.Helper()
	stranger, err := natsauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ec.names {
		if nc, err := ec.connectAs("", name); err == nil {
			nc.Close()
			t.Fatalf("%s's NATS admits an anonymous client", name)
		}
		r := ec.regions[name]
		opts := []nats.Option{nats.Timeout(5 * time.Second), nats.NoReconnect(), stranger.Option()}
		if r.tlsCA {
			cfg, _ := natsauth.TLS{CAFile: ec.pki.CA, ServerName: "nats.test", CertFile: ec.pki.ClientCert, KeyFile: ec.pki.ClientKey}.Config()
			opts = append(opts, nats.Secure(cfg))
		}
		if nc, err := nats.Connect(r.nats.url(""), opts...); err == nil {
			nc.Close()
			t.Fatalf("%s's NATS admits an unknown nkey", name)
		}
	}
	before, _ := ec.streamMsgs(t, victim)
	nc, err := ec.connectAs(as, victim)
	if err != nil {
		t.Fatalf("%s cannot connect to %s's NATS: %v", as, victim, err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	forged := forgedChange(victim, "Conv", "forged-by-"+as)
	if _, err := js.Publish(ctx, replicator.ItemSubject(victim, "Conv"), store.AppendChange(nil, forged)); err == nil {
		t.Fatalf("%s published into %s's stream", as, victim)
	}
	if after, _ := ec.streamMsgs(t, victim); after != before {
		t.Fatalf("%s's stream went from %d to %d messages", victim, before, after)
	}
}

// forgedChange is an item write of key pk in table, claiming to be made
// by region by, a year ahead.
func forgedChange(by, table, pk string) *store.Change {
	v := conflict.Version{Wall: time.Now().Add(365 * 24 * time.Hour).UnixNano(), Region: by}
	return &store.Change{
		Table: table, Key: attr.Item{"pk": attr.String(pk)},
		New:     attr.Item{"pk": attr.String(pk), "v": attr.String("forged")},
		Version: v, Context: conflict.Context{}.With(v), CommittedAt: time.Now(),
	}
}

// checkNoSecrets fails if a region's log holds a secret: a URL password,
// an nkey seed, a private key.
func (ec *extCluster) checkNoSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	for _, f := range ec.seeds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, strings.TrimSpace(string(b)))
	}
	secrets = append(secrets, "PRIVATE KEY")
	lines := 0
	for n, log := range ec.logs() {
		lines += strings.Count(log, "\n")
		for _, s := range secrets {
			if i := strings.Index(log, s); i >= 0 {
				line := log[strings.LastIndex(log[:i], "\n")+1:]
				if j := strings.Index(line, "\n"); j >= 0 {
					line = line[:j]
				}
				t.Fatalf("a secret appears in %s's log: %s", n, strings.ReplaceAll(line, s, "<SECRET>"))
			}
		}
	}
	if lines == 0 {
		t.Fatal("no log lines to check")
	}
	t.Logf("%d log lines checked for %d secrets", lines, len(secrets))
}

// checkRestartResendsNothing restarts region name and checks that its
// publisher sends none of the records still in its change log again: the
// stream holds them all, and its message count does not change.
func (ec *extCluster) checkRestartResendsNothing(t *testing.T, name string) {
	t.Helper()
	before, _ := ec.streamMsgs(t, name)
	ec.restart(t, name)
	regiontest.WaitFor(t, 60*time.Second, func() error {
		st, err := ec.status(name)
		if err != nil {
			return err
		}
		if st.Publisher == nil || !st.Publisher.Connected || st.Publisher.Backlog > 0 || st.Publisher.Held == 0 {
			return fmt.Errorf("publisher %+v: %w", st.Publisher, errNotYet)
		}
		if st.Publisher.Published != 0 {
			return fmt.Errorf("the restarted publisher sent %d records again", st.Publisher.Published)
		}
		return nil
	})
	if after, _ := ec.streamMsgs(t, name); after != before {
		t.Fatalf("%s's stream went from %d to %d messages over a restart", name, before, after)
	}
}

// waitHas waits until region name holds pk.
func (ec *extCluster) waitHas(t *testing.T, name, pk string, timeout time.Duration) {
	t.Helper()
	regiontest.WaitFor(t, timeout, func() error {
		if !ec.has(t, name, pk) {
			return fmt.Errorf("%s does not hold %s", name, pk)
		}
		return nil
	})
}

// errNotYet is a WaitFor condition not met yet.
var errNotYet = errors.New("not yet")

// TestExternalNATS_AuthTLSAndOrigin runs two regions, each against its own
// external NATS with link shaping on: us-east on a TLS server (mutual TLS,
// per-region nkeys), ap-south on a plain server whose users authenticate
// with a password given in the URL. It checks convergence, that strangers
// and anonymous clients are refused and a region cannot publish into
// another's stream, that a forged record (another region's version in
// ap-south's stream) is not applied, that a restart sends nothing again,
// and that no secret reaches a log line.
func TestExternalNATS_AuthTLSAndOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	const password = "Pw-9f8e7d6c5b4a"
	dir := t.TempDir()
	p := newPKI(t)
	keys := identities(t, dir, "us-east", "ap-south")
	us := startExtNATS(t, "us-east", 1, extAuth{nkeys: natsauth.ServerUsers("us-east", keys), tls: p.serverTLS(t)})
	ap := startExtNATS(t, "ap-south", 1, extAuth{users: []*server.User{{Username: "gt", Password: password}}})
	ec := startExtCluster(t, dir, p, []extRegion{
		{name: "us-east", nats: us, tlsCA: true},
		{name: "ap-south", nats: ap, userinfo: "gt:" + password + "@"},
	})
	createGlobalTable(t, ec.cluster, "us-east")
	for i := 0; i < 20; i++ {
		ec.put(t, ec.names[i%2], fmt.Sprintf("k%d", i))
	}
	ec.waitConverged("Conv", 60*time.Second)

	ec.checkRefused(t, "ap-south", "us-east")

	// A record in ap-south's stream claiming us-east's version: ap-south's
	// password lets anyone holding it publish there, but not speak for
	// us-east.
	nc, err := nats.Connect(ap.url("gt:" + password + "@"))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.Publish(ctx, replicator.ItemSubject("ap-south", "Conv"), store.AppendChange(nil, forgedChange("us-east", "Conv", "forged"))); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	ec.put(t, "ap-south", "after-forgery")
	ec.waitHas(t, "us-east", "after-forgery", 30*time.Second)
	if ec.has(t, "us-east", "forged") {
		t.Fatal("us-east applied a record of a foreign origin")
	}
	l, err := ec.linkStatus("ap-south", "us-east")
	if err != nil {
		t.Fatal(err)
	}
	if l.Rejected != 1 {
		t.Fatalf("link ap-south → us-east rejected %d records, want 1", l.Rejected)
	}
	if !strings.Contains(ec.proc("us-east").Log(), "refusing a record whose origin does not match the stream") {
		t.Fatal("the refused record was not logged")
	}

	// A restart sends nothing the stream holds (with an external server,
	// every record acknowledged in the last 6 minutes is still in the log).
	ec.checkRestartResendsNothing(t, "us-east")
	ec.put(t, "us-east", "after-restart")
	ec.waitConverged("Conv", 60*time.Second)

	// Cut and heal the link whose URL holds a password: its failures are
	// logged, the password is not.
	ec.cli(t, "partition", "--one-way", "ap-south,us-east")
	regiontest.WaitFor(t, 30*time.Second, func() error {
		l, err := ec.linkStatus("ap-south", "us-east")
		if err != nil {
			return err
		}
		if l.Connected || l.LastError == "" {
			return fmt.Errorf("link still connected: %w", errNotYet)
		}
		return nil
	})
	ec.cli(t, "heal")
	ec.put(t, "ap-south", "after-heal")
	ec.waitConverged("Conv", 60*time.Second)
	ec.checkNoSecrets(t, password)
}

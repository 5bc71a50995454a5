package topology

import (
	"fmt"

	"github.com/globaltables/globaltables/replicator/natsauth"
)

// validateNATS checks the region's NATS settings without reading files
// (they may live on another host).
func (r Region) validateNATS() []error {
	var errs []error
	ref := inRegion(r.Name)
	add := func(summary, key string, err error, where ...blockRef) {
		errs = append(errs, at(summary, key, err, append([]blockRef{ref}, where...)...))
	}
	if r.NATSURL != "" {
		if seeds, err := natsauth.ParseURLs(r.NATSURL); err != nil {
			add("Invalid NATS URL", "nats_url", fmt.Errorf("region %q: nats_url: %w", r.Name, err))
		} else {
			for _, s := range seeds {
				if err := CheckAddress(s.Host, "127.0.0.1:4222", false); err != nil {
					add("Invalid NATS URL", "nats_url", fmt.Errorf("region %q: nats_url %s: %w", r.Name, natsauth.Redact(r.NATSURL), err))
				}
			}
		}
	}
	if r.NATSNkey != "" {
		if err := natsauth.ValidPublic(r.NATSNkey); err != nil {
			add("Invalid nkey", "nats_nkey", fmt.Errorf("region %q: nats_nkey: %w", r.Name, err))
		}
	}
	if r.StreamReplicas < 0 || r.StreamReplicas > 5 {
		add("Invalid number", "stream_replicas", fmt.Errorf("region %q: stream_replicas %d: JetStream allows 1 to 5", r.Name, r.StreamReplicas))
	}
	tls := r.NATSTLS.get()
	tlsRef := blockRef{typ: "nats_tls"}
	if (tls.CertFile == "") != (tls.KeyFile == "") {
		key := "cert_file"
		if tls.CertFile == "" {
			key = "key_file"
		}
		add("Incomplete TLS settings", key, fmt.Errorf("region %q: nats_tls: cert_file and key_file go together: set both, or neither", r.Name), tlsRef)
	}
	if r.NATSURL == "" && (tls.CAFile != "" || tls.ServerName != "") {
		key := "ca_file"
		if tls.CAFile == "" {
			key = "server_name"
		}
		add("Misplaced TLS setting", key, fmt.Errorf("region %q: nats_tls ca_file and server_name describe an external NATS (nats_url); the embedded server speaks plain NATS with nkey authentication: remove them, or set nats_url", r.Name), tlsRef)
	}
	return errs
}

// embedded reports whether the region runs its own NATS server.
func (r Region) embedded() bool { return r.NATSURL == "" }

// Identity loads region name's NATS identity: its nkey seed file if the
// topology names one, else the one in its data folder, created on first
// use. It returns nil when the region needs no nkey (every server it
// talks to is external and it has credentials or none configured).
func (t *Topology) Identity(name string) (*natsauth.Identity, error) {
	self, err := t.Region(name)
	if err != nil {
		return nil, err
	}
	var id natsauth.Identity
	switch {
	case self.NATSNkeySeedFile != "":
		id, err = natsauth.LoadSeed(self.NATSNkeySeedFile)
	case t.needsNkey():
		id, err = natsauth.LoadOrCreate(self.DataDir)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("region %s: NATS identity: %w", name, err)
	}
	if self.NATSNkey != "" && self.NATSNkey != id.Public {
		return nil, fmt.Errorf("region %s: nats_nkey %s does not match its seed's public key %s", name, self.NATSNkey, id.Public)
	}
	return &id, nil
}

// needsNkey reports whether some region runs an embedded server, which
// admits nkey users only.
func (t *Topology) needsNkey() bool {
	for _, r := range t.Regions {
		if r.embedded() {
			return true
		}
	}
	return false
}

// NATSClient returns how region self connects to region target's NATS:
// with the credentials in target's URL if it holds some (a user shared by
// every region), else with its nkey to an embedded server (or to an
// external one when the topology names its seed file), else with its
// credentials file if any; with target's CA and server name and self's
// client certificate if target speaks TLS.
func (t *Topology) NATSClient(self, target Region, id *natsauth.Identity) natsauth.Client {
	c := natsauth.Client{Region: self.Name}
	switch {
	case target.urlCredentials():
		// nats.go authenticates with the URL's credentials and ignores
		// the rest; an nkey would even fail against a server without
		// nkey users.
	case target.embedded() || (self.NATSNkeySeedFile != "" && self.NATSCredentials == ""):
		c.Identity = id
	case self.NATSCredentials != "":
		c.CredsFile = self.NATSCredentials
	}
	if target.usesTLS() {
		tt, st := target.NATSTLS.get(), self.NATSTLS.get()
		c.TLS = natsauth.TLS{CAFile: tt.CAFile, ServerName: tt.ServerName, CertFile: st.CertFile, KeyFile: st.KeyFile}
	}
	return c
}

// urlCredentials reports whether the region's nats_url holds credentials.
func (r Region) urlCredentials() bool {
	seeds, _ := natsauth.ParseURLs(r.NATSURL)
	for _, s := range seeds {
		if s.User != nil {
			return true
		}
	}
	return false
}

// usesTLS reports whether clients reach the region's NATS over TLS: it
// has a CA or server name, or a tls:// URL. (A server that requires TLS
// gets it anyway: nats.go follows the server's INFO.)
func (r Region) usesTLS() bool {
	if r.embedded() {
		return false
	}
	if tt := r.NATSTLS.get(); tt.CAFile != "" || tt.ServerName != "" {
		return true
	}
	seeds, _ := natsauth.ParseURLs(r.NATSURL)
	for _, s := range seeds {
		if s.Scheme == "tls" || s.Scheme == "wss" {
			return true
		}
	}
	return false
}

// NATSKeys returns the public keys the topology gives, and for the other
// regions the data folders to read theirs from: the users of region
// self's embedded server (self's own key is added by the caller).
func (t *Topology) NATSKeys(self string) (keys, dirs map[string]string) {
	keys, dirs = map[string]string{}, map[string]string{}
	for _, r := range t.Regions {
		switch {
		case r.NATSNkey != "":
			keys[r.Name] = r.NATSNkey
		case r.Name != self:
			dirs[r.Name] = r.DataDir
		}
	}
	return keys, dirs
}

// SetRegion replaces the region block of r.Name (a flag overrode part of
// it).
func (t *Topology) SetRegion(r Region) error {
	for i := range t.Regions {
		if t.Regions[i].Name == r.Name {
			t.Regions[i] = r
			return nil
		}
	}
	return fmt.Errorf("no region %q in %s", r.Name, t.Path)
}

// StreamReplicas returns how many servers hold region r's stream.
func (t *Topology) StreamReplicas(r Region) int {
	if r.StreamReplicas > 0 {
		return r.StreamReplicas
	}
	return max(t.Replication.StreamReplicas, 1)
}

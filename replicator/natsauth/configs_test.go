package natsauth_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/globaltables/globaltables/replicator/natsauth"
)

// The example NATS configurations in configs/nats parse with nats-server,
// and single.conf grants exactly what the embedded servers grant.
func TestExampleConfigs_ParseAndMatchTheEmbeddedPermissions(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "configs", "nats")
	src, err := os.ReadFile(filepath.Join(dir, "single.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(src)
	// Real keys for the placeholders, and no TLS block (its files do not
	// exist here).
	keys := map[string]string{}
	for region, ph := range map[string]string{
		"us-east-1":      "UUSEAST1PUBLICKEYFROMNATSIDENTITYPUBXXXXXXXXXXXXXXXXXXXXXX",
		"eu-west-1":      "UEUWEST1PUBLICKEYFROMNATSIDENTITYPUBXXXXXXXXXXXXXXXXXXXXXX",
		"ap-southeast-1": "UAPSOUTHEAST1PUBLICKEYFROMNATSIDENTITYPUBXXXXXXXXXXXXXXXXX",
	} {
		kp, _ := nkeys.CreateUser()
		keys[region], _ = kp.PublicKey()
		conf = strings.ReplaceAll(conf, ph, keys[region])
	}
	start := strings.Index(conf, "\ntls {")
	end := strings.Index(conf[start:], "\n}\n")
	conf = conf[:start] + conf[start+end+2:]
	path := filepath.Join(t.TempDir(), "single.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := natsserver.ProcessConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := natsauth.ServerUsers("us-east-1", keys)
	if len(opts.Nkeys) != len(want) {
		t.Fatalf("%d users, want %d", len(opts.Nkeys), len(want))
	}
	for _, w := range want {
		i := slices.IndexFunc(opts.Nkeys, func(u *natsserver.NkeyUser) bool { return u.Nkey == w.Nkey })
		if i < 0 {
			t.Fatalf("no user %s", w.Nkey)
		}
		got := opts.Nkeys[i].Permissions
		if !sameSet(got.Publish.Allow, w.Permissions.Publish.Allow) || !sameSet(got.Subscribe.Allow, w.Permissions.Subscribe.Allow) ||
			(got.Response == nil) != (w.Permissions.Response == nil) {
			t.Errorf("user %s: config grants %+v / %+v, embedded servers %+v / %+v", w.Nkey,
				got.Publish.Allow, got.Subscribe.Allow, w.Permissions.Publish.Allow, w.Permissions.Subscribe.Allow)
		}
	}
	for _, f := range []string{"cluster-node1.conf", "leafnode-hub.conf"} {
		if _, err := natsserver.ProcessConfigFile(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

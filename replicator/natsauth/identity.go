package natsauth

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Files of a region's identity, in its data folder.
const (
	// SeedFile holds the nkey seed (the secret), mode 0600.
	SeedFile = "nats-identity.nk"
	// PublicFile holds the public key, mode 0644: what servers need.
	PublicFile = "nats-identity.pub"
)

// ErrNoIdentity is returned by ReadPublic when a folder holds no identity
// yet (the region never started there).
var ErrNoIdentity = errors.New("natsauth: no NATS identity yet")

// Identity is a region's nkey user.
type Identity struct {
	// Public is the public key ("U..."), safe to show and share.
	Public string
	kp     nkeys.KeyPair
}

// String shows the public key only.
func (id Identity) String() string { return id.Public }

// GoString keeps %#v from printing the seed.
func (id Identity) GoString() string { return "natsauth.Identity{" + id.Public + "}" }

// Option authenticates a connection as this identity.
func (id Identity) Option() nats.Option {
	return nats.Nkey(id.Public, id.kp.Sign)
}

// LoadOrCreate returns the identity kept in dir, creating it on first use:
// a fresh nkey user seed in dir/SeedFile (0600) and its public key in
// dir/PublicFile (0644). Concurrent callers on the same folder get the same
// identity.
func LoadOrCreate(dir string) (Identity, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Identity{}, fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, SeedFile)
	id, err := LoadSeed(path)
	if errors.Is(err, fs.ErrNotExist) {
		id, err = create(dir)
	}
	if err != nil {
		return Identity{}, err
	}
	pub := filepath.Join(dir, PublicFile)
	if b, err := os.ReadFile(pub); err != nil || strings.TrimSpace(string(b)) != id.Public {
		if err := writeAtomic(pub, []byte(id.Public+"\n"), 0o644, true); err != nil {
			return Identity{}, fmt.Errorf("write public key: %w", err)
		}
	}
	return id, nil
}

// create makes a new seed file, unless another process just did, in which
// case it loads that one.
func create(dir string) (Identity, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return Identity{}, fmt.Errorf("create nkey: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return Identity{}, fmt.Errorf("create nkey: %w", err)
	}
	path := filepath.Join(dir, SeedFile)
	err = writeAtomic(path, append(seed, '\n'), 0o600, false)
	if errors.Is(err, fs.ErrExist) {
		return LoadSeed(path)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("write nkey seed: %w", err)
	}
	pub, _ := kp.PublicKey()
	return Identity{Public: pub, kp: kp}, nil
}

// writeAtomic writes data to a temporary file and moves it to path; with
// replace false it fails with fs.ErrExist if path exists.
func writeAtomic(path string, data []byte, mode os.FileMode, replace bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if replace {
		return os.Rename(tmp, path)
	}
	return os.Link(tmp, path) // fails if path exists
}

// LoadSeed reads an nkey user seed file (one written by LoadOrCreate, or
// one made with `nk -gen user`). The error never holds the seed.
func LoadSeed(path string) (Identity, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Identity{}, fmt.Errorf("read nkey seed: %w", err)
	}
	defer wipe(b)
	kp, err := nkeys.ParseDecoratedUserNKey(b)
	if err != nil {
		return Identity{}, fmt.Errorf("nkey seed %s: not an nkey user seed", path)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return Identity{}, fmt.Errorf("nkey seed %s: %w", path, err)
	}
	return Identity{Public: pub, kp: kp}, nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// ReadPublic returns the public key of the identity in dir, or
// ErrNoIdentity if there is none yet.
func ReadPublic(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, PublicFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w in %s", ErrNoIdentity, dir)
	}
	if err != nil {
		return "", err
	}
	pub := string(bytes.TrimSpace(b))
	if err := ValidPublic(pub); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, PublicFile), err)
	}
	return pub, nil
}

// ValidPublic reports whether s is an nkey user public key.
func ValidPublic(s string) error {
	if !nkeys.IsValidPublicUserKey(s) {
		return fmt.Errorf("%q is not an nkey user public key (U...)", s)
	}
	return nil
}

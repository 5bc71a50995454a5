package region

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/replicator/natsauth"
	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/store"
)

// keysEvery is how often a region looks for peers' public keys that were
// not known when its server started (a peer on this host starting for the
// first time writes its own).
const keysEvery = 500 * time.Millisecond

// knownKeys returns the public keys of every region known now, and the
// regions whose key is still missing.
func (r *replication) knownKeys() (map[string]string, []string) {
	keys := map[string]string{}
	for name, k := range r.cfg.Keys {
		keys[name] = k
	}
	var missing []string
	for name, dir := range r.cfg.KeyDirs {
		if _, ok := keys[name]; ok {
			continue
		}
		k, err := natsauth.ReadPublic(dir)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		keys[name] = k
	}
	sort.Strings(missing)
	return keys, missing
}

// serverConfig is the embedded server's configuration: only the regions
// whose keys are known get in, each with its permissions.
func (r *replication) serverConfig(name, storeDir string) (natsrv.ServerConfig, []string) {
	keys, missing := r.knownKeys()
	return natsrv.ServerConfig{
		Name:         name,
		Listen:       r.cfg.NATSListen,
		StoreDir:     storeDir,
		SyncInterval: r.cfg.SyncInterval,
		Logger:       r.log.Named("nats"),
		Users:        natsauth.ServerUsers(name, keys),
	}, missing
}

// watchKeys adds the peers whose keys appear later to the embedded
// server's users, until every peer is admitted or ctx ends. It looks at
// once: a key may have appeared between the server's start and now.
func (r *replication) watchKeys(ctx context.Context) {
	t := time.NewTicker(keysEvery)
	defer t.Stop()
	for {
		keys, missing := r.knownKeys()
		if len(keys) != len(r.srv.Config().Users) {
			if err := r.srv.SetUsers(natsauth.ServerUsers(r.self, keys)); err != nil {
				r.log.Warn("could not admit new peers to the NATS server", "error", err)
			} else {
				r.log.Info("NATS server admits new peers", "still_missing", missing)
			}
		}
		if len(missing) == 0 && len(keys) == len(r.srv.Config().Users) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ownOptions are the options of the connection to the region's own NATS.
func (r *replication) ownOptions() ([]nats.Option, error) {
	opts, err := r.cfg.Client.Options()
	if err != nil {
		return nil, fmt.Errorf("NATS client settings: %w", err)
	}
	return opts, nil
}

// peerOptions returns the options of the connection to peer's NATS at
// url. With link shaping, every server of url gets a proxy of its own and
// the connection dials only through them and learns no other server, so
// that whichever server of a cluster it reaches, the link's shape holds.
func (r *replication) peerOptions(peer, url string) ([]nats.Option, error) {
	opts, err := r.cfg.PeerClients[peer].Options()
	if err != nil {
		return nil, fmt.Errorf("NATS client settings for %s: %w", peer, err)
	}
	if r.shape == nil {
		return opts, nil
	}
	seeds, err := natsauth.ParseURLs(url)
	if err != nil {
		return nil, fmt.Errorf("peer %s: %w", peer, err)
	}
	ups := make([]string, len(seeds))
	for i, s := range seeds {
		ups[i] = s.Host
	}
	addrs, err := r.shape.AddServers(linkName(peer, r.self), ups)
	if err != nil {
		return nil, err
	}
	d := &natsauth.Dialer{Via: map[string]string{}}
	for i, s := range seeds {
		d.Via[s.Host] = addrs[i]
	}
	return append(opts, d.Options()...), nil
}

// errNoUsers is returned when the embedded server would admit no one.
var errNoUsers = errors.New("no NATS identity for this region: its key is neither in the topology nor in its data folder")

// ownRecordsOnly drops, loudly, the changes replayed from source's stream
// that source could not have written (replicator.CheckOrigin), before
// apply sees them: a catch-up replays a stream like a link does.
func (r *replication) ownRecordsOnly(source string, apply func([]*store.Change) error) func([]*store.Change) error {
	return func(chs []*store.Change) error {
		kept := chs[:0:0]
		for _, ch := range chs {
			if err := replicator.CheckOrigin(source, ch); err != nil {
				r.log.Error("refusing a record whose origin does not match the stream", "source", source, "error", err)
				continue
			}
			kept = append(kept, ch)
		}
		return apply(kept)
	}
}

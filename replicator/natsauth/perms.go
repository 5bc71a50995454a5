package natsauth

import (
	"sort"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Names this package must agree on with package replicator (which imports
// natsauth, not the reverse): the stream GT_<region>, its subjects
// gt.<region>.>, the snapshot service's subject gtsnap.<region>.
func streamName(region string) string    { return "GT_" + region }
func streamSubject(region string) string { return "gt." + region + ".>" }
func snapshotSubject(region string) string {
	return "gtsnap." + region
}

// InboxPrefix is the inbox prefix of region's connections: every reply to
// the region arrives under it, and only the region may subscribe there.
func InboxPrefix(region string) string { return "_INBOX_" + region }

// jsRead is what reading a stream needs from the JetStream API: its info,
// its messages one by one, and consumers (the durable consumer of a link,
// the ordered consumers of catch-up) with their pulls and acks. Consumer
// calls cannot be narrowed to one name (ordered consumers have generated
// names); a region that tampers with another's consumer costs it a
// re-creation from its cursor, never a record.
func jsRead(stream string) []string {
	return []string{
		"$JS.API.INFO",
		"$JS.API.STREAM.INFO." + stream,
		"$JS.API.STREAM.MSG.GET." + stream,
		"$JS.API.DIRECT.GET." + stream,
		"$JS.API.DIRECT.GET." + stream + ".>",
		"$JS.API.CONSUMER.*." + stream,        // list, names
		"$JS.API.CONSUMER.*." + stream + ".>", // create, info, delete
		"$JS.API.CONSUMER.DURABLE.CREATE." + stream + ".*",
		"$JS.API.CONSUMER.MSG.NEXT." + stream + ".*",
		"$JS.ACK." + stream + ".>",
		"$JS.FC." + stream + ".>",
	}
}

// OwnerPermissions are the permissions of region on its own server:
// publish its records, manage its stream, read it back, serve snapshots.
func OwnerPermissions(region string) *server.Permissions {
	stream := streamName(region)
	pub := append([]string{
		streamSubject(region),
		"$JS.API.STREAM.CREATE." + stream,
		"$JS.API.STREAM.UPDATE." + stream,
	}, jsRead(stream)...)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(region) + ".>", snapshotSubject(region)}},
		// Snapshot replies go to the requester's inbox.
		Response: &server.ResponsePermission{MaxMsgs: -1, Expires: time.Minute},
	}
}

// ReaderPermissions are the permissions of region reader on owner's
// server: read owner's stream and ask for its snapshots; publish nothing
// that a stream stores.
func ReaderPermissions(owner, reader string) *server.Permissions {
	pub := append([]string{snapshotSubject(owner)}, jsRead(streamName(owner))...)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(reader) + ".>"}},
	}
}

// ServerUsers returns the nkey users of owner's server: owner itself and
// every other region in keys (region name to public key), with their
// permissions. Regions whose key is unknown are left out (they cannot
// connect until it is known).
func ServerUsers(owner string, keys map[string]string) []*server.NkeyUser {
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*server.NkeyUser
	for _, name := range names {
		perms := ReaderPermissions(owner, name)
		if name == owner {
			perms = OwnerPermissions(owner)
		}
		out = append(out, &server.NkeyUser{Nkey: keys[name], Permissions: perms})
	}
	return out
}

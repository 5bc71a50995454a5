package replicator

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/globaltables/globaltables/store"
)

// ErrInvalidConfig is returned by the constructors and Validate methods for
// a bad configuration.
var ErrInvalidConfig = errors.New("replicator: invalid config")

// Names of the JetStream objects of replication (docs/replication.md,
// "Names"). Table names are hex-encoded in subjects because they may
// contain '.', NATS's token separator.

// StreamName returns the name of region's change stream: GT_<region>.
func StreamName(region string) string { return "GT_" + region }

// StreamSubjects returns the subject filter of region's stream: gt.<region>.>.
func StreamSubjects(region string) string { return "gt." + region + ".>" }

// ItemSubject returns the subject of region's item changes to table.
func ItemSubject(region, table string) string {
	return "gt." + region + ".i." + hex.EncodeToString([]byte(table))
}

// ControlSubject returns the subject of region's control records of table.
func ControlSubject(region, table string) string {
	return "gt." + region + ".c." + hex.EncodeToString([]byte(table))
}

// ChangeSubject returns the subject c is published on by region.
func ChangeSubject(region string, c *store.Change) string {
	if c.Kind == store.ChangeControl {
		return ControlSubject(region, c.Table)
	}
	return ItemSubject(region, c.Table)
}

// SnapshotSubject returns the subject region's snapshot service answers on:
// gtsnap.<region>. It must lie outside the stream's subjects (gt.<region>.>):
// JetStream would otherwise capture every request as a stream message and
// answer it with a publish acknowledgement.
func SnapshotSubject(region string) string { return "gtsnap." + region }

// ConsumerName returns the name of dest's durable consumer on another
// region's stream: repl-<dest>.
func ConsumerName(dest string) string { return "repl-" + dest }

// MsgID returns the Nats-Msg-Id of region's change seq: <region>/<seq>.
func MsgID(region string, seq uint64) string {
	return region + "/" + strconv.FormatUint(seq, 10)
}

// ValidRegion reports whether name can name a region: it becomes a subject
// token, a stream name and a consumer name, so it may hold only ASCII
// letters, digits, '-' and '_', at most 64 of them.
func ValidRegion(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty region name", ErrInvalidConfig)
	}
	if len(name) > 64 {
		return fmt.Errorf("%w: region name %q is longer than 64 bytes", ErrInvalidConfig, name)
	}
	for _, r := range name {
		ok := r == '-' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !ok {
			return fmt.Errorf("%w: region name %q: only letters, digits, '-' and '_' are allowed", ErrInvalidConfig, name)
		}
	}
	return nil
}

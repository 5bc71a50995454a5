package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Position is where a trigger stands in its table's stream: it has
// settled (delivered or logged as undeliverable) every record of Stream's
// shard Shard up to After.
type Position struct {
	// Set is false until the trigger has found its stream.
	Set    bool   `json:"set"`
	Stream uint64 `json:"stream"`
	Shard  uint32 `json:"shard"`
	After  uint64 `json:"after"`
}

// state is a trigger's file: its spec, its position, and counters that
// survive restarts.
type state struct {
	Spec     Spec      `json:"spec"`
	Position Position  `json:"position"`
	Created  time.Time `json:"created"`
	// Delivered counts the records delivered, Failed those written to the
	// on-failure log (each at least once: a redelivery after a crash
	// counts again).
	Delivered int64 `json:"delivered"`
	Failed    int64 `json:"failed"`
}

const stateSuffix = ".json"

// failureSuffix ends the name of a trigger's on-failure log.
const failureSuffix = ".failures.jsonl"

func statePath(dir, name string) string   { return filepath.Join(dir, name+stateSuffix) }
func failurePath(dir, name string) string { return filepath.Join(dir, name+failureSuffix) }

// writeState writes st atomically: a reader (or a restart after a crash)
// sees the old file or the new one, never a torn one.
func writeState(dir string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+st.Spec.Name+".tmp-*")
	if err != nil {
		return fmt.Errorf("save trigger %s: %w", st.Spec.Name, err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, statePath(dir, st.Spec.Name))
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("save trigger %s: %w", st.Spec.Name, werr)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// readStates reads every trigger file in dir, leaving out temporary files
// that a crash left behind.
func readStates(dir string) ([]*state, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read triggers: %w", err)
	}
	var out []*state
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, stateSuffix) {
			if strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") {
				os.Remove(filepath.Join(dir, n))
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("read trigger %s: %w", n, err)
		}
		var st state
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("read trigger %s: %w", n, err)
		}
		if err := st.Spec.Normalize(); err != nil {
			return nil, fmt.Errorf("read trigger %s: %w", n, err)
		}
		out = append(out, &st)
	}
	return out, nil
}

// Failure is one line of a trigger's on-failure log: a batch (a single
// record once bisected) that could not be delivered, or records trimmed
// from the stream before the trigger reached them. Like Lambda's
// on-failure destination it says where the records were in the stream; it
// also holds the records themselves, as the handler would have received
// them.
type Failure struct {
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger"`
	Table   string    `json:"table"`
	// Reason is the last error, or "trimmed" for records that expired
	// before delivery.
	Reason   string `json:"reason"`
	Attempts int    `json:"attempts"`
	// StreamArn, ShardID and the sequence numbers locate the batch.
	StreamArn     string   `json:"streamArn"`
	ShardID       string   `json:"shardId"`
	StartSequence string   `json:"startSequenceNumber"`
	EndSequence   string   `json:"endSequenceNumber"`
	BatchSize     int      `json:"batchSize"`
	Records       []Record `json:"records,omitempty"`
}

// appendFailure appends f to the trigger's on-failure log and syncs it:
// the trigger moves past the records only once they are on disk there.
func appendFailure(dir string, f *Failure) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	file, err := os.OpenFile(failurePath(dir, f.Trigger), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("on-failure log: %w", err)
	}
	_, werr := file.Write(append(b, '\n'))
	if werr == nil {
		werr = file.Sync()
	}
	if cerr := file.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("on-failure log: %w", werr)
	}
	return nil
}

package streamtail

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Where a tail starts.
const (
	FromTrimHorizon = "trim-horizon"
	FromLatest      = "latest"
)

// DefaultPoll is how long a follower waits after an empty read.
const DefaultPoll = 250 * time.Millisecond

// Line is one record as tail shows it.
type Line struct {
	// Region is the region whose stream holds the record.
	Region string
	Time   time.Time
	Event  string // INSERT, MODIFY, REMOVE
	// Key is the compact key: "Artist=Acme Band, SongTitle=Happy Day".
	Key string
	// Origin is the region of the write; "" if the region did not say.
	Origin string
	// Overwrote marks a replicated change that won over a concurrent
	// local write.
	Overwrote bool
	// TTL marks a deletion by the TTL sweeper.
	TTL bool
	// Raw is the record as GetRecords returned it.
	Raw json.RawMessage
}

// String renders the line for a terminal.
func (l Line) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-14s %-6s  %s", l.Time.UTC().Format("15:04:05"), l.Region, l.Event, l.Key)
	if l.Origin != "" {
		fmt.Fprintf(&b, "  origin %s", l.Origin)
	}
	if l.TTL {
		b.WriteString("  (TTL deletion)")
	}
	if l.Overwrote {
		b.WriteString("  (overwrote a concurrent local write)")
	}
	return b.String()
}

// Options say what to follow.
type Options struct {
	Table string
	// From is FromTrimHorizon (default) or FromLatest.
	From string
	// Poll is the wait after an empty read; default DefaultPoll.
	Poll time.Duration
	// Notice, if set, receives messages about the tail itself (waiting
	// for a stream, following a new one).
	Notice func(region, msg string)
}

// Follow follows table's stream in every endpoint until ctx is
// cancelled, calling emit for each record (one call at a time, records of
// one region in stream order). It returns nil once ctx is cancelled, or
// the first error of a region that cannot be followed.
func Follow(ctx context.Context, eps []*Endpoint, o Options, emit func(Line)) error {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.From == "" {
		o.From = FromTrimHorizon
	}
	if o.From != FromTrimHorizon && o.From != FromLatest {
		return fmt.Errorf("from %q: use %s or %s", o.From, FromTrimHorizon, FromLatest)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // serializes emit
	errc := make(chan error, len(eps))
	var wg sync.WaitGroup
	for _, ep := range eps {
		f := &follower{ep: ep, o: o, emit: func(l Line) {
			mu.Lock()
			defer mu.Unlock()
			emit(l)
		}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.run(ctx); err != nil && ctx.Err() == nil {
				errc <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// follower follows one region's stream of the table.
type follower struct {
	ep   *Endpoint
	o    Options
	emit func(Line)
	keys []string // key attribute names, hash first
}

func (f *follower) notice(msg string) {
	if f.o.Notice != nil {
		f.o.Notice(f.ep.Region, msg)
	}
}

func (f *follower) run(ctx context.Context) error {
	arn, err := f.waitStream(ctx, "")
	if err != nil || arn == "" {
		return err
	}
	d, err := f.ep.describe(ctx, arn)
	if err != nil {
		return err
	}
	f.setKeys(d)
	if len(d.Shards) == 0 {
		return fmt.Errorf("stream %s in %s has no shard", arn, f.ep.Region)
	}
	cur, typ := d.Shards[0], "TRIM_HORIZON"
	if f.o.From == FromLatest {
		cur, typ = d.Shards[len(d.Shards)-1], "LATEST"
	}
	for ctx.Err() == nil {
		if err := f.readShard(ctx, arn, cur, typ); err != nil {
			return err
		}
		next, nextArn, err := f.successor(ctx, arn, cur)
		if err != nil {
			return err
		}
		cur, arn, typ = next, nextArn, "TRIM_HORIZON"
	}
	return nil
}

// waitStream returns the table's newest stream other than old, polling
// until there is one.
func (f *follower) waitStream(ctx context.Context, old string) (string, error) {
	said := false
	for {
		arn, err := f.ep.latestStream(ctx, f.o.Table)
		if err != nil {
			return "", err
		}
		if arn != "" && arn != old {
			return arn, nil
		}
		if !said && old == "" {
			f.notice(fmt.Sprintf("table %s has no stream here yet: waiting (enable one with update-table --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)", f.o.Table))
			said = true
		}
		if !sleep(ctx, 4*f.o.Poll) {
			return "", nil
		}
	}
}

func (f *follower) setKeys(d *streamDescription) {
	ks := append([]keySchemaElement(nil), d.KeySchema...)
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].KeyType == "HASH" && ks[j].KeyType != "HASH" })
	f.keys = f.keys[:0]
	for _, k := range ks {
		f.keys = append(f.keys, k.AttributeName)
	}
}

// readShard reads a shard to its end (a closed shard's last record) or
// until ctx is cancelled.
func (f *follower) readShard(ctx context.Context, arn string, sh shard, typ string) error {
	it, err := f.ep.iterator(ctx, arn, sh.ShardID, typ, "")
	if err != nil {
		return err
	}
	last := ""
	for it != "" {
		recs, next, err := f.ep.records(ctx, it)
		switch {
		case ctx.Err() != nil:
			return nil
		case isAPIError(err, "ExpiredIteratorException"):
			typ, seq := "TRIM_HORIZON", ""
			if last != "" {
				typ, seq = "AFTER_SEQUENCE_NUMBER", last
			}
			if it, err = f.ep.iterator(ctx, arn, sh.ShardID, typ, seq); err != nil {
				return err
			}
			continue
		case isAPIError(err, "TrimmedDataAccessException"):
			f.notice("records expired before tail read them: continuing from the oldest kept")
			if it, err = f.ep.iterator(ctx, arn, sh.ShardID, "TRIM_HORIZON", ""); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		for _, raw := range recs {
			l, err := f.line(raw)
			if err != nil {
				return fmt.Errorf("record from %s: %w", f.ep.Region, err)
			}
			last = l.seq
			f.emit(l.Line)
		}
		it = next
		if len(recs) == 0 && it != "" && !sleep(ctx, f.o.Poll) {
			return nil
		}
	}
	return nil
}

// successor returns the shard to read after an exhausted one: its child,
// or the first shard of the table's newer stream once this one ended.
func (f *follower) successor(ctx context.Context, arn string, done shard) (shard, string, error) {
	for {
		d, err := f.ep.describe(ctx, arn)
		if err != nil && !isAPIError(err, "ResourceNotFoundException") {
			return shard{}, "", err
		}
		if err == nil {
			for _, s := range d.Shards {
				if s.ParentShardID == done.ShardID {
					return s, arn, nil
				}
			}
		}
		if err != nil || d.StreamStatus == "DISABLED" || d.StreamStatus == "DISABLING" {
			newer, err := f.ep.latestStream(ctx, f.o.Table)
			if err != nil {
				return shard{}, "", err
			}
			if newer != "" && newer != arn {
				nd, err := f.ep.describe(ctx, newer)
				if err != nil {
					return shard{}, "", err
				}
				if len(nd.Shards) > 0 {
					f.setKeys(nd)
					f.notice("the table's stream was re-enabled: following the new one, " + newer)
					return nd.Shards[0], newer, nil
				}
			}
		}
		if !sleep(ctx, f.o.Poll) {
			return shard{}, "", ctx.Err()
		}
	}
}

type parsedLine struct {
	Line
	seq string
}

// line parses a GetRecords record.
func (f *follower) line(raw json.RawMessage) (parsedLine, error) {
	var r streamRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return parsedLine{}, err
	}
	sec, frac := math.Modf(r.Dynamodb.ApproximateCreationDateTime)
	l := parsedLine{seq: r.Dynamodb.SequenceNumber, Line: Line{Region: f.ep.Region, Event: r.EventName,
		Time: time.Unix(int64(sec), int64(frac*1e9)), Key: compactKey(r.Dynamodb.Keys, f.keys),
		TTL: r.UserIdentity != nil && r.UserIdentity.Type == "Service", Raw: raw}}
	if g := r.Globaltables; g != nil {
		l.Origin, l.Overwrote = g.OriginRegion, g.OverwroteLocal
	}
	return l, nil
}

// compactKey renders a record's keys as "Artist=Acme Band, SongTitle=Happy
// Day", in the order of order (hash key first), then any other by name.
func compactKey(keys map[string]json.RawMessage, order []string) string {
	names := make([]string, 0, len(keys))
	seen := map[string]bool{}
	for _, n := range order {
		if _, ok := keys[n]; ok {
			names, seen[n] = append(names, n), true
		}
	}
	var rest []string
	for n := range keys {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	parts := make([]string, 0, len(keys))
	for _, n := range append(names, rest...) {
		parts = append(parts, n+"="+scalar(keys[n]))
	}
	return strings.Join(parts, ", ")
}

// scalar renders a key attribute value ({"S": "x"}, {"N": "1"}, {"B":
// "..."}) as its bare value.
func scalar(raw json.RawMessage) string {
	var v map[string]any
	if json.Unmarshal(raw, &v) == nil && len(v) == 1 {
		for _, x := range v {
			if s, ok := x.(string); ok {
				return s
			}
		}
	}
	return string(raw)
}

// sleep waits d; false if ctx was cancelled first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

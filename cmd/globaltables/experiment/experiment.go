// Package experiment drives a workload through the DynamoDB API of running
// regions and measures what replication does to it: latency per link over
// time, conflicts (and which of them skewed clocks decided), stale reads,
// and the time the regions take to converge once the load stops.
//
// Measures are exact where they can be: every write's response carries the
// version it made and the item's causal context (the x-globaltables-*
// headers), every written value names its write, and the regions' conflict
// logs name both versions of every conflict. The workload is a pure
// function of its configuration and seed: the same seed gives the same
// sequence of operations.
package experiment

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region/api"
)

// Config describes one experiment.
type Config struct {
	// Endpoints maps each region to its DynamoDB endpoint URL.
	Endpoints map[string]string `json:"endpoints"`
	// WriteRegions are the regions that take writes; default all.
	WriteRegions []string `json:"write_regions,omitempty"`
	// Table is the global table used; it must exist in every region.
	Table string `json:"table"`
	// Keys is the number of distinct keys. Default 100.
	Keys int `json:"keys"`
	// Zipf, if above 1, draws keys from a Zipf distribution with that
	// exponent (hot keys); otherwise keys are uniform.
	Zipf float64 `json:"zipf,omitempty"`
	// Rate is the operations per second in each writing region. Default 50.
	Rate float64 `json:"rate_per_region"`
	// ReadRatio is the fraction of operations that are reads. Default 0.3.
	ReadRatio float64 `json:"read_ratio"`
	// ItemSize is the payload size of written items, bytes. Default 100.
	ItemSize int `json:"item_size"`
	// Duration of the load. Default 10s.
	Duration time.Duration `json:"duration_ns"`
	// Seed makes the workload repeatable.
	Seed int64 `json:"seed"`
	// Failover sends a write that failed in its region to the other
	// regions in turn, as a client of a region that went down would.
	Failover bool `json:"failover,omitempty"`
}

func (c *Config) defaults() {
	if len(c.WriteRegions) == 0 {
		for r := range c.Endpoints {
			c.WriteRegions = append(c.WriteRegions, r)
		}
		sort.Strings(c.WriteRegions)
	}
	if c.Keys <= 0 {
		c.Keys = 100
	}
	if c.Rate <= 0 {
		c.Rate = 50
	}
	if c.ReadRatio < 0 || c.ReadRatio >= 1 {
		c.ReadRatio = 0.3
	}
	if c.ItemSize <= 0 {
		c.ItemSize = 100
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
}

// Write is one write the workload made.
type Write struct {
	ID      string           `json:"id"`
	Region  string           `json:"region"`
	Key     string           `json:"key"`
	Start   time.Time        `json:"start"`
	Acked   time.Time        `json:"acked,omitzero"`
	Err     string           `json:"error,omitempty"`
	Version conflict.Version `json:"-"`
	Token   string           `json:"version,omitempty"`
	// RetryOf names the write this one retried in another region, after
	// its own region refused it (Config.Failover); FailedOver marks a
	// refused write that such a retry then made.
	RetryOf    string `json:"retry_of,omitempty"`
	FailedOver bool   `json:"failed_over,omitempty"`
}

// Read is one read the workload made, and whether it was stale.
type Read struct {
	Region string    `json:"region"`
	Key    string    `json:"key"`
	Start  time.Time `json:"start"`
	// Err is why the read failed ("" if it was answered).
	Err string `json:"error,omitempty"`
	// Saw is the write whose value the read returned ("" for nothing).
	Saw string `json:"saw,omitempty"`
	// Missed is the newest write acknowledged anywhere before the read
	// began that the read did not reflect ("" if the read was fresh).
	Missed string `json:"missed,omitempty"`
	// StaleBy is how long before the read that missed write was
	// acknowledged.
	StaleBy time.Duration `json:"stale_by_ns,omitempty"`
}

// Run drives the workload until its duration is up or ctx ends, and
// returns what it recorded; Analyse turns it into results once the regions
// have converged.
func Run(ctx context.Context, cfg Config) (*Recording, error) {
	rec := NewRecording(cfg)
	rec.Run(ctx)
	return rec, nil
}

// NewRecording returns an empty recording of the workload cfg describes;
// its Run drives it. Monitors that follow the run's writes take it before
// the load starts.
func NewRecording(cfg Config) *Recording {
	cfg.defaults()
	return &Recording{Config: cfg, writesByID: map[string]*Write{}, writesByKey: map[string][]*Write{},
		lastAcked: map[string]*Write{}}
}

// Run drives the workload until its duration is up or ctx ends. It sets
// Began and Ended, and Interrupted when ctx ended first.
func (rec *Recording) Run(ctx context.Context) {
	cfg := rec.Config
	clients := map[string]*dynamodb.Client{}
	for r, ep := range cfg.Endpoints {
		clients[r] = bench.Client(ep, 16)
	}
	rec.mu.Lock()
	rec.Began = time.Now()
	rec.mu.Unlock()
	var wg sync.WaitGroup
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	for i, region := range cfg.WriteRegions {
		wg.Add(1)
		go func(i int, region string) {
			defer wg.Done()
			rec.drive(lctx, cfg, region, clients, rand.New(rand.NewSource(cfg.Seed+int64(i))))
		}(i, region)
	}
	wg.Wait()
	rec.mu.Lock()
	rec.Ended = time.Now()
	rec.Interrupted = ctx.Err() != nil
	rec.mu.Unlock()
}

// Recording is what a run recorded.
type Recording struct {
	Config Config    `json:"config"`
	Began  time.Time `json:"began"`
	Ended  time.Time `json:"ended"`
	// Interrupted is set when the run was cancelled (Ctrl-C) before its
	// duration was up.
	Interrupted bool `json:"interrupted,omitempty"`

	mu         sync.Mutex // guards the fields below, and Began and Ended while Run runs
	Writes     []*Write   `json:"writes"`
	Reads      []*Read    `json:"reads"`
	writesByID map[string]*Write
	// writesByKey indexes Writes for the stale-read check.
	writesByKey map[string][]*Write
	// lastAcked is each region's newest acknowledged write, for probes.
	lastAcked map[string]*Write
}

// Counts returns what the run did so far: client writes (a failed-over
// write counts once), reads (answered or not), and operations that failed
// for good. They are Tally's figures.
func (rec *Recording) Counts() (writes, reads, errors int) {
	t := rec.Tally(nil)
	return t.Writes, t.Reads, t.WriteErrors + t.ReadErrors
}

// LastAcked returns region's newest acknowledged write, or nil.
func (rec *Recording) LastAcked(region string) *Write {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.lastAcked[region]
}

// WriteByID returns the write that left value id, or nil.
func (rec *Recording) WriteByID(id string) *Write {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.writesByID[id]
}

// keyOf draws a key.
func keyOf(cfg Config, rng *rand.Rand, z *rand.Zipf) string {
	if z != nil {
		return fmt.Sprintf("k%05d", z.Uint64())
	}
	return fmt.Sprintf("k%05d", rng.Intn(cfg.Keys))
}

// drive runs one region's operations at the configured rate until ctx ends.
func (rec *Recording) drive(ctx context.Context, cfg Config, region string, clients map[string]*dynamodb.Client, rng *rand.Rand) {
	var z *rand.Zipf
	if cfg.Zipf > 1 {
		z = rand.NewZipf(rng, cfg.Zipf, 1, uint64(cfg.Keys-1))
	}
	client := clients[region]
	payload := strings.Repeat("x", cfg.ItemSize)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	next := time.Now()
	for n := 0; ; n++ {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			return
		}
		key := keyOf(cfg, rng, z)
		if rng.Float64() < cfg.ReadRatio {
			rec.read(client, region, cfg.Table, key)
			continue
		}
		id := fmt.Sprintf("%s-%d", region, n)
		w := rec.write(client, region, cfg.Table, key, id, "", payload)
		if w.Err != "" && cfg.Failover {
			// The region refused the write: try the others, in order.
			for i, other := range cfg.WriteRegions {
				if other != region && rec.write(clients[other], other, cfg.Table, key, fmt.Sprintf("%s-f%d", id, i), id, payload).Err == "" {
					rec.mu.Lock()
					w.FailedOver = true
					rec.mu.Unlock()
					break
				}
			}
		}
	}
}

// write makes one write (a retry of write retryOf, if not "") and records
// it.
func (rec *Recording) write(c *dynamodb.Client, region, table, key, id, retryOf, payload string) *Write {
	w := &Write{ID: id, Region: region, Key: key, Start: time.Now(), RetryOf: retryOf}
	var version string
	_, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: key},
			"w":  &types.AttributeValueMemberS{Value: id},
			"p":  &types.AttributeValueMemberS{Value: payload},
		}}, captureVersion(&version))
	if err != nil {
		w.Err = err.Error()
	} else {
		w.Acked = time.Now()
		w.Token = version
		w.Version, _ = conflict.ParseToken(version)
	}
	rec.mu.Lock()
	rec.Writes = append(rec.Writes, w)
	rec.writesByID[id] = w
	rec.writesByKey[key] = append(rec.writesByKey[key], w)
	if w.Err == "" {
		rec.lastAcked[region] = w
	}
	rec.mu.Unlock()
	return w
}

func (rec *Recording) read(c *dynamodb.Client, region, table, key string) {
	r := &Read{Region: region, Key: key, Start: time.Now()}
	// The newest write to key acknowledged anywhere before the read began.
	var newest *Write
	rec.mu.Lock()
	for _, w := range rec.writesByKey[key] {
		if !w.Acked.IsZero() && w.Acked.Before(r.Start) && (newest == nil || newest.Version.Less(w.Version)) {
			newest = w
		}
	}
	rec.mu.Unlock()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		r.Err = err.Error()
		rec.mu.Lock()
		rec.Reads = append(rec.Reads, r)
		rec.mu.Unlock()
		return
	}
	if v, ok := out.Item["w"].(*types.AttributeValueMemberS); ok {
		r.Saw = v.Value
	}
	if newest != nil && r.Saw != newest.ID {
		rec.mu.Lock()
		saw := rec.writesByID[r.Saw]
		rec.mu.Unlock()
		// Stale if what the read returned is older than the newest
		// acknowledged write (a newer value is not stale, only later).
		if saw == nil || saw.Version.Less(newest.Version) {
			r.Missed = newest.ID
			r.StaleBy = r.Start.Sub(newest.Acked)
		}
	}
	rec.mu.Lock()
	rec.Reads = append(rec.Reads, r)
	rec.mu.Unlock()
}

// captureVersion records the version header of a write's response.
func captureVersion(dst *string) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("experimentVersion",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.StatusCode == http.StatusOK {
						*dst = resp.Header.Get(api.VersionHeader)
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

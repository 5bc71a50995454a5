// Package bench drives a DynamoDB endpoint with a fixed mix of PutItem and
// GetItem calls from concurrent workers, through the real AWS SDK, and
// reports throughput and latency percentiles. It measures any endpoint that
// speaks DynamoDB's API, so globaltables and other implementations are
// measured with exactly the same client and load.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Config describes one benchmark run.
type Config struct {
	// Endpoint is the DynamoDB endpoint URL.
	Endpoint string
	// Table is the table to use; it is created (hash key "pk" of type S) if
	// it does not exist.
	Table string
	// Workers is the number of concurrent clients. Default 8.
	Workers int
	// Duration is how long the measured phase lasts. Default 10s.
	Duration time.Duration
	// Warmup runs the load unmeasured before the measured phase; zero
	// skips it.
	Warmup time.Duration
	// ItemSize is the size of the written items' payload in bytes. Default 200.
	ItemSize int
	// ReadRatio is the fraction of operations that are GetItem. Default 0.5.
	ReadRatio float64
	// Keys is the number of distinct keys; they are written once before the
	// run so that reads find items. Default 10000.
	Keys int
	// Seed makes the key sequence repeatable.
	Seed uint64
	// ServerPID, if not zero, is the process serving Endpoint on this
	// machine: its CPU time over the measured phase, divided by the
	// operations, is reported as Result.ServerCPUPerOp. The SDK client
	// costs more CPU per call than a fast server, so on a small machine
	// operations per second measure the client; CPU per operation
	// measures the server.
	ServerPID int
}

// Result is what a run measured.
type Result struct {
	Endpoint  string        `json:"endpoint"`
	Ops       int64         `json:"ops"`
	Errors    int64         `json:"errors"`
	Duration  time.Duration `json:"duration_ns"`
	OpsPerSec float64       `json:"ops_per_sec"`
	P50       time.Duration `json:"p50_ns"`
	P90       time.Duration `json:"p90_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`
	// ServerCPUPerOp is the server's CPU time (user plus system) over the
	// measured phase divided by Ops; zero, and absent from JSON, when not
	// measured (no ServerPID).
	ServerCPUPerOp time.Duration `json:"server_cpu_per_op_ns,omitempty"`
	// FirstError is the first error a worker saw, for diagnosis.
	FirstError string `json:"first_error,omitempty"`
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.ItemSize <= 0 {
		c.ItemSize = 200
	}
	if c.ReadRatio < 0 || c.ReadRatio > 1 {
		c.ReadRatio = 0.5
	}
	if c.Keys <= 0 {
		c.Keys = 10000
	}
	if c.Table == "" {
		c.Table = "bench"
	}
}

// Client returns an SDK client for endpoint with dummy credentials, enough
// connections for the workers, and the SDK's retries off, so that the
// figures count every error instead of hiding it in retries.
func Client(endpoint string, workers int) *dynamodb.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers * 2
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: tr},
	})
}

// Run prepares the table, writes every key once, runs the warmup and then
// the measured load.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	c := Client(cfg.Endpoint, cfg.Workers)
	if err := ensureTable(ctx, c, cfg.Table); err != nil {
		return nil, err
	}
	payload := make([]byte, cfg.ItemSize/2)
	rand.Read(payload)
	value := hex.EncodeToString(payload)
	if err := preload(ctx, c, cfg, value); err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	if cfg.Warmup > 0 {
		if _, err := load(ctx, c, cfg, cfg.Warmup, value, cfg.Seed+1); err != nil {
			return nil, err
		}
	}
	var cpu0 time.Duration
	if cfg.ServerPID != 0 {
		var err error
		if cpu0, err = processCPU(cfg.ServerPID); err != nil {
			return nil, err
		}
	}
	r, err := load(ctx, c, cfg, cfg.Duration, value, cfg.Seed+2)
	if err != nil || cfg.ServerPID == 0 {
		return r, err
	}
	cpu1, err := processCPU(cfg.ServerPID)
	if err != nil {
		return nil, err
	}
	if r.Ops > 0 {
		r.ServerCPUPerOp = (cpu1 - cpu0) / time.Duration(r.Ops)
	}
	return r, nil
}

func ensureTable(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	return w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute)
}

func key(i int) string { return "key-" + strconv.Itoa(i) }

func preload(ctx context.Context, c *dynamodb.Client, cfg Config, value string) error {
	const batch = 25
	for start := 0; start < cfg.Keys; start += batch {
		reqs := make([]types.WriteRequest, 0, batch)
		for i := start; i < start+batch && i < cfg.Keys; i++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: key(i)}, "v": &types.AttributeValueMemberS{Value: value}}}})
		}
		req := map[string][]types.WriteRequest{cfg.Table: reqs}
		for len(req) > 0 {
			out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return err
			}
			req = out.UnprocessedItems
		}
	}
	return nil
}

// load runs the workers for d and merges what they measured.
func load(ctx context.Context, c *dynamodb.Client, cfg Config, d time.Duration, value string, seed uint64) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type workerResult struct {
		hist     *hdrhistogram.Histogram
		ops, err int64
		firstErr error
	}
	results := make([]workerResult, cfg.Workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(seed, uint64(w)))
			res := workerResult{hist: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)}
			for ctx.Err() == nil {
				k := &types.AttributeValueMemberS{Value: key(rng.IntN(cfg.Keys))}
				t0 := time.Now()
				var err error
				if rng.Float64() < cfg.ReadRatio {
					_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(cfg.Table),
						Key: map[string]types.AttributeValue{"pk": k}})
				} else {
					_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(cfg.Table),
						Item: map[string]types.AttributeValue{"pk": k, "v": &types.AttributeValueMemberS{Value: value}}})
				}
				if ctx.Err() != nil {
					break // the call was cut short by the end of the run
				}
				if err != nil {
					res.err++
					if res.firstErr == nil {
						res.firstErr = err
					}
					continue
				}
				res.ops++
				res.hist.RecordValue(time.Since(t0).Microseconds())
			}
			results[w] = res
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	out := &Result{Endpoint: cfg.Endpoint, Duration: elapsed}
	for _, r := range results {
		total.Merge(r.hist)
		out.Ops += r.ops
		out.Errors += r.err
		if r.firstErr != nil && out.FirstError == "" {
			out.FirstError = r.firstErr.Error()
		}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	out.OpsPerSec = float64(out.Ops) / elapsed.Seconds()
	out.P50, out.P90, out.P99 = us(total.ValueAtQuantile(50)), us(total.ValueAtQuantile(90)), us(total.ValueAtQuantile(99))
	out.Max = us(total.Max())
	return out, nil
}

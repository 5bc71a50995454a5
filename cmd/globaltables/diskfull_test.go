package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/store/storetest"
)

// isDiskFull reports whether err is the 500 InternalServerError of a full
// disk, with a message naming the cause.
func isDiskFull(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InternalServerError" &&
		strings.Contains(ae.ErrorMessage(), "no space left on device")
}

func putBig(ctx context.Context, c *dynamodb.Client, key string, size int) error {
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Full"), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: key},
		"v":  &types.AttributeValueMemberS{Value: key},
		"b":  &types.AttributeValueMemberB{Value: make([]byte, size)},
	}})
	return err
}

// TestRegion_DiskFullIsAnErrorNotACrash fills a small disk through the API
// (issue 7, finding 4): writes get 500 InternalServerError naming the cause,
// the process lives on and serves reads, writes succeed again once space
// is freed, every acknowledged write survives a restart, and a region
// started on a full disk serves reads and takes writes once space frees.
func TestRegion_DiskFullIsAnErrorNotACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("disk-full test: skipped in -short mode")
	}
	disk := storetest.SmallDisk(t, 64)
	filler := filepath.Join(disk, "filler")
	storetest.Fill(t, filler, 36<<20)
	// 1 MiB memtables: the default reserve is then 9 MiB + 8 MiB.
	args := []string{"--name", "us-east-1", "--listen", "127.0.0.1:0", "--data", filepath.Join(disk, "region"),
		"--memtable-mb", "1", "--ttl-interval", "1h"}
	p := startRegionProc(t, args...)
	ctx := context.Background()
	c := regiontest.NewClient(p.URL)
	createFullTable(t, c)

	// Four writers of 200 KiB items (value log) until each has been refused.
	var mu sync.Mutex
	acked := map[string]bool{}
	var refusal error
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				err := putBig(ctx, c, key, 200<<10)
				mu.Lock()
				if err == nil {
					acked[key] = true
				} else if refusal == nil || !isDiskFull(refusal) {
					refusal = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-p.exited:
		t.Fatalf("region died on a full disk (%v):\n%s", refusal, p.Log())
	default:
	}
	if !isDiskFull(refusal) {
		t.Fatalf("write on a full disk: got %v, want 500 InternalServerError naming the cause", refusal)
	}
	t.Logf("%d writes acknowledged, then: %v", len(acked), refusal)
	if len(acked) < 10 {
		t.Fatalf("only %d writes acknowledged before the disk filled", len(acked))
	}
	// Reads go on, and the status says why writes fail.
	if got := scanKeys(t, c); !covers(got, acked) {
		t.Fatalf("after the refusals a scan misses acknowledged items")
	}
	st := regionStatus(t, p.URL)
	if st.Disk == nil || !st.Disk.Full || st.Disk.ReserveBytes == 0 {
		t.Fatalf("status does not report the full disk: %+v", st.Disk)
	}

	// Space freed: writes succeed again without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	regiontest.WaitFor(t, 30*time.Second, func() error { return putBig(ctx, c, "after-free", 1024) })
	acked["after-free"] = true
	if st := regionStatus(t, p.URL); st.Disk == nil || st.Disk.Full {
		t.Fatalf("status still reports a full disk after space was freed: %+v", st.Disk)
	}

	// Every acknowledged write survives a restart.
	p.Stop(t)
	p = startRegionProc(t, args...)
	c = regiontest.NewClient(p.URL)
	if got := scanKeys(t, c); !covers(got, acked) {
		t.Fatalf("acknowledged writes lost over a restart")
	}

	// A region started on a full disk serves reads, refuses writes, and
	// takes them again once space frees.
	p.Stop(t)
	storetest.Fill(t, filler, -1)
	p = startRegionProc(t, args...)
	c = regiontest.NewClient(p.URL)
	if got := scanKeys(t, c); !covers(got, acked) {
		t.Fatalf("region started on a full disk misses acknowledged items")
	}
	if err := putBig(ctx, c, "on-full-start", 1024); !isDiskFull(err) {
		t.Fatalf("write to a region started on a full disk: got %v, want 500 InternalServerError naming the cause", err)
	}
	if st := regionStatus(t, p.URL); st.Disk == nil || !st.Disk.ReadOnly {
		t.Fatalf("status does not report the read-only start: %+v", st.Disk)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	regiontest.WaitFor(t, 30*time.Second, func() error { return putBig(ctx, c, "after-read-only", 1024) })
	acked["after-read-only"] = true
	p.Stop(t)
	p = startRegionProc(t, args...)
	if got := scanKeys(t, regiontest.NewClient(p.URL)); !covers(got, acked) {
		t.Fatalf("acknowledged writes lost after the read-only start")
	}
	p.Stop(t)
}

func scanKeys(t *testing.T, c *dynamodb.Client) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	pg := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String("Full"), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("pk")})
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		for _, it := range page.Items {
			out[it["pk"].(*types.AttributeValueMemberS).Value] = true
		}
	}
	return out
}

// covers reports whether got holds every key of want.
func covers(got, want map[string]bool) bool {
	for k := range want {
		if !got[k] {
			return false
		}
	}
	return true
}

func regionStatus(t *testing.T, url string) *region.Status {
	t.Helper()
	var st region.Status
	if err := getJSON(context.Background(), url+region.StatusPath, &st); err != nil {
		t.Fatalf("status: %v", err)
	}
	return &st
}

// TestReplication_DiskFullStreamRetriedAndReplicated runs two regions, the
// first on a small disk with less free space than its stream's
// stream_max_mb (issue 7, finding 4: its stream was never created, so its
// acknowledged writes never reached the other region). The region fills
// its disk through the API; its status reports the full disk and the
// paused publisher; once space is freed, every acknowledged write reaches
// the other region.
func TestReplication_DiskFullStreamRetriedAndReplicated(t *testing.T) {
	if testing.Short() {
		t.Skip("disk-full test: skipped in -short mode")
	}
	disk := storetest.SmallDisk(t, 64)
	filler := filepath.Join(disk, "filler")
	storetest.Fill(t, filler, 36<<20)
	dir := t.TempDir()
	ports := freePorts(t, 4)
	topo := fmt.Sprintf(`data_dir = %q
global_tables = true
ttl_interval = "1h"
replication {
  stream_max_mb = 64
}
region "us-east-1" {
  listen = "127.0.0.1:%d"
  nats_listen = "127.0.0.1:%d"
  data_dir = %q
}
region "eu-west-1" {
  listen = "127.0.0.1:%d"
  nats_listen = "127.0.0.1:%d"
}
`, filepath.Join(dir, "data"), ports[0], ports[1], filepath.Join(disk, "us-east-1"), ports[2], ports[3])
	path := filepath.Join(dir, "topology.hcl")
	if err := os.WriteFile(path, []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	full := startRegionProc(t, "--config", path, "--name", "us-east-1", "--memtable-mb", "1")
	other := startRegionProc(t, "--config", path, "--name", "eu-west-1")
	ctx := context.Background()
	c := regiontest.NewClient(full.URL)
	createFullTable(t, c)
	oc := regiontest.NewClient(other.URL)
	regiontest.WaitFor(t, time.Minute, func() error {
		_, err := oc.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Full")})
		return err
	})

	acked := map[string]bool{}
	var refusal error
	for i := 0; refusal == nil; i++ {
		key := fmt.Sprintf("k%d", i)
		if err := putBig(ctx, c, key, 200<<10); err != nil {
			refusal = err
		} else {
			acked[key] = true
		}
	}
	if !isDiskFull(refusal) {
		t.Fatalf("write on a full disk: got %v, want 500 InternalServerError naming the cause", refusal)
	}
	t.Logf("%d writes acknowledged, then: %v", len(acked), refusal)
	regiontest.WaitFor(t, time.Minute, func() error {
		st := regionStatus(t, full.URL)
		if st.Disk == nil || !st.Disk.Full || st.Publisher == nil || !st.Publisher.DiskFull || st.Publisher.StreamError == "" {
			return fmt.Errorf("status does not report the full disk and the paused publisher: disk %+v, publisher %+v", st.Disk, st.Publisher)
		}
		return nil
	})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	regiontest.WaitFor(t, 2*time.Minute, func() error {
		got := scanKeys(t, oc)
		for k := range acked {
			if !got[k] {
				return fmt.Errorf("%s: acknowledged in us-east-1, not in eu-west-1 (%d of %d there)", k, len(got), len(acked))
			}
		}
		return nil
	})
	regiontest.WaitFor(t, time.Minute, func() error {
		if st := regionStatus(t, full.URL); st.Publisher == nil || st.Publisher.StreamError != "" || st.Disk == nil || st.Disk.Full {
			return fmt.Errorf("status still reports a failure: disk %+v, publisher %+v", st.Disk, st.Publisher)
		}
		return nil
	})
}

// createFullTable creates the table the disk-full tests write to.
func createFullTable(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	if _, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("Full"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
}

package region_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/api/sigv4"
	"github.com/globaltables/globaltables/region/metrics/metricstest"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/replicator/shaper"
)

// scrape reads a region's /metrics with its control token.
func scrape(t *testing.T, r *region.Region) metricstest.Families {
	t.Helper()
	tok, err := region.ReadControlToken(r.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	fams, err := metricstest.Scrape(context.Background(), nil, r.URL()+"/metrics", tok)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// outbound returns source's view of its link to dest.
func outbound(r *region.Region, dest string) (region.OutboundStatus, error) {
	for _, o := range r.Status().Outbound {
		if o.Dest == dest {
			return o, nil
		}
	}
	return region.OutboundStatus{}, fmt.Errorf("no outbound link to %s", dest)
}

// waitPending waits until source's outbound link to dest has exactly want
// changes pending, measured at source.
func waitPending(t *testing.T, source *region.Region, dest string, want uint64) {
	t.Helper()
	regiontest.WaitFor(t, 60*time.Second, func() error {
		o, err := outbound(source, dest)
		if err != nil {
			return err
		}
		if o.Pending == nil {
			return fmt.Errorf("pending to %s unknown: %s", dest, o.Unknown)
		}
		if *o.Pending != want {
			return fmt.Errorf("pending to %s is %d, want %d (stream %d, ack floor %d)", dest, *o.Pending, want, o.LastSeq, o.AckFloor)
		}
		return nil
	})
}

// setShape reshapes dest's inbound link from source through its control
// endpoint, as `globaltables link` does.
func setShape(t *testing.T, dest *region.Region, source string, sh shaper.Shape) {
	t.Helper()
	tok, err := region.ReadControlToken(dest.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &region.Client{Token: tok}
	if err := c.PutJSON(context.Background(), dest.URL()+region.LinksPath+"/"+source, sh, nil); err != nil {
		t.Fatalf("shape %s → link: %v", source, err)
	}
}

// TestRegion_PendingOnCutLinkIsMeasuredAtSource cuts a link and writes
// behind the cut: the source's status and /metrics count exactly those
// writes as pending (the destination, which sees nothing, says unknown
// rather than 0); after the heal they drain, and the link's last error
// reads as recovered.
func TestRegion_PendingOnCutLinkIsMeasuredAtSource(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two replicating regions")
	}
	names := []string{"a", "b"}
	rs := startReplicated(t, names, map[string]*offsetClock{"a": {}, "b": {}}, 0)
	ctx := context.Background()
	if _, err := regiontest.NewClient(rs["a"].URL()).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Skewed"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	regiontest.WaitFor(t, 60*time.Second, func() error {
		_, err := regiontest.NewClient(rs["b"].URL()).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Skewed")})
		return err
	})
	put(t, rs["a"], "before", "1")
	waitValue(t, rs, []string{"b"}, "before", "1")
	waitPending(t, rs["a"], "b", 0)

	setShape(t, rs["b"], "a", shaper.Shape{Cut: true})
	regiontest.WaitFor(t, 60*time.Second, func() error {
		if l := link(rs["b"], "a"); l == nil || l.Connected {
			return errors.New("the cut link still reports connected")
		}
		return nil
	})
	const behind = 7
	for i := range behind {
		put(t, rs["a"], fmt.Sprintf("cut-%d", i), "x")
	}
	waitPending(t, rs["a"], "b", behind)
	if l := link(rs["b"], "a"); l.Pending != nil {
		t.Fatalf("the destination of a cut link claims to know its pending count: %d", *l.Pending)
	}
	fams := scrape(t, rs["a"])
	got, err := fams.Get("globaltables_replication_pending_changes", map[string]string{"source": "a", "destination": "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got != behind {
		t.Fatalf("/metrics pending on the cut link: %v, want %d", got, behind)
	}
	if v, err := get(rs["b"], "cut-0"); err == nil && v != "" {
		t.Fatal("a write crossed the cut link")
	}

	setShape(t, rs["b"], "a", shaper.Shape{})
	waitValue(t, rs, []string{"b"}, fmt.Sprintf("cut-%d", behind-1), "x")
	waitPending(t, rs["a"], "b", 0)
	regiontest.WaitFor(t, 60*time.Second, func() error {
		l := link(rs["b"], "a")
		if l == nil || !l.Connected {
			return errors.New("the healed link is not connected")
		}
		if l.LastError != "" && !l.Recovered {
			return fmt.Errorf("the healed link's last error does not read as recovered: %q at %s", l.LastError, l.LastErrorAt)
		}
		return nil
	})
	fams = scrape(t, rs["a"])
	if got, err := fams.Get("globaltables_replication_pending_changes", map[string]string{"source": "a", "destination": "b"}); err != nil || got != 0 {
		t.Fatalf("/metrics pending after the heal: %v, %v", got, err)
	}
	fams = scrape(t, rs["b"])
	applied, err := fams.Get("globaltables_replication_applied_total", map[string]string{"source": "a", "destination": "b", "table": "Skewed"})
	if err != nil {
		t.Fatal(err)
	}
	if applied < behind+1 {
		t.Fatalf("b counts %v changes applied from a, want at least %d", applied, behind+1)
	}
	if _, err := fams.Get("globaltables_replication_conflicts_total", map[string]string{"source": "a", "destination": "b", "table": "Skewed"}); err != nil {
		t.Fatal(err)
	}
	if n, err := fams.Get("globaltables_replication_latency_seconds", map[string]string{"source": "a", "destination": "b"}); err != nil || n < behind+1 {
		t.Fatalf("b's latency histogram from a counts %v (%v), want at least %d", n, err, behind+1)
	}
	if _, err := fams.Get("globaltables_changelog_backlog", map[string]string{}); err != nil {
		t.Fatal(err)
	}
}

// TestRegion_MetricsCountRequestsCapacityAndItems drives a region through
// the SDK and checks that /metrics moves with it: requests by operation
// and status, their durations, the capacity consumed, and the table's
// items and size; a target the region does not know is counted as
// operation "unknown".
func TestRegion_MetricsCountRequestsCapacityAndItems(t *testing.T) {
	r, c := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: t.TempDir(), NoSync: true, TTLInterval: -1})
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Music"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: itemKey(k)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Music"), Item: itemKey("a"),
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put: %v", err)
	}
	if _, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Music"), Key: itemKey("a"), ConsistentRead: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.URL(), strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.NoSuchOperation")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	fams := scrape(t, r)
	for _, w := range []struct {
		name   string
		labels map[string]string
		min    float64
		max    float64
	}{
		{"globaltables_requests_total", map[string]string{"operation": "PutItem", "status": "ok"}, 2, 2},
		{"globaltables_requests_total", map[string]string{"operation": "PutItem", "status": "ConditionalCheckFailedException"}, 1, 1},
		{"globaltables_requests_total", map[string]string{"operation": "GetItem", "status": "ok"}, 1, 1},
		{"globaltables_requests_total", map[string]string{"operation": "unknown", "status": "UnknownOperationException"}, 1, 1},
		{"globaltables_request_duration_seconds", map[string]string{"operation": "PutItem"}, 3, 3},
		// Two 1-unit writes; a strongly consistent read of a small item
		// is 1 unit. DynamoDB charges a failed condition's write too; the
		// region's meter counts what its operations report.
		{"globaltables_consumed_capacity_units_total", map[string]string{"table": "Music", "kind": "write"}, 2, 3},
		{"globaltables_consumed_capacity_units_total", map[string]string{"table": "Music", "kind": "read"}, 1, 1},
		{"globaltables_items", map[string]string{"table": "Music"}, 2, 2},
		{"globaltables_table_size_bytes", map[string]string{"table": "Music"}, 1, 100},
	} {
		got, err := fams.Get(w.name, w.labels)
		if err != nil {
			t.Error(err)
			continue
		}
		if got < w.min || got > w.max {
			t.Errorf("%s%v = %v, want %v to %v", w.name, w.labels, got, w.min, w.max)
		}
	}
	if _, ok := fams["globaltables_changelog_backlog"]; ok {
		t.Error("a region without replication serves a change-log backlog")
	}
}

// TestRegion_MetricsGuardedLikeStatus checks that /metrics wants the
// region's credentials when it has access keys, as its status does, and
// that OpenMetrics serves it to anyone.
func TestRegion_MetricsGuardedLikeStatus(t *testing.T) {
	cred := sigv4.Credential{AccessKeyID: "AKIDMETRICS", SecretAccessKey: "metrics-secret-0123"}
	for _, open := range []bool{false, true} {
		r, _ := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: t.TempDir(), NoSync: true,
			TTLInterval: -1, Credentials: []sigv4.Credential{cred}, OpenMetrics: open})
		_, err := metricstest.Scrape(context.Background(), nil, r.URL()+"/metrics", "")
		if open && err != nil {
			t.Fatalf("open metrics refused an anonymous scrape: %v", err)
		}
		if !open && (err == nil || !strings.Contains(err.Error(), "401")) {
			t.Fatalf("guarded metrics answered an anonymous scrape: %v", err)
		}
		scrape(t, r) // with the control token
	}
}

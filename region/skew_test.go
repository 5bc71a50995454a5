package region_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/replicator/natsauth"
)

// offsetClock is a region's wall clock: real time plus an offset the test
// changes at will, beyond what the lab's `clock set` accepts.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) now() time.Time      { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) set(d time.Duration) { c.off.Store(int64(d)) }
func itemKey(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}}
}

func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// identities makes every region's NATS identity: the public keys every
// embedded server knows, and each region's client settings.
func identities(t *testing.T, names []string) (map[string]string, map[string]natsauth.Client) {
	t.Helper()
	keys, clients := map[string]string{}, map[string]natsauth.Client{}
	for _, n := range names {
		id, err := natsauth.LoadOrCreate(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		keys[n], clients[n] = id.Public, natsauth.Client{Region: n, Identity: &id}
	}
	return keys, clients
}

// startReplicated runs one region per name, in this process, replicating
// through embedded NATS servers, every table global, each region's clock
// given by clocks and bounded by maxSkew.
func startReplicated(t *testing.T, names []string, clocks map[string]*offsetClock, maxSkew time.Duration) map[string]*region.Region {
	t.Helper()
	natsAddrs := freeAddrs(t, len(names))
	peersOf := func(self string) map[string]string {
		out := map[string]string{}
		for i, n := range names {
			if n != self {
				out[n] = "nats://" + natsAddrs[i]
			}
		}
		return out
	}
	keys, clients := identities(t, names)
	out := map[string]*region.Region{}
	for i, n := range names {
		peerClients := map[string]natsauth.Client{}
		for _, p := range names {
			peerClients[p] = clients[n]
		}
		r, _ := startRegion(t, region.Config{
			Name: n, Listen: "127.0.0.1:0", DataDir: t.TempDir(), NoSync: true, TTLInterval: -1,
			Now: clocks[n].now, MaxClockSkew: maxSkew,
			Replication: &region.ReplicationConfig{
				Regions: names, Peers: peersOf(n), NATSListen: natsAddrs[i], GlobalByDefault: true,
				SyncInterval: 100 * time.Millisecond,
				Client:       clients[n], PeerClients: peerClients, Keys: keys,
			},
		})
		out[n] = r
	}
	return out
}

// put writes item pk=key, v=val in a region and returns the version the
// write made (its response header).
func put(t *testing.T, r *region.Region, key, val string) conflict.Version {
	t.Helper()
	var v conflict.Version
	capture := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("version",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.StatusCode == http.StatusOK {
						v, _ = conflict.ParseToken(resp.Header.Get(api.VersionHeader))
					}
					return out, md, err
				}), middleware.After)
		})
	}
	item := itemKey(key)
	item["v"] = &types.AttributeValueMemberS{Value: val}
	_, err := regiontest.NewClient(r.URL()).PutItem(context.Background(),
		&dynamodb.PutItemInput{TableName: aws.String("Skewed"), Item: item}, capture)
	if err != nil {
		t.Fatalf("put %s in %s: %v", key, r.URL(), err)
	}
	if v.IsZero() {
		t.Fatalf("put %s: no version header", key)
	}
	return v
}

// get returns the value of item key in a region ("" if absent).
func get(r *region.Region, key string) (string, error) {
	out, err := regiontest.NewClient(r.URL()).GetItem(context.Background(),
		&dynamodb.GetItemInput{TableName: aws.String("Skewed"), Key: itemKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", err
	}
	if s, ok := out.Item["v"].(*types.AttributeValueMemberS); ok {
		return s.Value, nil
	}
	return "", nil
}

func nearNow(v conflict.Version, within time.Duration) error {
	if d := time.Until(v.Time()); d > within || d < -within {
		return fmt.Errorf("version %s is %s from real time", v, d.Round(time.Millisecond))
	}
	return nil
}

// Issue 7, finding 6: one region's +1 h skew dragged every region an hour
// ahead, for good. Now the other regions' links stop at the skewed
// region's changes, with the reason in their status; their clocks stay at
// real time; and once the skew is removed every region mints versions near
// real time and the links resume, applying the stopped changes.
func TestRegion_ClockSkewBeyondBoundStopsLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three replicating regions")
	}
	const maxSkew = 2 * time.Second
	names := []string{"a", "b", "c"}
	clocks := map[string]*offsetClock{"a": {}, "b": {}, "c": {}}
	rs := startReplicated(t, names, clocks, maxSkew)
	ctx := context.Background()
	_, err := regiontest.NewClient(rs["a"].URL()).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Skewed"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The table reaches every region and every replica has caught up
	// (a catch-up copies rows, whatever their versions: see
	// docs/replication.md, "Bounded clock"); a write replicates.
	regiontest.WaitFor(t, 60*time.Second, func() error {
		for _, n := range names {
			out, err := regiontest.NewClient(rs[n].URL()).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Skewed")})
			if err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			if len(out.Table.Replicas) != len(names) {
				return fmt.Errorf("%s: replicas %d", n, len(out.Table.Replicas))
			}
			for _, rd := range out.Table.Replicas {
				if rd.ReplicaStatus != types.ReplicaStatusActive {
					return fmt.Errorf("%s: replica %s is %s", n, aws.ToString(rd.RegionName), rd.ReplicaStatus)
				}
			}
		}
		return nil
	})
	put(t, rs["a"], "before", "1")
	waitValue(t, rs, []string{"b", "c"}, "before", "1")

	clocks["a"].set(time.Hour)
	skewed := put(t, rs["a"], "skewed", "from the future")
	if err := nearNow(skewed, 2*time.Hour); err != nil || time.Until(skewed.Time()) < 50*time.Minute {
		t.Fatalf("a's write under +1h skew got %s", skewed)
	}
	for _, n := range []string{"b", "c"} {
		regiontest.WaitFor(t, 60*time.Second, func() error {
			l := link(rs[n], "a")
			if l == nil || l.Stall == nil {
				return fmt.Errorf("link a → %s is not stopped: %+v", n, l)
			}
			if l.Stall.Version != skewed.Token() || !strings.Contains(l.Stall.Reason, "max_clock_skew") || l.Stalls == 0 {
				return fmt.Errorf("link a → %s stall: %+v", n, l.Stall)
			}
			return nil
		})
	}
	// The other regions neither applied the change nor moved their clocks:
	// their writes, replicated everywhere, carry real time.
	for _, n := range []string{"b", "c"} {
		if v, err := get(rs[n], "skewed"); err != nil || v != "" {
			t.Fatalf("%s applied a change from the future: %q, %v", n, v, err)
		}
		if err := nearNow(put(t, rs[n], "own-"+n, n), maxSkew); err != nil {
			t.Fatalf("%s's clock was dragged: %v", n, err)
		}
	}
	waitValue(t, rs, names, "own-b", "b")

	// The skew is removed: a mints at real time again, and the links from
	// it resume, applying what they stopped at: a's acknowledged writes.
	clocks["a"].set(0)
	if err := nearNow(put(t, rs["a"], "after", "2"), maxSkew); err != nil {
		t.Fatalf("a's clock did not come back: %v", err)
	}
	if n := rs["a"].Status().ClockStepBacks; n != 1 {
		t.Fatalf("a's status counts %d clock step-backs, want 1", n)
	}
	waitValue(t, rs, []string{"b", "c"}, "skewed", "from the future")
	waitValue(t, rs, []string{"b", "c"}, "after", "2")
	for _, n := range []string{"b", "c"} {
		if l := link(rs[n], "a"); l == nil || l.Stall != nil {
			t.Fatalf("link a → %s still stopped: %+v", n, l)
		}
		if err := nearNow(put(t, rs[n], "later-"+n, n), maxSkew); err != nil {
			t.Fatalf("%s's clock after applying the far-future change: %v", n, err)
		}
	}
	// A write replacing the far-future item is ordered after it, and wins
	// everywhere.
	if v := put(t, rs["b"], "skewed", "replaced"); v.Compare(skewed) <= 0 {
		t.Fatalf("b's replacement %s does not follow %s", v, skewed)
	}
	waitValue(t, rs, names, "skewed", "replaced")
}

func link(r *region.Region, source string) *region.LinkStatus {
	for _, l := range r.Status().Links {
		if l.Source == source {
			return &l
		}
	}
	return nil
}

func waitValue(t *testing.T, rs map[string]*region.Region, names []string, key, want string) {
	t.Helper()
	for _, n := range names {
		regiontest.WaitFor(t, 60*time.Second, func() error {
			got, err := get(rs[n], key)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s: %s = %q, want %q", n, key, got, want)
			}
			return nil
		})
	}
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/replicator"
)

// cluster is a topology of region processes started by a test.
type cluster struct {
	t      *testing.T
	path   string
	names  []string
	listen map[string]string
	nats   map[string]string // region -> NATS URL of its stream
	topo   *topology.Topology
	args   []string // region flags given on every start

	mu    sync.Mutex // guards procs
	procs map[string]*regionProc
}

// startCluster writes a topology with one region per name on free loopback
// ports and starts every region. extra is added to the topology file.
func startCluster(t *testing.T, names []string, extra string) *cluster {
	t.Helper()
	return startClusterWith(t, names, extra, nil)
}

// startClusterWith is startCluster with some regions' streams on external
// NATS servers: natsURLs maps a region to the server's URL.
func startClusterWith(t *testing.T, names []string, extra string, natsURLs map[string]string) *cluster {
	t.Helper()
	return startClusterArgs(t, names, extra, natsURLs, nil)
}

// startClusterArgs is startClusterWith that gives every region, on every
// start, the region flags args.
func startClusterArgs(t *testing.T, names []string, extra string, natsURLs map[string]string, args []string) *cluster {
	t.Helper()
	dir := t.TempDir()
	ports := freePorts(t, 2*len(names))
	c := &cluster{t: t, names: names, listen: map[string]string{}, nats: map[string]string{}, procs: map[string]*regionProc{}, args: args}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir = %q\nlog_level = \"info\"\n%s\n", filepath.Join(dir, "data"), extra)
	for i, n := range names {
		c.listen[n] = fmt.Sprintf("127.0.0.1:%d", ports[2*i])
		if u := natsURLs[n]; u != "" {
			c.nats[n] = u
			fmt.Fprintf(&b, "region %q {\n  listen = %q\n  nats_url = %q\n}\n", n, c.listen[n], u)
			continue
		}
		c.nats[n] = fmt.Sprintf("nats://127.0.0.1:%d", ports[2*i+1])
		fmt.Fprintf(&b, "region %q {\n  listen = %q\n  nats_listen = \"127.0.0.1:%d\"\n}\n", n, c.listen[n], ports[2*i+1])
	}
	c.path = filepath.Join(dir, "topology.hcl")
	if err := os.WriteFile(c.path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// As `up` does: every identity exists before any region starts.
	topo, err := topology.Load(c.path)
	if err != nil {
		t.Fatal(err)
	}
	c.topo = topo
	for _, n := range names {
		if _, err := topo.Identity(n); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		c.start(n)
	}
	return c
}

// start starts (or restarts) region name.
func (c *cluster) start(name string) {
	c.t.Helper()
	p := startRegionProc(c.t, append([]string{"--config", c.path, "--name", name}, c.args...)...)
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
}

func (c *cluster) proc(name string) *regionProc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[name]
}

// url returns a region's endpoint.
func (c *cluster) url(name string) string { return "http://" + c.listen[name] }

// client returns an SDK client for a region.
func (c *cluster) client(name string) *dynamodb.Client { return regiontest.NewClient(c.url(name)) }

// status fetches a region's status.
func (c *cluster) status(name string) (*region.Status, error) {
	var st region.Status
	err := getJSON(context.Background(), c.url(name)+region.StatusPath, &st)
	return &st, err
}

// digest fetches a table's digest in a region.
func (c *cluster) digest(name, table string) (region.Digest, error) {
	var d region.Digest
	err := getJSON(context.Background(), c.url(name)+region.DigestPath+"?table="+table, &d)
	return d, err
}

// waitConverged waits until every region holds the same content of table
// and no link has anything pending.
func (c *cluster) waitConverged(table string, timeout time.Duration) {
	c.t.Helper()
	regiontest.WaitFor(c.t, timeout, func() error {
		var first region.Digest
		for i, n := range c.names {
			d, err := c.digest(n, table)
			if err != nil {
				return err
			}
			if i == 0 {
				first = d
			} else if d.Digest != first.Digest {
				return fmt.Errorf("%s holds %d items (%s), %s holds %d (%s)", first.Region, first.Items, first.Digest[:8], n, d.Items, d.Digest[:8])
			}
			st, err := c.status(n)
			if err != nil {
				return err
			}
			for _, l := range st.Links {
				if l.Pending != nil && *l.Pending > 0 {
					return fmt.Errorf("link %s→%s has %d pending", l.Source, l.Dest, *l.Pending)
				}
			}
			if st.Publisher != nil && st.Publisher.Backlog > 0 {
				return fmt.Errorf("%s has %d changes not yet published", n, st.Publisher.Backlog)
			}
		}
		return nil
	})
}

// waitReplicasActive waits until every region describes table with every
// replica ACTIVE.
func (c *cluster) waitReplicasActive(table string, timeout time.Duration) {
	c.t.Helper()
	regiontest.WaitFor(c.t, timeout, func() error {
		for _, n := range c.names {
			out, err := c.client(n).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			if err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			if len(out.Table.Replicas) != len(c.names) {
				return fmt.Errorf("%s lists %d replicas", n, len(out.Table.Replicas))
			}
			for _, r := range out.Table.Replicas {
				if r.ReplicaStatus != types.ReplicaStatusActive {
					return fmt.Errorf("%s says %s is %s", n, aws.ToString(r.RegionName), r.ReplicaStatus)
				}
			}
		}
		return nil
	})
}

// conflicts returns the loser versions in every region's conflict log.
func (c *cluster) conflicts(table string) map[string]bool {
	c.t.Helper()
	losers := map[string]bool{}
	for _, n := range c.names {
		var cs region.Conflicts
		if err := getJSON(context.Background(), c.url(n)+region.ConflictsPath+"?limit=10000&table="+table, &cs); err != nil {
			c.t.Fatalf("conflicts of %s: %v", n, err)
		}
		for _, r := range cs.Records {
			losers[r.Loser] = true
		}
	}
	return losers
}

// stamp is what a write's response said about the version it made.
type stamp struct {
	version conflict.Version
	context []conflict.Version
}

// withStamp captures the version headers of a write's response into s.
func withStamp(s *stamp) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("globaltablesStamp",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.StatusCode == http.StatusOK {
						if v, perr := conflict.ParseToken(resp.Header.Get(api.VersionHeader)); perr == nil {
							s.version = v
						}
						for _, tok := range strings.Split(resp.Header.Get(api.ContextHeader), ",") {
							if v, perr := conflict.ParseToken(tok); perr == nil {
								s.context = append(s.context, v)
							}
						}
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

// covers reports whether a write's context includes v.
func (s stamp) covers(v conflict.Version) bool {
	for _, c := range s.context {
		if c.Region == v.Region && c.Compare(v) >= 0 {
			return true
		}
	}
	return false
}

// waitStreamsEmpty waits until the streams of the given regions hold no
// message: everything in them has aged out.
func (c *cluster) waitStreamsEmpty(timeout time.Duration, regions ...string) {
	c.t.Helper()
	regiontest.WaitFor(c.t, timeout, func() error {
		for _, r := range regions {
			nc, err := c.connectNATS(r)
			if err != nil {
				return err
			}
			js, err := jetstream.New(nc)
			if err != nil {
				nc.Close()
				return err
			}
			s, err := js.Stream(context.Background(), replicator.StreamName(r))
			if err != nil {
				nc.Close()
				return err
			}
			info, err := s.Info(context.Background())
			nc.Close()
			if err != nil {
				return err
			}
			if info.State.Msgs > 0 {
				return fmt.Errorf("stream of %s still holds %d messages", r, info.State.Msgs)
			}
		}
		return nil
	})
}

// connectNATS connects to region r's NATS as r itself.
func (c *cluster) connectNATS(r string) (*nats.Conn, error) {
	self, err := c.topo.Region(r)
	if err != nil {
		return nil, err
	}
	id, err := c.topo.Identity(r)
	if err != nil {
		return nil, err
	}
	opts, err := c.topo.NATSClient(self, self, id).Options()
	if err != nil {
		return nil, err
	}
	return nats.Connect(c.nats[r], opts...)
}

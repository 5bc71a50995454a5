package replicator

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/replicator/natsrv"
	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

var (
	_ Store          = (*store.DB)(nil)
	_ ChangeLog      = (*store.DB)(nil)
	_ Applier        = (*store.DB)(nil)
	_ Exporter       = (*store.DB)(nil)
	_ ControlApplier = (*recordingControl)(nil)
)

// recordingControl is a ControlApplier that remembers what it applied.
type recordingControl struct {
	mu  sync.Mutex
	got []string
}

func (r *recordingControl) ApplyControl(ctx context.Context, source string, ch *store.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, source+":"+ch.Table)
	return nil
}

// testRegion is one region: its NATS, its store on disk, its replicator.
type testRegion struct {
	name string
	srv  *natsrv.Server
	db   *store.DB
	nc   *nats.Conn
	tbl  *store.Table
	ctl  *recordingControl
	repl *Replicator
	stop func()
}

func newTestRegion(t *testing.T, name string) *testRegion {
	t.Helper()
	r := &testRegion{name: name, ctl: &recordingControl{}}
	r.srv = natstest.StartServer(t, name, t.TempDir())
	r.nc = natstest.Connect(t, r.srv.ClientURL())
	r.db = storetest.Open(t, storetest.OnDisk(t.TempDir()), func(c *store.Config) { c.Region = name })
	r.tbl = storetest.CreateTable(t, r.db, storetest.HashRangeTable("orders.eu", attr.TypeS, attr.TypeInvalid))
	return r
}

// start builds and runs r's replicator, reading from peers.
func (r *testRegion) start(t *testing.T, peers ...*testRegion) {
	t.Helper()
	urls := map[string]string{}
	for _, p := range peers {
		urls[p.name] = p.srv.ClientURL()
	}
	repl, err := New(Config{
		Region: r.name, Conn: r.nc, Peers: urls, Store: r.db, Control: r.ctl,
		TrimGrace: 500 * time.Millisecond, FetchWait: time.Second, Logger: testLogger(t).Named(r.name),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.repl = repl
	r.stop = run(t, repl.Run)
}

func put(t *testing.T, r *testRegion, key, value string) {
	t.Helper()
	storetest.Put(t, r.db, r.tbl, attr.Item{"pk": attr.String(key), "v": attr.String(value)})
}

// waitConverged waits until every region's table has the same digest and
// n items.
func waitConverged(t *testing.T, n int, rs ...*testRegion) {
	t.Helper()
	natstest.WaitFor(t, waitLong, func() error {
		want, items, err := rs[0].db.Digest("orders.eu")
		if err != nil {
			return err
		}
		if items != n {
			return fmt.Errorf("%s holds %d items, want %d", rs[0].name, items, n)
		}
		for _, r := range rs[1:] {
			got, m, err := r.db.Digest("orders.eu")
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s (%d items) differs from %s (%d items)", r.name, m, rs[0].name, items)
			}
		}
		return nil
	})
}

func TestReplicator_TwoRegionsConverge(t *testing.T) {
	east, west := newTestRegion(t, "east"), newTestRegion(t, "west")
	east.start(t, west)
	west.start(t, east)

	for i := range 200 {
		put(t, east, fmt.Sprintf("e%03d", i), "from east")
	}
	for i := range 100 {
		put(t, west, fmt.Sprintf("w%03d", i), "from west")
	}
	waitConverged(t, 300, east, west)

	// Both write the same keys: last writer wins everywhere.
	for i := range 20 {
		put(t, east, fmt.Sprintf("x%02d", i), "east")
		put(t, west, fmt.Sprintf("x%02d", i), "west")
	}
	storetest.Delete(t, west.db, west.tbl, attr.Item{"pk": attr.String("e000")})
	waitConverged(t, 319, east, west)

	// A control record travels to the other region's ControlApplier.
	audit := storetest.HashRangeTable("audit", attr.TypeS, attr.TypeInvalid)
	if err := east.db.CreateTableLogged(audit, []byte(`{"replicas":{}}`)); err != nil {
		t.Fatal(err)
	}
	natstest.WaitFor(t, waitLong, func() error {
		west.ctl.mu.Lock()
		defer west.ctl.mu.Unlock()
		if len(west.ctl.got) != 1 || west.ctl.got[0] != "east:audit" {
			return fmt.Errorf("west applied control records %q", west.ctl.got)
		}
		return nil
	})

	natstest.WaitFor(t, waitLong, func() error {
		for _, r := range []*testRegion{east, west} {
			st := r.repl.Status()
			if !st.Publisher.Connected || st.Publisher.Backlog != 0 || len(st.Links) != 1 {
				return fmt.Errorf("%s: %+v", r.name, st)
			}
			l := st.Links[0]
			if !l.Connected || l.Applied == 0 || l.Samples == 0 || l.P99 <= 0 || l.Pending != 0 {
				return fmt.Errorf("%s link: %+v", r.name, l)
			}
		}
		return nil
	})
	b, err := json.Marshal(west.repl.Status())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("west status: %s", b)
}

func TestReplicator_RegionCatchesUpAfterRestart(t *testing.T) {
	east, west := newTestRegion(t, "east"), newTestRegion(t, "west")
	east.start(t, west)
	west.start(t, east)
	for i := range 50 {
		put(t, east, fmt.Sprintf("a%03d", i), "1")
	}
	waitConverged(t, 50, east, west)

	// West's replicator stops (the process went down); east keeps writing.
	west.stop()
	for i := range 50 {
		put(t, east, fmt.Sprintf("b%03d", i), "2")
	}
	west.start(t, east)
	waitConverged(t, 100, east, west)
	cursor, err := west.db.Cursor("east")
	if err != nil {
		t.Fatal(err)
	}
	if cursor < 100 {
		t.Fatalf("west's cursor of east is %d", cursor)
	}
}

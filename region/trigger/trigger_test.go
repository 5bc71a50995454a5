package trigger_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region/trigger"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// fixture is a store on disk with table "Music" (hash key pk) streaming
// NEW_AND_OLD_IMAGES, and a folder for the triggers' files.
type fixture struct {
	db  *store.DB
	tbl *store.Table
	dir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.Open(t, storetest.OnDisk(t.TempDir()))
	def := storetest.HashRangeTable("Music", attr.TypeS, attr.TypeInvalid)
	def.Stream = &store.StreamSpec{ViewType: store.StreamNewAndOldImages}
	return &fixture{db: db, tbl: storetest.CreateTable(t, db, def), dir: t.TempDir()}
}

func (f *fixture) put(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		storetest.Put(t, f.db, f.tbl, attr.Item{"pk": attr.String(k), "v": attr.String("value of " + k)})
	}
}

// running is a Manager whose Run goroutine the test stops.
type running struct {
	m    *trigger.Manager
	stop func()
}

func (f *fixture) start(t *testing.T, configured ...trigger.Spec) *running {
	t.Helper()
	m, err := trigger.New(trigger.Config{Region: "eu-west-1", Dir: f.dir, Source: f.db, Configured: configured,
		PollInterval: 20 * time.Millisecond, RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	r := &running{m: m}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(r.stop)
	return r
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func statusOf(t *testing.T, m *trigger.Manager, name string) trigger.Status {
	t.Helper()
	for _, s := range m.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no trigger %s in status", name)
	return trigger.Status{}
}

// readJSONL decodes every line of a file (none if it is absent).
func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

func keysOf(recs []trigger.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Dynamodb.Keys["pk"].S)
	}
	return out
}

// A command handler that fails its first two runs and always fails a
// batch holding the poison item: the first failures are retried, the
// poison batch is bisected down to the poison record, which alone goes to
// the on-failure log; every other record is delivered, in order.
func TestManager_CommandRetriesBisectsAndLogsFailures(t *testing.T) {
	f := newFixture(t)
	f.put(t, "a", "b", "c", "poison", "e", "f", "g", "h")
	work := t.TempDir()
	delivered := filepath.Join(work, "delivered.jsonl")
	script := `input=$(cat)
n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
if [ $n -le 2 ]; then echo "cold start $n" >&2; exit 1; fi
case "$input" in *poison*) echo "cannot handle poison" >&2; exit 3;; esac
printf '%s\n' "$input" >> delivered.jsonl`
	if err := os.WriteFile(filepath.Join(work, "handler.sh"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	retries := 1
	r := f.start(t)
	if _, err := r.m.Add(trigger.Spec{Name: "audit", Table: "Music", BatchSize: 10, MaxRetries: &retries,
		Command: "cd " + work + " && sh handler.sh"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every record settled", func() bool {
		st := statusOf(t, r.m, "audit")
		return st.Delivered+st.Failed == 8
	})
	st := statusOf(t, r.m, "audit")
	t.Logf("status: %+v", st)
	if st.Delivered != 7 || st.Failed != 1 || st.Errors < 2 {
		t.Fatalf("delivered %d, failed %d, errors %d; want 7, 1, >= 2", st.Delivered, st.Failed, st.Errors)
	}
	if st.Pending == nil || *st.Pending != 0 {
		t.Fatalf("pending %v, want 0", st.Pending)
	}
	var got []string
	for _, ev := range readJSONL[trigger.Event](t, delivered) {
		if len(ev.Records) == 0 {
			t.Fatal("an empty batch was delivered")
		}
		for _, rec := range ev.Records {
			if rec.EventName != "INSERT" || rec.EventSource != "aws:dynamodb" || rec.EventVersion != "1.1" ||
				rec.AwsRegion != "eu-west-1" || len(rec.EventID) != 32 ||
				!strings.HasPrefix(rec.EventSourceARN, "arn:aws:dynamodb:eu-west-1:000000000000:table/Music/stream/") ||
				rec.Dynamodb.StreamViewType != store.StreamNewAndOldImages || len(rec.Dynamodb.SequenceNumber) != 21 ||
				rec.Dynamodb.NewImage["v"].S == "" || rec.Dynamodb.ApproximateCreationDateTime == 0 {
				t.Fatalf("record not as Lambda gets it: %+v", rec)
			}
		}
		got = append(got, keysOf(ev.Records)...)
	}
	if want := "a b c e f g h"; strings.Join(got, " ") != want {
		t.Fatalf("delivered %v, want %s", got, want)
	}
	fails := readJSONL[trigger.Failure](t, st.FailureLog)
	if len(fails) != 1 || fails[0].BatchSize != 1 || keysOf(fails[0].Records)[0] != "poison" ||
		!strings.Contains(fails[0].Reason, "status 3: cannot handle poison") || fails[0].Attempts != 2 ||
		!strings.HasPrefix(fails[0].ShardID, "shardId-") {
		t.Fatalf("on-failure log %+v, want the poison record alone", fails)
	}
}

// recorder is a URL handler counting the deliveries of each eventID. It
// answers 500 to its first failFirst posts, and blocks on a record whose
// key is hangKey (once) until the request is cancelled.
type recorder struct {
	mu        sync.Mutex
	posts     int
	failFirst int
	hangKey   string
	hanging   chan struct{} // closed when the hang starts
	seen      map[string]int
	order     []string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var ev trigger.Event
	if err := json.NewDecoder(req.Body).Decode(&ev); err != nil || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.posts++
	if rc.posts <= rc.failFirst {
		rc.mu.Unlock()
		http.Error(w, "warming up", http.StatusInternalServerError)
		return
	}
	for _, k := range keysOf(ev.Records) {
		if k == rc.hangKey {
			rc.hangKey = ""
			rc.mu.Unlock()
			close(rc.hanging)
			<-req.Context().Done()
			return
		}
	}
	for _, r := range ev.Records {
		rc.seen[r.EventID]++
		rc.order = append(rc.order, r.Dynamodb.Keys["pk"].S)
	}
	rc.mu.Unlock()
}

func (rc *recorder) delivered() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.order...)
}

// A URL trigger defined in the topology: failed posts are retried; its
// position survives a stop in the middle of a delivery (the batch in
// flight is delivered again, as at-least-once allows) and a restart
// delivers what was written meanwhile, with nothing delivered twice that
// had been acknowledged.
func TestManager_URLRetriesAndPositionSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	rc := &recorder{failFirst: 3, hangKey: "k4", hanging: make(chan struct{}), seen: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	spec := trigger.Spec{Name: "indexer", Table: "Music", URL: srv.URL, BatchSize: 2}
	f.put(t, "k1", "k2", "k3", "k4")
	r := f.start(t, spec)
	<-rc.hanging // k1, k2 delivered after three failed posts; k3, k4 in flight
	if got := rc.delivered(); strings.Join(got, " ") != "k1 k2" {
		t.Fatalf("delivered %v before the stop, want k1 k2", got)
	}
	if st := statusOf(t, r.m, "indexer"); st.Errors != 3 || st.Source != trigger.SourceTopology {
		t.Fatalf("status %+v: want 3 errors from a topology trigger", st)
	}
	r.stop()
	f.put(t, "k5", "k6", "k7")

	r = f.start(t, spec)
	waitFor(t, "k1 to k7 delivered", func() bool { return len(rc.delivered()) == 7 })
	if got := strings.Join(rc.delivered(), " "); got != "k1 k2 k3 k4 k5 k6 k7" {
		t.Fatalf("delivered %s", got)
	}
	for id, n := range rc.seen {
		if n != 1 {
			t.Fatalf("event %s delivered %d times", id, n)
		}
	}
	// The handler has the last batch a moment before the trigger saves it.
	waitFor(t, "the last batch settled", func() bool { return statusOf(t, r.m, "indexer").Delivered == 7 })
	st := statusOf(t, r.m, "indexer")
	if st.Delivered != 7 || st.Failed != 0 || st.Pending == nil || *st.Pending != 0 {
		t.Fatalf("status %+v", st)
	}

	// A topology trigger cannot be removed by hand; once its block is
	// gone, the next start removes it.
	if err := r.m.Remove("indexer"); err == nil {
		t.Fatal("removed a topology trigger")
	}
	r.stop()
	r = f.start(t)
	if n := len(r.m.Status()); n != 0 {
		t.Fatalf("%d triggers after the block was removed", n)
	}
}

// A LATEST trigger added by hand sees only what is written after it; once
// removed, it delivers nothing more.
func TestManager_LatestAndRemove(t *testing.T) {
	f := newFixture(t)
	f.put(t, "old")
	rc := &recorder{hanging: make(chan struct{}), seen: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	r := f.start(t)
	if _, err := r.m.Add(trigger.Spec{Name: "new-only", Table: "Music", URL: srv.URL, StartingPosition: "latest"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Add(trigger.Spec{Name: "new-only", Table: "Music", URL: srv.URL}); err == nil {
		t.Fatal("added a trigger twice")
	}
	waitFor(t, "the trigger to find its stream", func() bool { return statusOf(t, r.m, "new-only").Position != "" })
	f.put(t, "new")
	waitFor(t, "new delivered", func() bool { return len(rc.delivered()) == 1 })
	if got := rc.delivered(); got[0] != "new" {
		t.Fatalf("delivered %v", got)
	}
	if err := r.m.Remove("new-only"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "new-only.json")); !os.IsNotExist(err) {
		t.Fatalf("position file left after remove: %v", err)
	}
}

func TestSpec_Normalize(t *testing.T) {
	for _, tc := range []struct {
		spec trigger.Spec
		want string // in the error; "" for none
	}{
		{trigger.Spec{Name: "a", Table: "T", Command: "cat"}, ""},
		{trigger.Spec{Name: "a", Table: "T"}, "give a command or a url"},
		{trigger.Spec{Name: "a", Table: "T", Command: "cat", URL: "http://x"}, "not both"},
		{trigger.Spec{Name: "a b", Table: "T", Command: "cat"}, "letters, digits"},
		{trigger.Spec{Name: "a", Table: "T", URL: "ftp://x"}, "http:// or https://"},
		{trigger.Spec{Name: "a", Table: "T", Command: "cat", BatchSize: 10001}, "1 to 10000"},
		{trigger.Spec{Name: "a", Table: "T", Command: "cat", StartingPosition: "middle"}, "trim-horizon or latest"},
		{trigger.Spec{Name: "a", Table: "T", Command: "cat", BatchingWindow: trigger.Duration(301 * time.Second)}, "0 to 5m0s"},
	} {
		err := tc.spec.Normalize()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: error %v, want %q", tc.spec, err, tc.want)
		}
	}
}

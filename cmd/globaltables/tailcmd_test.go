package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/region/trigger"
)

// syncBuffer is an output the CLI writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCLI runs a globaltables command in this process.
func runCLI(ctx context.Context, out *syncBuffer, args ...string) error {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(out)
	return root.ExecuteContext(ctx)
}

// inProcessTopology writes a topology file naming regions running in this
// process, for the CLI to find them (their endpoints and data folders).
func inProcessTopology(t *testing.T, nodes map[string]*regiontest.Node, names []string) string {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		nd := nodes[n]
		fmt.Fprintf(&b, "region %q {\n  listen = %q\n  data_dir = %q\n  nats_listen = %q\n}\n",
			n, nd.Addr().String(), nd.Config.DataDir, nd.Config.Replication.NATSListen)
	}
	path := filepath.Join(t.TempDir(), "topology.hcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func songKey(song string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"Artist": &types.AttributeValueMemberS{Value: "Acme Band"}, "SongTitle": &types.AttributeValueMemberS{Value: song}}
}

func putSong(t *testing.T, url, song, plays string) {
	t.Helper()
	item := songKey(song)
	item["Plays"] = &types.AttributeValueMemberN{Value: plays}
	if _, err := regiontest.NewClient(url).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String("Music"), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// TestTail_ConflictInEveryRegion follows the stream of a global table in
// two in-process regions with `globaltables tail --region all`: a write
// shows in both streams, with its origin region; after concurrent writes
// to one item during a partition, the region whose local write lost shows
// the winner's change marked as overwriting it, and the winning region's
// stream has no record of the losing write. A trigger added with
// `globaltables trigger add` on the same table delivers to a URL and shows
// in `trigger list`.
func TestTail_ConflictInEveryRegion(t *testing.T) {
	names := []string{"us-east-1", "eu-west-1"}
	nodes := regiontest.StartReplicated(t, names, nil)
	topo := inProcessTopology(t, nodes, names)
	ctx := context.Background()
	us, eu := nodes["us-east-1"].URL(), nodes["eu-west-1"].URL()
	_, err := regiontest.NewClient(us).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("Music"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("Artist"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("SongTitle"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("Artist"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SongTitle"), KeyType: types.KeyTypeRange}},
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	regiontest.WaitFor(t, 30*time.Second, func() error {
		d, err := regiontest.NewClient(eu).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Music")})
		if err != nil {
			return err
		}
		if d.Table.LatestStreamArn == nil {
			return fmt.Errorf("no stream in eu-west-1 yet")
		}
		return nil
	})

	// A trigger in us-east-1, POSTing to a URL.
	var mu sync.Mutex
	var delivered []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev trigger.Event
		if err := json.NewDecoder(req.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			delivered = append(delivered, r.EventName+" "+r.EventSourceARN)
		}
	}))
	defer srv.Close()
	var cliOut syncBuffer
	if err := runCLI(ctx, &cliOut, "trigger", "add", "--config", topo, "--table", "Music", "--region", "us-east-1",
		"--name", "indexer", "--url", srv.URL, "--batching-window", "100ms"); err != nil {
		t.Fatalf("trigger add: %v\n%s", err, cliOut.String())
	}

	var out syncBuffer
	tailCtx, stopTail := context.WithCancel(ctx)
	tailDone := make(chan error, 1)
	go func() {
		tailDone <- runCLI(tailCtx, &out, "tail", "Music", "--config", topo, "--region", "all", "--from", "trim-horizon")
	}()
	defer func() {
		stopTail()
		if err := <-tailDone; err != nil {
			t.Errorf("tail: %v", err)
		}
	}()
	lines := func(region string) []string {
		var got []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, "  "+region+" ") {
				got = append(got, l)
			}
		}
		return got
	}
	waitLines := func(what string, cond func() bool) {
		t.Helper()
		regiontest.WaitFor(t, 30*time.Second, func() error {
			if !cond() {
				return fmt.Errorf("%s; tail so far:\n%s", what, out.String())
			}
			return nil
		})
	}

	putSong(t, us, "Happy Day", "1")
	waitLines("the INSERT in both streams", func() bool { return len(lines("us-east-1")) == 1 && len(lines("eu-west-1")) == 1 })
	for _, r := range names {
		l := lines(r)[0]
		if !strings.Contains(l, "INSERT  Artist=Acme Band, SongTitle=Happy Day  origin us-east-1") || strings.Contains(l, "overwrote") {
			t.Fatalf("%s: %q", r, l)
		}
	}

	// Concurrent writes during a partition: the later one wins in both
	// regions once it heals.
	if err := runCLI(ctx, &cliOut, "partition", "--config", topo, "--between", "us-east-1,eu-west-1"); err != nil {
		t.Fatalf("partition: %v\n%s", err, cliOut.String())
	}
	putSong(t, us, "Happy Day", "2")
	putSong(t, eu, "Happy Day", "3")
	if err := runCLI(ctx, &cliOut, "heal", "--config", topo); err != nil {
		t.Fatalf("heal: %v\n%s", err, cliOut.String())
	}
	waitLines("the conflict resolved in both streams", func() bool {
		n := len(lines("us-east-1")) + len(lines("eu-west-1"))
		return n == 5 || n > 5
	})
	t.Logf("tail:\n%s", out.String())
	var loser, winner string
	for _, r := range names {
		for _, l := range lines(r) {
			if strings.Contains(l, "(overwrote a concurrent local write)") {
				loser = r
			}
		}
	}
	for _, r := range names {
		if r != loser {
			winner = r
		}
	}
	if loser == "" {
		t.Fatalf("no region shows a replicated change overwriting its local write")
	}
	if got := lines(loser); len(got) != 3 || !strings.Contains(got[1], "MODIFY  Artist=Acme Band, SongTitle=Happy Day  origin "+loser) ||
		!strings.HasSuffix(got[2], "MODIFY  Artist=Acme Band, SongTitle=Happy Day  origin "+winner+"  (overwrote a concurrent local write)") {
		t.Fatalf("%s's stream (its write lost): %q", loser, got)
	}
	if got := lines(winner); len(got) != 2 || !strings.HasSuffix(got[1], "MODIFY  Artist=Acme Band, SongTitle=Happy Day  origin "+winner) {
		t.Fatalf("%s's stream (its write won; the loser's must be absent): %q", winner, got)
	}

	// The trigger saw us-east-1's three records, as Lambda would.
	regiontest.WaitFor(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(delivered) != 3 {
			return fmt.Errorf("trigger delivered %q", delivered)
		}
		return nil
	})
	if !strings.Contains(delivered[0], "INSERT arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/") {
		t.Fatalf("delivered %q", delivered)
	}
	var list syncBuffer
	regiontest.WaitFor(t, 30*time.Second, func() error {
		list = syncBuffer{}
		if err := runCLI(ctx, &list, "trigger", "list", "--config", topo); err != nil {
			return err
		}
		if !strings.Contains(list.String(), "indexer") || !regexpMatch(`indexer\s+us-east-1\s+Music\s+idle\s+0\s+0\s+3\s+0\s+0\s`, list.String()) {
			return fmt.Errorf("trigger list:\n%s", list.String())
		}
		return nil
	})
	if err := runCLI(ctx, &list, "trigger", "remove", "indexer", "--config", topo, "--region", "us-east-1"); err != nil {
		t.Fatalf("trigger remove: %v", err)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

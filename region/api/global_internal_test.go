package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// TestApplyControl_ConcurrentJoinKeepsEveryRecord applies two control
// records of the same new table at once, as two links do: one that adds
// this region (the table's creation) and a newer one in which another
// replica reports itself ACTIVE. Whichever creates the table, the other
// must be merged into it, not dropped.
func TestApplyControl_ConcurrentJoinKeepsEveryRecord(t *testing.T) {
	s := memServer(t, "eu-west-1", []string{"us-east-1", "eu-west-1", "ap-southeast-1"}, nil)
	db := s.db
	us := conflict.NewHLC("us-east-1", nil)
	ap := conflict.NewHLC("ap-southeast-1", nil)
	record := func(table string, reps map[string]replicaState, settings conflict.Version) *store.Change {
		def := globalDef{Table: table, Settings: settings.Token(), Replicas: reps,
			Schema: tableSchema{Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
				Attributes: []store.KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"}}
		b, _ := json.Marshal(def)
		return &store.Change{Kind: store.ChangeControl, Table: table, Control: b}
	}
	for i := 0; i < 60; i++ {
		table := fmt.Sprintf("t%03d", i)
		settings := us.Now()
		created := map[string]replicaState{
			"us-east-1":      {Status: replicaActive, Version: us.Now().Token()},
			"eu-west-1":      {Status: replicaCreating, Version: us.Now().Token()},
			"ap-southeast-1": {Status: replicaCreating, Version: us.Now().Token()},
		}
		ap.Observe(us.Peek())
		ready := map[string]replicaState{}
		for k, v := range created {
			ready[k] = v
		}
		ready["ap-southeast-1"] = replicaState{Status: replicaActive, Version: ap.Now().Token()}
		var wg sync.WaitGroup
		for _, rc := range []struct {
			source string
			ch     *store.Change
		}{{"us-east-1", record(table, created, settings)}, {"ap-southeast-1", record(table, ready, settings)}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.ApplyControl(context.Background(), rc.source, rc.ch); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		tb, err := db.Table(table)
		if err != nil {
			t.Fatal(err)
		}
		if got := replicas(tb)["ap-southeast-1"].Status; got != replicaActive {
			t.Fatalf("%s: ap-southeast-1 is %s after both records: the later one was dropped", table, got)
		}
	}
}

// TestReplicatesFrom_FollowsReplicaSetChanges asks ReplicatesFrom before and
// after control records change the replica set, so that a remembered set
// (replicaSets) that outlived its table definition would show: a removed
// source must stop being applied from at once, and one added back resumes.
func TestReplicatesFrom_FollowsReplicaSetChanges(t *testing.T) {
	s, apply := replicaSetServer(t)
	us := conflict.NewHLC("us-east-1", nil)
	state := func(status string) replicaState { return replicaState{Status: status, Version: us.Now().Token()} }
	apply(map[string]replicaState{"us-east-1": state(replicaActive), "eu-west-1": state(replicaActive), "ap-southeast-1": state(replicaActive)})
	for i := 0; i < 3; i++ { // asked again and again, as a link does
		if !s.ReplicatesFrom("orders", "ap-southeast-1") || !s.ReplicatesFrom("orders", "us-east-1") {
			t.Fatal("a table replicated in all three regions does not replicate from them")
		}
	}
	if s.ReplicatesFrom("orders", "sa-east-1") || s.ReplicatesFrom("other", "us-east-1") {
		t.Fatal("replicates from a region outside the replica set, or for a table that does not exist")
	}
	apply(map[string]replicaState{"ap-southeast-1": state(replicaRemoved)})
	if s.ReplicatesFrom("orders", "ap-southeast-1") {
		t.Fatal("still replicates from ap-southeast-1 after its replica was removed")
	}
	if !s.ReplicatesFrom("orders", "us-east-1") {
		t.Fatal("stopped replicating from us-east-1 when only ap-southeast-1 was removed")
	}
	apply(map[string]replicaState{"ap-southeast-1": state(replicaCreating)})
	if !s.ReplicatesFrom("orders", "ap-southeast-1") {
		t.Fatal("does not replicate from ap-southeast-1 after its replica was added back")
	}
}

// BenchmarkReplicatesFrom is the question a link asks for every change it
// applies.
//
//	go test -run '^$' -bench ReplicatesFrom -benchmem ./region/api/
func BenchmarkReplicatesFrom(b *testing.B) {
	s, apply := replicaSetServer(b)
	us := conflict.NewHLC("us-east-1", nil)
	apply(map[string]replicaState{
		"us-east-1":      {Status: replicaActive, Version: us.Now().Token()},
		"eu-west-1":      {Status: replicaActive, Version: us.Now().Token()},
		"ap-southeast-1": {Status: replicaActive, Version: us.Now().Token()},
	})
	b.ReportAllocs()
	for b.Loop() {
		if !s.ReplicatesFrom("orders", "us-east-1") {
			b.Fatal("does not replicate from us-east-1")
		}
	}
}

// replicaSetServer returns a server of region eu-west-1 and a function that
// applies a control record of table "orders" from us-east-1 with the given
// replica entries (merged into the table's by version, as links do).
func replicaSetServer(tb testing.TB) (*Server, func(map[string]replicaState)) {
	s := memServer(tb, "eu-west-1", []string{"us-east-1", "eu-west-1", "ap-southeast-1"}, nil)
	settings := conflict.NewHLC("us-east-1", nil).Now()
	return s, func(reps map[string]replicaState) {
		tb.Helper()
		def := globalDef{Table: "orders", Settings: settings.Token(), Replicas: reps,
			Schema: tableSchema{Hash: store.KeyElement{Name: "pk", Type: attr.TypeS},
				Attributes: []store.KeyElement{{Name: "pk", Type: attr.TypeS}}, BillingMode: "PAY_PER_REQUEST"}}
		b, _ := json.Marshal(def)
		if err := s.ApplyControl(context.Background(), "us-east-1", &store.Change{Kind: store.ChangeControl, Table: "orders", Control: b}); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestApplyControl_LeavesAnUnrelatedLocalTableAlone: regions A and B each
// made their own table "shared", not global. A client asks A to add a
// replica in B; B, holding a table of that name that is no replica of
// anything, must neither take A's settings into it nor fail the record (a
// failed control record stops the link from A for good, every table with
// it): it refuses the join, says so at ERROR, and its table stays as it was.
func TestApplyControl_LeavesAnUnrelatedLocalTableAlone(t *testing.T) {
	regions := []string{"us-east-1", "eu-west-1"}
	op := func(s *Server, name, body string) {
		t.Helper()
		var out bytes.Buffer
		if status, _ := s.handle(context.Background(), targetPrefix+name, []byte(body), &out); status != 200 {
			t.Fatalf("%s in %s: %d %s", name, s.cfg.Region, status, out.Bytes())
		}
	}
	for _, bSchema := range []string{"N", "S"} { // a different key type, then the same
		var aLogs, bLogs bytes.Buffer
		a, b := memServer(t, "us-east-1", regions, &aLogs), memServer(t, "eu-west-1", regions, &bLogs)
		op(a, "CreateTable", `{"TableName":"shared","BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}]}`)
		op(b, "CreateTable", `{"TableName":"shared","BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"`+bSchema+`"}]}`)
		op(b, "PutItem", `{"TableName":"shared","Item":{"id":{"`+bSchema+`":"1"}}}`)
		before, err := b.db.Table("shared")
		if err != nil {
			t.Fatal(err)
		}
		op(a, "UpdateTable", `{"TableName":"shared","ReplicaUpdates":[{"Create":{"RegionName":"eu-west-1"}}]}`)
		at, err := a.db.Table("shared")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.ApplyControl(context.Background(), "us-east-1", &store.Change{Kind: store.ChangeControl, Table: "shared", Control: defOf(at)}); err != nil {
			t.Fatalf("key type %s: the control record failed (the link would stop at it): %v", bSchema, err)
		}
		after, err := b.db.Table("shared")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(after, before) || len(replicas(after)) != 0 || b.ReplicatesFrom("shared", "us-east-1") {
			t.Errorf("key type %s: B's own table was changed by A's record: %+v, was %+v", bSchema, after, before)
		}
		if !strings.Contains(bLogs.String(), "[ERROR]") || !strings.Contains(bLogs.String(), "shared") {
			t.Errorf("key type %s: the refused join was not logged at ERROR:\n%s", bSchema, bLogs.String())
		}
		// B tells A it refused (a control record in B's log, which B's
		// stream carries to A): A stops taking B's own table's changes
		// into its global table, and takes nothing else from B's.
		if !a.ReplicatesFrom("shared", "eu-west-1") {
			t.Fatalf("key type %s: A does not replicate from B before B's answer", bSchema)
		}
		recs, err := b.db.Changes(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var answer *store.Change
		for _, r := range recs {
			if r.Kind == store.ChangeControl && r.Table == "shared" {
				answer = r
			}
		}
		if answer == nil {
			t.Fatalf("key type %s: B logged no control record for shared", bSchema)
		}
		if err := a.ApplyControl(context.Background(), "eu-west-1", answer); err != nil {
			t.Fatalf("key type %s: A applying B's answer: %v", bSchema, err)
		}
		aAfter, err := a.db.Table("shared")
		if err != nil {
			t.Fatal(err)
		}
		if a.ReplicatesFrom("shared", "eu-west-1") || replicas(aAfter)["eu-west-1"].Status != replicaRemoved {
			t.Errorf("key type %s: after B's answer A still replicates from B: %v", bSchema, replicas(aAfter))
		}
		if !reflect.DeepEqual(aAfter.Hash, at.Hash) || aAfter.Extra[extraSettings] != at.Extra[extraSettings] {
			t.Errorf("key type %s: B's answer changed A's table: %+v, was %+v", bSchema, aAfter, at)
		}
	}
}

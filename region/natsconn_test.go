package region

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
)

// A catch-up replays another region's stream: a change in it that names
// another origin is dropped before it is applied.
func TestCatchUp_DropsRecordsOfAForeignOrigin(t *testing.T) {
	r := &replication{log: hclog.NewNullLogger()}
	var got []*store.Change
	apply := r.ownRecordsOnly("src", func(chs []*store.Change) error {
		got = append(got, chs...)
		return nil
	})
	own := &store.Change{Table: "t", Version: conflict.Version{Wall: 1, Region: "src"}}
	forged := &store.Change{Table: "t", Version: conflict.Version{Wall: 2, Region: "victim"}}
	control := &store.Change{Table: "t", Kind: store.ChangeControl}
	if err := apply([]*store.Change{own, forged, control}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != own || got[1] != control {
		t.Fatalf("applied %v", got)
	}
}

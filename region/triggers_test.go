package region_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/trigger"
)

// The trigger endpoints: adding one wants the control token, a bad spec
// is refused with what to change, a taken name is a conflict, and an
// unknown trigger is not found.
func TestRegion_TriggerEndpoints(t *testing.T) {
	dir := t.TempDir()
	r, _ := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: dir, TTLInterval: -1})
	ctx := context.Background()
	tok, err := region.ReadControlToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &region.Client{Token: tok}
	url := r.URL() + region.TriggersPath
	spec := trigger.Spec{Name: "audit", Table: "Music", Command: "cat"}
	status := func(err error) int {
		var ee *region.EndpointError
		if !errors.As(err, &ee) {
			t.Fatalf("error %v, want an endpoint error", err)
		}
		return ee.Status
	}
	if err := region.PutJSON(ctx, url+"/audit", spec, nil); status(err) != http.StatusUnauthorized {
		t.Fatalf("without token: %v", err)
	}
	if err := c.PutJSON(ctx, url+"/audit", trigger.Spec{Table: "Music"}, nil); status(err) != http.StatusBadRequest {
		t.Fatalf("without target: %v", err)
	}
	var st trigger.Status
	if err := c.PutJSON(ctx, url+"/audit", spec, &st); err != nil || st.Name != "audit" || st.Source != trigger.SourceAPI {
		t.Fatalf("add: %v %+v", err, st)
	}
	if err := c.PutJSON(ctx, url+"/audit", spec, nil); status(err) != http.StatusConflict {
		t.Fatalf("add twice: %v", err)
	}
	var list []trigger.Status
	if err := c.GetJSON(ctx, url, &list); err != nil || len(list) != 1 || list[0].State == "" {
		t.Fatalf("list: %v %+v", err, list)
	}
	if got := r.Status().Triggers; len(got) != 1 {
		t.Fatalf("status triggers %+v", got)
	}
	if err := c.PutJSON(ctx, url+"/nope/remove", struct{}{}, nil); status(err) != http.StatusNotFound {
		t.Fatalf("remove unknown: %v", err)
	}
	if err := c.PutJSON(ctx, url+"/audit/remove", struct{}{}, nil); err != nil {
		t.Fatalf("remove: %v", err)
	}
}

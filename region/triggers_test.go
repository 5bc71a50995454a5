package region_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/api/sigv4"
	"github.com/globaltables/globaltables/region/trigger"
)

// The trigger endpoints: adding one wants the control token, a bad spec
// is refused with what to change, a taken name is a conflict, and an
// unknown trigger is not found.
func TestRegion_TriggerEndpoints(t *testing.T) {
	dir := t.TempDir()
	key := sigv4.Credential{AccessKeyID: "AKIDTRIGGER", SecretAccessKey: "secret"}
	r, _ := startRegion(t, region.Config{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: dir, TTLInterval: -1,
		Credentials: []sigv4.Credential{key}})
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
	// An access key may add a URL trigger, not a command: a command runs
	// on the region's machine.
	signed := &region.Client{Credential: &key, Region: "us-east-1"}
	if err := signed.PutJSON(ctx, url+"/audit", spec, nil); status(err) != http.StatusForbidden {
		t.Fatalf("command trigger with an access key: %v", err)
	}
	if err := signed.PutJSON(ctx, url+"/hook", trigger.Spec{Table: "Music", URL: "http://127.0.0.1:1/"}, nil); err != nil {
		t.Fatalf("url trigger with an access key: %v", err)
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
	if err := c.GetJSON(ctx, url, &list); err != nil || len(list) != 2 || list[0].State == "" {
		t.Fatalf("list: %v %+v", err, list)
	}
	if got := r.Status().Triggers; len(got) != 2 {
		t.Fatalf("status triggers %+v", got)
	}
	if err := c.PutJSON(ctx, url+"/nope/remove", struct{}{}, nil); status(err) != http.StatusNotFound {
		t.Fatalf("remove unknown: %v", err)
	}
	if err := c.PutJSON(ctx, url+"/audit/remove", struct{}{}, nil); err != nil {
		t.Fatalf("remove: %v", err)
	}
}

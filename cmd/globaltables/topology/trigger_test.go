package topology

import (
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region/trigger"
)

func TestTopology_TriggerBlocks(t *testing.T) {
	src := `
region "us-east-1" { listen = "127.0.0.1:8000" }
region "eu-west-1" { listen = "127.0.0.1:8001" }
trigger "audit" {
  table = "Music"
  command = "python3 handler.py"
  batching_window = "2s"
  max_retries = 0
}
trigger "indexer" {
  table = "Music"
  url = "http://127.0.0.1:9000/"
  regions = ["eu-west-1"]
  starting_position = "latest"
}
`
	topo, err := Parse([]byte(src), "t.hcl")
	if err != nil {
		t.Fatal(err)
	}
	us, err := topo.TriggersFor("us-east-1")
	if err != nil || len(us) != 1 || us[0].Name != "audit" || *us[0].MaxRetries != 0 ||
		time.Duration(us[0].BatchingWindow) != 2*time.Second || us[0].Source != trigger.SourceTopology {
		t.Fatalf("us-east-1: %v %+v", err, us)
	}
	eu, err := topo.TriggersFor("eu-west-1")
	if err != nil || len(eu) != 2 || eu[1].StartingPosition != trigger.Latest {
		t.Fatalf("eu-west-1: %v %+v", err, eu)
	}
	for bad, want := range map[string]string{
		"trigger \"x\" {\n table = \"Music\"\n}":                                                  "give a command or a url",
		"trigger \"x\" {\n table = \"Music\"\n command = \"cat\"\n regions = [\"mars-1\"]\n}":     "mars-1",
		"trigger \"x\" {\n table = \"Music\"\n command = \"cat\"\n batching_window = \"soon\"\n}": "batching_window",
	} {
		_, err := Parse([]byte(`region "us-east-1" { listen = "127.0.0.1:8000" }`+"\n"+bad), "t.hcl")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", bad, err, want)
		}
	}
}

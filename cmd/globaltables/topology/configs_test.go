package topology

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad_DockerTopology checks configs/docker.hcl, the topology of the
// container image: it is valid, its endpoints listen on every interface
// (published ports cannot reach a container's loopback), its NATS servers
// stay on loopback, and its regions and ports are default.hcl's, so that
// the CLI on the host, with the default topology, reaches the published
// endpoints.
func TestLoad_DockerTopology(t *testing.T) {
	docker, err := Load(repoFile("configs", "docker.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := Load(repoFile("configs", "default.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !docker.OpenMetrics || def.OpenMetrics {
		t.Errorf("open_metrics: docker.hcl %v, default.hcl %v; want the Prometheus container to scrape, and only it", docker.OpenMetrics, def.OpenMetrics)
	}
	if len(docker.Regions) != len(def.Regions) {
		t.Fatalf("docker.hcl has %d regions, default.hcl %d", len(docker.Regions), len(def.Regions))
	}
	for i, r := range docker.Regions {
		d := def.Regions[i]
		if r.Name != d.Name || r.Listen != "0.0.0.0:"+portOf(d.Listen) {
			t.Errorf("docker.hcl region %s listens on %s; want %s on 0.0.0.0:%s", r.Name, r.Listen, d.Name, portOf(d.Listen))
		}
		if !strings.HasPrefix(r.NATSListen, "127.0.0.1:") {
			t.Errorf("docker.hcl region %s: NATS on %s, want loopback", r.Name, r.NATSListen)
		}
		if !filepath.IsAbs(r.DataDir) {
			t.Errorf("docker.hcl region %s: data folder %s is not the image's volume", r.Name, r.DataDir)
		}
	}
}

// TestLoad_SevenRegions checks configs/seven-regions.hcl (issue 12, goal
// 5): valid, seven distinct regions, tables global from creation, and no
// address or data folder shared with default.hcl, so both run at once.
func TestLoad_SevenRegions(t *testing.T) {
	seven, err := Load(repoFile("configs", "seven-regions.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := Load(repoFile("configs", "default.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(seven.Regions) != 7 || !seven.GlobalTables {
		t.Fatalf("%d regions, global_tables %v; want 7, true", len(seven.Regions), seven.GlobalTables)
	}
	taken := map[string]string{}
	for _, r := range def.Regions {
		taken[r.Listen], taken[r.NATSListen], taken[filepath.Clean(r.DataDir)] = "default.hcl "+r.Name, "default.hcl "+r.Name, "default.hcl "+r.Name
	}
	for _, r := range seven.Regions {
		for _, v := range []string{r.Listen, r.NATSListen, filepath.Clean(r.DataDir)} {
			if other, ok := taken[v]; ok {
				t.Errorf("seven-regions.hcl %s: %s is also %s's", r.Name, v, other)
			}
			taken[v] = "seven-regions.hcl " + r.Name
		}
	}
}

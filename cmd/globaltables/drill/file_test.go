package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse_Defaults(t *testing.T) {
	d, err := Parse("d.hcl", []byte(`name = "x"
step "start_load" {}
step "wait" { for = "2s" }
`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Load.Keys != 100 || d.Load.Rate != 40 || len(d.Steps) != 2 {
		t.Fatalf("defaults: %+v, %d steps", d.Load, len(d.Steps))
	}
}

func TestParse_RefusesBadSteps(t *testing.T) {
	for name, src := range map[string]string{
		"unknown kind":       `step "explode" {}`,
		"bad wait":           `step "wait" { for = "soon" }`,
		"kill no region":     `step "kill" {}`,
		"cut without to":     `step "cut" { from = "a" }`,
		"bad latency":        "step \"link\" {\n from = \"a\"\n to = \"b\"\n latency = \"fast\"\n}",
		"loss over 100":      "step \"link\" {\n from = \"a\"\n to = \"b\"\n loss_percent = 120\n}",
		"negative bandwidth": "step \"link\" {\n from = \"a\"\n to = \"b\"\n bandwidth_kbps = -1\n}",
		"phase no name":      `step "phase" {}`,
		"bad convergence":    `step "assert" { converged_within = "1 minute" }`,
		"clock, no region":   `step "clock" { offset = "1s" }`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("d.hcl", []byte("name = \"x\"\n"+src+"\n")); err == nil {
				t.Fatalf("accepted %s", src)
			} else if !strings.Contains(err.Error(), "d.hcl") {
				t.Fatalf("error does not name the file: %v", err)
			}
		})
	}
}

// TestParse_LinkStepTakesEveryShapeField: a drill's link step shapes a
// link with the same fields as a topology's link block (loss and
// bandwidth were ignored before: a drill could not rehearse a lossy link).
func TestParse_LinkStepTakesEveryShapeField(t *testing.T) {
	d, err := Parse("d.hcl", []byte(`name = "x"
step "link" {
  from = "a"
  to = "b"
  latency = "80ms"
  jitter = "10ms"
  bandwidth_kbps = 512
  loss_percent = 2.5
}
`))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := d.Steps[0].link().Shape()
	if err != nil {
		t.Fatal(err)
	}
	if sh.Latency != 80*time.Millisecond || sh.Jitter != 10*time.Millisecond || sh.BandwidthKBps != 512 || sh.LossPercent != 2.5 {
		t.Fatalf("shape %+v", sh)
	}
}

// TestParse_BuiltinDrills parses every drill the repository ships.
func TestParse_BuiltinDrills(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "configs", "drills", "*.hcl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no built-in drills found: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, src); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

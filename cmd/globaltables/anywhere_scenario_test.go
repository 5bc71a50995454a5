//go:build scenario

package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestScenario_UpBuiltinInEmptyFolder runs `globaltables up` exactly as the
// README says, with no flags, in an empty folder: the built-in topology on
// its fixed ports 8000-8002 and 9000-9002 (skipped when something else
// holds them). It checks the state file, that `status` there needs no flags,
// and that one SIGINT to the group leaves every store closed.
func TestScenario_UpBuiltinInEmptyFolder(t *testing.T) {
	for _, p := range []int{8000, 8001, 8002, 9000, 9001, 9002} {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Skipf("port %d is busy on this machine: %v", p, err)
		}
		ln.Close()
	}
	dir := t.TempDir()
	cmd := exec.Command(binary, "up")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	exited, output, _ := startUpCmd(t, cmd, 3)
	st, err := readUpState(filepath.Join(dir, "data", StateFile))
	if err != nil || st.Topology != BuiltinTopology || len(st.Regions) != 3 {
		t.Fatalf("state file: %v %+v", err, st)
	}
	status := exec.Command(binary, "status")
	status.Dir = dir
	out, _ := status.CombinedOutput()
	for _, n := range []string{"us-east-1", "eu-west-1", "ap-southeast-1"} {
		if !strings.Contains(string(out), n) || strings.Contains(string(out), "unreachable") {
			t.Fatalf("status with no flags, in up's folder:\n%s", out)
		}
	}
	interruptGroup(t, cmd, exited, output)
	for _, r := range st.Regions {
		if _, err := os.Stat(filepath.Join(r.DataDir, "db", "LOCK")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: store not closed cleanly (LOCK left: %v):\n%s", r.Name, err, output())
		}
	}
}

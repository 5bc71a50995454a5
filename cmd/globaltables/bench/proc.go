package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ProcessCPU returns the CPU time (user plus system) process pid has used
// so far, in clock ticks of 10 ms: callers measuring over a phase should
// make it last seconds, not milliseconds.
func ProcessCPU(pid int) (time.Duration, error) { return processCPU(pid) }

// Memory is a process's resident set size now and at its peak, in bytes.
type Memory struct {
	RSS  uint64 `json:"rss_bytes"`
	Peak uint64 `json:"peak_rss_bytes"`
}

// ProcessMemory reads process pid's resident set size and its peak
// (VmRSS and VmHWM of /proc/PID/status; the peak is over the process's
// life).
func ProcessMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("read the memory of process %d: %w", pid, err)
	}
	m, err := parseStatusMemory(b)
	if err != nil {
		return Memory{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return m, nil
}

// parseStatusMemory reads the VmRSS and VmHWM lines ("VmRSS:	  1234 kB")
// of a /proc/PID/status file.
func parseStatusMemory(b []byte) (Memory, error) {
	var m Memory
	var seen int
	for _, line := range bytes.Split(b, []byte("\n")) {
		var dst *uint64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &m.RSS
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &m.Peak
		default:
			continue
		}
		f := bytes.Fields(line[6:])
		if len(f) != 2 || string(f[1]) != "kB" {
			return Memory{}, fmt.Errorf("unexpected line %q", line)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("line %q: %w", line, err)
		}
		*dst = kb * 1024
		seen++
	}
	if seen != 2 {
		return Memory{}, fmt.Errorf("no VmRSS and VmHWM lines")
	}
	return m, nil
}

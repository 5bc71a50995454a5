package bench

import (
	"os"
	"testing"
)

func TestParseStatusMemory(t *testing.T) {
	m, err := parseStatusMemory([]byte("Name:\tglobaltables\nVmPeak:\t 2000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 40<<20 || m.Peak != 50<<20 {
		t.Errorf("got %+v, want RSS 40 MiB and peak 50 MiB", m)
	}
	for _, bad := range []string{"", "VmRSS:\t 12 kB\n", "VmRSS:\t x kB\nVmHWM:\t 1 kB\n", "VmRSS:\t 12 MB\nVmHWM:\t 1 kB\n"} {
		if _, err := parseStatusMemory([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestProcessMemory_Self(t *testing.T) {
	m, err := ProcessMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS == 0 || m.Peak < m.RSS {
		t.Errorf("got %+v: want a resident size, and a peak at least that", m)
	}
	if _, err := ProcessMemory(-1); err == nil {
		t.Error("ProcessMemory(-1): no error")
	}
}

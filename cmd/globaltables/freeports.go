package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
)

// freeLoopbackPorts returns n loopback ports that were free a moment ago,
// for regions a test or a benchmark starts next.
//
// They are chosen below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), not by listening on port 0:
// the kernel hands out port-0 listeners from that range, the same range it
// draws the source ports of outgoing connections from, so between this
// call and the region's bind any connection the machine opens could take
// the port ("address already in use", seen in the test suite on a busy
// machine). Below the range only another listener can take it. Where the
// range cannot be read, or nothing below it is free, port 0 is used.
func freeLoopbackPorts(n int) ([]int, error) {
	var out []int
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	low := ephemeralLow()
	for len(out) < n {
		port := 0
		for try := 0; try < 64 && port == 0 && low > minListenPort+1; try++ {
			p := minListenPort + rand.IntN(low-minListenPort)
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				continue
			}
			closers = append(closers, ln)
			port = p
		}
		if port == 0 {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			closers = append(closers, ln)
			port = ln.Addr().(*net.TCPAddr).Port
		}
		out = append(out, port)
	}
	return out, nil
}

// minListenPort is the lowest port freeLoopbackPorts picks: above the
// well-known and the commonly configured ones.
const minListenPort = 10000

// ephemeralLow returns the first port of the kernel's ephemeral range, 0
// if it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil {
		return 0
	}
	return low
}

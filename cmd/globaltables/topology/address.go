package topology

import (
	"fmt"
	"net"
	"strconv"
)

// MaxPort is the highest TCP port.
const MaxPort = 65535

// CheckAddress checks addr, a host:port to listen on or to dial: the port is
// a number from 1 to 65535, or 0 when allowZero (a process alone, which
// picks a free port and logs it). net.Listen would take a service name
// ("http") or fail late with "invalid port"; a number out of range such as
// 99999 would otherwise pass --check-config and fail only at start.
// example is a good address for the message ("127.0.0.1:8000").
func CheckAddress(addr, example string, allowZero bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("%q is not host:port; write it as host and port, e.g. %q (an empty host, %q, listens on every interface)",
			addr, example, ":"+portOf(example))
	}
	n, err := strconv.Atoi(port)
	span := fmt.Sprintf("1 to %d", MaxPort)
	if allowZero {
		span += " (or 0 for any free port)"
	}
	if err == nil && n == 0 && !allowZero {
		return fmt.Errorf("%q: port 0 would pick a random free port, which the other regions and the commands could not find; give a fixed port from 1 to %d, e.g. %q",
			addr, MaxPort, net.JoinHostPort(host, portOf(example)))
	}
	if err != nil {
		return fmt.Errorf("%q: port %q is not a number; use %s, e.g. %q",
			addr, port, span, net.JoinHostPort(host, portOf(example)))
	}
	if n < 0 || n > MaxPort {
		return fmt.Errorf("%q: port %d is out of range; use %s, e.g. %q",
			addr, n, span, net.JoinHostPort(host, portOf(example)))
	}
	return nil
}

// portOf returns the port of a host:port known to be well formed.
func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

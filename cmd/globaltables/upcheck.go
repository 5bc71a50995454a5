package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

// `up` refuses to start over another topology, and does not claim success
// for endpoints that are not its own: another `up`, or any program on one
// of its ports, answers as well as its regions would.

// checkPortsFree refuses, before anything starts, a topology one of whose
// ports something already listens on.
func checkPortsFree(t *topology.Topology) error {
	for _, r := range t.Regions {
		for _, addr := range []string{r.Listen, r.NATSListen, r.ClientListen} {
			if addr == "" || (addr == r.NATSListen && r.NATSURL != "") {
				continue
			}
			ln, err := net.Listen("tcp", addr)
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("%s is in use — another globaltables up? (region %s needs it)", addr, r.Name)
			}
			if err != nil {
				return fmt.Errorf("region %s cannot listen on %s: %w", r.Name, addr, err)
			}
			ln.Close()
		}
	}
	return nil
}

// checkOwnChildren checks that each region's endpoint is answered by the
// process this supervisor started for it, by the PID its status gives.
func checkOwnChildren(ctx context.Context, sup *supervise.Supervisor, t *topology.Topology) error {
	for _, r := range t.Regions {
		var st region.Status
		if err := regionGet(ctx, t, r, region.StatusPath, &st); err != nil {
			return fmt.Errorf("%s is answered by something else than region %s: %w — another globaltables up?", r.Endpoint(), r.Name, err)
		}
		if want := sup.PID(r.Name); st.PID != want || st.Region != r.Name {
			return fmt.Errorf("%s is answered by region %s of process %d, not by the region %s this up started (process %d) — another globaltables up?",
				r.Endpoint(), st.Region, st.PID, r.Name, want)
		}
	}
	return nil
}

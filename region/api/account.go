package api

import (
	"context"
	"net"
	"net/http"
)

// DescribeEndpoints, DescribeLimits and the legacy global tables API.

type endpoint struct {
	Address              string `json:"Address"`
	CachePeriodInMinutes int64  `json:"CachePeriodInMinutes"`
}

type describeEndpointsOutput struct {
	Endpoints []endpoint `json:"Endpoints"`
}

// describeEndpoints implements DescribeEndpoints, which SDKs with endpoint
// discovery call. The address is the one the request came in on (host and
// port), so that a client that follows it reaches this server again; without
// one it is DynamoDB's regional host name.
func (s *Server) describeEndpoints(ctx context.Context, body []byte) (any, error) {
	addr := "dynamodb." + s.cfg.Region + ".amazonaws.com"
	// The fasthttp front end's context is the request itself; net/http's
	// carries the address as a value.
	if rc, ok := ctx.(interface{ LocalAddr() net.Addr }); ok && rc.LocalAddr() != nil {
		addr = rc.LocalAddr().String()
	} else if a, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr); ok && a != nil {
		addr = a.String()
	}
	return describeEndpointsOutput{Endpoints: []endpoint{{Address: addr, CachePeriodInMinutes: endpointCacheMinute}}}, nil
}

type describeLimitsOutput struct {
	AccountMaxReadCapacityUnits  int64 `json:"AccountMaxReadCapacityUnits"`
	AccountMaxWriteCapacityUnits int64 `json:"AccountMaxWriteCapacityUnits"`
	TableMaxReadCapacityUnits    int64 `json:"TableMaxReadCapacityUnits"`
	TableMaxWriteCapacityUnits   int64 `json:"TableMaxWriteCapacityUnits"`
}

// describeLimits reports DynamoDB's default capacity quotas. Nothing here
// enforces them; tools that size tables by them get the familiar numbers.
func (s *Server) describeLimits(ctx context.Context, body []byte) (any, error) {
	return describeLimitsOutput{
		AccountMaxReadCapacityUnits:  accountMaxCapacityUnits,
		AccountMaxWriteCapacityUnits: accountMaxCapacityUnits,
		TableMaxReadCapacityUnits:    tableMaxCapacityUnits,
		TableMaxWriteCapacityUnits:   tableMaxCapacityUnits,
	}, nil
}

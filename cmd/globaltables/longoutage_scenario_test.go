//go:build scenario

package main

import "testing"

// TestScenario_LongOutageThousandDeletes is issue 7, finding 3, exactly as
// reported: 1,000 items deleted elsewhere while a region is away longer
// than tombstone_horizon.
func TestScenario_LongOutageThousandDeletes(t *testing.T) {
	longOutageDeletes(t, 1000)
}

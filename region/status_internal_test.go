package region

import (
	"testing"
	"time"

	"github.com/globaltables/globaltables/replicator"
)

// TestLinkStatus_LastErrorLastsUntilAMinuteAfterRecovery checks the life
// of a link's last error in the status: shown with its time while the
// failure lasts (however old), marked recovered once the link works
// again, and dropped a minute after that.
func TestLinkStatus_LastErrorLastsUntilAMinuteAfterRecovery(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	failing := replicator.LinkStatus{LastError: "source stream not found", LastErrorAt: t0}
	recovered := failing
	recovered.RecoveredAt = t0.Add(2 * time.Second)
	for _, tc := range []struct {
		name          string
		l             replicator.LinkStatus
		now           time.Time
		wantErr       bool
		wantRecovered bool
	}{
		{"no error", replicator.LinkStatus{}, t0, false, false},
		{"failing", failing, t0.Add(time.Second), true, false},
		{"failing for an hour", failing, t0.Add(time.Hour), true, false},
		{"just recovered", recovered, t0.Add(3 * time.Second), true, true},
		{"recovered a minute ago", recovered, recovered.RecoveredAt.Add(recentError + time.Second), false, false},
	} {
		var ls LinkStatus
		ls.setLastError(tc.l, tc.now)
		if (ls.LastError != "") != tc.wantErr || ls.Recovered != tc.wantRecovered {
			t.Errorf("%s: last error %q at %s, recovered %v; want error %v, recovered %v",
				tc.name, ls.LastError, ls.LastErrorAt, ls.Recovered, tc.wantErr, tc.wantRecovered)
		}
		if tc.wantErr && !ls.LastErrorAt.Equal(tc.l.LastErrorAt) {
			t.Errorf("%s: error time %s, want %s", tc.name, ls.LastErrorAt, tc.l.LastErrorAt)
		}
	}
	// A new failure after a recovery is a failure again.
	again := recovered
	again.LastErrorAt = recovered.RecoveredAt.Add(time.Second)
	var ls LinkStatus
	ls.setLastError(again, again.LastErrorAt)
	if ls.Recovered || ls.LastError == "" {
		t.Errorf("a failure after a recovery reads as recovered: %+v", ls)
	}
}

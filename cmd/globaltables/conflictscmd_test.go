package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region"
)

// TestConflicts_OneReadableLinePerConflict checks the conflicts listing:
// one line per conflict, a compact key, and each write as its region and
// wall-clock time; --verbose adds the losing item.
func TestConflicts_OneReadableLinePerConflict(t *testing.T) {
	at := time.Date(2026, 11, 30, 7, 0, 5, 123e6, time.Local)
	win := conflict.Version{Wall: at.UnixNano(), Logical: 2, Region: "eu-west-1"}
	lose := conflict.Version{Wall: at.Add(-23 * time.Millisecond).UnixNano(), Region: "us-east-1"}
	recs := []region.ConflictRecord{{Table: "Music",
		Key:    json.RawMessage("{\n  \"Artist\": {\"S\": \"Acme Band\"},\n  \"SongTitle\": {\"S\": \"Happy Day\"}\n}"),
		Winner: win.Token(), Loser: lose.Token(),
		WinnerItem: json.RawMessage(`{"Artist":{"S":"Acme Band"}}`),
		LoserItem:  json.RawMessage(`{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"Happy Day"},"Plays":{"N":"3"},"Tags":{"SS":["a","b"]}}`),
	}, {Table: "Music", Key: json.RawMessage(`{"Artist":{"S":"B"},"SongTitle":{"S":"C"}}`), Winner: win.Token(), Loser: lose.Token()}}
	var sb strings.Builder
	printConflicts(&sb, recs, false)
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	t.Log(sb.String())
	if len(lines) != 4 {
		t.Fatalf("%d lines for 2 conflicts, want a header, 2 lines and a count", len(lines))
	}
	want := []string{"Music", "Artist=Acme Band, SongTitle=Happy Day", "eu-west-1 at Nov 30 07:00:05.123", "us-east-1 at Nov 30 07:00:05.100"}
	for _, w := range want {
		if !strings.Contains(lines[1], w) {
			t.Errorf("line %q lacks %q", lines[1], w)
		}
	}
	if !strings.Contains(lines[2], "eu-west-1 at Nov 30 07:00:05.123 (delete)") {
		t.Errorf("a winning delete is not called one: %q", lines[2])
	}
	sb.Reset()
	printConflicts(&sb, recs, true)
	if !strings.Contains(sb.String(), "Artist=Acme Band, SongTitle=Happy Day, Plays=3, Tags=[a b]") || !strings.Contains(sb.String(), "(a delete)") {
		t.Errorf("--verbose does not add the losing item:\n%s", sb.String())
	}
}

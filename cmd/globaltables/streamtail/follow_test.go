package streamtail

import (
	"encoding/json"
	"testing"
	"time"
)

func TestLine_CompactKeyAndNotes(t *testing.T) {
	f := &follower{ep: &Endpoint{Region: "eu-west-1"}}
	f.setKeys(&streamDescription{KeySchema: []keySchemaElement{
		{AttributeName: "SongTitle", KeyType: "RANGE"}, {AttributeName: "Artist", KeyType: "HASH"}}})
	raw := json.RawMessage(`{"eventName":"REMOVE","awsRegion":"eu-west-1",
		"dynamodb":{"ApproximateCreationDateTime":1796022030,"Keys":{"SongTitle":{"S":"Happy Day"},"Artist":{"S":"Acme Band"}},
		"SequenceNumber":"000000000000000000042"},
		"userIdentity":{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"},
		"globaltables":{"originRegion":"us-east-1","overwroteLocal":true}}`)
	l, err := f.line(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Unix(1796022030, 0).UTC().Format("15:04:05") +
		"  eu-west-1      REMOVE  Artist=Acme Band, SongTitle=Happy Day  origin us-east-1  (TTL deletion)  (overwrote a concurrent local write)"
	if got := l.String(); got != want || l.seq != "000000000000000000042" {
		t.Fatalf("line %q (seq %s), want %q", got, l.seq, want)
	}
	if got := compactKey(map[string]json.RawMessage{"n": json.RawMessage(`{"N":"42"}`), "b": json.RawMessage(`{"B":"AQI="}`)}, nil); got != "b=AQI=, n=42" {
		t.Fatalf("compact key %q", got)
	}
}

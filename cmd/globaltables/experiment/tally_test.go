package experiment

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFailedReadsCountedAlike runs a workload against a region whose reads
// all fail: the running counts (the drill's "load stopped" line, the
// progress line) and the result (summary, HTML) must give the same figures.
func TestFailedReadsCountedAlike(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetItem") {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"gone"}`))
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	rec, err := Run(context.Background(), Config{Endpoints: map[string]string{"r1": srv.URL}, Table: "t",
		Rate: 200, ReadRatio: 0.5, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	writes, reads, errs := rec.Counts()
	res := Analyse(rec, nil, nil, 0, true, nil)
	if reads == 0 || writes == 0 {
		t.Fatalf("the workload made %d writes and %d reads", writes, reads)
	}
	if res.Writes != writes || res.Reads != reads || res.WriteErrors+res.ReadErrors != errs {
		t.Fatalf("running counts say %d writes, %d reads, %d errors; the result says %d writes, %d reads, %d write and %d read errors",
			writes, reads, errs, res.Writes, res.Reads, res.WriteErrors, res.ReadErrors)
	}
	if res.ReadErrors != reads {
		t.Errorf("%d of %d reads failed, the result says %d", reads, reads, res.ReadErrors)
	}
	// The running text (a drill's "load stopped" event) and the summary
	// say the same, in the same words.
	running := rec.Tally(nil).Text()
	var sum bytes.Buffer
	res.Summary(&sum)
	if !strings.Contains(sum.String(), running) {
		t.Errorf("the summary does not say what the running count says (%q):\n%s", running, sum.String())
	}
	if want := fmt.Sprintf("%d reads (0 answered, %d failed)", reads, reads); !strings.Contains(running, want) {
		t.Errorf("the running count says %q, want %q", running, want)
	}
	if !strings.Contains(sum.String(), "0 of 0 answered reads") {
		t.Errorf("stale reads are not counted among answered reads:\n%s", sum.String())
	}
}

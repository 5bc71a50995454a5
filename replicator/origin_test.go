package replicator

import (
	"errors"
	"testing"

	"github.com/globaltables/globaltables/store"
)

// A record in src's stream that src could not have written (another
// region's version, or a subject of another table) is refused, counted
// and logged; the link goes on with src's own records.
func TestLink_RefusesRecordsOfAForeignOrigin(t *testing.T) {
	url, _, js := sourceStream(t, nil)
	publish(t, js, "src", items("t", 0, 2)...)
	forged := items("t", 2, 1)[0]
	forged.Version.Region = "victim"
	publish(t, js, "src", forged) // 3
	wrongTable := items("t", 3, 1)[0]
	publishRaw(t, js, ItemSubject("src", "other"), store.AppendChange(nil, wrongTable)) // 4
	publish(t, js, "src", items("t", 4, 2)...)                                          // 5, 6
	st := newFakeStore()
	l := newTestLink(t, url, st, nil)
	run(t, l.Run)
	waitCursor(t, st, "src", 6)
	checkAppliedOnce(t, st, []uint64{1, 2, 5, 6})
	if s := l.Status(); s.Rejected != 2 {
		t.Fatalf("rejected %d, want 2", s.Rejected)
	}
}

func TestCheckSubject(t *testing.T) {
	ok := items("t", 0, 1)[0]
	foreign := *ok
	foreign.Version.Region = "x"
	if err := CheckSubject("src", ItemSubject("src", "t"), ok); err != nil {
		t.Fatal(err)
	}
	ctl := controlChange("t")
	if err := CheckSubject("src", ControlSubject("src", "t"), ctl); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		subject string
		ch      *store.Change
	}{
		"control on an item subject": {ItemSubject("src", "t"), ctl},
		"another region's subject":   {ItemSubject("other", "t"), ok},
		"another table's subject":    {ItemSubject("src", "u"), ok},
		"another region's version":   {ItemSubject("src", "t"), &foreign},
	} {
		if err := CheckSubject("src", c.subject, c.ch); !errors.Is(err, ErrForeignOrigin) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

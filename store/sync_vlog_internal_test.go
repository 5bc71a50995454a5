package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/globaltables/globaltables/store/attr"
)

// TestDB_ValueLogFlushedBeforeALaterCommitIsDurable: a commit A with a value
// for the value log (4 KiB or more) is written by Badger, and before it can
// mark the value log dirty a later small commit B runs its sync round. B's
// round makes B durable, and with it the durability watermark past A's
// change record, so the publisher may send A: that round must have
// flushed the value log holding A's value. It flushed only the write-ahead
// logs before (found in review).
func TestDB_ValueLogFlushedBeforeALaterCommitIsDurable(t *testing.T) {
	_, db, tbl := openWithRow(t) // its row's round takes the dirty marks of the start
	defer db.Close()

	var mu sync.Mutex // guards flushed, written by the sync goroutine
	var flushed []string
	db.files.flush = func(f *os.File, full bool) error {
		mu.Lock()
		flushed = append(flushed, filepath.Base(f.Name()))
		mu.Unlock()
		return flushFile(f, full)
	}
	held, release := make(chan struct{}), make(chan struct{})
	db.afterCommit = func(tx *Tx) {
		if tx.bigValues {
			close(held)
			<-release
		}
	}
	aDone := make(chan error, 1)
	go func() {
		aDone <- db.Update(context.Background(), func(tx *Tx) error {
			_, err := tx.Put(tbl, attr.Item{"pk": attr.String("big"), "v": attr.String(strings.Repeat("x", 8<<10))})
			return err
		})
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the big commit never reached Badger")
	}
	mu.Lock()
	flushed = nil
	mu.Unlock()
	if err := putOne(db, tbl, "small"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]string(nil), flushed...)
	mu.Unlock()
	close(release)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	vlog := false
	for _, name := range got {
		vlog = vlog || strings.HasSuffix(name, ".vlog")
	}
	if !vlog {
		t.Errorf("the round that made the small commit durable flushed %v: no value log, though the big commit before it had its value there", got)
	}
}

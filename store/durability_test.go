package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
	"github.com/globaltables/globaltables/store/storetest"
)

// crashChildEnv switches the test binary into the writer that
// TestDB_AcknowledgedWritesSurviveSIGKILL kills.
const crashChildEnv = "STORE_CRASH_CHILD_DIR"

// ackedPerRound is how many acknowledged writes the parent waits for before
// it kills the child.
const ackedPerRound = 300

func crashTable() *store.Table {
	t := storetest.HashRangeTable("crash", attr.TypeS, attr.TypeN)
	t.GSIs = []store.Index{{Name: "g", Hash: store.KeyElement{Name: "g", Type: attr.TypeS}, Range: &store.KeyElement{Name: "sk", Type: attr.TypeN}}}
	return t
}

// runCrashChild writes items from several goroutines and prints "ack <w> <i>"
// after each Update returns, until it is killed. Sort keys start at first.
func runCrashChild(dir string, first int) {
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.Region, cfg.SyncWrites = dir, "crash", true
	db, err := store.Open(cfg)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	if err := db.CreateTable(crashTable()); err != nil && !errors.Is(err, store.ErrTableExists) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	tbl, _ := db.Table("crash")
	var mu sync.Mutex // keeps ack lines whole
	fmt.Println("ready")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := first; ; i++ {
				it := attr.Item{
					"pk": attr.String(fmt.Sprint("w", w)), "sk": attr.Number(strconv.Itoa(i)),
					"g": attr.String("all"), "pad": attr.String(strings.Repeat("x", 150)),
				}
				err := db.Update(context.Background(), func(tx *store.Tx) error {
					_, err := tx.Put(tbl, it)
					return err
				})
				if err != nil {
					mu.Lock()
					fmt.Println("error", err)
					mu.Unlock()
					return
				}
				mu.Lock()
				fmt.Printf("ack %d %d\n", w, i)
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // the parent died: don't linger
	}
	os.Exit(3)
}

func TestDB_AcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		first, _ := strconv.Atoi(os.Getenv(crashChildEnv + "_FIRST"))
		runCrashChild(dir, first)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	acked := make(map[[2]int]bool)
	for round := range 2 { // the second round runs on the recovered database
		cmd := exec.Command(os.Args[0], "-test.run=^TestDB_AcknowledgedWritesSurviveSIGKILL$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, fmt.Sprintf("%s_FIRST=%d", crashChildEnv, round*1_000_000))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() && n < ackedPerRound {
			line := sc.Text()
			var w, i int
			switch {
			case strings.HasPrefix(line, "ack "):
				if _, err := fmt.Sscanf(line, "ack %d %d", &w, &i); err != nil {
					t.Fatalf("child said %q", line)
				}
				acked[[2]int{w, i}] = true
				n++
			case strings.HasPrefix(line, "error"):
				t.Fatalf("child: %s", line)
			}
		}
		// Kill mid-load: writes are in flight right now.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if n < ackedPerRound {
			t.Fatalf("round %d: child acknowledged only %d writes", round, n)
		}

		cfg := store.DefaultConfig()
		cfg.Dir, cfg.Region = dir, "crash"
		db, err := store.Open(cfg)
		if err != nil {
			t.Fatalf("reopen after SIGKILL: %v", err)
		}
		tbl, err := db.Table("crash")
		if err != nil {
			t.Fatal(err)
		}
		changes, err := db.Changes(0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		logged := make(map[string]bool)
		for _, c := range changes {
			logged[c.Key["pk"].S+"/"+c.Key["sk"].N] = true
		}
		for k := range acked {
			w, i := k[0], k[1]
			key := attr.Item{"pk": attr.String(fmt.Sprint("w", w)), "sk": attr.Number(strconv.Itoa(i))}
			rec, err := db.Get(tbl, key)
			if err != nil || !rec.Exists() {
				t.Fatalf("round %d: acknowledged write %v lost: %+v, %v", round, key, rec, err)
			}
			if !logged[fmt.Sprintf("w%d/%d", w, i)] {
				t.Fatalf("round %d: acknowledged write %v has no change record", round, key)
			}
		}
		// Index entries, statistics and the table agree after recovery.
		items := storetest.Scan(t, db, store.ScanInput{Table: tbl}).Items
		entries := storetest.Query(t, db, store.QueryInput{Table: tbl, Index: "g", Hash: attr.String("all"), Forward: true}).Items
		if count, _ := db.Stats("crash"); len(entries) != len(items) || count != int64(len(items)) {
			t.Errorf("round %d: %d items, %d index entries, Stats %d", round, len(items), len(entries), count)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acknowledged, %d items, %d change records", round, n, len(items), len(changes))
	}
}

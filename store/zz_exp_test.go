package store

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

type expGroup struct {
	mu      sync.Mutex
	pending *expRound
	kick    chan struct{}
	rounds  atomic.Int64
}
type expRound struct {
	done chan struct{}
	err  error
}

func (g *expGroup) wait() error {
	g.mu.Lock()
	r := g.pending
	if r == nil {
		r = &expRound{done: make(chan struct{})}
		g.pending = r
	}
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
	<-r.done
	return r.err
}

func (g *expGroup) loop(bdb *badger.DB, stop chan struct{}) {
	for {
		select {
		case <-g.kick:
		case <-stop:
			return
		}
		g.mu.Lock()
		r := g.pending
		g.pending = nil
		g.mu.Unlock()
		if r != nil {
			r.err = bdb.Sync()
			g.rounds.Add(1)
			close(r.done)
		}
	}
}

func BenchmarkExp(b *testing.B) {
	for _, mode := range []string{"badgersync", "groupsync"} {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprint(mode, writers), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Dir = b.TempDir()
				cfg.SyncWrites = mode == "badgersync"
				bdb, err := badger.Open(cfg.badgerOptions(hclog.NewNullLogger()))
				if err != nil {
					b.Fatal(err)
				}
				defer bdb.Close()
				g := &expGroup{kick: make(chan struct{}, 1)}
				stop := make(chan struct{})
				defer close(stop)
				go g.loop(bdb, stop)
				v := []byte(strings.Repeat("x", 200))
				var i atomic.Int64
				put := func() {
					err := bdb.Update(func(txn *badger.Txn) error { return txn.Set([]byte(fmt.Sprint("k", i.Add(1))), v) })
					if err == nil && mode == "groupsync" {
						err = g.wait()
					}
					if err != nil {
						b.Error(err)
					}
				}
				b.SetParallelism(writers / 2)
				if writers == 1 {
					for b.Loop() {
						put()
					}
				} else {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							put()
						}
					})
				}
				b.ReportMetric(float64(g.rounds.Load())/float64(b.N), "syncs/op")
			})
		}
	}
}

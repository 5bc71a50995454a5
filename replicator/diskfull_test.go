package replicator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/replicator/natstest"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/storetest"
)

// TestPublisher_StreamBiggerThanFreeDisk gives the stream a size limit
// above what the disk has free (issue 7, finding 4): JetStream's default
// store limit, 75% of the disk free when the server started, refused such
// a stream for good, so the region's writes were never replicated. The
// stream is created and every record published.
func TestPublisher_StreamBiggerThanFreeDisk(t *testing.T) {
	disk := storetest.SmallDisk(t, 32)
	srv := natstest.StartServer(t, "src", disk)
	log := newFakeLog()
	log.add(items("t", 0, 50)...)
	p := newTestPublisher(t, log, srv.ClientURL(), func(c *PublisherConfig) {
		c.StreamMaxBytes = 64 << 20
		c.TrimGrace = time.Hour
	})
	run(t, p.Run)
	waitStreamLen(t, jsFor(t, natstest.Connect(t, srv.ClientURL())), "src", 50)
}

// TestPublisher_StreamOnFullDiskRetriedAndReported starts the publisher
// with its server's disk full: setting up the stream fails, the status says
// so from when, and once space is freed the stream is created and the
// backlog published. With a Space check (an embedded server sharing the
// store's disk) the publisher waits for space and names the cause; without,
// JetStream's own error is retried.
func TestPublisher_StreamOnFullDiskRetriedAndReported(t *testing.T) {
	for _, withSpace := range []bool{true, false} {
		t.Run(fmt.Sprintf("space_check=%v", withSpace), func(t *testing.T) {
			disk := storetest.SmallDisk(t, 32)
			srv := natstest.StartServer(t, "src", filepath.Join(disk, "nats"))
			filler := filepath.Join(disk, "filler")
			storetest.Fill(t, filler, -1)
			log := newFakeLog()
			log.add(items("t", 0, 50)...)
			p := newTestPublisher(t, log, srv.ClientURL(), func(c *PublisherConfig) {
				c.TrimGrace = time.Hour
				if withSpace {
					c.Space = func() error { return store.CheckFree(disk, 1<<20) }
				}
			})
			run(t, p.Run)
			natstest.WaitFor(t, waitLong, func() error {
				st := p.Status()
				if st.StreamError == "" || st.StreamErrorSince.IsZero() || st.Backlog != 50 || st.Connected {
					return fmt.Errorf("status does not report the stream failing: %+v", st)
				}
				if withSpace && (!st.DiskFull || !strings.Contains(st.StreamError, "no space left on device: 0.0 MiB free, 1.0 MiB reserved")) {
					return fmt.Errorf("status does not name the full disk: %+v", st)
				}
				return nil
			})
			t.Logf("reported: %s", p.Status().StreamError)
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			waitStreamLen(t, jsFor(t, natstest.Connect(t, srv.ClientURL())), "src", 50)
			natstest.WaitFor(t, waitLong, func() error {
				if st := p.Status(); st.StreamError != "" || st.DiskFull || st.Backlog != 0 || !st.Connected {
					return fmt.Errorf("status still reports the stream failing: %+v", st)
				}
				return nil
			})
		})
	}
}

// TestPublisher_StreamWriteOnFullDiskRecovers fills the disk under a
// stream that exists: publishing fails, is retried and reported, and every
// record is in the stream once space is freed. JetStream's file store
// refuses every write after its first write error until it is reopened,
// which Repair (natsrv.Server.Restart) does.
func TestPublisher_StreamWriteOnFullDiskRecovers(t *testing.T) {
	disk := storetest.SmallDisk(t, 32)
	srv := natstest.StartServer(t, "src", filepath.Join(disk, "nats"))
	log := newFakeLog()
	log.add(items("t", 0, 10)...)
	p := newTestPublisher(t, log, srv.ClientURL(), func(c *PublisherConfig) {
		c.TrimGrace = time.Hour
		c.PublishTimeout = time.Second
		c.Repair, c.RepairAfter = srv.Restart, 2*time.Second
	})
	run(t, p.Run)
	js := jsFor(t, natstest.Connect(t, srv.ClientURL()))
	waitStreamLen(t, js, "src", 10)

	filler := filepath.Join(disk, "filler")
	storetest.Fill(t, filler, -1)
	log.add(items("t", 10, 40)...)
	natstest.WaitFor(t, waitLong, func() error {
		if st := p.Status(); st.StreamError == "" {
			return fmt.Errorf("status does not report the failing stream: %+v", st)
		}
		return nil
	})
	t.Logf("reported: %s", p.Status().StreamError)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitStreamLen(t, js, "src", 50)
}

package region

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/globaltables/globaltables/region/clock"
	"github.com/globaltables/globaltables/replicator/shaper"
	"github.com/globaltables/globaltables/store"
)

// mountEndpoints serves the region's own endpoints beside the API, each
// behind the control guard (see controlGuard).
func (r *Region) mountEndpoints() {
	read := func(h http.HandlerFunc) http.Handler { return r.guard.wrap(h, false) }
	change := func(h http.HandlerFunc) http.Handler { return r.guard.wrap(h, true) }
	r.api.Handle("GET "+StatusPath, read(r.serveStatus))
	r.api.Handle("GET "+ConflictsPath, read(r.serveConflicts))
	r.api.Handle("GET "+DigestPath, read(r.serveDigest))
	r.api.Handle("GET "+LinksPath, read(r.serveLinks))
	r.api.Handle("PUT "+LinksPath+"/{source}", change(r.serveSetLink))
	r.api.Handle("GET "+OutLinksPath, read(r.serveOutLinks))
	r.api.Handle("PUT "+OutLinksPath+"/{dest}", change(r.serveSetOutLink))
	r.api.Handle("GET "+ClockPath, read(r.serveClock))
	r.api.Handle("PUT "+ClockPath, change(r.serveSetClock))
	r.mountTriggerEndpoints(read, change)
}

func (r *Region) serveClock(w http.ResponseWriter, _ *http.Request) {
	if r.skew == nil {
		writeJSON(w, http.StatusOK, clock.Skew{})
		return
	}
	writeJSON(w, http.StatusOK, r.skew.Get())
}

// serveSetClock skews the region's clock.
func (r *Region) serveSetClock(w http.ResponseWriter, req *http.Request) {
	if r.skew == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "this region's clock is not skewable"})
		return
	}
	var cs ClockSetting
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&cs); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {\"offset\": \"-250ms\", \"drift\": \"50ppm\"}"})
		return
	}
	var offset time.Duration
	if cs.Offset != "" {
		d, err := time.ParseDuration(cs.Offset)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "offset: " + err.Error()})
			return
		}
		offset = d
	}
	drift, err := clock.ParseDrift(cs.Drift)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := r.skew.Set(offset, drift); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	r.log.Info("clock skewed", "offset", offset, "drift_ppm", drift)
	writeJSON(w, http.StatusOK, r.skew.Get())
}

// serveLinks serves the inbound links' shapes by source.
func (r *Region) serveLinks(w http.ResponseWriter, _ *http.Request) {
	out := map[string]shaper.Shape{}
	if r.repl != nil {
		out = r.repl.links()
	}
	if r.client != nil {
		if sh, err := r.client.Shape(ClientLink); err == nil {
			out[ClientLink] = sh
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveSetLink reshapes the inbound link from a source region.
func (r *Region) serveSetLink(w http.ResponseWriter, req *http.Request) {
	if req.PathValue("source") == ClientLink {
		r.serveSetClientLink(w, req)
		return
	}
	if r.repl == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "this region does not replicate"})
		return
	}
	source := req.PathValue("source")
	serveShape(w, req, func(sh shaper.Shape) error { return r.repl.setLink(source, sh) },
		func(sh shaper.Shape) any { return map[string]any{"source": source, "dest": r.cfg.Name, "shape": sh} })
}

// Status returns the region's status.
func (r *Region) Status() Status {
	st := Status{Region: r.cfg.Name, PID: os.Getpid(), Time: time.Now().UTC(), Endpoint: r.URL(), Conflicts: r.db.ConflictCount(),
		ClockStepBacks: r.clock.Resets()}
	if d := r.db.Disk(); d.Known || d.ReadOnly || d.FlushFailed {
		st.Disk = &d
	}
	if r.skew != nil {
		st.ClockSkewMs = ms(r.skew.Get().Current)
	}
	if r.repl != nil {
		r.repl.status(&st)
	}
	for _, b := range r.api.Backfills() {
		items, _ := r.db.Stats(b.Table)
		st.Backfills = append(st.Backfills, BackfillStatus{Table: b.Table, Index: b.Index, Rows: b.Rows,
			TableItems: items, Started: b.Started, Resumed: b.Resumed})
	}
	st.Triggers = r.triggers.Status()
	return st
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (r *Region) serveStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, r.Status())
}

// serveConflicts serves the conflict log: ?after=SEQ&limit=N&table=NAME.
func (r *Region) serveConflicts(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 || limit > 10000 {
		limit = 1000
	}
	table := q.Get("table")
	out := Conflicts{Region: r.cfg.Name, Total: r.db.ConflictCount(), Records: []ConflictRecord{}}
	for len(out.Records) < limit {
		batch, err := r.db.Conflicts(after, limit-len(out.Records))
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		if len(batch) == 0 {
			break
		}
		for _, c := range batch {
			after = c.Seq
			if table != "" && c.Table != table {
				continue
			}
			out.Records = append(out.Records, conflictRecord(c))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func conflictRecord(c *store.Conflict) ConflictRecord {
	rec := ConflictRecord{Seq: c.Seq, Table: c.Table, Winner: c.Winner.Token(), Loser: c.Loser.Token(),
		DetectedIn: c.Region, Source: c.Source, DetectedAt: c.DetectedAt}
	rec.Key, _ = json.Marshal(c.Key)
	if c.WinnerItem != nil {
		rec.WinnerItem, _ = json.Marshal(c.WinnerItem)
	}
	if c.LoserItem != nil {
		rec.LoserItem, _ = json.Marshal(c.LoserItem)
	}
	return rec
}

// serveDigest serves the digest of a table's live content: ?table=NAME.
func (r *Region) serveDigest(w http.ResponseWriter, req *http.Request) {
	table := req.URL.Query().Get("table")
	sum, n, err := r.db.Digest(table)
	if errors.Is(err, store.ErrTableNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no table " + table})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, Digest{Region: r.cfg.Name, Table: table, Items: n, Digest: hex.EncodeToString(sum[:])})
}

// serveSetClientLink shapes the traffic between clients and the region's
// client endpoint.
func (r *Region) serveSetClientLink(w http.ResponseWriter, req *http.Request) {
	if r.client == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this region has no client endpoint: set client_listen in its region block"})
		return
	}
	// A client at a distance is as far from the region as the region is
	// from it: its requests take the latency (and loss) its answers take.
	serveShape(w, req, func(sh shaper.Shape) error {
		if err := r.client.Set(ClientLink, sh); err != nil {
			return err
		}
		return r.client.SetReturn(ClientLink, sh)
	}, func(sh shaper.Shape) any {
		return map[string]any{"source": ClientLink, "dest": r.cfg.Name, "shape": sh}
	})
}

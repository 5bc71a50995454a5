package replicator

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
)

// Snapshot protocol, request-reply on gt.<region>.snapshot:
//
//	request:  JSON {"table": name, "after": position (base64) or absent, "max_bytes": n}
//	reply:    body = repeated (uvarint length | store.AppendChange record)
//	          header Gt-Next: '+' and the hex position of the next page, absent at the end
//	          header Gt-Error: the failure, instead of a page
//
// A page holds whole rows and never exceeds the smaller of the server's
// max payload (less room for headers) and max_bytes. FetchSnapshot asks
// for pages of snapshotPageBytes and requests the next page while the
// caller applies the current one.
const (
	hdrNext  = "Gt-Next"
	hdrError = "Gt-Error"
	// hdrProvenance carries, on a table's first page, the serving region's
	// Provenance as JSON.
	hdrProvenance = "Gt-Provenance"
	// pageHeadroom is left below the max payload for the headers.
	pageHeadroom = 16 << 10
	// snapshotChunk is how many rows ServeSnapshots asks ExportTable for
	// at first; it adapts to the rows' size.
	snapshotChunk = 256
	// snapshotPageBytes is the page size FetchSnapshot asks for: small
	// enough that the source builds the next page while this region
	// applies the current one (and a page is one store transaction or
	// few), large enough that requests cost little.
	snapshotPageBytes = 1 << 20
	// snapshotAhead is how many decoded pages may wait for the caller's
	// apply (one more is being decoded, and the next requested): on a busy
	// machine the source is not always scheduled when the next page is
	// wanted.
	snapshotAhead = 3
	// snapshotTimeout bounds one page's request.
	snapshotTimeout = 30 * time.Second
)

var (
	// ErrSnapshot wraps a failure reported by the snapshot service.
	ErrSnapshot = errors.New("replicator: snapshot failed at the source")
	// ErrBadPage is returned for a snapshot page that does not decode.
	ErrBadPage = errors.New("replicator: malformed snapshot page")
)

// Exporter is what the snapshot service reads (*store.DB satisfies it):
// up to limit rows of table after position after (nil: from the start), as
// changes, and the position to continue from (nil when done).
type Exporter interface {
	ExportTable(table string, after []byte, limit int) ([]*store.Change, []byte, error)
}

// ControlExporter is optionally implemented by an Exporter: the control
// records describing every global table the region holds, so that a region
// re-syncing after a long absence learns of tables whose control records
// its streams no longer hold.
type ControlExporter interface {
	ExportControls() ([]*store.Change, error)
}

// Provenance says what the region serving a snapshot had received when it
// served the snapshot's first page, so that a region rebuilding its copy
// after a long absence can tell an item the source never received from one
// it deleted and no longer remembers (docs/replication.md, "Back after
// longer than the tombstone horizon").
type Provenance struct {
	// Region is the serving region.
	Region string `json:"region"`
	// Cursors is, per source region, the last sequence of the source's
	// stream applied by the serving region.
	Cursors map[string]uint64 `json:"cursors,omitempty"`
	// Watermarks is, per source region, the greatest version written by
	// the source that the serving region applied from the source's stream
	// (store.DB.Watermarks).
	Watermarks map[string]conflict.Version `json:"-"`
	// PurgedBefore is the serving region's tombstone cutoff: a tombstone
	// whose version's wall time is before it may be gone from the
	// snapshot.
	PurgedBefore time.Time `json:"purged_before"`
	// TableCreated is when the serving region's copy of the table was
	// created: it never held a write older than that unless copied in.
	TableCreated time.Time `json:"table_created"`
}

// provenanceJSON is Provenance on the wire: versions as tokens.
type provenanceJSON struct {
	Provenance
	Watermarks map[string]string `json:"watermarks,omitempty"`
}

func (p *Provenance) encode() (string, error) {
	w := provenanceJSON{Provenance: *p, Watermarks: map[string]string{}}
	for r, v := range p.Watermarks {
		w.Watermarks[r] = v.Token()
	}
	b, err := json.Marshal(w)
	return string(b), err
}

func decodeProvenance(s string) (*Provenance, error) {
	var w provenanceJSON
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, fmt.Errorf("%w: provenance: %w", ErrBadPage, err)
	}
	p := w.Provenance
	p.Watermarks = map[string]conflict.Version{}
	for r, tok := range w.Watermarks {
		v, err := conflict.ParseToken(tok)
		if err != nil {
			return nil, fmt.Errorf("%w: provenance watermark of %s: %w", ErrBadPage, r, err)
		}
		p.Watermarks[r] = v
	}
	return &p, nil
}

// ProvenanceExporter is optionally implemented by an Exporter: what the
// region had received when it serves a snapshot (see Provenance).
type ProvenanceExporter interface {
	Provenance(table string) (*Provenance, error)
}

type snapshotRequest struct {
	Table    string `json:"table"`
	After    []byte `json:"after,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
	// Controls asks for the region's global table definitions instead of
	// a table's rows.
	Controls bool `json:"controls,omitempty"`
	// Count asks for the table's item count (header Gt-Items) instead of
	// its rows. A server that predates it answers with the first page and
	// no count.
	Count bool `json:"count,omitempty"`
}

// hdrItems carries a table's count of live items in a Count reply.
const hdrItems = "Gt-Items"

// ItemCounter is optionally implemented by an Exporter (*store.DB does):
// a table's count of live items and their size, for a joining replica's
// progress.
type ItemCounter interface {
	Stats(table string) (itemCount, sizeBytes int64)
}

// ServeSnapshots answers snapshot page requests on gt.<region>.snapshot on
// conn until ctx ends, then returns nil. Requests are served one at a time,
// in this goroutine. It returns an error only if it cannot subscribe.
func ServeSnapshots(ctx context.Context, conn *nats.Conn, region string, ex Exporter, log hclog.Logger) error {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("snapshots").With("region", region)
	reqs := make(chan *nats.Msg, 16)
	sub, err := conn.ChanQueueSubscribe(SnapshotSubject(region), "gt-snapshot", reqs)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", SnapshotSubject(region), err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-reqs:
			reply := servePage(conn, ex, m)
			if err := m.RespondMsg(reply); err != nil {
				log.Warn("snapshot reply failed", "error", err)
			}
			if e := reply.Header.Get(hdrError); e != "" {
				log.Warn("snapshot request failed", "error", e)
			}
		}
	}
}

// servePage builds the reply to one request.
func servePage(conn *nats.Conn, ex Exporter, m *nats.Msg) *nats.Msg {
	reply := nats.NewMsg(m.Reply)
	var req snapshotRequest
	if err := json.Unmarshal(m.Data, &req); err == nil && req.Controls {
		ce, ok := ex.(ControlExporter)
		if !ok {
			reply.Header.Set(hdrError, "this region does not export table definitions")
			return reply
		}
		chs, err := ce.ExportControls()
		if err != nil {
			reply.Header.Set(hdrError, err.Error())
			return reply
		}
		for _, c := range chs {
			rec := store.AppendChange(nil, c)
			reply.Data = binary.AppendUvarint(reply.Data, uint64(len(rec)))
			reply.Data = append(reply.Data, rec...)
		}
		return reply
	}
	if err := json.Unmarshal(m.Data, &req); err != nil || req.Table == "" {
		reply.Header.Set(hdrError, fmt.Sprintf("bad snapshot request: %v", err))
		return reply
	}
	if ic, ok := ex.(ItemCounter); ok && req.Count {
		n, _ := ic.Stats(req.Table)
		reply.Header.Set(hdrItems, strconv.FormatInt(n, 10))
		return reply
	}
	// The provenance is read before the first page: every row it claims
	// was received is then in the pages, as an item or a tombstone
	// (rows only move to newer versions).
	var prov string
	if pe, ok := ex.(ProvenanceExporter); ok && req.After == nil {
		p, err := pe.Provenance(req.Table)
		if err == nil {
			prov, err = p.encode()
		}
		if err != nil {
			reply.Header.Set(hdrError, fmt.Sprintf("provenance: %v", err))
			return reply
		}
	}
	budget := int(conn.MaxPayload()) - pageHeadroom
	if budget <= 0 {
		reply.Header.Set(hdrError, fmt.Sprintf("this region's NATS server takes messages of at most %d bytes (its max_payload), "+
			"which leaves no room for a snapshot page beside the %d bytes kept for headers: give it a max_payload of at least 1 MB (nats-server's default; the embedded servers use 8 MB)",
			conn.MaxPayload(), pageHeadroom))
		return reply
	}
	if req.MaxBytes > 0 && req.MaxBytes < budget {
		budget = req.MaxBytes
	}
	body, next, err := buildPage(ex, req.Table, req.After, budget)
	if err != nil {
		reply.Header.Set(hdrError, err.Error())
		return reply
	}
	reply.Data = body
	if prov != "" {
		reply.Header.Set(hdrProvenance, prov)
	}
	if next != nil {
		reply.Header.Set(hdrNext, encodePos(next))
	}
	return reply
}

// PageAppender is optionally implemented by an Exporter (*store.DB does):
// a page built directly, rows copied as stored (store.DB.AppendSnapshotPage),
// instead of through ExportTable and AppendChange.
type PageAppender interface {
	AppendSnapshotPage(page []byte, table string, after []byte, budget int) ([]byte, []byte, error)
}

// buildPage reads rows from after on until budget bytes are filled or the
// table ends. Rows are read in chunks, and a chunk is either all in the page
// or not at all (positions exist only at chunk ends), so a chunk that would
// overflow the page is read again, smaller.
func buildPage(ex Exporter, table string, after []byte, budget int) ([]byte, []byte, error) {
	if pa, ok := ex.(PageAppender); ok {
		return pa.AppendSnapshotPage(make([]byte, 0, min(budget, 1<<20)), table, after, budget)
	}
	var body, enc []byte
	chunk := snapshotChunk
	for {
		rows, next, err := ex.ExportTable(table, after, chunk)
		if err != nil {
			return nil, nil, err
		}
		enc = enc[:0]
		for _, r := range rows {
			rec := store.AppendChange(nil, r)
			enc = binary.AppendUvarint(enc, uint64(len(rec)))
			enc = append(enc, rec...)
		}
		if len(body)+len(enc) > budget {
			if chunk > 1 {
				// Aim for what fits, judging by this chunk's row size.
				per := max(len(enc)/max(len(rows), 1), 1)
				chunk = max(min((budget-len(body))/per, chunk/2), 1)
				continue
			}
			if len(body) == 0 {
				return nil, nil, fmt.Errorf("a row of table %s takes %d bytes, more than a page of %d", table, len(enc), budget)
			}
			return body, after, nil // page full; after is where this row starts
		}
		body = append(body, enc...)
		if next == nil {
			return body, nil, nil
		}
		after = next
		if len(rows) > 0 {
			// Grow the chunk again towards what the rest of the page holds.
			per := max(len(enc)/len(rows), 1)
			chunk = max(min((budget-len(body))/per, snapshotChunk), 1)
		}
		if budget-len(body) < 64 {
			return body, after, nil
		}
	}
}

// encodePos and decodePos carry a position in a header, hex-encoded after
// a '+', so that even an empty position is a non-empty header value.
func encodePos(b []byte) string { return "+" + hex.EncodeToString(b) }

func decodePos(s string) ([]byte, error) {
	if len(s) == 0 || s[0] != '+' {
		return nil, fmt.Errorf("position %q lacks its '+'", s)
	}
	return hex.DecodeString(s[1:])
}

// decodePage splits a page body into changes.
func decodePage(body []byte) ([]*store.Change, error) {
	var out []*store.Change
	for len(body) > 0 {
		n, k := binary.Uvarint(body)
		if k <= 0 || n > uint64(len(body)-k) {
			return nil, fmt.Errorf("%w: bad record length", ErrBadPage)
		}
		c, err := store.DecodeChange(body[k : k+int(n)])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPage, err)
		}
		out = append(out, c)
		body = body[k+int(n):]
	}
	return out, nil
}

// FetchSnapshot pages through table's snapshot from region source over conn
// (a connection to source's NATS), calling apply for each page in key
// order. Rows are the table's items and tombstones with their versions and
// contexts (store.ExportTable); apply them by last-writer-wins
// (store.Apply with cursor 0, or store.DB.ApplyCopy and one Durable at the
// end). A page is at most 1 MiB; the next page is being fetched while
// apply runs, so apply must not wait for the source.
func FetchSnapshot(ctx context.Context, conn *nats.Conn, source, table string, apply func([]*store.Change) error) error {
	_, err := fetchSnapshot(ctx, conn, source, table, 0, func(_ *Provenance, rows []*store.Change) error { return apply(rows) })
	return err
}

// FetchSnapshotProvenance is FetchSnapshot that also hands apply, and
// returns, the source's Provenance (nil if the source does not send one).
func FetchSnapshotProvenance(ctx context.Context, conn *nats.Conn, source, table string, apply func(*Provenance, []*store.Change) error) (*Provenance, error) {
	return fetchSnapshot(ctx, conn, source, table, 0, apply)
}

func fetchSnapshot(ctx context.Context, conn *nats.Conn, source, table string, maxBytes int, apply func(*Provenance, []*store.Change) error) (prov *Provenance, _ error) {
	if maxBytes <= 0 {
		maxBytes = snapshotPageBytes
	}
	ctx, cancel := context.WithCancel(ctx)
	pages := make(chan fetchedPage, snapshotAhead)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(pages)
		fetchPages(ctx, conn, source, table, maxBytes, pages)
	}()
	defer func() {
		cancel()
		<-done
	}()
	complete := false
	for p := range pages {
		if p.err != nil {
			return prov, p.err
		}
		if p.prov != nil {
			prov = p.prov
		}
		if len(p.rows) > 0 {
			if err := apply(prov, p.rows); err != nil {
				return prov, fmt.Errorf("apply snapshot page %d of %s from %s: %w", p.page, table, source, err)
			}
		}
		complete = p.last
	}
	// The fetcher stops without a last page only when ctx ended (its
	// failure then may not have been delivered): never success with part
	// of the table, which a join would take for the whole.
	if !complete {
		if err := ctx.Err(); err != nil {
			return prov, fmt.Errorf("snapshot of %s from %s: %w", table, source, err)
		}
		return prov, fmt.Errorf("snapshot of %s from %s: ended before its last page", table, source)
	}
	return prov, nil
}

// fetchedPage is one decoded snapshot page, or the failure that ends the
// fetch.
type fetchedPage struct {
	page int
	prov *Provenance // on the first page, if the source sends it
	rows []*store.Change
	last bool // the table's last page
	err  error
}

// fetchPages requests and decodes table's pages in order and sends them on
// out, ahead of the caller applying them: the source builds the next pages
// while this region applies the current one (the channel holds
// snapshotAhead pages, and one more is being fetched). A page's request
// goes out as soon as the previous reply's position is known, before that
// reply is decoded (requestPages), so the source builds it meanwhile. It
// stops after the last page, at the first failure (sent as the last value),
// or when ctx ends.
func fetchPages(ctx context.Context, conn *nats.Conn, source, table string, maxBytes int, out chan<- fetchedPage) {
	send := func(p fetchedPage) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	replies := make(chan fetchedReply, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(replies)
		requestPages(ctx, conn, source, table, maxBytes, replies)
	}()
	defer func() {
		cancel()
		<-done
	}()
	for r := range replies {
		p := fetchedPage{page: r.page, prov: r.prov, last: r.last, err: r.err}
		if p.err == nil {
			var err error
			if p.rows, err = decodePage(r.body); err != nil {
				p = fetchedPage{err: fmt.Errorf("snapshot of %s from %s, page %d: %w", table, source, r.page, err)}
			}
		}
		if !send(p) || p.err != nil || p.last {
			return
		}
	}
}

// fetchedReply is one snapshot page as received, or the failure that ends
// the fetch.
type fetchedReply struct {
	page int
	prov *Provenance
	body []byte
	last bool
	err  error
}

// requestPages requests table's pages in order and sends the replies on
// out, undecoded. It stops after the last page, at the first failure (sent
// as the last value), or when ctx ends.
func requestPages(ctx context.Context, conn *nats.Conn, source, table string, maxBytes int, out chan<- fetchedReply) {
	send := func(r fetchedReply) bool {
		select {
		case out <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	fail := func(err error) { send(fetchedReply{err: err}) }
	req := snapshotRequest{Table: table, MaxBytes: maxBytes}
	for page := 0; ; page++ {
		data, err := json.Marshal(req)
		if err != nil {
			fail(err)
			return
		}
		rctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
		reply, err := conn.RequestMsgWithContext(rctx, &nats.Msg{Subject: SnapshotSubject(source), Data: data})
		cancel()
		if err != nil {
			fail(fmt.Errorf("snapshot of %s from %s, page %d: %w", table, source, page, err))
			return
		}
		if e := reply.Header.Get(hdrError); e != "" {
			fail(fmt.Errorf("%w: %s: table %s: %s", ErrSnapshot, source, table, e))
			return
		}
		r := fetchedReply{page: page, body: reply.Data}
		if h := reply.Header.Get(hdrProvenance); h != "" && page == 0 {
			if r.prov, err = decodeProvenance(h); err != nil {
				fail(fmt.Errorf("snapshot of %s from %s: %w", table, source, err))
				return
			}
		}
		next := reply.Header.Get(hdrNext)
		if next != "" {
			if req.After, err = decodePos(next); err != nil {
				fail(fmt.Errorf("%w: position %q: %w", ErrBadPage, next, err))
				return
			}
		}
		r.last = next == ""
		if !send(r) || r.last {
			return
		}
	}
}

// FetchControls asks region source for the control records of every global
// table it holds (see ControlExporter).
func FetchControls(ctx context.Context, conn *nats.Conn, source string) ([]*store.Change, error) {
	data, _ := json.Marshal(snapshotRequest{Controls: true})
	rctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
	defer cancel()
	reply, err := conn.RequestMsgWithContext(rctx, &nats.Msg{Subject: SnapshotSubject(source), Data: data})
	if err != nil {
		return nil, fmt.Errorf("table definitions from %s: %w", source, err)
	}
	if e := reply.Header.Get(hdrError); e != "" {
		return nil, fmt.Errorf("%w: %s", ErrSnapshot, e)
	}
	return decodePage(reply.Data)
}

// FetchItemCount asks region source how many live items its copy of table
// holds (from its running statistics), for a joining replica's progress.
// known is false when the source does not say.
func FetchItemCount(ctx context.Context, conn *nats.Conn, source, table string) (n int64, known bool, err error) {
	data, _ := json.Marshal(snapshotRequest{Table: table, Count: true})
	rctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
	defer cancel()
	reply, err := conn.RequestMsgWithContext(rctx, &nats.Msg{Subject: SnapshotSubject(source), Data: data})
	if err != nil {
		return 0, false, fmt.Errorf("item count of %s from %s: %w", table, source, err)
	}
	if e := reply.Header.Get(hdrError); e != "" {
		return 0, false, fmt.Errorf("%w: %s: table %s: %s", ErrSnapshot, source, table, e)
	}
	v := reply.Header.Get(hdrItems)
	if v == "" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w: item count %q", ErrBadPage, v)
	}
	return n, true, nil
}

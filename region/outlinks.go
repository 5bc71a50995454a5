package region

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/globaltables/globaltables/replicator/shaper"
)

// A link A → B runs through B's proxy to A's NATS server, which carries
// both directions of the path between the two regions: A's changes to B,
// and B's pull requests and acknowledgements to A. The first direction
// takes the shape of A → B, set on B (LinksPath); the second takes the
// shape of B → A, which is set on A as the destination of that link, and
// must be given to B too, as B's outbound link (OutLinksPath): only then
// does a pair shaped 80 ms each way have a round trip of 160 ms.

// OutLinksPath serves this region's outbound links' shapes, by destination
// (GET); PUT OutLinksPath/<dest> with a JSON shaper.Shape gives the link
// from this region to dest its shape on this region's side: the latency,
// jitter, bandwidth and loss of this region's requests to dest over the
// connection that brings dest's changes here.
const OutLinksPath = "/_globaltables/out-links"

// setOutLink shapes this region's requests to dest.
func (r *replication) setOutLink(dest string, sh shaper.Shape) error {
	if r.shape == nil {
		return errors.New("this region runs without link shaping")
	}
	return r.shape.SetReturn(linkName(dest, r.self), sh)
}

// outLinks returns the outbound links' shapes on this side, by destination.
func (r *replication) outLinks() map[string]shaper.Shape {
	out := map[string]shaper.Shape{}
	if r.shape == nil {
		return out
	}
	for peer := range r.cfg.Peers {
		if sh, err := r.shape.Return(linkName(peer, r.self)); err == nil {
			out[peer] = sh
		}
	}
	return out
}

// serveOutLinks serves the outbound links' shapes by destination.
func (r *Region) serveOutLinks(w http.ResponseWriter, _ *http.Request) {
	out := map[string]shaper.Shape{}
	if r.repl != nil {
		out = r.repl.outLinks()
	}
	writeJSON(w, http.StatusOK, out)
}

// serveSetOutLink reshapes this region's side of the link to a
// destination region.
func (r *Region) serveSetOutLink(w http.ResponseWriter, req *http.Request) {
	if r.repl == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "this region does not replicate"})
		return
	}
	dest := req.PathValue("dest")
	serveShape(w, req, func(sh shaper.Shape) error { return r.repl.setOutLink(dest, sh) },
		func(sh shaper.Shape) any { return map[string]any{"source": r.cfg.Name, "dest": dest, "shape": sh} })
}

// serveShape decodes a JSON shaper.Shape from req, applies it with set and
// answers with what answer makes of it, or with the error: 404 for a link
// the region does not have, 400 for the rest.
func serveShape(w http.ResponseWriter, req *http.Request, set func(shaper.Shape) error, answer func(shaper.Shape) any) {
	var sh shaper.Shape
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&sh); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be a JSON shape: " + err.Error()})
		return
	}
	if err := set(sh); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, shaper.ErrUnknownLink) {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, answer(sh))
}

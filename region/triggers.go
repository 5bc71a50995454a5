package region

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/globaltables/globaltables/region/trigger"
)

// TriggersPath serves the region's local triggers (GET: their status);
// PUT TriggersPath/<name> with a JSON trigger.Spec adds one, and PUT
// TriggersPath/<name>/remove removes one.
const TriggersPath = "/_globaltables/triggers"

// TriggersDir is the folder, in a region's data folder, of its triggers'
// positions and on-failure logs.
const TriggersDir = "triggers"

// newTriggers creates the region's trigger manager.
func (r *Region) newTriggers() (*trigger.Manager, error) {
	return trigger.New(trigger.Config{
		Region:     r.cfg.Name,
		Dir:        filepath.Join(r.cfg.DataDir, TriggersDir),
		Source:     r.db,
		Configured: r.cfg.Triggers,
		Logger:     r.cfg.Logger,
	})
}

func (r *Region) mountTriggerEndpoints(read, change func(http.HandlerFunc) http.Handler) {
	r.api.Handle("GET "+TriggersPath, read(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, r.triggers.Status())
	}))
	r.api.Handle("PUT "+TriggersPath+"/{name}", change(r.serveAddTrigger))
	r.api.Handle("PUT "+TriggersPath+"/{name}/remove", change(r.serveRemoveTrigger))
}

func (r *Region) serveAddTrigger(w http.ResponseWriter, req *http.Request) {
	var s trigger.Spec
	dec := json.NewDecoder(io.LimitReader(req.Body, maxControlBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be a JSON trigger: " + err.Error()})
		return
	}
	if s.Name == "" {
		s.Name = req.PathValue("name")
	}
	if s.Name != req.PathValue("name") || s.Source == trigger.SourceTopology {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the trigger's name must be the path's, and its source api"})
		return
	}
	if s.Command != "" && !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
		// A command runs on the region's machine: an access key, which any
		// DynamoDB client of the region may hold, must not be enough.
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "a command trigger runs on the region's machine: " +
			"add it with the region's control token (" + ControlTokenFile + " in its data folder), or use a url trigger"})
		return
	}
	st, err := r.triggers.Add(s)
	switch {
	case errors.Is(err, trigger.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case errors.Is(err, trigger.ErrExists):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, st)
	}
}

func (r *Region) serveRemoveTrigger(w http.ResponseWriter, req *http.Request) {
	err := r.triggers.Remove(req.PathValue("name"))
	switch {
	case errors.Is(err, trigger.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, trigger.ErrFromTopology):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, map[string]string{"removed": req.PathValue("name")})
	}
}

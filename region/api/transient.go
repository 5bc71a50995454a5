package api

import (
	"sync"
	"time"

	"github.com/globaltables/globaltables/store"
)

// Transient statuses. globaltables creates, updates and deletes tables at
// once, where DynamoDB takes seconds to minutes and shows CREATING,
// UPDATING or DELETING meanwhile. With Config.TransientStatusDelay set (as
// DynamoDB Local's -delayTransientStatuses), a table or index shows such a
// status for that long after the change, so that client waiters and the
// code around them are exercised:
//
//   - CreateTable answers CREATING; item operations on the table answer
//     ResourceNotFoundException, and DeleteTable ResourceInUseException,
//     until it turns ACTIVE.
//   - UpdateTable answers UPDATING; a global secondary index it adds is
//     CREATING for at least the delay (longer if its backfill is slower).
//   - DeleteTable answers DELETING, and DescribeTable keeps describing the
//     table as DELETING until the delay has passed, then answers
//     ResourceNotFoundException. The table is gone from the store at once.
//
// The statuses live in this server's memory only: they are a view of
// changes that are complete, not states of the store, so they neither
// replicate nor survive a restart.

// transients holds the tables and indexes in a transient status.
type transients struct {
	mu sync.Mutex            // guards m
	m  map[string]*transient // by table name, or table name + "\x00" + index name
}

type transient struct {
	status string
	until  time.Time
	// desc is the description of a table shown as DELETING.
	desc *TableDescription
}

func indexKey(table, index string) string { return table + "\x00" + index }

// markTransient shows key as status for the configured delay; nothing
// happens when the delay is zero.
func (s *Server) markTransient(key, status string, desc *TableDescription) {
	if s.cfg.TransientStatusDelay <= 0 {
		return
	}
	s.transient.mu.Lock()
	defer s.transient.mu.Unlock()
	if s.transient.m == nil {
		s.transient.m = map[string]*transient{}
	}
	s.transient.m[key] = &transient{status: status, until: s.cfg.Now().Add(s.cfg.TransientStatusDelay), desc: desc}
}

// transientOf returns key's transient status, if it has one that has not
// expired; expired ones are forgotten.
func (s *Server) transientOf(key string) (transient, bool) {
	if s.cfg.TransientStatusDelay <= 0 {
		return transient{}, false
	}
	s.transient.mu.Lock()
	defer s.transient.mu.Unlock()
	tr, ok := s.transient.m[key]
	if !ok {
		return transient{}, false
	}
	if !s.cfg.Now().Before(tr.until) {
		delete(s.transient.m, key)
		return transient{}, false
	}
	return *tr, true
}

// overlayTransient shows the transient statuses of a table and its global
// secondary indexes in its description.
func (s *Server) overlayTransient(d *TableDescription) {
	if s.cfg.TransientStatusDelay <= 0 {
		return
	}
	if tr, ok := s.transientOf(d.TableName); ok && d.TableStatus == store.StatusActive {
		d.TableStatus = tr.status
	}
	for i := range d.GlobalSecondaryIndexes {
		g := &d.GlobalSecondaryIndexes[i]
		if tr, ok := s.transientOf(indexKey(d.TableName, g.IndexName)); ok && g.IndexStatus == store.StatusActive {
			g.IndexStatus = tr.status
		}
	}
}

// creatingNow reports whether a table is shown as CREATING.
func (s *Server) creatingNow(table string) bool {
	tr, ok := s.transientOf(table)
	return ok && tr.status == store.StatusCreating
}

// deletedDescription returns the description of a deleted table still
// shown as DELETING.
func (s *Server) deletingDescription(table string) (*TableDescription, bool) {
	tr, ok := s.transientOf(table)
	if !ok || tr.status != store.StatusDeleting || tr.desc == nil {
		return nil, false
	}
	return tr.desc, true
}

// markUpdated shows a table UPDATING after UpdateTable, and the global
// secondary indexes it is creating as CREATING.
func (s *Server) markUpdated(d *TableDescription) {
	if s.cfg.TransientStatusDelay <= 0 || d == nil {
		return
	}
	s.markTransient(d.TableName, store.StatusUpdating, nil)
	for _, g := range d.GlobalSecondaryIndexes {
		if g.IndexStatus == store.StatusCreating {
			s.markTransient(indexKey(d.TableName, g.IndexName), store.StatusCreating, nil)
		}
	}
	s.overlayTransient(d)
}

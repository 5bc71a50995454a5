package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store"
)

// Global tables (version 2019.11.21).
//
// A table is global when its metadata holds a replica set (Extra keys below):
// one entry per region, each with a status and the version of the write that
// set it. The table's replicated settings (schema, indexes, TTL, billing)
// carry one settings version. Every change to either, made in any region, is
// logged as a control record in that region's change log, in the same
// transaction as the metadata change, and travels to the other regions on
// the same stream as item writes.
//
// Applying a control record (ApplyControl) is idempotent and order-free in
// the same way as applying items: each replica entry, and the settings as a
// whole, take the version that is greater. A region that finds itself in a
// table's replica set without the table creates it and asks the region to
// catch it up (Hooks.ReplicaJoined); one that finds itself removed deletes
// its copy.

// Metadata keys of a global table in store.Table.Extra.
const (
	extraReplicas = "gt.replicas"
	extraSettings = "gt.settings"
)

// Replica statuses. Removed is this tool's own: the replica has been deleted
// and its entry stays, versioned, so that an older record cannot bring it
// back; DescribeTable leaves such entries out.
const (
	replicaCreating = "CREATING"
	replicaActive   = "ACTIVE"
	replicaDeleting = "DELETING"
	replicaRemoved  = "REMOVED"
)

// GlobalTableVersion is the global tables version this tool implements.
const GlobalTableVersion = "2019.11.21"

// replicaState is one region's entry in a table's replica set.
type replicaState struct {
	Status  string `json:"status"`
	Version string `json:"version"` // conflict.Version token
}

func (r replicaState) version() conflict.Version {
	v, _ := conflict.ParseToken(r.Version)
	return v
}

// succeed mints the version of a new value of a replicated setting or
// replica entry whose current version is the token prev ("" for none). It
// is greater than prev even when prev is far ahead of this region's clock
// (a version minted while some region's clock was wrong), so the new value
// wins everywhere; see docs/replication.md, "Bounded clock".
func (s *Server) succeed(prev string) string {
	v, _ := conflict.ParseToken(prev)
	return s.clock.Next(v).Token()
}

// globalDef is the payload of a control record: everything a region needs
// to create, update or drop its replica of a table.
type globalDef struct {
	Table    string                  `json:"table"`
	Settings string                  `json:"settings_version"`
	Schema   tableSchema             `json:"schema"`
	Replicas map[string]replicaState `json:"replicas"`
}

// tableSchema is the replicated part of a table's definition.
type tableSchema struct {
	Hash        store.KeyElement   `json:"hash"`
	Range       *store.KeyElement  `json:"range,omitempty"`
	Attributes  []store.KeyElement `json:"attributes"`
	GSIs        []indexSchema      `json:"gsis,omitempty"`
	LSIs        []indexSchema      `json:"lsis,omitempty"`
	BillingMode string             `json:"billing_mode"`
	Read        int64              `json:"read_capacity,omitempty"`
	Write       int64              `json:"write_capacity,omitempty"`
	TTLEnabled  bool               `json:"ttl_enabled,omitempty"`
	TTL         string             `json:"ttl_attribute,omitempty"`
	// StreamViewType is the view type of the replicas' streams ("" for
	// none, or a payload from before streams replicated).
	StreamViewType string `json:"stream_view_type,omitempty"`
}

type indexSchema struct {
	Name       string            `json:"name"`
	Hash       store.KeyElement  `json:"hash"`
	Range      *store.KeyElement `json:"range,omitempty"`
	Projection store.Projection  `json:"projection"`
	Read       int64             `json:"read_capacity,omitempty"`
	Write      int64             `json:"write_capacity,omitempty"`
}

func schemaOf(t *store.Table) tableSchema {
	s := tableSchema{Hash: t.Hash, Range: t.Range, Attributes: t.AttributeDefinitions,
		BillingMode: t.BillingMode, Read: t.ReadCapacity, Write: t.WriteCapacity,
		TTLEnabled: t.TTLEnabled, TTL: t.TTLAttribute}
	if t.Stream != nil {
		s.StreamViewType = t.Stream.ViewType
	}
	for _, ix := range t.GSIs {
		s.GSIs = append(s.GSIs, indexSchema{Name: ix.Name, Hash: ix.Hash, Range: ix.Range, Projection: ix.Projection,
			Read: ix.ReadCapacity, Write: ix.WriteCapacity})
	}
	for _, ix := range t.LSIs {
		s.LSIs = append(s.LSIs, indexSchema{Name: ix.Name, Hash: ix.Hash, Range: ix.Range, Projection: ix.Projection})
	}
	return s
}

// replicas returns a table's replica set; nil for a table that is not
// global.
func replicas(t *store.Table) map[string]replicaState {
	raw := t.Extra[extraReplicas]
	if raw == "" {
		return nil
	}
	var m map[string]replicaState
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil
	}
	return m
}

// replicaSets remembers each table's replica set as last decoded, so that
// ReplicatesFrom, asked for every change a link applies, decodes a table's
// JSON once per definition rather than once per change (6 % of a
// region's CPU while it catches up, docs/performance.md). A *store.Table the
// store hands out is never modified (an update clones it), so the same
// pointer always has the same replica set.
type replicaSets struct{ m sync.Map } // table name → *replicaSet

type replicaSet struct {
	t *store.Table
	m map[string]replicaState // read only
}

// of returns t's replica set; the map is shared and must not be modified.
func (c *replicaSets) of(t *store.Table) map[string]replicaState {
	if v, ok := c.m.Load(t.Name); ok {
		if rs := v.(*replicaSet); rs.t == t {
			return rs.m
		}
	}
	rs := &replicaSet{t: t, m: replicas(t)}
	c.m.Store(t.Name, rs)
	return rs.m
}

func setReplicas(t *store.Table, m map[string]replicaState) {
	if t.Extra == nil {
		t.Extra = map[string]string{}
	}
	b, _ := json.Marshal(m)
	t.Extra[extraReplicas] = string(b)
}

// isGlobal reports whether t has replicas in other regions (or had, and
// they are being created).
func isGlobal(t *store.Table) bool { return len(replicas(t)) > 0 }

// defOf builds the control payload describing t.
func defOf(t *store.Table) []byte {
	def := globalDef{Table: t.Name, Settings: t.Extra[extraSettings], Schema: schemaOf(t), Replicas: replicas(t)}
	b, _ := json.Marshal(def)
	return b
}

// ReplicatesFrom reports whether changes to table arriving from source
// belong to a global table this region and source both replicate. Changes of
// a table that is local to either region, or only shares its name, are not
// applied.
func (s *Server) ReplicatesFrom(table, source string) bool {
	t, err := s.db.Table(table)
	if err != nil {
		return false
	}
	m := s.replicaSets.of(t)
	self, ok := m[s.cfg.Region]
	if !ok || self.Status == replicaRemoved {
		return false
	}
	src, ok := m[source]
	return ok && src.Status != replicaRemoved
}

// knownRegion reports whether name is a region of the topology.
func (s *Server) knownRegion(name string) bool {
	for _, r := range s.cfg.Regions {
		if r == name {
			return true
		}
	}
	return false
}

// updateReplicas implements UpdateTable's ReplicaUpdates: adding a replica
// region (which then copies the table's items and follows its changes) or
// removing one (which deletes that region's copy).
func (s *Server) updateReplicas(ctx context.Context, t *store.Table, updates []ReplicaUpdate) (any, error) {
	if len(s.cfg.Regions) == 0 {
		return nil, Validation("ReplicaUpdates requires replication, which this region is not configured for: start it from a topology with several regions")
	}
	removeSelf := false
	for _, u := range updates {
		var region string
		switch {
		case u.Create != nil:
			region = deref(u.Create.RegionName)
		case u.Delete != nil:
			region = deref(u.Delete.RegionName)
		case u.Update != nil:
			region = deref(u.Update.RegionName)
		}
		if region == "" {
			return nil, Validation("1 validation error detected: Value null at 'replicaUpdates.member.regionName' failed to satisfy constraint: Member must not be null")
		}
		if !s.knownRegion(region) {
			return nil, Validation("One or more parameter values were invalid: region %s is not in this topology (regions: %s)",
				region, strings.Join(s.cfg.Regions, ", "))
		}
		m := replicas(t)
		cur, has := m[region]
		live := has && cur.Status != replicaRemoved
		switch {
		case region == s.cfg.Region && u.Create == nil && len(m) == 0:
			// A table of this region alone: its only replica is changed by
			// UpdateTable itself and removed by DeleteTable.
			return nil, Validation("Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.")
		case u.Create != nil && region == s.cfg.Region:
			return nil, Validation("One or more parameter values were invalid: Cannot add replica in the region the table already exists in: %s", region)
		case u.Create != nil && live:
			return nil, Validation("One or more parameter values were invalid: Replica already exists in region %s for table %s", region, t.Name)
		case u.Delete != nil && !live && region != s.cfg.Region:
			return nil, Validation("One or more parameter values were invalid: Replica does not exist in region %s for table %s", region, t.Name)
		case u.Update != nil && !live:
			return nil, Validation("One or more parameter values were invalid: Replica does not exist in region %s for table %s", region, t.Name)
		}
		if u.Delete != nil && region == s.cfg.Region {
			removeSelf = true
		}
	}
	if removeSelf {
		if err := s.removeSelf(t.Name); err != nil {
			return nil, err
		}
		d := s.tableDescription(t)
		d.TableStatus = store.StatusDeleting
		return tableDescriptionOutput{d}, nil
	}
	nt, err := s.db.UpdateTableLogged(t.Name, func(t *store.Table) ([]byte, error) {
		m := replicas(t)
		if m == nil {
			m = map[string]replicaState{}
		}
		if _, ok := m[s.cfg.Region]; !ok || m[s.cfg.Region].Status == replicaRemoved {
			m[s.cfg.Region] = replicaState{Status: replicaActive, Version: s.succeed(m[s.cfg.Region].Version)}
		}
		if t.Extra[extraSettings] == "" {
			if t.Extra == nil {
				t.Extra = map[string]string{}
			}
			t.Extra[extraSettings] = s.succeed("")
		}
		if t.Stream == nil {
			// Version 2019.11.21 turns streams on (NEW_AND_OLD_IMAGES)
			// for a table that gets replicas; a table whose stream is on
			// keeps its view type, which its replicas take. A settings
			// change: the other regions must hear of the stream.
			enableStream(t, store.StreamNewAndOldImages, s.cfg.Now())
			t.Extra[extraSettings] = s.succeed(t.Extra[extraSettings])
		}
		for _, u := range updates {
			switch {
			case u.Create != nil:
				r := deref(u.Create.RegionName)
				m[r] = replicaState{Status: replicaCreating, Version: s.succeed(m[r].Version)}
			case u.Delete != nil:
				r := deref(u.Delete.RegionName)
				m[r] = replicaState{Status: replicaRemoved, Version: s.succeed(m[r].Version)}
			}
		}
		setReplicas(t, m)
		return defOf(t), nil
	})
	if err != nil {
		return nil, s.metadataError(t.Name, err)
	}
	s.log.Info("replica set changed", "table", t.Name, "replicas", t.Extra[extraReplicas])
	return tableDescriptionOutput{s.tableDescription(nt)}, nil
}

// removeSelf deletes this region's replica of a global table and tells the
// other regions, in one transaction.
func (s *Server) removeSelf(name string) error {
	t, err := s.db.Table(name)
	if err != nil {
		return s.metadataError(name, err)
	}
	m := replicas(t)
	if m == nil { // not global (yet): nothing else to tell, but no write into a nil map
		m = map[string]replicaState{}
	}
	m[s.cfg.Region] = replicaState{Status: replicaRemoved, Version: s.succeed(m[s.cfg.Region].Version)}
	gone := t.Clone()
	setReplicas(gone, m)
	if err := s.db.DeleteTableLogged(name, defOf(gone)); err != nil {
		return s.metadataError(name, err)
	}
	s.log.Info("replica removed", "table", name)
	return nil
}

func (s *Server) metadataError(name string, err error) error {
	if errors.Is(err, store.ErrTableNotFound) {
		return tableNotFound(name)
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("update table %s: %w", name, err)
}

// newGlobal makes a table being created global across every region of the
// topology, for topologies that ask for it.
func (s *Server) newGlobal(t *store.Table) []byte {
	if !s.cfg.GlobalByDefault || len(s.cfg.Regions) < 2 {
		return nil
	}
	m := map[string]replicaState{}
	for _, r := range s.cfg.Regions {
		st := replicaCreating
		if r == s.cfg.Region {
			st = replicaActive
		}
		m[r] = replicaState{Status: st, Version: s.clock.Now().Token()}
	}
	if t.Extra == nil {
		t.Extra = map[string]string{}
	}
	t.Extra[extraSettings] = s.clock.Now().Token()
	setReplicas(t, m)
	return defOf(t)
}

// updateSettings is updateControlTable for the replicated settings of a
// table (indexes, TTL, billing): on a global table the change gets a new
// settings version and is logged for the other regions.
func (s *Server) updateSettings(name string, fn func(t *store.Table) error) (*store.Table, error) {
	t, err := s.db.UpdateTableLogged(name, func(t *store.Table) ([]byte, error) {
		if t.Extra == nil {
			t.Extra = map[string]string{}
		}
		if err := fn(t); err != nil {
			return nil, err
		}
		if !isGlobal(t) {
			return nil, nil
		}
		t.Extra[extraSettings] = s.succeed(t.Extra[extraSettings])
		return defOf(t), nil
	})
	if err != nil {
		return nil, s.metadataError(name, err)
	}
	return t, nil
}

// ApplyControl applies a control record from another region: it merges the
// record's replica set and settings into the local table, creating or
// deleting the local replica as the merged set says. It is idempotent and
// logs nothing, so nothing echoes back.
func (s *Server) ApplyControl(ctx context.Context, source string, ch *store.Change) error {
	var def globalDef
	if err := json.Unmarshal(ch.Control, &def); err != nil {
		return fmt.Errorf("control record from %s: %w", source, err)
	}
	for _, r := range def.Replicas {
		s.clock.Observe(r.version())
	}
	settings, _ := conflict.ParseToken(def.Settings)
	s.clock.Observe(settings)

	_, err := s.db.Table(def.Table)
	if errors.Is(err, store.ErrTableNotFound) {
		self, ok := def.Replicas[s.cfg.Region]
		if !ok || self.Status == replicaRemoved || self.Status == replicaDeleting {
			return nil // not ours
		}
		err = s.joinReplica(ctx, source, &def)
		if !errors.Is(err, store.ErrTableExists) {
			return err
		}
		// Another link's control record created the table a moment ago
		// (links apply in goroutines of their own): merge this record
		// into it like any other, or its replica states would be lost.
	} else if err != nil {
		return err
	}
	var created []string
	nt, err := s.db.UpdateTable(def.Table, func(t *store.Table) error {
		created = nil
		local := replicas(t)
		if len(local) == 0 {
			return errUnrelatedTable
		}
		merged := mergeReplicas(local, def.Replicas)
		setReplicas(t, merged)
		localSettings, _ := conflict.ParseToken(t.Extra[extraSettings])
		if settings.Compare(localSettings) > 0 {
			created = applySchema(t, def.Schema)
			t.Extra[extraSettings] = def.Settings
		}
		return nil
	})
	if errors.Is(err, errUnrelatedTable) {
		// Not failed: a control record that fails stops its link at it,
		// and with it every table's changes from that region.
		self, ok := def.Replicas[s.cfg.Region]
		if !ok || self.Status == replicaRemoved {
			s.log.Debug("control record for another region's table of the same name as a local one: ignored", "table", def.Table, "source", source)
			return nil
		}
		s.log.Error("refusing to become a replica of a global table: this region has a table of that name of its own; "+
			"delete it here, then remove this region from the table's replicas and add it again",
			"table", def.Table, "by", source)
		return s.refuseJoin(def.Table, self)
	}
	if err != nil {
		return err
	}
	for _, ix := range created {
		s.startBackfill(nt.Name, ix)
	}
	if self, ok := replicas(nt)[s.cfg.Region]; ok && self.Status == replicaRemoved {
		s.log.Info("this region's replica was removed; deleting the local copy", "table", nt.Name, "by", source)
		if err := s.db.DeleteTable(nt.Name); err != nil && !errors.Is(err, store.ErrTableNotFound) {
			return err
		}
	}
	return nil
}

// errUnrelatedTable is ApplyControl's refusal to merge another region's
// table definition into a local table that is not global: it is this
// region's own table that happens to share the name (two regions' tables
// of one name stay separate until one is made a replica of the other, as in
// DynamoDB, where a replica can only be created where no table of its name
// exists).
var errUnrelatedTable = errors.New("a local table of that name is not a replica")

// refuseJoin tells a global table's replicas that this region, asked to
// join it (its entry added), will not: it holds a table of that name of its
// own. It logs a control record whose only replica entry is this region's,
// REMOVED under a version above the one that added it, with no settings,
// so that the others stop taking this region's own table's changes into
// theirs (they apply a region's changes while it is in their replica set)
// and take nothing else from it. The local table is left as it was; the
// record is logged only while it is still no replica.
func (s *Server) refuseJoin(name string, added replicaState) error {
	_, err := s.db.UpdateTableLogged(name, func(t *store.Table) ([]byte, error) {
		if len(replicas(t)) != 0 {
			return nil, nil
		}
		refused := replicaState{Status: replicaRemoved, Version: s.succeed(added.Version)}
		return json.Marshal(globalDef{Table: name, Schema: schemaOf(t), Replicas: map[string]replicaState{s.cfg.Region: refused}})
	})
	if err != nil {
		return fmt.Errorf("refuse to join %s: %w", name, err)
	}
	return nil
}

// joinReplica creates the local replica of a global table this region has
// been added to, and hands it to the region to catch up.
func (s *Server) joinReplica(ctx context.Context, source string, def *globalDef) error {
	t := &store.Table{Name: def.Table, Status: store.StatusActive, CreatedAt: s.cfg.Now(), Extra: map[string]string{}}
	applySchema(t, def.Schema)
	for i := range t.GSIs {
		t.GSIs[i].Status = store.StatusActive
	}
	t.Extra["api.tableId"] = newUUID()
	t.Extra[extraSettings] = def.Settings
	// Kept for a copy that an interrupted run leaves to the next one.
	t.Extra[extraJoinSource] = source
	setReplicas(t, def.Replicas)
	if err := s.db.CreateTable(t); err != nil {
		if errors.Is(err, store.ErrTableExists) {
			return err // the caller merges the record instead
		}
		return fmt.Errorf("create replica of %s: %w", def.Table, err)
	}
	s.log.Info("joined global table; catching up", "table", def.Table, "from", source)
	if s.cfg.Hooks.ReplicaJoined != nil {
		s.cfg.Hooks.ReplicaJoined(def.Table, source)
	}
	return nil
}

// ExportControls returns a control record for every global table this
// region holds: what a region re-syncing after a long absence applies to
// learn of tables whose own control records its peers' streams no longer
// hold.
func (s *Server) ExportControls() ([]*store.Change, error) {
	tables, err := s.db.Tables()
	if err != nil {
		return nil, err
	}
	var out []*store.Change
	for _, t := range tables {
		if isGlobal(t) {
			out = append(out, &store.Change{Kind: store.ChangeControl, Table: t.Name, Control: defOf(t)})
		}
	}
	return out, nil
}

// ReplicaReady marks this region's replica of table ACTIVE once it has
// caught up, and tells the other regions.
func (s *Server) ReplicaReady(table string) error {
	_, err := s.db.UpdateTableLogged(table, func(t *store.Table) ([]byte, error) {
		m := replicas(t)
		if m == nil || m[s.cfg.Region].Status != replicaCreating {
			// Not a replica being created any more (removed meanwhile):
			// marking it ACTIVE would bring it back.
			return nil, nil
		}
		m[s.cfg.Region] = replicaState{Status: replicaActive, Version: s.succeed(m[s.cfg.Region].Version)}
		setReplicas(t, m)
		delete(t.Extra, extraJoinSource)
		return defOf(t), nil
	})
	return err
}

// mergeReplicas merges two replica sets entry by entry, keeping the entry
// with the greater version.
func mergeReplicas(a, b map[string]replicaState) map[string]replicaState {
	out := make(map[string]replicaState, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if cur, ok := out[k]; !ok || v.version().Compare(cur.version()) > 0 {
			out[k] = v
		}
	}
	return out
}

// applySchema sets t's replicated settings from s and returns the names of
// global secondary indexes it added (to backfill). Indexes that s no longer
// lists are dropped from t; the store purges their entries.
func applySchema(t *store.Table, s tableSchema) (added []string) {
	t.Hash, t.Range, t.AttributeDefinitions = s.Hash, s.Range, s.Attributes
	t.BillingMode, t.ReadCapacity, t.WriteCapacity = s.BillingMode, s.Read, s.Write
	t.TTLEnabled, t.TTLAttribute = s.TTLEnabled, s.TTL
	if vt := s.StreamViewType; vt != "" && (t.Stream == nil || t.Stream.ViewType != vt) {
		// Each replica has its own stream, with its own label; a replica
		// never disables its stream (UpdateTable refuses), so a payload
		// without a view type leaves the local one alone.
		enableStream(t, vt, time.Now())
	}
	have := map[string]store.Index{}
	for _, ix := range t.GSIs {
		have[ix.Name] = ix
	}
	var gsis []store.Index
	for _, ix := range s.GSIs {
		if cur, ok := have[ix.Name]; ok {
			cur.ReadCapacity, cur.WriteCapacity = ix.Read, ix.Write
			gsis = append(gsis, cur)
			continue
		}
		gsis = append(gsis, store.Index{Name: ix.Name, Hash: ix.Hash, Range: ix.Range, Projection: ix.Projection,
			ReadCapacity: ix.Read, WriteCapacity: ix.Write, Status: store.StatusCreating})
		added = append(added, ix.Name)
	}
	t.GSIs = gsis
	if len(t.LSIs) == 0 {
		for _, ix := range s.LSIs {
			t.LSIs = append(t.LSIs, store.Index{Name: ix.Name, Local: true, Hash: ix.Hash, Range: ix.Range, Projection: ix.Projection, Status: store.StatusActive})
		}
	}
	return added
}

// replicaDescriptions lists a global table's replicas for DescribeTable,
// sorted by region, leaving out removed ones.
func (s *Server) replicaDescriptions(t *store.Table) []ReplicaDescription {
	m := replicas(t)
	if len(m) == 0 {
		return nil
	}
	names := make([]string, 0, len(m))
	for r := range m {
		names = append(names, r)
	}
	sort.Strings(names)
	var out []ReplicaDescription
	for _, r := range names {
		st := m[r]
		if st.Status == replicaRemoved {
			continue
		}
		d := ReplicaDescription{RegionName: r, ReplicaStatus: st.Status}
		if r == s.cfg.Region && st.Status == replicaCreating && s.cfg.Hooks.JoinProgress != nil {
			// Only the joining region knows how far its copy has come;
			// the others leave the figure out rather than guess.
			if pct, ok := s.cfg.Hooks.JoinProgress(t.Name); ok {
				d.ReplicaStatusPercentProgress = strconv.Itoa(pct)
			}
		}
		if r != s.cfg.Region && s.cfg.Hooks.LinkDown != nil {
			if since, down := s.cfg.Hooks.LinkDown(r); down {
				// The replica exists, but this region has not heard from it
				// since: DynamoDB's statuses have no value for "unreachable",
				// so the status stays and the time it became unreachable is
				// given, as DynamoDB gives ReplicaInaccessibleDateTime.
				at := epochSeconds(since)
				d.ReplicaInaccessibleDateTime = &at
				d.ReplicaStatusDescription = fmt.Sprintf("replication from %s to %s is not connected since %s", r, s.cfg.Region, since.UTC().Format(time.RFC3339))
			}
		}
		out = append(out, d)
	}
	return out
}

// replicaBeingCreated reports whether one of reps is still CREATING.
func replicaBeingCreated(reps []ReplicaDescription) bool {
	for _, r := range reps {
		if r.ReplicaStatus == replicaCreating {
			return true
		}
	}
	return false
}

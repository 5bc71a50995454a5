package api

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// UpdateTable.

type gsiUpdateInput struct {
	Update *gsiUpdateAction `json:"Update"`
	Create *indexInput      `json:"Create"`
	Delete *gsiDeleteAction `json:"Delete"`
}

type gsiUpdateAction struct {
	IndexName             *string          `json:"IndexName"`
	ProvisionedThroughput *throughputInput `json:"ProvisionedThroughput"`
	OnDemandThroughput    json.RawMessage  `json:"OnDemandThroughput"`
	WarmThroughput        json.RawMessage  `json:"WarmThroughput"`
}

type gsiDeleteAction struct {
	IndexName *string `json:"IndexName"`
}

// indexName is the name the update acts on.
func (u *gsiUpdateInput) indexName() string {
	switch {
	case u.Update != nil:
		return deref(u.Update.IndexName)
	case u.Create != nil:
		return deref(u.Create.IndexName)
	case u.Delete != nil:
		return deref(u.Delete.IndexName)
	}
	return ""
}

// ReplicaUpdate is one entry of UpdateTable's ReplicaUpdates (global tables
// version 2019.11.21): exactly one of Create, Update and Delete.
type ReplicaUpdate struct {
	Create *ReplicaAction `json:"Create"`
	Update *ReplicaAction `json:"Update"`
	Delete *ReplicaAction `json:"Delete"`
}

// ReplicaAction is the body of a replica Create, Update or Delete. Only
// RegionName is meaningful to Delete.
type ReplicaAction struct {
	RegionName                    *string         `json:"RegionName"`
	KMSMasterKeyID                *string         `json:"KMSMasterKeyId"`
	TableClassOverride            *string         `json:"TableClassOverride"`
	ProvisionedThroughputOverride json.RawMessage `json:"ProvisionedThroughputOverride"`
	OnDemandThroughputOverride    json.RawMessage `json:"OnDemandThroughputOverride"`
	GlobalSecondaryIndexes        json.RawMessage `json:"GlobalSecondaryIndexes"`
}

type updateTableInput struct {
	TableName                   *string                    `json:"TableName"`
	AttributeDefinitions        []attributeDefinitionInput `json:"AttributeDefinitions"`
	BillingMode                 *string                    `json:"BillingMode"`
	ProvisionedThroughput       *throughputInput           `json:"ProvisionedThroughput"`
	GlobalSecondaryIndexUpdates []gsiUpdateInput           `json:"GlobalSecondaryIndexUpdates"`
	StreamSpecification         *streamSpecInput           `json:"StreamSpecification"`
	SSESpecification            *sseSpecInput              `json:"SSESpecification"`
	ReplicaUpdates              []ReplicaUpdate            `json:"ReplicaUpdates"`
	TableClass                  *string                    `json:"TableClass"`
	DeletionProtectionEnabled   *bool                      `json:"DeletionProtectionEnabled"`
	// Accepted and ignored: nothing here is limited by them.
	OnDemandThroughput     json.RawMessage `json:"OnDemandThroughput"`
	WarmThroughput         json.RawMessage `json:"WarmThroughput"`
	MultiRegionConsistency *string         `json:"MultiRegionConsistency"`
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

func (in *updateTableInput) check() error {
	var c checker
	if in.AttributeDefinitions != nil {
		checkAttributeDefinitions(&c, in.AttributeDefinitions)
	}
	c.tableName("tableName", in.TableName)
	checkThroughput(&c, "provisionedThroughput", in.ProvisionedThroughput)
	c.enum("billingMode", in.BillingMode, billingProvisioned, billingPayPerRequest)
	for i, u := range in.GlobalSecondaryIndexUpdates {
		p := memberPath("globalSecondaryIndexUpdates", i)
		if a := u.Update; a != nil {
			c.tableName(p+".update.indexName", a.IndexName)
			checkThroughput(&c, p+".update.provisionedThroughput", a.ProvisionedThroughput)
		}
		if a := u.Create; a != nil {
			checkProjection(&c, p+".create.projection", a.Projection)
			c.tableName(p+".create.indexName", a.IndexName)
			checkThroughput(&c, p+".create.provisionedThroughput", a.ProvisionedThroughput)
			checkKeySchema(&c, p+".create.keySchema", a.KeySchema, false)
		}
		if a := u.Delete; a != nil {
			c.tableName(p+".delete.indexName", a.IndexName)
		}
	}
	checkStreamSpec(&c, in.StreamSpecification)
	checkSSESpec(&c, in.SSESpecification)
	return c.err()
}

// rules applies the checks that need only the request, in DynamoDB's order:
// something must change, some changes must come alone, and the members must
// agree with each other.
func (in *updateTableInput) rules() error {
	hasGSI := len(in.GlobalSecondaryIndexUpdates) > 0
	if in.ProvisionedThroughput == nil && in.BillingMode == nil && !hasGSI &&
		in.StreamSpecification == nil && in.SSESpecification == nil && len(in.ReplicaUpdates) == 0 &&
		in.DeletionProtectionEnabled == nil && in.TableClass == nil &&
		!present(in.OnDemandThroughput) && !present(in.WarmThroughput) && in.MultiRegionConsistency == nil {
		return Validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required")
	}
	if in.GlobalSecondaryIndexUpdates != nil && !hasGSI {
		return Validation(invalidParams + "List of GlobalSecondaryIndexUpdates is empty")
	}

	// How many distinct kinds of change the request makes: SSE, table
	// class, deletion protection and replicas must each come alone.
	kinds := 0
	for _, on := range []bool{
		in.ProvisionedThroughput != nil, in.BillingMode != nil, hasGSI, in.StreamSpecification != nil,
		in.SSESpecification != nil, in.TableClass != nil, in.DeletionProtectionEnabled != nil,
		len(in.ReplicaUpdates) > 0,
	} {
		if on {
			kinds++
		}
	}
	if kinds > 1 {
		switch {
		case in.SSESpecification != nil:
			return Validation(invalidParams + "Server-Side Encryption modification must be the only operation in the request")
		case in.TableClass != nil:
			return Validation(invalidParams + "TableClass modification must be the only operation in the request")
		case in.DeletionProtectionEnabled != nil:
			return Validation(invalidParams + "DeletionProtection modification must be the only operation in the request")
		case len(in.ReplicaUpdates) > 0:
			return Validation(invalidParams + "Replica modification must be the only operation in the request")
		}
	}
	createsOrDeletes := 0
	for _, u := range in.GlobalSecondaryIndexUpdates {
		if u.Create != nil || u.Delete != nil {
			createsOrDeletes++
		}
	}
	switch {
	case createsOrDeletes > 0 && in.ProvisionedThroughput != nil:
		return Validation(invalidParams + "You cannot create or delete index while updating table IOPS")
	case createsOrDeletes > 0 && in.StreamSpecification != nil:
		return Validation(invalidParams + "You cannot create or delete index while changing stream status")
	case in.StreamSpecification != nil && in.ProvisionedThroughput != nil:
		return Validation(invalidParams + "You cannot modify stream status while updating table IOPS")
	}

	if in.BillingMode != nil && *in.BillingMode == billingProvisioned && in.ProvisionedThroughput == nil {
		return Validation(invalidParams + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
	}
	if err := throughputBounds(in.ProvisionedThroughput); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		actions := 0
		for _, on := range []bool{u.Update != nil, u.Create != nil, u.Delete != nil} {
			if on {
				actions++
			}
		}
		if actions == 0 {
			return Validation(invalidParams + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null")
		}
		if actions > 1 {
			return Validation(invalidParams + "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object")
		}
		name := u.indexName()
		if names[name] {
			return Validation(invalidParams+"Only one global secondary index update per index is allowed simultaneously. Index: %s", name)
		}
		names[name] = true
	}
	if err := streamSpecRule(in.StreamSpecification, false); err != nil {
		return err
	}
	if err := sseSpecRule(in.SSESpecification); err != nil {
		return err
	}
	return tableClassRule(in.TableClass)
}

func onlineIndexLimit() error {
	return LimitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
}

func indexNotFound(index, table string) error {
	return ResourceNotFound("Requested resource not found: Index %s for table %s", index, table)
}

func throughputUnchanged(what string, curRead, curWrite, read, write int64) error {
	return Validation("The provisioned throughput for %s will not change. The requested value equals the current value. "+
		"Current ReadCapacityUnits provisioned for %[1]s: %[2]d. Requested ReadCapacityUnits: %[4]d. "+
		"Current WriteCapacityUnits provisioned for %[1]s: %[3]d. Requested WriteCapacityUnits: %[5]d. "+
		"Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
		what, curRead, curWrite, read, write)
}

// tableUpdate is what applying an UpdateTable did, for the work that follows
// the commit and for the response.
type tableUpdate struct {
	created []string      // GSIs to backfill
	deleted []store.Index // GSIs removed, described as DELETING
}

// updateTable implements UpdateTable. Changes are applied atomically to the
// table's metadata: a request rejected for any reason changes nothing. A new
// global secondary index is CREATING (Backfilling) in the response and
// becomes ACTIVE once its backfill, started after the commit, is done. A
// deleted index is gone when the call returns (its entries are purged by
// then) and is described as DELETING in the response only.
func (s *Server) updateTable(ctx context.Context, body []byte) (any, error) {
	var in updateTableInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if err := in.rules(); err != nil {
		return nil, err
	}
	name := *in.TableName
	t, err := s.controlTable(name)
	if err != nil {
		return nil, err
	}
	if len(in.ReplicaUpdates) > 0 {
		return s.updateReplicas(ctx, t, in.ReplicaUpdates)
	}

	var done tableUpdate
	nt, err := s.updateSettings(name, func(t *store.Table) error {
		done = tableUpdate{}
		return s.applyTableUpdate(t, &in, &done)
	})
	if err != nil {
		return nil, err
	}
	for _, index := range done.created {
		s.startBackfill(name, index)
	}
	d := s.tableDescription(nt)
	for _, ix := range done.deleted {
		g := gsiDescription(d.TableArn, ix)
		g.IndexStatus = store.StatusDeleting
		g.Backfilling = nil
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, g)
	}
	s.markUpdated(d)
	return tableDescriptionOutput{d}, nil
}

// applyTableUpdate applies an UpdateTable request to t, a private copy of
// the table's metadata, checking it against the table in DynamoDB's order.
func (s *Server) applyTableUpdate(t *store.Table, in *updateTableInput, done *tableUpdate) error {
	if t.Status == store.StatusDeleting {
		return ResourceInUse("Attempt to change a resource which is still in use: Table is being deleted: %s", t.Name)
	}
	now := s.cfg.Now()
	mode := billingMode(t)
	newMode := mode
	if in.BillingMode != nil {
		newMode = *in.BillingMode
	}
	if in.ProvisionedThroughput != nil && newMode == billingPayPerRequest {
		return Validation(invalidParams + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
	}
	if err := s.applyIndexUpdates(t, in, mode, newMode, done); err != nil {
		return err
	}

	switch {
	case newMode == billingPayPerRequest && mode != billingPayPerRequest:
		t.BillingMode = billingPayPerRequest
		t.ReadCapacity, t.WriteCapacity = 0, 0
		for i := range t.GSIs {
			t.GSIs[i].ReadCapacity, t.GSIs[i].WriteCapacity = 0, 0
		}
		setExtraTime(t, extraPayPerRequestAt, now)
	case newMode == billingProvisioned && mode != billingProvisioned:
		t.BillingMode = billingProvisioned
	}
	if pt := in.ProvisionedThroughput; pt != nil {
		read, write := *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
		if mode == billingProvisioned && read == t.ReadCapacity && write == t.WriteCapacity {
			return throughputUnchanged("the table", t.ReadCapacity, t.WriteCapacity, read, write)
		}
		if read > t.ReadCapacity || write > t.WriteCapacity {
			setExtraTime(t, extraThroughputUpAt, now)
		}
		if mode == billingProvisioned && (read < t.ReadCapacity || write < t.WriteCapacity) {
			setExtraTime(t, extraThroughputDownAt, now)
		}
		t.ReadCapacity, t.WriteCapacity = read, write
	}

	if spec := in.StreamSpecification; spec != nil {
		enabled := t.Stream != nil
		switch {
		case *spec.StreamEnabled && enabled:
			return Validation("Table already has an enabled stream: TableName: %s", t.Name)
		case !*spec.StreamEnabled && !enabled:
			return Validation("Table has no stream to disable: TableName: %s", t.Name)
		case !*spec.StreamEnabled && isGlobal(t):
			// Version 2019.11.21 keeps every replica's stream on.
			return Validation(invalidParams + "Disabling Stream is not allowed for a Global Table replica.")
		case *spec.StreamEnabled:
			enableStream(t, *spec.StreamViewType, now)
		default:
			t.Stream = nil
		}
	}

	if spec := in.SSESpecification; spec != nil {
		cur := t.Extra[extraSSEKeyArn]
		if spec.Enabled == nil || !*spec.Enabled {
			if cur == "" {
				return Validation(invalidParams + "Table is already encrypted by default")
			}
			delete(t.Extra, extraSSEKeyArn)
		} else {
			arn := s.kmsKeyArn(spec)
			if arn == cur {
				return Validation(invalidParams + "Table is already encrypted with given KMSMasterKeyId. Use KMSMasterKeyId parameter if you want to change Master Key")
			}
			t.Extra[extraSSEKeyArn] = arn
		}
	}
	if in.TableClass != nil {
		t.Extra[extraTableClass] = *in.TableClass
		setExtraTime(t, extraTableClassAt, now)
	}
	if in.DeletionProtectionEnabled != nil {
		if *in.DeletionProtectionEnabled {
			t.Extra[extraDeletionProtection] = "true"
		} else {
			delete(t.Extra, extraDeletionProtection)
		}
	}
	return nil
}

// applyIndexUpdates applies GlobalSecondaryIndexUpdates, and checks that a
// switch to PROVISIONED gives every index its throughput.
func (s *Server) applyIndexUpdates(t *store.Table, in *updateTableInput, mode, newMode string, done *tableUpdate) error {
	updated := map[string]bool{}
	createsOrDeletes := 0
	for _, u := range in.GlobalSecondaryIndexUpdates {
		a := u.Update
		if a == nil {
			createsOrDeletes++
			continue
		}
		name := *a.IndexName
		ix := findGSI(t, name)
		if ix == nil {
			if isLSI(t, name) {
				return Validation("Cannot update an index that is not a GlobalSecondaryIndex: %s", name)
			}
			return indexNotFound(name, t.Name)
		}
		pt := a.ProvisionedThroughput
		if newMode == billingPayPerRequest {
			if pt != nil {
				return Validation(invalidParams+"Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for index: %s when BillingMode is PAY_PER_REQUEST", name)
			}
			if !present(a.OnDemandThroughput) && !present(a.WarmThroughput) {
				return Validation(invalidParams+"The only Updates for index: %s when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput", name)
			}
			continue
		}
		if pt == nil {
			if present(a.OnDemandThroughput) || present(a.WarmThroughput) {
				continue
			}
			return Validation(invalidParams+"Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: %s", name)
		}
		read, write := *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
		if read > maxCapacityUnits || write > maxCapacityUnits {
			return Validation("This operation cannot be performed with given input values. Please contact DynamoDB service team for more info: Action Blocked: IndexUpdate")
		}
		if mode == billingProvisioned && read == ix.ReadCapacity && write == ix.WriteCapacity {
			return throughputUnchanged("the index "+name, ix.ReadCapacity, ix.WriteCapacity, read, write)
		}
		ix.ReadCapacity, ix.WriteCapacity = read, write
		updated[name] = true
	}

	if createsOrDeletes > 0 {
		// One online index change at a time, per call and per table.
		if createsOrDeletes > 1 {
			return onlineIndexLimit()
		}
		for _, ix := range t.GSIs {
			if ix.Status == store.StatusCreating || ix.Status == store.StatusDeleting {
				return onlineIndexLimit()
			}
		}
	}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		switch {
		case u.Delete != nil:
			name := *u.Delete.IndexName
			i := slices.IndexFunc(t.GSIs, func(ix store.Index) bool { return ix.Name == name })
			if i < 0 {
				if isLSI(t, name) {
					return Validation("Cannot delete an index that is not a GlobalSecondaryIndex: %s", name)
				}
				return indexNotFound(name, t.Name)
			}
			done.deleted = append(done.deleted, t.GSIs[i])
			// Removing the index from the metadata is the drop: the
			// store purges its entries before UpdateTable returns.
			t.GSIs = slices.Delete(t.GSIs, i, i+1)
			pruneAttributeDefinitions(t)
		case u.Create != nil:
			if err := addIndex(t, u.Create, in.AttributeDefinitions, newMode); err != nil {
				return err
			}
			done.created = append(done.created, *u.Create.IndexName)
		}
	}

	if newMode == billingProvisioned && mode != billingProvisioned {
		var missing []string
		for _, ix := range t.GSIs {
			if !updated[ix.Name] && !slices.Contains(done.created, ix.Name) {
				missing = append(missing, ix.Name)
			}
		}
		if len(missing) > 0 {
			return Validation(invalidParams+"ProvisionedThroughput must be specified for index: %s", strings.Join(missing, ","))
		}
	}
	return nil
}

// addIndex adds the global secondary index of an UpdateTable Create action
// to t, as CREATING. Its key attributes may be defined in the request's
// AttributeDefinitions or already be defined on the table.
func addIndex(t *store.Table, c *indexInput, reqDefs []attributeDefinitionInput, newMode string) error {
	name := *c.IndexName
	if _, exists := t.Index(name); exists {
		return Validation("Attempting to create an index which already exists")
	}
	if len(t.GSIs) >= maxGSIs {
		return LimitExceeded("Subscriber limit exceeded: GlobalSecondaryIndex count exceeds the per-table limit of %d", maxGSIs)
	}
	if reqDefs == nil {
		return Validation(invalidParams+"AttributeDefinitions is not specified for index: %s", name)
	}
	defs := map[string]attr.Type{}
	for _, d := range t.AttributeDefinitions {
		defs[d.Name] = d.Type
	}
	var defNames []string
	for _, d := range reqDefs {
		n, typ := *d.AttributeName, attr.ParseType(*d.AttributeType)
		defNames = append(defNames, n)
		if cur, ok := defs[n]; ok && cur != typ && keyInUse(t, n) {
			return Validation(invalidParams+"Attribute %s is already a key attribute of type %s and cannot be redefined as %s", n, cur, typ)
		}
		defs[n] = typ
	}
	if err := indexKeyRule(c.KeySchema, defs, defNames); err != nil {
		return err
	}
	if err := projectionRule(c.Projection); err != nil {
		return err
	}
	if newMode == billingPayPerRequest && c.ProvisionedThroughput != nil {
		return Validation(invalidParams+"ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", name)
	}
	if newMode == billingProvisioned && c.ProvisionedThroughput == nil {
		return Validation(invalidParams+"ProvisionedThroughput is not specified for index: %s", name)
	}
	if err := throughputBounds(c.ProvisionedThroughput); err != nil {
		return err
	}
	ix := storeIndex(*c, defs, false)
	ix.Status = store.StatusCreating
	t.GSIs = append(t.GSIs, ix)
	if projectedAttrs(t) > maxProjectedAttrs {
		return tooManyProjectedAttrs()
	}
	for _, k := range []*store.KeyElement{&ix.Hash, ix.Range} {
		if k == nil {
			continue
		}
		i := slices.IndexFunc(t.AttributeDefinitions, func(d store.KeyElement) bool { return d.Name == k.Name })
		if i < 0 {
			t.AttributeDefinitions = append(t.AttributeDefinitions, *k)
		} else {
			t.AttributeDefinitions[i] = *k
		}
	}
	return nil
}

func findGSI(t *store.Table, name string) *store.Index {
	for i := range t.GSIs {
		if t.GSIs[i].Name == name {
			return &t.GSIs[i]
		}
	}
	return nil
}

func isLSI(t *store.Table, name string) bool {
	return slices.ContainsFunc(t.LSIs, func(ix store.Index) bool { return ix.Name == name })
}

// keyInUse reports whether an attribute is a key of the table or one of its
// indexes.
func keyInUse(t *store.Table, name string) bool {
	uses := func(h store.KeyElement, r *store.KeyElement) bool {
		return h.Name == name || (r != nil && r.Name == name)
	}
	if uses(t.Hash, t.Range) {
		return true
	}
	for _, ixs := range [][]store.Index{t.GSIs, t.LSIs} {
		for _, ix := range ixs {
			if uses(ix.Hash, ix.Range) {
				return true
			}
		}
	}
	return false
}

// pruneAttributeDefinitions drops the definitions no key uses any more, as
// DynamoDB does when an index is deleted.
func pruneAttributeDefinitions(t *store.Table) {
	t.AttributeDefinitions = slices.DeleteFunc(t.AttributeDefinitions, func(d store.KeyElement) bool {
		return !keyInUse(t, d.Name)
	})
}

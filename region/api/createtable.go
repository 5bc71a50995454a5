package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// CreateTable.

type createTableInput struct {
	AttributeDefinitions      []attributeDefinitionInput `json:"AttributeDefinitions"`
	TableName                 *string                    `json:"TableName"`
	KeySchema                 []keySchemaInput           `json:"KeySchema"`
	LocalSecondaryIndexes     []indexInput               `json:"LocalSecondaryIndexes"`
	GlobalSecondaryIndexes    []indexInput               `json:"GlobalSecondaryIndexes"`
	BillingMode               *string                    `json:"BillingMode"`
	ProvisionedThroughput     *throughputInput           `json:"ProvisionedThroughput"`
	StreamSpecification       *streamSpecInput           `json:"StreamSpecification"`
	SSESpecification          *sseSpecInput              `json:"SSESpecification"`
	Tags                      []tagInput                 `json:"Tags"`
	TableClass                *string                    `json:"TableClass"`
	DeletionProtectionEnabled *bool                      `json:"DeletionProtectionEnabled"`
	// Accepted and ignored.
	OnDemandThroughput json.RawMessage `json:"OnDemandThroughput"`
	WarmThroughput     json.RawMessage `json:"WarmThroughput"`
	ResourcePolicy     *string         `json:"ResourcePolicy"`
}

// check runs DynamoDB's constraint checks, in the order DynamoDB reports
// them.
func (in *createTableInput) check() error {
	var c checker
	checkAttributeDefinitions(&c, in.AttributeDefinitions)
	c.tableName("tableName", in.TableName)
	c.enum("billingMode", in.BillingMode, billingProvisioned, billingPayPerRequest)
	checkThroughput(&c, "provisionedThroughput", in.ProvisionedThroughput)
	checkKeySchema(&c, "keySchema", in.KeySchema, true)
	for i, ix := range in.LocalSecondaryIndexes {
		checkIndex(&c, memberPath("localSecondaryIndexes", i), ix, false)
	}
	for i, ix := range in.GlobalSecondaryIndexes {
		checkIndex(&c, memberPath("globalSecondaryIndexes", i), ix, true)
	}
	checkStreamSpec(&c, in.StreamSpecification)
	checkSSESpec(&c, in.SSESpecification)
	return c.err()
}

// build applies DynamoDB's semantic rules, in DynamoDB's order, and returns
// the table to store.
func (s *Server) buildTable(in *createTableInput) (*store.Table, error) {
	payPerRequest := in.BillingMode != nil && *in.BillingMode == billingPayPerRequest
	pt := in.ProvisionedThroughput
	if payPerRequest {
		if pt != nil {
			return nil, Validation(invalidParams + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	} else {
		if pt == nil {
			return nil, Validation(invalidParams + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		if err := throughputBounds(pt); err != nil {
			return nil, err
		}
	}

	defs := make(map[string]attr.Type, len(in.AttributeDefinitions))
	defNames := make([]string, 0, len(in.AttributeDefinitions))
	for _, d := range in.AttributeDefinitions {
		if _, dup := defs[*d.AttributeName]; dup {
			return nil, Validation("Attribute Name is duplicated: %s", *d.AttributeName)
		}
		defs[*d.AttributeName] = attr.ParseType(*d.AttributeType)
		defNames = append(defNames, *d.AttributeName)
	}
	keys := keyNames(in.KeySchema)
	if len(keys) > len(defNames) {
		return nil, Validation("Invalid KeySchema: Some index key attribute have no definition")
	}
	if err := indexKeyRule(in.KeySchema, defs, defNames); err != nil {
		return nil, err
	}
	hasIndexes := in.LocalSecondaryIndexes != nil || in.GlobalSecondaryIndexes != nil
	if !hasIndexes && len(keys) != len(defNames) {
		return nil, Validation(invalidParams + "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	if hasIndexes {
		// DynamoDB wants exactly the key attributes defined, and checks
		// it before any rule of the indexes themselves.
		used := map[string]bool{}
		for _, k := range keys {
			used[k] = true
		}
		for _, ixs := range [][]indexInput{in.LocalSecondaryIndexes, in.GlobalSecondaryIndexes} {
			for _, ix := range ixs {
				for _, k := range keyNames(ix.KeySchema) {
					used[k] = true
				}
			}
		}
		var unused bool
		for _, d := range defNames {
			if !used[d] {
				unused = true
			}
		}
		if unused {
			usedNames := make([]string, 0, len(used))
			for k := range used {
				if _, ok := defs[k]; ok {
					usedNames = append(usedNames, k)
				}
			}
			sort.Strings(usedNames)
			return nil, Validation(invalidParams+"Some AttributeDefinitions are not used. AttributeDefinitions: [%s], keys used: [%s]",
				strings.Join(slices.Sorted(slices.Values(defNames)), ", "), strings.Join(usedNames, ", "))
		}
	}

	t := &store.Table{
		Name:        *in.TableName,
		Hash:        store.KeyElement{Name: keys[0], Type: defs[keys[0]]},
		BillingMode: billingProvisioned,
		Extra:       map[string]string{extraTableID: newUUID()},
	}
	if len(keys) == 2 {
		t.Range = &store.KeyElement{Name: keys[1], Type: defs[keys[1]]}
	}
	if payPerRequest {
		t.BillingMode = billingPayPerRequest
	} else {
		t.ReadCapacity, t.WriteCapacity = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
	}
	for _, n := range slices.Sorted(slices.Values(defNames)) {
		t.AttributeDefinitions = append(t.AttributeDefinitions, store.KeyElement{Name: n, Type: defs[n]})
	}

	names := map[string]bool{}
	if in.LocalSecondaryIndexes != nil {
		if len(in.LocalSecondaryIndexes) == 0 {
			return nil, Validation(invalidParams + "List of LocalSecondaryIndexes is empty")
		}
		if t.Range == nil {
			return nil, Validation(invalidParams + "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		for _, ix := range in.LocalSecondaryIndexes {
			if err := indexKeyRule(ix.KeySchema, defs, defNames); err != nil {
				return nil, err
			}
			name := *ix.IndexName
			if len(ix.KeySchema) != 2 {
				return nil, Validation(invalidParams+"Index KeySchema does not have a range key for index: %s", name)
			}
			if h := *ix.KeySchema[0].AttributeName; h != t.Hash.Name {
				return nil, Validation(invalidParams+"Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s",
					name, h, t.Hash.Name)
			}
			if err := projectionRule(ix.Projection); err != nil {
				return nil, err
			}
			if names[name] {
				return nil, Validation(invalidParams+"Duplicate index name: %s", name)
			}
			names[name] = true
			t.LSIs = append(t.LSIs, storeIndex(ix, defs, true))
		}
		if len(in.LocalSecondaryIndexes) > maxLSIs {
			return nil, Validation(invalidParams+"Number of LocalSecondaryIndexes exceeds per-table limit of %d", maxLSIs)
		}
	}
	if in.GlobalSecondaryIndexes != nil {
		if len(in.GlobalSecondaryIndexes) == 0 {
			return nil, Validation(invalidParams + "List of GlobalSecondaryIndexes is empty")
		}
		for _, ix := range in.GlobalSecondaryIndexes {
			if err := indexKeyRule(ix.KeySchema, defs, defNames); err != nil {
				return nil, err
			}
			name := *ix.IndexName
			if err := projectionRule(ix.Projection); err != nil {
				return nil, err
			}
			if payPerRequest && ix.ProvisionedThroughput != nil {
				return nil, Validation(invalidParams+"ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", name)
			}
			if !payPerRequest && ix.ProvisionedThroughput == nil {
				return nil, Validation(invalidParams+"ProvisionedThroughput is not specified for index: %s", name)
			}
			if err := throughputBounds(ix.ProvisionedThroughput); err != nil {
				return nil, err
			}
			if names[name] {
				return nil, Validation(invalidParams+"Duplicate index name: %s", name)
			}
			names[name] = true
			t.GSIs = append(t.GSIs, storeIndex(ix, defs, false))
		}
		if len(in.GlobalSecondaryIndexes) > maxGSIs {
			return nil, Validation(invalidParams+"GlobalSecondaryIndex count exceeds the per-table limit of %d", maxGSIs)
		}
	}
	if projectedAttrs(t) > maxProjectedAttrs {
		return nil, tooManyProjectedAttrs()
	}

	if err := streamSpecRule(in.StreamSpecification, true); err != nil {
		return nil, err
	}
	if err := sseSpecRule(in.SSESpecification); err != nil {
		return nil, err
	}
	if err := tableClassRule(in.TableClass); err != nil {
		return nil, err
	}
	if in.Tags != nil {
		tags, err := tagsRule(in.Tags)
		if err != nil {
			return nil, err
		}
		if len(tags) > maxTags {
			return nil, tooManyTags()
		}
		if len(tags) > 0 {
			setTags(t, tags)
		}
	}
	return t, nil
}

// createTable implements CreateTable. The table is ACTIVE, with all its
// indexes, when the call returns.
func (s *Server) createTable(ctx context.Context, body []byte) (any, error) {
	var in createTableInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	t, err := s.buildTable(&in)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	t.CreatedAt = now.UTC()
	t.Status = store.StatusActive
	if t.BillingMode == billingPayPerRequest {
		setExtraTime(t, extraPayPerRequestAt, now)
	}
	if spec := in.StreamSpecification; spec != nil && *spec.StreamEnabled {
		enableStream(t, *spec.StreamViewType, now)
	}
	if spec := in.SSESpecification; spec != nil && spec.Enabled != nil && *spec.Enabled {
		t.Extra[extraSSEKeyArn] = s.kmsKeyArn(spec)
	}
	if in.TableClass != nil {
		t.Extra[extraTableClass] = *in.TableClass
		setExtraTime(t, extraTableClassAt, now)
	}
	if in.DeletionProtectionEnabled != nil && *in.DeletionProtectionEnabled {
		t.Extra[extraDeletionProtection] = "true"
	}
	global := s.newGlobal(t)
	if global != nil && t.Stream == nil {
		// A global table's replicas have streams, as when replicas are
		// added with UpdateTable.
		enableStream(t, store.StreamNewAndOldImages, now)
		global = defOf(t)
	}
	if err := s.db.CreateTableLogged(t, global); err != nil {
		if errors.Is(err, store.ErrTableExists) {
			return nil, ResourceInUse("Table already exists: %s", t.Name)
		}
		return nil, fmt.Errorf("create table %s: %w", t.Name, err)
	}
	s.markTransient(t.Name, store.StatusCreating, nil)
	return tableDescriptionOutput{s.tableDescription(t)}, nil
}

// enableStream gives t a new stream of viewType, labelled with the time;
// the store creates it when the metadata change commits.
func enableStream(t *store.Table, viewType string, now time.Time) {
	label := streamLabel(now)
	t.Stream = &store.StreamSpec{ViewType: viewType, Label: label}
	if t.Extra == nil {
		t.Extra = map[string]string{}
	}
	t.Extra[extraStreamLabel] = label
}

// streamLabel is the label of a stream enabled at a given time: DynamoDB
// uses the time in ISO 8601 with milliseconds, and it ends the stream's ARN.
func streamLabel(at time.Time) string {
	return at.UTC().Format("2006-01-02T15:04:05.000")
}

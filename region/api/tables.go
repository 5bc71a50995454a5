package api

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/globaltables/globaltables/store"
)

// This file holds the wire types of table descriptions and how a stored table
// is described. The control-plane operations each have a file of their own:
// createtable.go, describetable.go (DescribeTable and ListTables),
// updatetable.go, deletetable.go and account.go (DescribeEndpoints,
// DescribeLimits and the legacy global-table API); their shared request
// shapes and constraint checks are in tablecheck.go, TTL in ttl.go, tags in
// tags.go.
//
// Tables here never pass through CREATING: a table is ACTIVE as soon as
// CreateTable returns, because there is nothing to provision. SDK waiters
// (TableExists, TableNotExists) accept that, since they only poll
// DescribeTable until the state they wait for.

// Limits DynamoDB enforces on table definitions.
const (
	maxGSIs             = 20
	maxLSIs             = 5
	maxProjectedAttrs   = 100 // NonKeyAttributes summed over a table's indexes
	maxNonKeyAttrs      = 20  // NonKeyAttributes of one index
	maxCapacityUnits    = 1_000_000_000_000
	defaultListLimit    = 100
	endpointCacheMinute = 1440
)

// The account and table capacity limits DescribeLimits reports: DynamoDB's
// documented defaults for most regions.
const (
	accountMaxCapacityUnits = 80000
	tableMaxCapacityUnits   = 40000
)

// Billing modes.
const (
	billingProvisioned   = "PROVISIONED"
	billingPayPerRequest = "PAY_PER_REQUEST"
)

// invalidParams is the prefix DynamoDB gives most semantic validation errors.
const invalidParams = "One or more parameter values were invalid: "

// Keys of store.Table.Extra owned by this file, ttl.go and tags.go. The "api."
// prefix keeps them apart from keys other parts of the region (replicas) add.
// Times are Unix milliseconds in decimal.
const (
	extraTableID            = "api.tableId"
	extraTags               = "api.tags"               // JSON object, key to value
	extraStreamLabel        = "api.stream.label"       // label of the latest stream
	extraSSEKeyArn          = "api.sse.kmsKeyArn"      // set while a KMS key encrypts the table
	extraTableClass         = "api.tableClass"         // set once a class was requested
	extraTableClassAt       = "api.tableClass.updated" // when it was last set
	extraDeletionProtection = "api.deletionProtection" // "true" when enabled
	extraPayPerRequestAt    = "api.billing.payPerRequestAt"
	extraThroughputUpAt     = "api.throughput.increasedAt"
	extraThroughputDownAt   = "api.throughput.decreasedAt"
)

// ---------------------------------------------------------------------------
// Wire types of table descriptions.

// TableDescription is DynamoDB's description of a table, the body of
// CreateTable, DescribeTable, UpdateTable and DeleteTable responses.
type TableDescription struct {
	AttributeDefinitions      []AttributeDefinition             `json:"AttributeDefinitions"`
	TableName                 string                            `json:"TableName"`
	KeySchema                 []KeySchemaElement                `json:"KeySchema"`
	TableStatus               string                            `json:"TableStatus"`
	CreationDateTime          float64                           `json:"CreationDateTime"`
	ProvisionedThroughput     *ProvisionedThroughputDescription `json:"ProvisionedThroughput,omitempty"`
	TableSizeBytes            int64                             `json:"TableSizeBytes"`
	ItemCount                 int64                             `json:"ItemCount"`
	TableArn                  string                            `json:"TableArn"`
	TableID                   string                            `json:"TableId,omitempty"`
	BillingModeSummary        *BillingModeSummary               `json:"BillingModeSummary,omitempty"`
	LocalSecondaryIndexes     []LocalSecondaryIndexDescription  `json:"LocalSecondaryIndexes,omitempty"`
	GlobalSecondaryIndexes    []GlobalSecondaryIndexDescription `json:"GlobalSecondaryIndexes,omitempty"`
	StreamSpecification       *StreamSpecification              `json:"StreamSpecification,omitempty"`
	LatestStreamLabel         string                            `json:"LatestStreamLabel,omitempty"`
	LatestStreamArn           string                            `json:"LatestStreamArn,omitempty"`
	GlobalTableVersion        string                            `json:"GlobalTableVersion,omitempty"`
	Replicas                  []ReplicaDescription              `json:"Replicas,omitempty"`
	SSEDescription            *SSEDescription                   `json:"SSEDescription,omitempty"`
	TableClassSummary         *TableClassSummary                `json:"TableClassSummary,omitempty"`
	DeletionProtectionEnabled bool                              `json:"DeletionProtectionEnabled"`
}

// AttributeDefinition is the name and type (S, N or B) of a key attribute.
type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

// KeySchemaElement is one element of a key schema: HASH or RANGE.
type KeySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// ProvisionedThroughputDescription is a table's or index's capacity. Tables
// in PAY_PER_REQUEST mode report 0 and 0, as DynamoDB does.
type ProvisionedThroughputDescription struct {
	LastIncreaseDateTime   float64 `json:"LastIncreaseDateTime,omitempty"`
	LastDecreaseDateTime   float64 `json:"LastDecreaseDateTime,omitempty"`
	NumberOfDecreasesToday int64   `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64   `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64   `json:"WriteCapacityUnits"`
}

// BillingModeSummary is a table's capacity mode.
type BillingModeSummary struct {
	BillingMode                       string  `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime float64 `json:"LastUpdateToPayPerRequestDateTime,omitempty"`
}

// IndexProjection is an index's Projection.
type IndexProjection struct {
	ProjectionType   string   `json:"ProjectionType"`
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

// LocalSecondaryIndexDescription describes a local secondary index.
type LocalSecondaryIndexDescription struct {
	IndexName      string             `json:"IndexName"`
	KeySchema      []KeySchemaElement `json:"KeySchema"`
	Projection     IndexProjection    `json:"Projection"`
	IndexSizeBytes int64              `json:"IndexSizeBytes"`
	ItemCount      int64              `json:"ItemCount"`
	IndexArn       string             `json:"IndexArn"`
}

// GlobalSecondaryIndexDescription describes a global secondary index.
// Backfilling is present (true) only while the index is being built; so
// are IndexSizeBytes and ItemCount absent then, since nobody knows them
// until the backfill ends (0 would claim an empty index).
type GlobalSecondaryIndexDescription struct {
	IndexName             string                            `json:"IndexName"`
	KeySchema             []KeySchemaElement                `json:"KeySchema"`
	Projection            IndexProjection                   `json:"Projection"`
	IndexStatus           string                            `json:"IndexStatus"`
	Backfilling           *bool                             `json:"Backfilling,omitempty"`
	ProvisionedThroughput *ProvisionedThroughputDescription `json:"ProvisionedThroughput"`
	IndexSizeBytes        *int64                            `json:"IndexSizeBytes,omitempty"`
	ItemCount             *int64                            `json:"ItemCount,omitempty"`
	IndexArn              string                            `json:"IndexArn"`
}

// StreamSpecification says whether a table has a stream and what it holds.
type StreamSpecification struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType,omitempty"`
}

// SSEDescription describes encryption with a KMS key. Tables encrypted with
// the default AWS-owned key have none, as in DynamoDB.
type SSEDescription struct {
	Status          string `json:"Status"`
	SSEType         string `json:"SSEType"`
	KMSMasterKeyArn string `json:"KMSMasterKeyArn,omitempty"`
}

// TableClassSummary is a table's class.
type TableClassSummary struct {
	TableClass         string  `json:"TableClass"`
	LastUpdateDateTime float64 `json:"LastUpdateDateTime,omitempty"`
}

// ReplicaDescription describes one replica of a global table (version
// 2019.11.21); global.go fills TableDescription.Replicas.
type ReplicaDescription struct {
	RegionName                   string             `json:"RegionName"`
	ReplicaStatus                string             `json:"ReplicaStatus,omitempty"`
	ReplicaStatusDescription     string             `json:"ReplicaStatusDescription,omitempty"`
	ReplicaStatusPercentProgress string             `json:"ReplicaStatusPercentProgress,omitempty"`
	KMSMasterKeyID               string             `json:"KMSMasterKeyId,omitempty"`
	ReplicaTableClassSummary     *TableClassSummary `json:"ReplicaTableClassSummary,omitempty"`
	ReplicaInaccessibleDateTime  *float64           `json:"ReplicaInaccessibleDateTime,omitempty"`
}

type tableDescriptionOutput struct {
	TableDescription *TableDescription `json:"TableDescription"`
}

// ---------------------------------------------------------------------------
// Describing a table.

// tableArn is the ARN of the table called name in this region.
func (s *Server) tableArn(name string) string {
	return "arn:aws:dynamodb:" + s.cfg.Region + ":" + s.cfg.AccountID + ":table/" + name
}

// tableDescription renders t as DynamoDB describes tables. Item counts and
// sizes come from the store's running statistics; DynamoDB refreshes its own
// about every six hours, so clients must not expect them to be exact anyway.
// Index counts and sizes are always 0: the store keeps statistics per table
// only.
func (s *Server) tableDescription(t *store.Table) *TableDescription {
	items, size := s.db.Stats(t.Name)
	arn := s.tableArn(t.Name)
	d := &TableDescription{
		TableName:                 t.Name,
		TableStatus:               t.Status,
		KeySchema:                 keySchemaOf(t.Hash, t.Range),
		CreationDateTime:          epochSeconds(t.CreatedAt),
		ItemCount:                 items,
		TableSizeBytes:            size,
		TableArn:                  arn,
		TableID:                   t.Extra[extraTableID],
		DeletionProtectionEnabled: t.Extra[extraDeletionProtection] == "true",
	}
	if d.TableStatus == "" {
		d.TableStatus = store.StatusActive
	}
	if reps := s.replicaDescriptions(t); len(reps) > 0 {
		d.Replicas = reps
		d.GlobalTableVersion = GlobalTableVersion
		if d.TableStatus == store.StatusActive && replicaBeingCreated(reps) {
			// As DynamoDB does: the table is UPDATING until every new
			// replica is ACTIVE. It serves reads and writes meanwhile.
			d.TableStatus = store.StatusUpdating
		}
	}
	// DynamoDB returns the definitions sorted by name, whatever order the
	// request used.
	for _, ad := range t.AttributeDefinitions {
		d.AttributeDefinitions = append(d.AttributeDefinitions, AttributeDefinition{AttributeName: ad.Name, AttributeType: ad.Type.String()})
	}
	sort.Slice(d.AttributeDefinitions, func(i, j int) bool {
		return d.AttributeDefinitions[i].AttributeName < d.AttributeDefinitions[j].AttributeName
	})

	mode := billingMode(t)
	d.BillingModeSummary = &BillingModeSummary{BillingMode: mode}
	if mode == billingPayPerRequest {
		d.BillingModeSummary.LastUpdateToPayPerRequestDateTime = extraTime(t, extraPayPerRequestAt)
	}
	d.ProvisionedThroughput = &ProvisionedThroughputDescription{
		ReadCapacityUnits:    t.ReadCapacity,
		WriteCapacityUnits:   t.WriteCapacity,
		LastIncreaseDateTime: extraTime(t, extraThroughputUpAt),
		LastDecreaseDateTime: extraTime(t, extraThroughputDownAt),
	}

	for _, ix := range t.LSIs {
		d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, LocalSecondaryIndexDescription{
			IndexName:  ix.Name,
			KeySchema:  keySchemaOf(ix.Hash, ix.Range),
			Projection: projectionDescription(ix.Projection),
			IndexArn:   arn + "/index/" + ix.Name,
		})
	}
	for _, ix := range t.GSIs {
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, gsiDescription(arn, ix))
	}

	if st := t.Stream; st != nil {
		d.StreamSpecification = &StreamSpecification{StreamEnabled: true, StreamViewType: st.ViewType}
	}
	// The latest stream stays described after it is disabled, as in
	// DynamoDB, where its records remain readable for a day.
	if label := t.Extra[extraStreamLabel]; label != "" {
		d.LatestStreamLabel = label
		d.LatestStreamArn = arn + "/stream/" + label
	}
	if key := t.Extra[extraSSEKeyArn]; key != "" {
		d.SSEDescription = &SSEDescription{Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: key}
	}
	if class := t.Extra[extraTableClass]; class != "" {
		d.TableClassSummary = &TableClassSummary{TableClass: class, LastUpdateDateTime: extraTime(t, extraTableClassAt)}
	}
	s.overlayTransient(d)
	return d
}

func gsiDescription(tableArn string, ix store.Index) GlobalSecondaryIndexDescription {
	g := GlobalSecondaryIndexDescription{
		IndexName:   ix.Name,
		KeySchema:   keySchemaOf(ix.Hash, ix.Range),
		Projection:  projectionDescription(ix.Projection),
		IndexStatus: ix.Status,
		ProvisionedThroughput: &ProvisionedThroughputDescription{
			ReadCapacityUnits:  ix.ReadCapacity,
			WriteCapacityUnits: ix.WriteCapacity,
		},
		IndexArn: tableArn + "/index/" + ix.Name,
	}
	if g.IndexStatus == "" {
		g.IndexStatus = store.StatusActive
	}
	if g.IndexStatus == store.StatusCreating {
		backfilling := true
		g.Backfilling = &backfilling
	} else {
		var zero int64
		g.IndexSizeBytes, g.ItemCount = &zero, &zero
	}
	return g
}

func keySchemaOf(hash store.KeyElement, rng *store.KeyElement) []KeySchemaElement {
	ks := []KeySchemaElement{{AttributeName: hash.Name, KeyType: "HASH"}}
	if rng != nil {
		ks = append(ks, KeySchemaElement{AttributeName: rng.Name, KeyType: "RANGE"})
	}
	return ks
}

func projectionDescription(p store.Projection) IndexProjection {
	out := IndexProjection{ProjectionType: p.Type}
	if out.ProjectionType == "" {
		out.ProjectionType = store.ProjectionAll
	}
	if len(p.NonKeyAttributes) > 0 {
		// Sorted, as DynamoDB returns them.
		out.NonKeyAttributes = slices.Sorted(slices.Values(p.NonKeyAttributes))
	}
	return out
}

// billingMode is t's billing mode; tables that never set one are
// PROVISIONED, DynamoDB's default.
func billingMode(t *store.Table) string {
	if t.BillingMode == "" {
		return billingProvisioned
	}
	return t.BillingMode
}

// epochSeconds renders a time as DynamoDB's JSON timestamps: seconds since
// the epoch with a millisecond fraction.
func epochSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func setExtraTime(t *store.Table, key string, at time.Time) {
	t.Extra[key] = strconv.FormatInt(at.UnixMilli(), 10)
}

func extraTime(t *store.Table, key string) float64 {
	ms, err := strconv.ParseInt(t.Extra[key], 10, 64)
	if err != nil {
		return 0
	}
	return float64(ms) / 1000
}

// controlTable returns the table called name, or the ResourceNotFoundException
// that control-plane operations give, which names the table.
func (s *Server) controlTable(name string) (*store.Table, error) {
	t, err := s.db.Table(name)
	if errors.Is(err, store.ErrTableNotFound) {
		return nil, tableNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("look up table %s: %w", name, err)
	}
	return t, nil
}

// updateControlTable runs fn on a private copy of the table's metadata and
// stores the result, mapping a missing table to DynamoDB's error.
func (s *Server) updateControlTable(name string, fn func(t *store.Table) error) (*store.Table, error) {
	t, err := s.db.UpdateTable(name, func(t *store.Table) error {
		if t.Extra == nil {
			t.Extra = map[string]string{}
		}
		return fn(t)
	})
	if errors.Is(err, store.ErrTableNotFound) {
		return nil, tableNotFound(name)
	}
	var ae *Error
	if err != nil && !errors.As(err, &ae) {
		return nil, fmt.Errorf("update table %s: %w", name, err)
	}
	return t, err
}

// newUUID returns a random (version 4) UUID, the form of DynamoDB's TableId.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

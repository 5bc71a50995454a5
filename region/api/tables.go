package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// This file holds the control-plane operations on tables: CreateTable,
// DescribeTable, ListTables, UpdateTable, DeleteTable, DescribeEndpoints,
// DescribeLimits and the legacy global-table API. TTL is in ttl.go, tags in
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
	extraStreamViewType     = "api.stream.viewType"    // set while the stream is enabled
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
// Backfilling is present (true) only while the index is being built.
type GlobalSecondaryIndexDescription struct {
	IndexName             string                            `json:"IndexName"`
	KeySchema             []KeySchemaElement                `json:"KeySchema"`
	Projection            IndexProjection                   `json:"Projection"`
	IndexStatus           string                            `json:"IndexStatus"`
	Backfilling           *bool                             `json:"Backfilling,omitempty"`
	ProvisionedThroughput *ProvisionedThroughputDescription `json:"ProvisionedThroughput"`
	IndexSizeBytes        int64                             `json:"IndexSizeBytes"`
	ItemCount             int64                             `json:"ItemCount"`
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

	if vt := t.Extra[extraStreamViewType]; vt != "" {
		d.StreamSpecification = &StreamSpecification{StreamEnabled: true, StreamViewType: vt}
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

// ---------------------------------------------------------------------------
// Request shapes and the constraint checks they share.

type keySchemaInput struct {
	AttributeName *string `json:"AttributeName"`
	KeyType       *string `json:"KeyType"`
}

type attributeDefinitionInput struct {
	AttributeName *string `json:"AttributeName"`
	AttributeType *string `json:"AttributeType"`
}

type throughputInput struct {
	ReadCapacityUnits  *int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits *int64 `json:"WriteCapacityUnits"`
}

type projectionInput struct {
	ProjectionType   *string  `json:"ProjectionType"`
	NonKeyAttributes []string `json:"NonKeyAttributes"`
}

// indexInput is a GlobalSecondaryIndex or LocalSecondaryIndex of
// CreateTable, or the Create action of UpdateTable.
type indexInput struct {
	IndexName             *string          `json:"IndexName"`
	KeySchema             []keySchemaInput `json:"KeySchema"`
	Projection            *projectionInput `json:"Projection"`
	ProvisionedThroughput *throughputInput `json:"ProvisionedThroughput"`
	// Accepted and ignored: on-demand maximums and warm throughput do not
	// limit anything here.
	OnDemandThroughput json.RawMessage `json:"OnDemandThroughput"`
	WarmThroughput     json.RawMessage `json:"WarmThroughput"`
}

type streamSpecInput struct {
	StreamEnabled  *bool   `json:"StreamEnabled"`
	StreamViewType *string `json:"StreamViewType"`
}

type sseSpecInput struct {
	Enabled        *bool   `json:"Enabled"`
	SSEType        *string `json:"SSEType"`
	KMSMasterKeyID *string `json:"KMSMasterKeyId"`
}

const mustNotBeNull = "Member must not be null"

func memberPath(path string, i int) string { return path + "." + strconv.Itoa(i+1) + ".member" }

func checkAttributeDefinitions(c *checker, defs []attributeDefinitionInput) {
	if defs == nil {
		c.fail(nil, "attributeDefinitions", mustNotBeNull)
		return
	}
	for i, d := range defs {
		p := memberPath("attributeDefinitions", i)
		if d.AttributeName == nil {
			c.fail(nil, p+".attributeName", mustNotBeNull)
		}
		if d.AttributeType == nil {
			c.fail(nil, p+".attributeType", mustNotBeNull)
		}
		c.enum(p+".attributeType", d.AttributeType, "B", "N", "S")
	}
}

// checkThroughput checks a present ProvisionedThroughput; DynamoDB lists the
// write units first.
func checkThroughput(c *checker, path string, pt *throughputInput) {
	if pt == nil {
		return
	}
	checkMinLong(c, path+".writeCapacityUnits", pt.WriteCapacityUnits, 1)
	checkMinLong(c, path+".readCapacityUnits", pt.ReadCapacityUnits, 1)
}

func checkMinLong(c *checker, path string, v *int64, minimum int64) {
	if v == nil {
		c.fail(nil, path, mustNotBeNull)
		return
	}
	if *v < minimum {
		c.fail(v, path, "Member must have value greater than or equal to "+strconv.FormatInt(minimum, 10))
	}
}

// checkKeySchema checks a key schema's shape. Only the table's key types are
// checked against the enum; index key types get DynamoDB's semantic
// messages instead ("The first KeySchemaElement is not a HASH key type").
func checkKeySchema(c *checker, path string, ks []keySchemaInput, keyTypeEnum bool) {
	if ks == nil {
		c.fail(nil, path, mustNotBeNull)
		return
	}
	if len(ks) < 1 {
		c.fail(renderKeySchema(ks), path, "Member must have length greater than or equal to 1")
	}
	if len(ks) > 2 {
		c.fail(renderKeySchema(ks), path, "Member must have length less than or equal to 2")
	}
	for i, k := range ks {
		p := memberPath(path, i)
		if k.AttributeName == nil {
			c.fail(nil, p+".attributeName", mustNotBeNull)
		}
		if k.KeyType == nil {
			c.fail(nil, p+".keyType", mustNotBeNull)
		}
		if keyTypeEnum {
			c.enum(p+".keyType", k.KeyType, "HASH", "RANGE")
		}
	}
}

// renderKeySchema renders a key schema for a constraint message.
func renderKeySchema(ks []keySchemaInput) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = "KeySchemaElement(AttributeName=" + deref(k.AttributeName) + ", KeyType=" + deref(k.KeyType) + ")"
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func checkProjection(c *checker, path string, p *projectionInput) {
	if p == nil {
		c.fail(nil, path, mustNotBeNull)
		return
	}
	c.enum(path+".projectionType", p.ProjectionType, store.ProjectionAll, store.ProjectionInclude, store.ProjectionKeysOnly)
	if p.NonKeyAttributes != nil {
		if len(p.NonKeyAttributes) < 1 {
			c.fail(p.NonKeyAttributes, path+".nonKeyAttributes", "Member must have length greater than or equal to 1")
		}
		if len(p.NonKeyAttributes) > maxNonKeyAttrs {
			c.fail(p.NonKeyAttributes, path+".nonKeyAttributes", "Member must have length less than or equal to "+strconv.Itoa(maxNonKeyAttrs))
		}
	}
}

// checkIndex checks the shape of a CreateTable index. withThroughput is
// false for local indexes, which share the table's capacity.
func checkIndex(c *checker, path string, ix indexInput, withThroughput bool) {
	c.tableName(path+".indexName", ix.IndexName)
	checkKeySchema(c, path+".keySchema", ix.KeySchema, false)
	checkProjection(c, path+".projection", ix.Projection)
	if withThroughput {
		checkThroughput(c, path+".provisionedThroughput", ix.ProvisionedThroughput)
	}
}

func checkStreamSpec(c *checker, spec *streamSpecInput) {
	if spec == nil {
		return
	}
	if spec.StreamEnabled == nil {
		c.fail(nil, "streamSpecification.streamEnabled", mustNotBeNull)
	}
	c.enum("streamSpecification.streamViewType", spec.StreamViewType, "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
}

// streamSpecRule is the check of a StreamSpecification against itself that
// follows the constraint checks. creating selects CreateTable's wording.
func streamSpecRule(spec *streamSpecInput, creating bool) error {
	if spec == nil || spec.StreamEnabled == nil {
		return nil
	}
	switch {
	case *spec.StreamEnabled && spec.StreamViewType == nil && creating:
		return Validation(invalidParams + "Table is being created with a stream enabled, UpdateViewType is required")
	case !*spec.StreamEnabled && spec.StreamViewType != nil && creating:
		return Validation(invalidParams + "Table is being created with a stream disabled, UpdateViewType should not be specified")
	case *spec.StreamEnabled && spec.StreamViewType == nil:
		return Validation(invalidParams + "If stream is being enabled then UpdateViewType is required")
	case !*spec.StreamEnabled && spec.StreamViewType != nil:
		return Validation(invalidParams + "If stream is being disabled, then UpdateViewType must not be specified")
	}
	return nil
}

func checkSSESpec(c *checker, spec *sseSpecInput) {
	if spec == nil {
		return
	}
	c.enum("sSESpecification.sSEType", spec.SSEType, "AES256", "KMS")
}

// sseSpecRule checks an SSESpecification's members against each other.
func sseSpecRule(spec *sseSpecInput) error {
	if spec == nil {
		return nil
	}
	enabled := spec.Enabled != nil && *spec.Enabled
	switch {
	case !enabled && spec.SSEType != nil:
		return Validation(invalidParams + "SSEType can not be specified if Enabled is false")
	case !enabled && spec.KMSMasterKeyID != nil:
		return Validation(invalidParams + "KMSMasterKeyId can not be specified if Enabled is false")
	case spec.SSEType != nil && *spec.SSEType == "AES256":
		return Validation(invalidParams + "SSEType AES256 is not supported")
	case spec.KMSMasterKeyID != nil && spec.SSEType == nil:
		return Validation(invalidParams + "SSEType KMS is required if KMSMasterKeyId is specified")
	}
	return nil
}

// kmsKeyArn is the ARN DynamoDB reports for the KMS key of an SSE
// specification: the key given as an ARN, an ID or an alias, or else the
// AWS-managed key for DynamoDB (alias/aws/dynamodb).
func (s *Server) kmsKeyArn(spec *sseSpecInput) string {
	prefix := "arn:aws:kms:" + s.cfg.Region + ":" + s.cfg.AccountID + ":"
	if spec.KMSMasterKeyID == nil {
		return prefix + "alias/aws/dynamodb"
	}
	id := *spec.KMSMasterKeyID
	switch {
	case strings.HasPrefix(id, "arn:"):
		return id
	case strings.HasPrefix(id, "alias/"):
		return prefix + id
	}
	return prefix + "key/" + id
}

var tableClasses = []string{"STANDARD", "STANDARD_INFREQUENT_ACCESS"}

func tableClassRule(class *string) error {
	if class != nil && !slices.Contains(tableClasses, *class) {
		return Validation("Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS].")
	}
	return nil
}

// throughputBounds rejects capacities above DynamoDB's absolute ceiling.
func throughputBounds(pt *throughputInput) error {
	if pt == nil {
		return nil
	}
	if pt.ReadCapacityUnits != nil && *pt.ReadCapacityUnits > maxCapacityUnits {
		return Validation("Given value %d for ReadCapacityUnits is out of bounds", *pt.ReadCapacityUnits)
	}
	if pt.WriteCapacityUnits != nil && *pt.WriteCapacityUnits > maxCapacityUnits {
		return Validation("Given value %d for WriteCapacityUnits is out of bounds", *pt.WriteCapacityUnits)
	}
	return nil
}

// keyNames returns the attribute names of a key schema.
func keyNames(ks []keySchemaInput) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = deref(k.AttributeName)
	}
	return out
}

// indexKeyRule checks an index's key schema against the attribute
// definitions (defNames in request order, for the message).
func indexKeyRule(ks []keySchemaInput, defs map[string]attr.Type, defNames []string) error {
	keys := keyNames(ks)
	for _, k := range keys {
		if _, ok := defs[k]; !ok {
			return Validation(invalidParams+"Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]",
				strings.Join(keys, ", "), strings.Join(defNames, ", "))
		}
	}
	if len(keys) == 2 && keys[0] == keys[1] {
		return Validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
	}
	if deref(ks[0].KeyType) != "HASH" {
		return Validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	if len(ks) == 2 && deref(ks[1].KeyType) != "RANGE" {
		return Validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
	}
	return nil
}

// projectionRule checks a projection's members against each other.
func projectionRule(p *projectionInput) error {
	if p.ProjectionType == nil {
		return Validation(invalidParams + "Unknown ProjectionType: null")
	}
	typ := *p.ProjectionType
	if p.NonKeyAttributes != nil && typ != store.ProjectionInclude {
		return Validation(invalidParams+"ProjectionType is %s, but NonKeyAttributes is specified", typ)
	}
	if p.NonKeyAttributes == nil && typ == store.ProjectionInclude {
		return Validation(invalidParams + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
	}
	seen := make(map[string]bool, len(p.NonKeyAttributes))
	for _, a := range p.NonKeyAttributes {
		if seen[a] {
			return Validation(invalidParams+"Duplicate element in NonKeyAttributes: %s", a)
		}
		seen[a] = true
	}
	return nil
}

// storeIndex builds the store's index from a request index whose keys were
// checked against defs.
func storeIndex(ix indexInput, defs map[string]attr.Type, local bool) store.Index {
	out := store.Index{
		Name:  *ix.IndexName,
		Local: local,
		Projection: store.Projection{
			Type:             *ix.Projection.ProjectionType,
			NonKeyAttributes: slices.Clone(ix.Projection.NonKeyAttributes),
		},
	}
	h := *ix.KeySchema[0].AttributeName
	out.Hash = store.KeyElement{Name: h, Type: defs[h]}
	if len(ix.KeySchema) == 2 {
		r := *ix.KeySchema[1].AttributeName
		out.Range = &store.KeyElement{Name: r, Type: defs[r]}
	}
	if pt := ix.ProvisionedThroughput; pt != nil && !local {
		out.ReadCapacity, out.WriteCapacity = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
	}
	return out
}

// projectedAttrs counts the NonKeyAttributes of a table's indexes, which
// DynamoDB limits to 100 per table (a name projected into two indexes counts
// twice).
func projectedAttrs(t *store.Table) int {
	n := 0
	for _, ixs := range [][]store.Index{t.GSIs, t.LSIs} {
		for _, ix := range ixs {
			n += len(ix.Projection.NonKeyAttributes)
		}
	}
	return n
}

func tooManyProjectedAttrs() error {
	return Validation(invalidParams+"Number of projected attributes in all indexes exceeds limit of %d", maxProjectedAttrs)
}

// ---------------------------------------------------------------------------
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
		t.Extra[extraStreamViewType] = *spec.StreamViewType
		t.Extra[extraStreamLabel] = streamLabel(now)
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
	if err := s.db.CreateTableLogged(t, s.newGlobal(t)); err != nil {
		if errors.Is(err, store.ErrTableExists) {
			return nil, ResourceInUse("Table already exists: %s", t.Name)
		}
		return nil, fmt.Errorf("create table %s: %w", t.Name, err)
	}
	return tableDescriptionOutput{s.tableDescription(t)}, nil
}

// streamLabel is the label of a stream enabled at a given time: DynamoDB
// uses the time in ISO 8601 with milliseconds, and it ends the stream's ARN.
func streamLabel(at time.Time) string {
	return at.UTC().Format("2006-01-02T15:04:05.000")
}

// ---------------------------------------------------------------------------
// DescribeTable and ListTables.

type tableNameInput struct {
	TableName *string `json:"TableName"`
}

// check is the only constraint check of operations that take just a table
// name.
func (in *tableNameInput) check() error {
	var c checker
	c.tableName("tableName", in.TableName)
	return c.err()
}

type describeTableOutput struct {
	Table *TableDescription `json:"Table"`
}

func (s *Server) describeTable(ctx context.Context, body []byte) (any, error) {
	var in tableNameInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	t, err := s.controlTable(*in.TableName)
	if err != nil {
		return nil, err
	}
	return describeTableOutput{s.tableDescription(t)}, nil
}

type listTablesInput struct {
	Limit                   *int64  `json:"Limit"`
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
}

type listTablesOutput struct {
	TableNames             []string `json:"TableNames"`
	LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
}

// listTables implements ListTables: names in byte order, from after
// ExclusiveStartTableName, at most Limit (default 100). LastEvaluatedTableName
// is set only when more names follow.
func (s *Server) listTables(ctx context.Context, body []byte) (any, error) {
	var in listTablesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	if in.Limit != nil {
		if *in.Limit < 1 {
			c.fail(in.Limit, "limit", "Member must have value greater than or equal to 1")
		}
		if *in.Limit > defaultListLimit {
			c.fail(in.Limit, "limit", "Member must have value less than or equal to 100")
		}
	}
	if in.ExclusiveStartTableName != nil {
		c.tableName("exclusiveStartTableName", in.ExclusiveStartTableName)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	tables, err := s.db.Tables()
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	limit := defaultListLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	out := listTablesOutput{TableNames: []string{}}
	for _, t := range tables {
		if in.ExclusiveStartTableName != nil && t.Name <= *in.ExclusiveStartTableName {
			continue
		}
		if len(out.TableNames) == limit {
			out.LastEvaluatedTableName = out.TableNames[limit-1]
			break
		}
		out.TableNames = append(out.TableNames, t.Name)
	}
	return out, nil
}

// ---------------------------------------------------------------------------
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
	return tableDescriptionOutput{d}, nil
}

// startBackfill fills a new global secondary index with the table's items:
// through the region's hook if it has one, or in a goroutine of the server.
func (s *Server) startBackfill(table, index string) {
	if s.cfg.Hooks.IndexAdded != nil {
		s.cfg.Hooks.IndexAdded(table, index)
		return
	}
	s.goBackground(func(ctx context.Context) {
		err := s.db.BackfillIndex(ctx, table, index)
		switch {
		case err == nil, ctx.Err() != nil, errors.Is(err, store.ErrClosed),
			// The table or index was dropped meanwhile: nothing to build.
			errors.Is(err, store.ErrTableNotFound), errors.Is(err, store.ErrIndexNotFound):
		default:
			s.log.Error("index backfill failed", "table", table, "index", index, "error", err)
		}
	})
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
		enabled := t.Extra[extraStreamViewType] != ""
		switch {
		case *spec.StreamEnabled && enabled:
			return Validation("Table already has an enabled stream: TableName: %s", t.Name)
		case !*spec.StreamEnabled && !enabled:
			return Validation("Table has no stream to disable: TableName: %s", t.Name)
		case *spec.StreamEnabled:
			t.Extra[extraStreamViewType] = *spec.StreamViewType
			t.Extra[extraStreamLabel] = streamLabel(now)
		default:
			delete(t.Extra, extraStreamViewType)
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

// ---------------------------------------------------------------------------
// DeleteTable.

// deleteTable implements DeleteTable. The response describes the table as
// DELETING; the table is gone (DescribeTable answers
// ResourceNotFoundException, and its name can be reused) by the time the
// call returns, because the store removes the metadata and purges the rows
// before returning.
func (s *Server) deleteTable(ctx context.Context, body []byte) (any, error) {
	var in tableNameInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	name := *in.TableName
	// Marking the table DELETING first makes the protection and index
	// checks atomic with respect to other metadata changes, and stops item
	// operations (which treat DELETING tables as missing) right away. A
	// table left DELETING by a failed delete can be deleted again.
	marked, err := s.updateControlTable(name, func(t *store.Table) error {
		if t.Extra[extraDeletionProtection] == "true" {
			return Validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		if t.Status == store.StatusCreating {
			return ResourceInUse("Attempt to change a resource which is still in use: Table is being created: %s", name)
		}
		for _, ix := range t.GSIs {
			if ix.Status != store.StatusActive && ix.Status != "" {
				return ResourceInUse("Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.")
			}
		}
		t.Status = store.StatusDeleting
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := s.tableDescription(marked)
	if isGlobal(marked) {
		// Deleting a replica of a global table removes this region from
		// the table's replicas; the other regions keep theirs.
		if err := s.removeSelf(name); err != nil {
			return nil, err
		}
		return tableDescriptionOutput{d}, nil
	}
	if err := s.db.DeleteTable(name); err != nil {
		if errors.Is(err, store.ErrTableNotFound) {
			return nil, tableNotFound(name)
		}
		return nil, fmt.Errorf("delete table %s: %w", name, err)
	}
	return tableDescriptionOutput{d}, nil
}

// ---------------------------------------------------------------------------
// DescribeEndpoints, DescribeLimits and the legacy global tables API.

type endpoint struct {
	Address              string `json:"Address"`
	CachePeriodInMinutes int64  `json:"CachePeriodInMinutes"`
}

type describeEndpointsOutput struct {
	Endpoints []endpoint `json:"Endpoints"`
}

// describeEndpoints implements DescribeEndpoints, which SDKs with endpoint
// discovery call. The address is the one the request came in on (host and
// port), so that a client that follows it reaches this server again; without
// one it is DynamoDB's regional host name.
func (s *Server) describeEndpoints(ctx context.Context, body []byte) (any, error) {
	addr := "dynamodb." + s.cfg.Region + ".amazonaws.com"
	// The fasthttp front end's context is the request itself; net/http's
	// carries the address as a value.
	if rc, ok := ctx.(interface{ LocalAddr() net.Addr }); ok && rc.LocalAddr() != nil {
		addr = rc.LocalAddr().String()
	} else if a, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr); ok && a != nil {
		addr = a.String()
	}
	return describeEndpointsOutput{Endpoints: []endpoint{{Address: addr, CachePeriodInMinutes: endpointCacheMinute}}}, nil
}

type describeLimitsOutput struct {
	AccountMaxReadCapacityUnits  int64 `json:"AccountMaxReadCapacityUnits"`
	AccountMaxWriteCapacityUnits int64 `json:"AccountMaxWriteCapacityUnits"`
	TableMaxReadCapacityUnits    int64 `json:"TableMaxReadCapacityUnits"`
	TableMaxWriteCapacityUnits   int64 `json:"TableMaxWriteCapacityUnits"`
}

// describeLimits reports DynamoDB's default capacity quotas. Nothing here
// enforces them; tools that size tables by them get the familiar numbers.
func (s *Server) describeLimits(ctx context.Context, body []byte) (any, error) {
	return describeLimitsOutput{
		AccountMaxReadCapacityUnits:  accountMaxCapacityUnits,
		AccountMaxWriteCapacityUnits: accountMaxCapacityUnits,
		TableMaxReadCapacityUnits:    tableMaxCapacityUnits,
		TableMaxWriteCapacityUnits:   tableMaxCapacityUnits,
	}, nil
}

// legacyGlobalTablesMessage explains why the 2017 global tables API is
// refused, and what to use instead.
const legacyGlobalTablesMessage = invalidParams + "DynamoDB global tables version 2017.11.29 is not supported. " +
	"globaltables implements global tables version 2019.11.21: add or remove replicas with UpdateTable ReplicaUpdates, " +
	"and see them in DescribeTable's Replicas."

// describeGlobalTableUnsupported answers the legacy (version 2017.11.29)
// global tables API, which DynamoDB itself now refuses for new tables.
func (s *Server) describeGlobalTableUnsupported(ctx context.Context, body []byte) (any, error) {
	return nil, Validation(legacyGlobalTablesMessage)
}

package api

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

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

// maxKeyNameLen is the length limit of the names of key attributes (of the
// table and its indexes) and of projected attributes; other attribute
// names may be up to 64 KB (maxAttrNameBytes).
const maxKeyNameLen = 255

// checkKeyNameLength checks a key attribute name's length.
func checkKeyNameLength(c *checker, path string, name *string) {
	if name == nil {
		return
	}
	switch l := utf8.RuneCountInString(*name); {
	case l < 1:
		c.fail(*name, path, "Member must have length greater than or equal to 1")
	case l > maxKeyNameLen:
		c.fail(*name, path, "Member must have length less than or equal to 255")
	}
}

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
		checkKeyNameLength(c, p+".attributeName", d.AttributeName)
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
		checkKeyNameLength(c, p+".attributeName", k.AttributeName)
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
		for _, n := range p.NonKeyAttributes {
			if l := utf8.RuneCountInString(n); l < 1 || l > maxKeyNameLen {
				c.fail(p.NonKeyAttributes, path+".nonKeyAttributes", "Member must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 1]")
				break
			}
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

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/store"
)

// ---------------------------------------------------------------------------
// Helpers of the table operation tests.

// ppHashTable is the input for a PAY_PER_REQUEST table keyed by the string pk.
func ppHashTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
}

// provisionedTable is the input for a PROVISIONED (5/5) table keyed by the
// string pk and the number sk, with a GSI gs1 (5/5) on the string gh.
func provisionedTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("gh"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		ProvisionedThroughput: throughput(5, 5),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:             aws.String("gs1"),
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("gh"), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: throughput(5, 5),
		}},
	}
}

func throughput(read, write int64) *types.ProvisionedThroughput {
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(read), WriteCapacityUnits: aws.Int64(write)}
}

func mustCreateTable(t *testing.T, r *testRegion, in *dynamodb.CreateTableInput) *types.TableDescription {
	t.Helper()
	out, err := r.Client.CreateTable(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateTable %s: %v", aws.ToString(in.TableName), err)
	}
	return out.TableDescription
}

func mustDescribeTable(t *testing.T, r *testRegion, name string) *types.TableDescription {
	t.Helper()
	out, err := r.Client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTable %s: %v", name, err)
	}
	return out.Table
}

func mustUpdateTable(t *testing.T, r *testRegion, in *dynamodb.UpdateTableInput) *types.TableDescription {
	t.Helper()
	out, err := r.Client.UpdateTable(t.Context(), in)
	if err != nil {
		t.Fatalf("UpdateTable %s: %v", aws.ToString(in.TableName), err)
	}
	return out.TableDescription
}

func findGSI(d *types.TableDescription, name string) *types.GlobalSecondaryIndexDescription {
	for i := range d.GlobalSecondaryIndexes {
		if aws.ToString(d.GlobalSecondaryIndexes[i].IndexName) == name {
			return &d.GlobalSecondaryIndexes[i]
		}
	}
	return nil
}

// rawCall posts a JSON body for an operation without the SDK, for requests
// the SDK refuses to send (missing required members). It returns the error
// code (the part of __type after '#') and message, or "" for a success.
func rawCall(t *testing.T, r *testRegion, op, body string) (code, msg string) {
	t.Helper()
	resp, b := rawRequest(t, http.MethodPost, r.URL, jsonHeaders(op, "application/x-amz-json-1.0"), strings.NewReader(body))
	if resp.StatusCode == http.StatusOK {
		return "", ""
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(b), &e); err != nil {
		t.Fatalf("decode error body %q: %v", b, err)
	}
	return e.Type[strings.LastIndexByte(e.Type, '#')+1:], e.Message
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

const arnPrefix = "arn:aws:dynamodb:us-east-1:000000000000:table/"

// ---------------------------------------------------------------------------
// CreateTable and DescribeTable.

func TestCreateTable_DescribesEverythingRequested(t *testing.T) {
	r := startRegion(t)
	before := time.Now()
	in := provisionedTable("full")
	in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("ls"), AttributeType: types.ScalarAttributeTypeB})
	in.LocalSecondaryIndexes = []types.LocalSecondaryIndex{{
		IndexName: aws.String("ls1"),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("ls"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"z", "a"}},
	}}
	in.GlobalSecondaryIndexes[0].Projection = &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
	in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
	in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")}
	in.TableClass = types.TableClassStandardInfrequentAccess
	in.DeletionProtectionEnabled = aws.Bool(true)

	created := mustCreateTable(t, r, in)
	described := mustDescribeTable(t, r, "full")

	for _, d := range []*types.TableDescription{created, described} {
		if got := d.TableStatus; got != types.TableStatusActive {
			t.Errorf("TableStatus = %s, want ACTIVE", got)
		}
		if got := aws.ToString(d.TableArn); got != arnPrefix+"full" {
			t.Errorf("TableArn = %s", got)
		}
		if !uuidPattern.MatchString(aws.ToString(d.TableId)) {
			t.Errorf("TableId = %q, want a UUID", aws.ToString(d.TableId))
		}
		if d.CreationDateTime == nil || d.CreationDateTime.Before(before.Add(-time.Second)) || d.CreationDateTime.After(time.Now().Add(time.Second)) {
			t.Errorf("CreationDateTime = %v, want about now", d.CreationDateTime)
		}
		var defs []string
		for _, ad := range d.AttributeDefinitions {
			defs = append(defs, aws.ToString(ad.AttributeName)+":"+string(ad.AttributeType))
		}
		if want := []string{"gh:S", "ls:B", "pk:S", "sk:N"}; !slices.Equal(defs, want) {
			t.Errorf("AttributeDefinitions = %v, want %v (sorted by name)", defs, want)
		}
		if len(d.KeySchema) != 2 || aws.ToString(d.KeySchema[0].AttributeName) != "pk" || d.KeySchema[0].KeyType != types.KeyTypeHash ||
			aws.ToString(d.KeySchema[1].AttributeName) != "sk" || d.KeySchema[1].KeyType != types.KeyTypeRange {
			t.Errorf("KeySchema = %+v", d.KeySchema)
		}
		pt := d.ProvisionedThroughput
		if aws.ToInt64(pt.ReadCapacityUnits) != 5 || aws.ToInt64(pt.WriteCapacityUnits) != 5 || pt.NumberOfDecreasesToday == nil || *pt.NumberOfDecreasesToday != 0 {
			t.Errorf("ProvisionedThroughput = %+v", pt)
		}
		if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModeProvisioned {
			t.Errorf("BillingModeSummary = %+v", d.BillingModeSummary)
		}
		if aws.ToInt64(d.ItemCount) != 0 || aws.ToInt64(d.TableSizeBytes) != 0 {
			t.Errorf("ItemCount, TableSizeBytes = %d, %d, want 0, 0", aws.ToInt64(d.ItemCount), aws.ToInt64(d.TableSizeBytes))
		}
		g := findGSI(d, "gs1")
		if g == nil {
			t.Fatalf("no GSI gs1 in %+v", d.GlobalSecondaryIndexes)
		}
		if g.IndexStatus != types.IndexStatusActive || g.Backfilling != nil || aws.ToString(g.IndexArn) != arnPrefix+"full/index/gs1" ||
			g.Projection.ProjectionType != types.ProjectionTypeKeysOnly || aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits) != 5 {
			t.Errorf("GSI gs1 = %+v", g)
		}
		if len(d.LocalSecondaryIndexes) != 1 {
			t.Fatalf("LocalSecondaryIndexes = %+v", d.LocalSecondaryIndexes)
		}
		l := d.LocalSecondaryIndexes[0]
		if aws.ToString(l.IndexName) != "ls1" || aws.ToString(l.IndexArn) != arnPrefix+"full/index/ls1" ||
			l.Projection.ProjectionType != types.ProjectionTypeInclude || !slices.Equal(l.Projection.NonKeyAttributes, []string{"a", "z"}) {
			t.Errorf("LSI ls1 = %+v, projection %+v", l, l.Projection)
		}
		if s := d.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages {
			t.Errorf("StreamSpecification = %+v", s)
		}
		if label := aws.ToString(d.LatestStreamLabel); label == "" || aws.ToString(d.LatestStreamArn) != arnPrefix+"full/stream/"+label {
			t.Errorf("LatestStreamLabel = %q, LatestStreamArn = %q", label, aws.ToString(d.LatestStreamArn))
		}
		if s := d.SSEDescription; s == nil || s.Status != types.SSEStatusEnabled || s.SSEType != types.SSETypeKms ||
			aws.ToString(s.KMSMasterKeyArn) != "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab" {
			t.Errorf("SSEDescription = %+v", s)
		}
		if c := d.TableClassSummary; c == nil || c.TableClass != types.TableClassStandardInfrequentAccess {
			t.Errorf("TableClassSummary = %+v", c)
		}
		if !aws.ToBool(d.DeletionProtectionEnabled) {
			t.Error("DeletionProtectionEnabled = false, want true")
		}
	}
	if aws.ToString(created.TableId) != aws.ToString(described.TableId) {
		t.Errorf("TableId changed from %s to %s", aws.ToString(created.TableId), aws.ToString(described.TableId))
	}
}

func TestCreateTable_PayPerRequestReportsZeroThroughput(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("ppr"))
	d := mustDescribeTable(t, r, "ppr")
	if aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) != 0 || aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits) != 0 {
		t.Errorf("ProvisionedThroughput = %+v, want 0/0", d.ProvisionedThroughput)
	}
	b := d.BillingModeSummary
	if b == nil || b.BillingMode != types.BillingModePayPerRequest || b.LastUpdateToPayPerRequestDateTime == nil {
		t.Errorf("BillingModeSummary = %+v, want PAY_PER_REQUEST with a date", b)
	}
	if d.StreamSpecification != nil || d.SSEDescription != nil || d.TableClassSummary != nil || aws.ToBool(d.DeletionProtectionEnabled) {
		t.Errorf("unrequested settings described: stream %+v, SSE %+v, class %+v", d.StreamSpecification, d.SSEDescription, d.TableClassSummary)
	}
}

func TestCreateTable_SatisfiesTheSDKWaiters(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("waited"))
	exists := dynamodb.NewTableExistsWaiter(r.Client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := exists.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("waited")}, 5*time.Second); err != nil {
		t.Fatalf("TableExistsWaiter: %v", err)
	}
	if _, err := r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("waited")}); err != nil {
		t.Fatal(err)
	}
	gone := dynamodb.NewTableNotExistsWaiter(r.Client, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := gone.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("waited")}, 5*time.Second); err != nil {
		t.Fatalf("TableNotExistsWaiter: %v", err)
	}
}

func TestCreateTable_ExistingNameIsResourceInUse(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("twice"))
	_, err := r.Client.CreateTable(t.Context(), ppHashTable("twice"))
	wantAPIError(t, err, "ResourceInUseException", "Table already exists: twice")
}

func TestCreateTable_ValidationErrors(t *testing.T) {
	r := startRegion(t)
	gsi := func(name string, keys ...string) types.GlobalSecondaryIndex {
		g := types.GlobalSecondaryIndex{IndexName: aws.String(name), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}
		for i, k := range keys {
			kt := types.KeyTypeHash
			if i == 1 {
				kt = types.KeyTypeRange
			}
			g.KeySchema = append(g.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k), KeyType: kt})
		}
		return g
	}
	lsi := func(name string, keys ...string) types.LocalSecondaryIndex {
		g := gsi(name, keys...)
		return types.LocalSecondaryIndex{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection}
	}
	def := func(name string, typ types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ}
	}
	// withRange is a PAY_PER_REQUEST table keyed by pk and sk, with extra
	// attribute definitions.
	withRange := func(extra ...types.AttributeDefinition) *dynamodb.CreateTableInput {
		in := ppHashTable("tbl")
		in.AttributeDefinitions = append(in.AttributeDefinitions, def("sk", types.ScalarAttributeTypeS))
		in.AttributeDefinitions = append(in.AttributeDefinitions, extra...)
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
		return in
	}

	tests := []struct {
		name   string
		modify func(in *dynamodb.CreateTableInput)
		code   string
		msg    string
	}{
		{"bad table name", func(in *dynamodb.CreateTableInput) { in.TableName = aws.String("a;") }, "ValidationException",
			"2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"set type as key type", func(in *dynamodb.CreateTableInput) { in.AttributeDefinitions[0].AttributeType = "SS" }, "ValidationException",
			"1 validation error detected: Value 'SS' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"},
		{"capacity below 1", func(in *dynamodb.CreateTableInput) {
			in.BillingMode = ""
			in.ProvisionedThroughput = throughput(0, -1)
		}, "ValidationException",
			"2 validation errors detected: Value '-1' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"bad key type", func(in *dynamodb.CreateTableInput) { in.KeySchema[0].KeyType = "PRIMARY" }, "ValidationException",
			"1 validation error detected: Value 'PRIMARY' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"},
		{"empty key schema", func(in *dynamodb.CreateTableInput) { in.KeySchema = []types.KeySchemaElement{} }, "ValidationException",
			"1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"short index name", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("ab", "pk")}
		}, "ValidationException",
			"1 validation error detected: Value 'ab' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"throughput with pay per request", func(in *dynamodb.CreateTableInput) { in.ProvisionedThroughput = throughput(1, 1) }, "ValidationException",
			"One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
		{"provisioned without throughput", func(in *dynamodb.CreateTableInput) { in.BillingMode = types.BillingModeProvisioned }, "ValidationException",
			"One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
		{"no billing mode and no throughput", func(in *dynamodb.CreateTableInput) { in.BillingMode = "" }, "ValidationException",
			"One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
		{"capacity out of bounds", func(in *dynamodb.CreateTableInput) {
			in.BillingMode = ""
			in.ProvisionedThroughput = throughput(1000000000001, 1)
		}, "ValidationException", "Given value 1000000000001 for ReadCapacityUnits is out of bounds"},
		{"duplicate attribute definition", func(in *dynamodb.CreateTableInput) {
			in.AttributeDefinitions = append(in.AttributeDefinitions, def("pk", types.ScalarAttributeTypeN))
		}, "ValidationException", "Attribute Name is duplicated: pk"},
		{"more keys than definitions", func(in *dynamodb.CreateTableInput) {
			in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
		}, "ValidationException", "Invalid KeySchema: Some index key attribute have no definition"},
		{"key not defined", func(in *dynamodb.CreateTableInput) { in.AttributeDefinitions[0].AttributeName = aws.String("other") }, "ValidationException",
			"One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]"},
		{"hash and range the same", func(in *dynamodb.CreateTableInput) {
			in.AttributeDefinitions = append(in.AttributeDefinitions, def("sk", types.ScalarAttributeTypeS))
			in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("pk"), KeyType: types.KeyTypeRange})
		}, "ValidationException", "Both the Hash Key and the Range Key element in the KeySchema have the same name"},
		{"first key not hash", func(in *dynamodb.CreateTableInput) { in.KeySchema[0].KeyType = types.KeyTypeRange }, "ValidationException",
			"Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
		{"second key not range", func(in *dynamodb.CreateTableInput) {
			in.AttributeDefinitions = append(in.AttributeDefinitions, def("sk", types.ScalarAttributeTypeS))
			in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeHash})
		}, "ValidationException", "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"},
		{"extra definition without indexes", func(in *dynamodb.CreateTableInput) {
			in.AttributeDefinitions = append(in.AttributeDefinitions, def("x", types.ScalarAttributeTypeS))
		}, "ValidationException",
			"One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
		{"unused definition with indexes", func(in *dynamodb.CreateTableInput) {
			in.AttributeDefinitions = append(in.AttributeDefinitions, def("x", types.ScalarAttributeTypeS), def("gh", types.ScalarAttributeTypeS))
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("gs1", "gh")}
		}, "ValidationException",
			"One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [gh, pk, x], keys used: [gh, pk]"},
		{"empty GSI list", func(in *dynamodb.CreateTableInput) { in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{} }, "ValidationException",
			"One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty"},
		{"GSI key not defined", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("gs1", "pk", "nope")}
		}, "ValidationException",
			"One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, nope], AttributeDefinitions: [pk]"},
		{"GSI first key not hash", func(in *dynamodb.CreateTableInput) {
			g := gsi("gs1", "pk")
			g.KeySchema[0].KeyType = types.KeyTypeRange
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{g}
		}, "ValidationException", "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
		{"projection type missing", func(in *dynamodb.CreateTableInput) {
			g := gsi("gs1", "pk")
			g.Projection = &types.Projection{}
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{g}
		}, "ValidationException", "One or more parameter values were invalid: Unknown ProjectionType: null"},
		{"non-key attributes with ALL", func(in *dynamodb.CreateTableInput) {
			g := gsi("gs1", "pk")
			g.Projection.NonKeyAttributes = []string{"a"}
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{g}
		}, "ValidationException", "One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified"},
		{"INCLUDE without non-key attributes", func(in *dynamodb.CreateTableInput) {
			g := gsi("gs1", "pk")
			g.Projection.ProjectionType = types.ProjectionTypeInclude
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{g}
		}, "ValidationException", "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified"},
		{"duplicate non-key attribute", func(in *dynamodb.CreateTableInput) {
			g := gsi("gs1", "pk")
			g.Projection = &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"a", "a"}}
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{g}
		}, "ValidationException", "One or more parameter values were invalid: Duplicate element in NonKeyAttributes: a"},
		{"21 non-key attributes in one index", func(in *dynamodb.CreateTableInput) {
			g := gsi("gs1", "pk")
			g.Projection = &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: make([]string, 21)}
			for i := range g.Projection.NonKeyAttributes {
				g.Projection.NonKeyAttributes[i] = fmt.Sprint("a", i)
			}
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{g}
		}, "ValidationException",
			"1 validation error detected: Value '[a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20]' at " +
				"'globalSecondaryIndexes.1.member.projection.nonKeyAttributes' failed to satisfy constraint: Member must have length less than or equal to 20"},
		{"101 non-key attributes in all indexes", func(in *dynamodb.CreateTableInput) {
			for i := range 6 {
				g := gsi(fmt.Sprint("gsi", i), "pk")
				g.Projection = &types.Projection{ProjectionType: types.ProjectionTypeInclude}
				for j := range 17 {
					g.Projection.NonKeyAttributes = append(g.Projection.NonKeyAttributes, fmt.Sprint("a", j))
				}
				in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g)
			}
		}, "ValidationException", "One or more parameter values were invalid: Number of projected attributes in all indexes exceeds limit of 100"},
		{"GSI throughput with pay per request", func(in *dynamodb.CreateTableInput) {
			g := gsi("gs1", "pk")
			g.ProvisionedThroughput = throughput(1, 1)
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{g}
		}, "ValidationException",
			"One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: gs1 when BillingMode is PAY_PER_REQUEST"},
		{"GSI without throughput when provisioned", func(in *dynamodb.CreateTableInput) {
			in.BillingMode = ""
			in.ProvisionedThroughput = throughput(1, 1)
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("gs1", "pk")}
		}, "ValidationException", "One or more parameter values were invalid: ProvisionedThroughput is not specified for index: gs1"},
		{"duplicate index name", func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi("gs1", "pk"), gsi("gs1", "pk")}
		}, "ValidationException", "One or more parameter values were invalid: Duplicate index name: gs1"},
		{"21 GSIs", func(in *dynamodb.CreateTableInput) {
			for i := range 21 {
				in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi(fmt.Sprint("gsi", i), "pk"))
			}
		}, "ValidationException", "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20"},
		{"LSI without table range key", func(in *dynamodb.CreateTableInput) {
			in.LocalSecondaryIndexes = []types.LocalSecondaryIndex{lsi("ls1", "pk", "pk")}
		}, "ValidationException",
			"One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"},
		{"LSI with another hash key", func(in *dynamodb.CreateTableInput) {
			*in = *withRange(def("x", types.ScalarAttributeTypeS))
			in.LocalSecondaryIndexes = []types.LocalSecondaryIndex{lsi("ls1", "x", "sk")}
		}, "ValidationException",
			"One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: ls1. index hash key: x, table hash key: pk"},
		{"LSI without range key", func(in *dynamodb.CreateTableInput) {
			*in = *withRange()
			in.LocalSecondaryIndexes = []types.LocalSecondaryIndex{lsi("ls1", "pk")}
		}, "ValidationException", "One or more parameter values were invalid: Index KeySchema does not have a range key for index: ls1"},
		{"6 LSIs", func(in *dynamodb.CreateTableInput) {
			*in = *withRange(def("x", types.ScalarAttributeTypeS))
			for i := range 6 {
				in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, lsi(fmt.Sprint("lsi", i), "pk", "x"))
			}
		}, "ValidationException", "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5"},
		{"stream enabled without view type", func(in *dynamodb.CreateTableInput) {
			in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true)}
		}, "ValidationException",
			"One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required"},
		{"stream disabled with view type", func(in *dynamodb.CreateTableInput) {
			in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(false), StreamViewType: types.StreamViewTypeKeysOnly}
		}, "ValidationException",
			"One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified"},
		{"bad stream view type", func(in *dynamodb.CreateTableInput) {
			in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: "ALL"}
		}, "ValidationException",
			"1 validation error detected: Value 'ALL' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"},
		{"SSE type when disabled", func(in *dynamodb.CreateTableInput) {
			in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(false), SSEType: types.SSETypeKms}
		}, "ValidationException", "One or more parameter values were invalid: SSEType can not be specified if Enabled is false"},
		{"SSE AES256", func(in *dynamodb.CreateTableInput) {
			in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeAes256}
		}, "ValidationException", "One or more parameter values were invalid: SSEType AES256 is not supported"},
		{"bad table class", func(in *dynamodb.CreateTableInput) { in.TableClass = "GLACIER" }, "ValidationException",
			"Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS]."},
		{"reserved tag key", func(in *dynamodb.CreateTableInput) {
			in.Tags = []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("me")}}
		}, "ValidationException", "Tag Key cannot be prefixed with aws:, Key: aws:owner"},
		{"51 tags", func(in *dynamodb.CreateTableInput) {
			for i := range 51 {
				in.Tags = append(in.Tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
			}
		}, "ValidationException", "Number of Tags exceed the current limit for the provided ResourceArn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ppHashTable("tbl")
			tc.modify(in)
			_, err := r.Client.CreateTable(t.Context(), in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	out, err := r.Client.ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TableNames) != 0 {
		t.Errorf("rejected requests created tables %v", out.TableNames)
	}
}

func TestCreateTable_MissingMembersAreConstraintErrors(t *testing.T) {
	r := startRegion(t)
	tests := []struct {
		name, body, msg string
	}{
		{"no name, definitions or keys", `{"BillingMode":"PAY_PER_REQUEST"}`,
			"3 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'tableName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'keySchema' failed to satisfy constraint: Member must not be null"},
		{"empty throughput", `{"TableName":"abc","AttributeDefinitions":[],"KeySchema":[{"AttributeName":"a"}],"ProvisionedThroughput":{}}`,
			"3 validation errors detected: Value null at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must not be null"},
		{"empty index", `{"TableName":"abc","AttributeDefinitions":[],"KeySchema":[],"LocalSecondaryIndexes":[{}]}`,
			"4 validation errors detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value null at 'localSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'localSecondaryIndexes.1.member.keySchema' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'localSecondaryIndexes.1.member.projection' failed to satisfy constraint: Member must not be null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := rawCall(t, r, "CreateTable", tc.body)
			if code != "ValidationException" || msg != tc.msg {
				t.Errorf("got %s %q\nwant ValidationException %q", code, msg, tc.msg)
			}
		})
	}
}

func TestDescribeTable_Errors(t *testing.T) {
	r := startRegion(t)
	tests := []struct {
		name, table, code, msg string
	}{
		{"missing table", "nope", "ResourceNotFoundException", "Requested resource not found: Table: nope not found"},
		{"short name", "ab", "ValidationException",
			"1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(tc.table)})
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	t.Run("no name", func(t *testing.T) {
		code, msg := rawCall(t, r, "DescribeTable", `{}`)
		want := "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
		if code != "ValidationException" || msg != want {
			t.Errorf("got %s %q, want ValidationException %q", code, msg, want)
		}
	})
}

func TestDescribeTable_CountsItems(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("counted"))
	for i := range 3 {
		_, err := r.Client.PutItem(t.Context(), &dynamodb.PutItemInput{
			TableName: aws.String("counted"),
			Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}},
		})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	d := mustDescribeTable(t, r, "counted")
	if aws.ToInt64(d.ItemCount) != 3 || aws.ToInt64(d.TableSizeBytes) <= 0 {
		t.Errorf("ItemCount, TableSizeBytes = %d, %d, want 3, > 0", aws.ToInt64(d.ItemCount), aws.ToInt64(d.TableSizeBytes))
	}
}

// ---------------------------------------------------------------------------
// ListTables.

func TestListTables_PagesInNameOrder(t *testing.T) {
	r := startRegion(t)
	names := []string{"eee", "aaa", "ddd", "bbb", "ccc"}
	for _, n := range names {
		mustCreateTable(t, r, ppHashTable(n))
	}
	tests := []struct {
		name     string
		in       dynamodb.ListTablesInput
		want     []string
		wantLast string
	}{
		{"all", dynamodb.ListTablesInput{}, []string{"aaa", "bbb", "ccc", "ddd", "eee"}, ""},
		{"first page", dynamodb.ListTablesInput{Limit: aws.Int32(2)}, []string{"aaa", "bbb"}, "bbb"},
		{"middle page", dynamodb.ListTablesInput{Limit: aws.Int32(2), ExclusiveStartTableName: aws.String("bbb")}, []string{"ccc", "ddd"}, "ddd"},
		{"last page, exactly full", dynamodb.ListTablesInput{Limit: aws.Int32(2), ExclusiveStartTableName: aws.String("ccc")}, []string{"ddd", "eee"}, ""},
		{"start between names", dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("cab")}, []string{"ccc", "ddd", "eee"}, ""},
		{"start after all", dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("zzz")}, []string{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := r.Client.ListTables(t.Context(), &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.TableNames, tc.want) || aws.ToString(out.LastEvaluatedTableName) != tc.wantLast {
				t.Errorf("got %v, last %q; want %v, last %q", out.TableNames, aws.ToString(out.LastEvaluatedTableName), tc.want, tc.wantLast)
			}
		})
	}
	t.Run("SDK paginator", func(t *testing.T) {
		var all []string
		p := dynamodb.NewListTablesPaginator(r.Client, &dynamodb.ListTablesInput{Limit: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.TableNames...)
		}
		if want := []string{"aaa", "bbb", "ccc", "ddd", "eee"}; !slices.Equal(all, want) {
			t.Errorf("paginated %v, want %v", all, want)
		}
	})
}

func TestListTables_ValidationErrors(t *testing.T) {
	r := startRegion(t)
	tests := []struct {
		name string
		in   dynamodb.ListTablesInput
		msg  string
	}{
		{"limit 0", dynamodb.ListTablesInput{Limit: aws.Int32(0)},
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"limit 101", dynamodb.ListTablesInput{Limit: aws.Int32(101)},
			"1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"bad start name", dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("a/")},
			"2 validation errors detected: Value 'a/' at 'exclusiveStartTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value 'a/' at 'exclusiveStartTableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Client.ListTables(t.Context(), &tc.in)
			wantAPIError(t, err, "ValidationException", tc.msg)
		})
	}
}

// ---------------------------------------------------------------------------
// UpdateTable.

func TestUpdateTable_ChangesThroughputAndBillingMode(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, provisionedTable("bill"))

	d := mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("bill"), ProvisionedThroughput: throughput(10, 2)})
	if aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) != 10 || aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits) != 2 {
		t.Errorf("after update ProvisionedThroughput = %+v, want 10/2", d.ProvisionedThroughput)
	}
	d = mustDescribeTable(t, r, "bill")
	pt := d.ProvisionedThroughput
	if aws.ToInt64(pt.ReadCapacityUnits) != 10 || aws.ToInt64(pt.WriteCapacityUnits) != 2 || pt.LastIncreaseDateTime == nil || pt.LastDecreaseDateTime == nil {
		t.Errorf("described ProvisionedThroughput = %+v, want 10/2 with increase and decrease dates", pt)
	}

	d = mustUpdateTable(t, r, &dynamodb.UpdateTableInput{
		TableName:                   aws.String("bill"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1"), ProvisionedThroughput: throughput(7, 8)}}},
	})
	if g := findGSI(d, "gs1"); aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits) != 7 || aws.ToInt64(g.ProvisionedThroughput.WriteCapacityUnits) != 8 {
		t.Errorf("gs1 throughput = %+v, want 7/8", g.ProvisionedThroughput)
	}

	mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("bill"), BillingMode: types.BillingModePayPerRequest})
	d = mustDescribeTable(t, r, "bill")
	if d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest || d.BillingModeSummary.LastUpdateToPayPerRequestDateTime == nil ||
		aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) != 0 || aws.ToInt64(findGSI(d, "gs1").ProvisionedThroughput.ReadCapacityUnits) != 0 {
		t.Errorf("after switch to PAY_PER_REQUEST: billing %+v, table %+v, gs1 %+v",
			d.BillingModeSummary, d.ProvisionedThroughput, findGSI(d, "gs1").ProvisionedThroughput)
	}

	_, err := r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{
		TableName: aws.String("bill"), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: throughput(3, 3),
	})
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: gs1")

	d = mustUpdateTable(t, r, &dynamodb.UpdateTableInput{
		TableName: aws.String("bill"), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: throughput(3, 3),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1"), ProvisionedThroughput: throughput(4, 4)}}},
	})
	if d.BillingModeSummary.BillingMode != types.BillingModeProvisioned || aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) != 3 ||
		aws.ToInt64(findGSI(d, "gs1").ProvisionedThroughput.ReadCapacityUnits) != 4 {
		t.Errorf("after switch to PROVISIONED: billing %+v, table %+v, gs1 %+v", d.BillingModeSummary, d.ProvisionedThroughput, findGSI(d, "gs1").ProvisionedThroughput)
	}
}

func TestUpdateTable_ValidationErrors(t *testing.T) {
	r := startRegion(t)
	prov := provisionedTable("prov")
	prov.AttributeDefinitions = append(prov.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("ls"), AttributeType: types.ScalarAttributeTypeS})
	prov.LocalSecondaryIndexes = []types.LocalSecondaryIndex{{
		IndexName: aws.String("ls1"),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("ls"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	}}
	mustCreateTable(t, r, prov)
	ppr := ppHashTable("ppr")
	ppr.AttributeDefinitions = append(ppr.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("gh"), AttributeType: types.ScalarAttributeTypeS})
	ppr.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
		IndexName:  aws.String("gs1"),
		KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("gh"), KeyType: types.KeyTypeHash}},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	}}
	mustCreateTable(t, r, ppr)

	update := func(idx types.UpdateGlobalSecondaryIndexAction) []types.GlobalSecondaryIndexUpdate {
		return []types.GlobalSecondaryIndexUpdate{{Update: &idx}}
	}
	create := func(name, key string, pt *types.ProvisionedThroughput) types.GlobalSecondaryIndexUpdate {
		return types.GlobalSecondaryIndexUpdate{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:             aws.String(name),
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: pt,
		}}
	}
	newDef := []types.AttributeDefinition{{AttributeName: aws.String("nh"), AttributeType: types.ScalarAttributeTypeN}}
	del := func(name string) types.GlobalSecondaryIndexUpdate {
		return types.GlobalSecondaryIndexUpdate{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String(name)}}
	}

	tests := []struct {
		name string
		in   dynamodb.UpdateTableInput
		code string
		msg  string
	}{
		{"nothing to update", dynamodb.UpdateTableInput{TableName: aws.String("prov")}, "ValidationException",
			"At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, " +
				"MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required"},
		{"missing table", dynamodb.UpdateTableInput{TableName: aws.String("nope"), ProvisionedThroughput: throughput(1, 1)}, "ResourceNotFoundException",
			"Requested resource not found: Table: nope not found"},
		{"capacity below 1", dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: throughput(0, 1)}, "ValidationException",
			"1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"bad billing mode", dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: "FREE"}, "ValidationException",
			"1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"},
		{"same throughput", dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: throughput(5, 5)}, "ValidationException",
			"The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. " +
				"Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested WriteCapacityUnits: 5. " +
				"Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."},
		{"throughput out of bounds", dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: throughput(1, 1000000000001)}, "ValidationException",
			"Given value 1000000000001 for WriteCapacityUnits is out of bounds"},
		{"throughput on pay per request table", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), ProvisionedThroughput: throughput(1, 1)}, "ValidationException",
			"One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
		{"provisioned without throughput", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), BillingMode: types.BillingModeProvisioned}, "ValidationException",
			"One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED"},
		{"deletion protection with another change", dynamodb.UpdateTableInput{TableName: aws.String("prov"), DeletionProtectionEnabled: aws.Bool(true), ProvisionedThroughput: throughput(1, 1)},
			"ValidationException", "One or more parameter values were invalid: DeletionProtection modification must be the only operation in the request"},
		{"table class with another change", dynamodb.UpdateTableInput{TableName: aws.String("prov"), TableClass: types.TableClassStandard, BillingMode: types.BillingModePayPerRequest},
			"ValidationException", "One or more parameter values were invalid: TableClass modification must be the only operation in the request"},
		{"SSE with another change", dynamodb.UpdateTableInput{TableName: aws.String("prov"), SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)}, BillingMode: types.BillingModePayPerRequest},
			"ValidationException", "One or more parameter values were invalid: Server-Side Encryption modification must be the only operation in the request"},
		{"index create with throughput change", dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: throughput(1, 1), AttributeDefinitions: newDef,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{create("gs2", "nh", throughput(1, 1))}},
			"ValidationException", "One or more parameter values were invalid: You cannot create or delete index while updating table IOPS"},
		{"index delete with stream change", dynamodb.UpdateTableInput{TableName: aws.String("prov"),
			StreamSpecification:         &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{del("gs1")}},
			"ValidationException", "One or more parameter values were invalid: You cannot create or delete index while changing stream status"},
		{"stream with throughput change", dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: throughput(1, 1),
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly}},
			"ValidationException", "One or more parameter values were invalid: You cannot modify stream status while updating table IOPS"},
		{"empty index update list", dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: types.BillingModePayPerRequest, GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{}},
			"ValidationException", "One or more parameter values were invalid: List of GlobalSecondaryIndexUpdates is empty"},
		{"index update without action", dynamodb.UpdateTableInput{TableName: aws.String("prov"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{}}},
			"ValidationException", "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null"},
		{"index update with two actions", dynamodb.UpdateTableInput{TableName: aws.String("prov"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{
			Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1"), ProvisionedThroughput: throughput(1, 1)},
			Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("gs1")},
		}}}, "ValidationException", "One or more parameter values were invalid: Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object"},
		{"two updates of one index", dynamodb.UpdateTableInput{TableName: aws.String("prov"), GlobalSecondaryIndexUpdates: append(
			update(types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1"), ProvisionedThroughput: throughput(1, 1)}), del("gs1"))},
			"ValidationException", "One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: gs1"},
		{"short index name", dynamodb.UpdateTableInput{TableName: aws.String("prov"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{del("g")}},
			"ValidationException", "1 validation error detected: Value 'g' at 'globalSecondaryIndexUpdates.1.member.delete.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"update of unknown index", dynamodb.UpdateTableInput{TableName: aws.String("prov"),
			GlobalSecondaryIndexUpdates: update(types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("ghost"), ProvisionedThroughput: throughput(1, 1)})},
			"ResourceNotFoundException", "Requested resource not found: Index ghost for table prov"},
		{"update of a local index", dynamodb.UpdateTableInput{TableName: aws.String("prov"),
			GlobalSecondaryIndexUpdates: update(types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("ls1"), ProvisionedThroughput: throughput(1, 1)})},
			"ValidationException", "Cannot update an index that is not a GlobalSecondaryIndex: ls1"},
		{"index update without throughput", dynamodb.UpdateTableInput{TableName: aws.String("prov"),
			GlobalSecondaryIndexUpdates: update(types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1")})},
			"ValidationException", "One or more parameter values were invalid: Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: gs1"},
		{"same index throughput", dynamodb.UpdateTableInput{TableName: aws.String("prov"),
			GlobalSecondaryIndexUpdates: update(types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1"), ProvisionedThroughput: throughput(5, 5)})},
			"ValidationException", "The provisioned throughput for the index gs1 will not change. The requested value equals the current value. " +
				"Current ReadCapacityUnits provisioned for the index gs1: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the index gs1: 5. " +
				"Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."},
		{"index throughput on pay per request table", dynamodb.UpdateTableInput{TableName: aws.String("ppr"),
			GlobalSecondaryIndexUpdates: update(types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1"), ProvisionedThroughput: throughput(1, 1)})},
			"ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for index: gs1 when BillingMode is PAY_PER_REQUEST"},
		{"empty index update on pay per request table", dynamodb.UpdateTableInput{TableName: aws.String("ppr"),
			GlobalSecondaryIndexUpdates: update(types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String("gs1")})},
			"ValidationException", "One or more parameter values were invalid: The only Updates for index: gs1 when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"},
		{"delete of unknown index", dynamodb.UpdateTableInput{TableName: aws.String("prov"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{del("ghost")}},
			"ResourceNotFoundException", "Requested resource not found: Index ghost for table prov"},
		{"delete of a local index", dynamodb.UpdateTableInput{TableName: aws.String("prov"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{del("ls1")}},
			"ValidationException", "Cannot delete an index that is not a GlobalSecondaryIndex: ls1"},
		{"two index creates", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), AttributeDefinitions: newDef,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{create("gs2", "nh", nil), create("gs3", "nh", nil)}},
			"LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"},
		{"create of existing index", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), AttributeDefinitions: newDef,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{create("gs1", "nh", nil)}},
			"ValidationException", "Attempting to create an index which already exists"},
		{"create without definitions", dynamodb.UpdateTableInput{TableName: aws.String("ppr"),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{create("gs2", "nh", nil)}},
			"ValidationException", "One or more parameter values were invalid: AttributeDefinitions is not specified for index: gs2"},
		{"create with undefined key", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), AttributeDefinitions: newDef,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{create("gs2", "zz", nil)}},
			"ValidationException", "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [zz], AttributeDefinitions: [nh]"},
		{"create with throughput on pay per request table", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), AttributeDefinitions: newDef,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{create("gs2", "nh", throughput(1, 1))}},
			"ValidationException", "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: gs2 when BillingMode is PAY_PER_REQUEST"},
		{"create without throughput on provisioned table", dynamodb.UpdateTableInput{TableName: aws.String("prov"), AttributeDefinitions: newDef,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{create("gs2", "nh", nil)}},
			"ValidationException", "One or more parameter values were invalid: ProvisionedThroughput is not specified for index: gs2"},
		{"create with ALL and non-key attributes", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), AttributeDefinitions: newDef,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName:  aws.String("gs2"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("nh"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll, NonKeyAttributes: []string{"x"}},
			}}}},
			"ValidationException", "One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified"},
		{"disable a missing stream", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}},
			"ValidationException", "Table has no stream to disable: TableName: ppr"},
		{"stream enabled without view type", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true)}},
			"ValidationException", "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required"},
		{"stream disabled with view type", dynamodb.UpdateTableInput{TableName: aws.String("ppr"),
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false), StreamViewType: types.StreamViewTypeNewImage}},
			"ValidationException", "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified"},
		{"disable default encryption", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), SSESpecification: &types.SSESpecification{Enabled: aws.Bool(false)}},
			"ValidationException", "One or more parameter values were invalid: Table is already encrypted by default"},
		{"bad table class", dynamodb.UpdateTableInput{TableName: aws.String("ppr"), TableClass: "COLD"},
			"ValidationException", "Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS]."},
		{"replica updates", dynamodb.UpdateTableInput{TableName: aws.String("ppr"),
			ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}},
			"ValidationException", "ReplicaUpdates requires replication, which this region is not configured for: start it from a topology with several regions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Client.UpdateTable(t.Context(), &tc.in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}

	// None of the rejected requests changed anything.
	for name, want := range map[string][]string{"prov": {"gs1"}, "ppr": {"gs1"}} {
		d := mustDescribeTable(t, r, name)
		var got []string
		for _, g := range d.GlobalSecondaryIndexes {
			got = append(got, aws.ToString(g.IndexName))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s has GSIs %v, want %v", name, got, want)
		}
	}
	if d := mustDescribeTable(t, r, "prov"); aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) != 5 || d.BillingModeSummary.BillingMode != types.BillingModeProvisioned {
		t.Errorf("prov changed: %+v, %+v", d.ProvisionedThroughput, d.BillingModeSummary)
	}
}

func TestUpdateTable_CreatedIndexBackfillsThroughTheHook(t *testing.T) {
	type added struct{ table, index string }
	var mu sync.Mutex
	var calls []added
	r := startRegionWithHooks(t, api.Hooks{IndexAdded: func(table, index string) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, added{table, index})
	}})
	mustCreateTable(t, r, ppHashTable("hooked"))

	d := mustUpdateTable(t, r, &dynamodb.UpdateTableInput{
		TableName:            aws.String("hooked"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("email"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("by-email"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("email"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"name"}},
		}}},
	})
	for _, desc := range []*types.TableDescription{d, mustDescribeTable(t, r, "hooked")} {
		g := findGSI(desc, "by-email")
		if g == nil || g.IndexStatus != types.IndexStatusCreating || !aws.ToBool(g.Backfilling) {
			t.Fatalf("new index = %+v, want CREATING and backfilling", g)
		}
		if desc.TableStatus != types.TableStatusActive {
			t.Errorf("TableStatus = %s, want ACTIVE", desc.TableStatus)
		}
		var defs []string
		for _, ad := range desc.AttributeDefinitions {
			defs = append(defs, aws.ToString(ad.AttributeName))
		}
		if !slices.Equal(defs, []string{"email", "pk"}) {
			t.Errorf("AttributeDefinitions = %v, want [email pk]", defs)
		}
	}
	mu.Lock()
	got := slices.Clone(calls)
	mu.Unlock()
	if want := []added{{"hooked", "by-email"}}; !slices.Equal(got, want) {
		t.Fatalf("IndexAdded calls = %v, want %v", got, want)
	}

	// While the index is being built, another index change and the
	// table's deletion wait.
	_, err := r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{
		TableName:                   aws.String("hooked"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("by-email")}}},
	})
	wantAPIError(t, err, "LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
	_, err = r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("hooked")})
	wantAPIError(t, err, "ResourceInUseException", "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.")

	if err := r.DB.BackfillIndex(t.Context(), "hooked", "by-email"); err != nil {
		t.Fatalf("BackfillIndex: %v", err)
	}
	g := findGSI(mustDescribeTable(t, r, "hooked"), "by-email")
	if g.IndexStatus != types.IndexStatusActive || g.Backfilling != nil {
		t.Errorf("after backfill index = %+v, want ACTIVE, not backfilling", g)
	}
}

// addColorIndex adds the global secondary index by-color (hash key color,
// a string) to a table and waits until it is ACTIVE.
func addColorIndex(t *testing.T, r *testRegion, table string, projection types.ProjectionType) {
	t.Helper()
	mustUpdateTable(t, r, &dynamodb.UpdateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("color"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("by-color"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("color"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: projection},
		}}},
	})
	regiontest.WaitFor(t, 10*time.Second, func() error {
		if g := findGSI(mustDescribeTable(t, r, table), "by-color"); g.IndexStatus != types.IndexStatusActive {
			return fmt.Errorf("index is %s", g.IndexStatus)
		}
		return nil
	})
}

func TestUpdateTable_CreatedIndexBackfillsByItself(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("auto"))
	for i := range 5 {
		_, err := r.Client.PutItem(t.Context(), &dynamodb.PutItemInput{
			TableName: aws.String("auto"),
			Item: map[string]types.AttributeValue{
				"pk":    &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)},
				"color": &types.AttributeValueMemberS{Value: []string{"red", "blue"}[i%2]},
			},
		})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	addColorIndex(t, r, "auto", types.ProjectionTypeKeysOnly)
	out, err := r.Client.Query(t.Context(), &dynamodb.QueryInput{
		TableName:                 aws.String("auto"),
		IndexName:                 aws.String("by-color"),
		KeyConditionExpression:    aws.String("color = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: "red"}},
	})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if out.Count != 3 {
		t.Errorf("Query on the new index found %d items, want 3", out.Count)
	}
}

func TestUpdateTable_DeletedIndexIsGoneAndItsDefinitionsPruned(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, provisionedTable("pruned"))
	d := mustUpdateTable(t, r, &dynamodb.UpdateTableInput{
		TableName:                   aws.String("pruned"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("gs1")}}},
	})
	if g := findGSI(d, "gs1"); g == nil || g.IndexStatus != types.IndexStatusDeleting {
		t.Errorf("response index gs1 = %+v, want DELETING", g)
	}
	d = mustDescribeTable(t, r, "pruned")
	if len(d.GlobalSecondaryIndexes) != 0 {
		t.Errorf("GlobalSecondaryIndexes = %+v, want none", d.GlobalSecondaryIndexes)
	}
	var defs []string
	for _, ad := range d.AttributeDefinitions {
		defs = append(defs, aws.ToString(ad.AttributeName))
	}
	if !slices.Equal(defs, []string{"pk", "sk"}) {
		t.Errorf("AttributeDefinitions = %v, want [pk sk]", defs)
	}
}

func TestUpdateTable_StreamSSEClassAndProtection(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("settings"))

	d := mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("settings"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}})
	if s := d.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewImage ||
		!strings.HasPrefix(aws.ToString(d.LatestStreamArn), arnPrefix+"settings/stream/") {
		t.Errorf("after enabling: stream %+v, arn %s", s, aws.ToString(d.LatestStreamArn))
	}
	_, err := r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String("settings"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly}})
	wantAPIError(t, err, "ValidationException", "Table already has an enabled stream: TableName: settings")
	d = mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("settings"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}})
	if d.StreamSpecification != nil {
		t.Errorf("after disabling StreamSpecification = %+v, want none", d.StreamSpecification)
	}

	d = mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("settings"), SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)}})
	if s := d.SSEDescription; s == nil || aws.ToString(s.KMSMasterKeyArn) != "arn:aws:kms:us-east-1:000000000000:alias/aws/dynamodb" {
		t.Errorf("SSEDescription = %+v, want the AWS-managed key", s)
	}
	_, err = r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String("settings"), SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)}})
	wantAPIError(t, err, "ValidationException",
		"One or more parameter values were invalid: Table is already encrypted with given KMSMasterKeyId. Use KMSMasterKeyId parameter if you want to change Master Key")

	d = mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("settings"), TableClass: types.TableClassStandardInfrequentAccess})
	if c := d.TableClassSummary; c == nil || c.TableClass != types.TableClassStandardInfrequentAccess || c.LastUpdateDateTime == nil {
		t.Errorf("TableClassSummary = %+v", c)
	}

	d = mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("settings"), DeletionProtectionEnabled: aws.Bool(true)})
	if !aws.ToBool(d.DeletionProtectionEnabled) {
		t.Error("DeletionProtectionEnabled = false after enabling")
	}
	_, err = r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("settings")})
	wantAPIError(t, err, "ValidationException", "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	mustDescribeTable(t, r, "settings")
	mustUpdateTable(t, r, &dynamodb.UpdateTableInput{TableName: aws.String("settings"), DeletionProtectionEnabled: aws.Bool(false)})
	if _, err := r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("settings")}); err != nil {
		t.Fatalf("DeleteTable after disabling protection: %v", err)
	}
}

// ---------------------------------------------------------------------------
// DeleteTable.

func TestDeleteTable_RemovesTheTableBeforeReturning(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("doomed"))
	_, err := r.Client.PutItem(t.Context(), &dynamodb.PutItemInput{
		TableName: aws.String("doomed"),
		Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	out, err := r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("doomed")})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TableDescription
	if d.TableStatus != types.TableStatusDeleting || aws.ToString(d.TableName) != "doomed" || aws.ToInt64(d.ItemCount) != 1 {
		t.Errorf("response = status %s, name %s, items %d; want DELETING, doomed, 1", d.TableStatus, aws.ToString(d.TableName), aws.ToInt64(d.ItemCount))
	}
	_, err = r.Client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("doomed")})
	wantAPIError(t, err, "ResourceNotFoundException", "Requested resource not found: Table: doomed not found")
	_, err = r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("doomed")})
	wantAPIError(t, err, "ResourceNotFoundException", "Requested resource not found: Table: doomed not found")

	// The name is free again, and the new table starts empty.
	recreated := mustCreateTable(t, r, ppHashTable("doomed"))
	if aws.ToString(recreated.TableId) == aws.ToString(d.TableId) {
		t.Error("re-created table has the old TableId")
	}
	if got := mustDescribeTable(t, r, "doomed"); aws.ToInt64(got.ItemCount) != 0 {
		t.Errorf("re-created table has %d items", aws.ToInt64(got.ItemCount))
	}
}

func TestDeleteTable_FinishesAnInterruptedDelete(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("half"))
	// A delete that failed after marking the table leaves it DELETING.
	if _, err := r.DB.UpdateTable("half", func(t *store.Table) error {
		t.Status = store.StatusDeleting
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := mustDescribeTable(t, r, "half"); d.TableStatus != types.TableStatusDeleting {
		t.Errorf("TableStatus = %s, want DELETING", d.TableStatus)
	}
	_, err := r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String("half"), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: throughput(1, 1)})
	wantAPIError(t, err, "ResourceInUseException", "Attempt to change a resource which is still in use: Table is being deleted: half")
	if _, err := r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("half")}); err != nil {
		t.Fatalf("DeleteTable of a DELETING table: %v", err)
	}
	_, err = r.Client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("half")})
	wantAPIError(t, err, "ResourceNotFoundException", "Requested resource not found: Table: half not found")
}

func TestDeleteTable_ShortNameIsAConstraintError(t *testing.T) {
	r := startRegion(t)
	_, err := r.Client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("x")})
	wantAPIError(t, err, "ValidationException",
		"1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3")
}

// ---------------------------------------------------------------------------
// Time to live.

func TestTimeToLive_EnableDisableCycle(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("ttl"))
	describe := func() *types.TimeToLiveDescription {
		t.Helper()
		out, err := r.Client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("ttl")})
		if err != nil {
			t.Fatal(err)
		}
		return out.TimeToLiveDescription
	}
	update := func(enabled bool, name string) (*dynamodb.UpdateTimeToLiveOutput, error) {
		return r.Client.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String("ttl"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(enabled), AttributeName: aws.String(name)},
		})
	}
	storeTTL := func() (string, bool) {
		tbl, err := r.DB.Table("ttl")
		if err != nil {
			t.Fatal(err)
		}
		return tbl.TTLAttribute, tbl.TTLEnabled
	}

	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled || d.AttributeName != nil {
		t.Errorf("new table TTL = %s %v, want DISABLED without attribute", d.TimeToLiveStatus, d.AttributeName)
	}
	_, err := update(false, "expires")
	wantAPIError(t, err, "ValidationException", "TimeToLive is already disabled")

	out, err := update(true, "expires")
	if err != nil {
		t.Fatal(err)
	}
	if s := out.TimeToLiveSpecification; !aws.ToBool(s.Enabled) || aws.ToString(s.AttributeName) != "expires" {
		t.Errorf("response = %+v, want enabled on expires", s)
	}
	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expires" {
		t.Errorf("TTL = %s %s, want ENABLED expires", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
	}
	if name, on := storeTTL(); name != "expires" || !on {
		t.Errorf("store TTL = %q %v, want expires true", name, on)
	}

	_, err = update(true, "expires")
	wantAPIError(t, err, "ValidationException", "TimeToLive is already enabled")
	_, err = update(true, "other")
	wantAPIError(t, err, "ValidationException", "TimeToLive is active on a different AttributeName: current AttributeName is expires")
	_, err = update(false, "other")
	wantAPIError(t, err, "ValidationException", "TimeToLive is active on a different AttributeName: current AttributeName is expires")

	if _, err := update(false, "expires"); err != nil {
		t.Fatal(err)
	}
	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled || d.AttributeName != nil {
		t.Errorf("after disabling TTL = %s %v, want DISABLED", d.TimeToLiveStatus, d.AttributeName)
	}
	if name, on := storeTTL(); name != "" || on {
		t.Errorf("store TTL = %q %v after disabling", name, on)
	}
	// The attribute changes through a disable.
	if _, err := update(true, "other"); err != nil {
		t.Fatalf("enable on another attribute after disabling: %v", err)
	}
}

func TestTimeToLive_Errors(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("ttl"))
	t.Run("update of missing table", func(t *testing.T) {
		_, err := r.Client.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String("nope"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("x")},
		})
		wantAPIError(t, err, "ResourceNotFoundException", "Requested resource not found: Table: nope not found")
	})
	t.Run("describe of missing table", func(t *testing.T) {
		_, err := r.Client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "Requested resource not found: Table: nope not found")
	})
	t.Run("empty attribute name", func(t *testing.T) {
		_, err := r.Client.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String("ttl"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("")},
		})
		wantAPIError(t, err, "ValidationException",
			"1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1")
	})
	t.Run("long attribute name", func(t *testing.T) {
		long := strings.Repeat("a", 256)
		_, err := r.Client.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String("ttl"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(long)},
		})
		wantAPIError(t, err, "ValidationException",
			"1 validation error detected: Value '"+long+"' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255")
	})
	for _, tc := range []struct{ name, body, msg string }{
		{"no specification", `{"TableName":"ttl"}`,
			"1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null"},
		{"empty specification", `{"TableName":"ttl","TimeToLiveSpecification":{}}`,
			"2 validation errors detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := rawCall(t, r, "UpdateTimeToLive", tc.body)
			if code != "ValidationException" || msg != tc.msg {
				t.Errorf("got %s %q\nwant ValidationException %q", code, msg, tc.msg)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Tags.

func TestTags_TagListUntag(t *testing.T) {
	r := startRegion(t)
	in := ppHashTable("tagged")
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}
	arn := aws.ToString(mustCreateTable(t, r, in).TableArn)
	list := func() []string {
		t.Helper()
		out, err := r.Client.ListTagsOfResource(t.Context(), &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, tag := range out.Tags {
			got = append(got, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		return got
	}
	if got := list(); !slices.Equal(got, []string{"team=core"}) {
		t.Errorf("tags from CreateTable = %v", got)
	}
	_, err := r.Client.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("dev")},
		{Key: aws.String("team"), Value: aws.String("data")},
		{Key: aws.String("empty"), Value: aws.String("")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := list(), []string{"empty=", "env=dev", "team=data"}; !slices.Equal(got, want) {
		t.Errorf("tags after TagResource = %v, want %v", got, want)
	}
	_, err = r.Client.UntagResource(t.Context(), &dynamodb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team", "never-set"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := list(), []string{"empty=", "env=dev"}; !slices.Equal(got, want) {
		t.Errorf("tags after UntagResource = %v, want %v", got, want)
	}
}

func TestTags_Errors(t *testing.T) {
	r := startRegion(t)
	arn := aws.ToString(mustCreateTable(t, r, ppHashTable("tagged")).TableArn)
	for i := range 49 {
		_, err := r.Client.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: aws.String(arn),
			Tags: []types.Tag{{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	tag := func(k, v string) []types.Tag { return []types.Tag{{Key: aws.String(k), Value: aws.String(v)}} }
	missing := arnPrefix + "nope"
	tests := []struct {
		name string
		arn  string
		tags []types.Tag
		code string
		msg  string
	}{
		{"not an ARN", "tagged", tag("a", "b"), "ValidationException", "One or more parameter values were invalid: ARNs must start with 'arn:': tagged"},
		{"another service", "arn:aws:s3:::bucket/x", tag("a", "b"), "ValidationException",
			"One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: arn:aws:s3:::bucket/x"},
		{"another region", "arn:aws:dynamodb:eu-west-1:000000000000:table/tagged", tag("a", "b"), "ValidationException",
			"Invalid TableArn: Invalid ResourceArn provided as input arn:aws:dynamodb:eu-west-1:000000000000:table/tagged"},
		{"index ARN", arn + "/index/gs1", tag("a", "b"), "ValidationException",
			"One or more parameter values were invalid: Invalid resource arn provided, only table or stream is accepted. Provided resource arn: " + arn + "/index/gs1"},
		{"missing table", missing, tag("a", "b"), "ResourceNotFoundException", "Requested resource not found: ResourcArn: " + missing + " not found"},
		{"no tags", arn, []types.Tag{}, "ValidationException", "Atleast one Tag needs to be provided as Input."},
		{"empty key", arn, tag("", "b"), "ValidationException", "The Tag Key provided is invalid, Key: "},
		{"long key", arn, tag(strings.Repeat("k", 129), "b"), "ValidationException", "The Tag Key provided is invalid, Key: " + strings.Repeat("k", 129)},
		{"bad key character", arn, tag("a*b", "b"), "ValidationException", "The Tag Key provided is invalid, Key: a*b"},
		{"reserved prefix", arn, tag("aws:x", "b"), "ValidationException", "Tag Key cannot be prefixed with aws:, Key: aws:x"},
		{"long value", arn, tag("a", strings.Repeat("v", 257)), "ValidationException", "The Tag Value provided is invalid, Value: " + strings.Repeat("v", 257)},
		{"duplicate keys", arn, append(tag("a", "1"), tag("a", "2")...), "ValidationException", "Duplicate Tag Keys provided as input: Duplicate Tag Key found a"},
		{"51st tag", arn, append(tag("x", "1"), tag("y", "2")...), "ValidationException", "Number of Tags exceed the current limit for the provided ResourceArn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Client.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: tc.tags})
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	t.Run("replacing a tag at the limit", func(t *testing.T) {
		_, err := r.Client.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: append(tag("k0", "new"), tag("k49", "v")...)})
		if err != nil {
			t.Fatalf("the 50th tag and a replacement: %v", err)
		}
	})
	t.Run("untag without keys", func(t *testing.T) {
		_, err := r.Client.UntagResource(t.Context(), &dynamodb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{}})
		wantAPIError(t, err, "ValidationException", "Atleast one Tag Key needs to be provided as Input.")
	})
	t.Run("untag of missing table", func(t *testing.T) {
		_, err := r.Client.UntagResource(t.Context(), &dynamodb.UntagResourceInput{ResourceArn: aws.String(missing), TagKeys: []string{"a"}})
		wantAPIError(t, err, "ResourceNotFoundException", "Requested resource not found")
	})
	t.Run("list of missing table", func(t *testing.T) {
		_, err := r.Client.ListTagsOfResource(t.Context(), &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(missing)})
		wantAPIError(t, err, "ResourceNotFoundException", "Requested resource not found: ResourcArn: "+missing+" not found")
	})
	t.Run("bad ARN is reported before missing tags", func(t *testing.T) {
		code, msg := rawCall(t, r, "TagResource", `{"ResourceArn":"tagged"}`)
		want := "One or more parameter values were invalid: ARNs must start with 'arn:': tagged"
		if code != "ValidationException" || msg != want {
			t.Errorf("got %s %q, want ValidationException %q", code, msg, want)
		}
	})
	t.Run("tag without tags member", func(t *testing.T) {
		code, msg := rawCall(t, r, "TagResource", `{"ResourceArn":"`+arn+`"}`)
		want := "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"
		if code != "ValidationException" || msg != want {
			t.Errorf("got %s %q, want ValidationException %q", code, msg, want)
		}
	})
}

// ---------------------------------------------------------------------------
// DescribeEndpoints, DescribeLimits, legacy global tables.

func TestDescribeEndpoints_PointsBackAtTheServer(t *testing.T) {
	r := startRegion(t)
	out, err := r.Client.DescribeEndpoints(t.Context(), &dynamodb.DescribeEndpointsInput{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Endpoints) != 1 || aws.ToString(out.Endpoints[0].Address) != u.Host || out.Endpoints[0].CachePeriodInMinutes != 1440 {
		t.Errorf("Endpoints = %+v, want [{%s 1440}]", out.Endpoints, u.Host)
	}
}

func TestDescribeLimits_ReportsTheDefaults(t *testing.T) {
	r := startRegion(t)
	out, err := r.Client.DescribeLimits(t.Context(), &dynamodb.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{aws.ToInt64(out.AccountMaxReadCapacityUnits), aws.ToInt64(out.AccountMaxWriteCapacityUnits),
		aws.ToInt64(out.TableMaxReadCapacityUnits), aws.ToInt64(out.TableMaxWriteCapacityUnits)}
	if want := []int64{80000, 80000, 40000, 40000}; !slices.Equal(got, want) {
		t.Errorf("limits = %v, want %v", got, want)
	}
}

func TestDescribeGlobalTable_ExplainsTheSupportedVersion(t *testing.T) {
	r := startRegion(t)
	_, err := r.Client.DescribeGlobalTable(t.Context(), &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String("any")})
	wantAPIError(t, err, "UnknownOperationException",
		"Global tables version 2017.11.29 (CreateGlobalTable, UpdateGlobalTable, DescribeGlobalTable, ListGlobalTables and their settings) is not implemented by globaltables; "+
			"it implements version 2019.11.21: add or remove replicas with UpdateTable ReplicaUpdates, and see them in DescribeTable's Replicas.")
}

// ---------------------------------------------------------------------------
// The wire format itself.

func TestDescribeTable_CreationDateTimeIsEpochSecondsWithFraction(t *testing.T) {
	r := startRegion(t)
	mustCreateTable(t, r, ppHashTable("wire"))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL, bytes.NewReader([]byte(`{"TableName":"wire"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Table map[string]json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	raw := string(out.Table["CreationDateTime"])
	if !regexp.MustCompile(`^1[0-9]{9}(\.[0-9]{1,3})?$`).MatchString(raw) {
		t.Errorf("CreationDateTime = %s, want epoch seconds as a number", raw)
	}
	if string(out.Table["DeletionProtectionEnabled"]) != "false" {
		t.Errorf("DeletionProtectionEnabled = %s, want false", out.Table["DeletionProtectionEnabled"])
	}
}

// TestUpdateTable_ReplicaUpdatesOfTheLocalRegionOfALocalTable deletes, through
// ReplicaUpdates, the calling region's replica of a table that has no
// replicas: DynamoDB's ValidationException (the local region is not changed
// through ReplicaUpdates), the table kept, and the region still serving.
// It used to panic the region on a write into the table's nil replica set.
func TestUpdateTable_ReplicaUpdatesOfTheLocalRegionOfALocalTable(t *testing.T) {
	r := startRegionWith(t, api.Config{Regions: []string{"us-east-1", "eu-west-1"}}, nil)
	createTable(t, r.Client, "local", "pk", types.ScalarAttributeTypeS, "", "")
	_, err := r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String("local"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("us-east-1")}}}})
	wantAPIError(t, err, "ValidationException",
		"Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.")
	if d := mustDescribeTable(t, r, "local"); d.TableStatus != types.TableStatusActive || len(d.Replicas) != 0 {
		t.Fatalf("after the refused update the table is %s with replicas %v, want ACTIVE with none", d.TableStatus, d.Replicas)
	}
}

package api_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// sortKeys are numbers in ascending numeric order, with negatives and
// exponents, so a lexical sort would get them wrong.
var sortKeys = []string{"-1e10", "-100", "-2.5", "-0.001", "0", "0.5", "1", "2", "10", "1e2", "1000.1", "1e20"}

func seedNumbers(t *testing.T, r *testRegion) {
	t.Helper()
	createTable(t, r.Client, "Series", "pk", types.ScalarAttributeTypeS, "sk", types.ScalarAttributeTypeN)
	// Insert in a scrambled order.
	for _, i := range []int{5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6} {
		put(t, r.Client, "Series", item{"pk": S("p"), "sk": N(sortKeys[i]), "odd": Bool(i%2 == 1)})
	}
	put(t, r.Client, "Series", item{"pk": S("other"), "sk": N("0")})
}

func queryKeys(t *testing.T, r *testRegion, in *dynamodb.QueryInput) []string {
	t.Helper()
	out, err := r.Client.Query(context.Background(), in)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	keys := make([]string, len(out.Items))
	for i, it := range out.Items {
		keys[i] = num(it["sk"])
	}
	return keys
}

func TestQuery_SortKeyOrderAndOperators(t *testing.T) {
	r := startRegion(t)
	seedNumbers(t, r)
	norm := func(ks ...string) string { return strings.Join(ks, ",") }
	canonical := []string{"-10000000000", "-100", "-2.5", "-0.001", "0", "0.5", "1", "2", "10", "100", "1000.1", "100000000000000000000"}
	q := func(cond string, vals item, forward bool) string {
		vals[":p"] = S("p")
		return norm(queryKeys(t, r, &dynamodb.QueryInput{TableName: aws.String("Series"),
			KeyConditionExpression: aws.String(cond), ExpressionAttributeValues: vals, ScanIndexForward: aws.Bool(forward)})...)
	}
	tests := []struct {
		name    string
		cond    string
		vals    item
		forward bool
		want    []string
	}{
		{"all ascending", "pk = :p", item{}, true, canonical},
		{"all descending", "pk = :p", item{}, false, reverse(canonical)},
		{"eq", "pk = :p AND sk = :v", item{":v": N("2")}, true, []string{"2"}},
		{"lt", "pk = :p AND sk < :v", item{":v": N("0")}, true, canonical[:4]},
		{"le", "pk = :p AND sk <= :v", item{":v": N("0")}, true, canonical[:5]},
		{"gt", "pk = :p AND sk > :v", item{":v": N("10")}, true, canonical[9:]},
		{"ge descending", "pk = :p AND sk >= :v", item{":v": N("10")}, false, reverse(canonical[8:])},
		{"between", "pk = :p AND sk BETWEEN :a AND :b", item{":a": N("-2.5"), ":b": N("1")}, true, canonical[2:7]},
		{"key first in AND", "sk > :v AND pk = :p", item{":v": N("1e2")}, true, canonical[10:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := q(tt.cond, tt.vals, tt.forward); got != norm(tt.want...) {
				t.Fatalf("got  %s\nwant %s", got, norm(tt.want...))
			}
		})
	}
	ctx := context.Background()
	_, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("sk = :v"), ExpressionAttributeValues: item{":v": N("1")}})
	wantAPIError(t, err, "ValidationException", "Query condition missed key schema element: pk")
	_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("pk = :v"), ExpressionAttributeValues: item{":v": N("1")}})
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: Condition parameter type does not match schema type")
	_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("sk > :v"),
		ExpressionAttributeValues: item{":p": S("p"), ":v": N("1")}})
	wantAPIError(t, err, "ValidationException", "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk")
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestQuery_BeginsWithOnStrings(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Words", "pk", types.ScalarAttributeTypeS, "sk", types.ScalarAttributeTypeS)
	for _, w := range []string{"apple", "app", "apricot", "banana", "ap", "Apple", "appé", "b"} {
		put(t, r.Client, "Words", item{"pk": S("w"), "sk": S(w)})
	}
	out, err := r.Client.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("Words"),
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :pre)"),
		ExpressionAttributeValues: item{":p": S("w"), ":pre": S("app")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, str(it["sk"]))
	}
	// Byte order: "app" < "apple" < "appé" (é is two bytes above ASCII).
	if strings.Join(got, ",") != "app,apple,appé" {
		t.Fatalf("begins_with = %v", got)
	}
}

func TestQuery_PaginationFilterSelect(t *testing.T) {
	r := startRegion(t)
	seedNumbers(t, r)
	ctx := context.Background()
	// Page through with Limit 5: every key once, in order.
	var all []string
	var start map[string]types.AttributeValue
	pages := 0
	for {
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
			KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")},
			Limit: aws.Int32(5), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range out.Items {
			all = append(all, num(it["sk"]))
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		if str(out.LastEvaluatedKey["pk"]) != "p" || len(out.LastEvaluatedKey) != 2 {
			t.Fatalf("LastEvaluatedKey = %#v", out.LastEvaluatedKey)
		}
		start = out.LastEvaluatedKey
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if len(all) != len(sortKeys) || pages != 3 {
		t.Fatalf("paged %d items in %d pages: %v", len(all), pages, all)
	}
	// The SDK paginator does the same.
	p := dynamodb.NewQueryPaginator(r.Client, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")}, Limit: aws.Int32(4)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Items)
	}
	if n != len(sortKeys) {
		t.Fatalf("paginator saw %d items", n)
	}

	// A filter applies after Limit: ScannedCount counts what was read.
	out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("odd = :t"),
		ExpressionAttributeValues: item{":p": S("p"), ":t": Bool(true)}, Limit: aws.Int32(6)})
	if err != nil {
		t.Fatal(err)
	}
	if out.ScannedCount != 6 || out.Count != 3 || len(out.Items) != 3 || out.LastEvaluatedKey == nil {
		t.Fatalf("filter with limit: scanned %d count %d items %d lek %v", out.ScannedCount, out.Count, len(out.Items), out.LastEvaluatedKey)
	}
	// Select COUNT returns no items.
	out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")}, Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != int32(len(sortKeys)) || out.Items != nil {
		t.Fatalf("COUNT: count %d, items %v", out.Count, out.Items)
	}
	// A projection.
	out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")},
		ProjectionExpression: aws.String("odd"), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || len(out.Items[0]) != 1 || out.Items[0]["odd"] == nil {
		t.Fatalf("projection: %#v", out.Items)
	}
	_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Series"),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")},
		ProjectionExpression: aws.String("odd"), Select: types.SelectCount})
	wantAPIError(t, err, "ValidationException", "")
}

func TestQuery_OneMegabytePage(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Big", "pk", types.ScalarAttributeTypeS, "sk", types.ScalarAttributeTypeN)
	blob := strings.Repeat("b", 100*1024)
	for i := 0; i < 25; i++ {
		put(t, r.Client, "Big", item{"pk": S("p"), "sk": N(fmt.Sprint(i)), "blob": S(blob)})
	}
	ctx := context.Background()
	total, pages := 0, 0
	var start map[string]types.AttributeValue
	for {
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Big"),
			KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")}, ExclusiveStartKey: start}, withRetries)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if out.LastEvaluatedKey != nil && (len(out.Items) < 9 || len(out.Items) > 11) {
			t.Fatalf("a 1 MB page of 100 KB items held %d items", len(out.Items))
		}
		total += len(out.Items)
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if total != 25 || pages != 3 {
		t.Fatalf("read %d items in %d pages, want 25 in 3", total, pages)
	}
}

func TestScan_SegmentsPartitionTheTable(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Many", "id", types.ScalarAttributeTypeN, "", "")
	ctx := context.Background()
	const n = 300
	for i := 0; i < n; i += 25 {
		reqs := make([]types.WriteRequest, 0, 25)
		for j := i; j < i+25; j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item{"id": N(fmt.Sprint(j)), "even": Bool(j%2 == 0)}}})
		}
		if _, err := r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Many": reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for seg := int32(0); seg < 4; seg++ {
		p := dynamodb.NewScanPaginator(r.Client, &dynamodb.ScanInput{TableName: aws.String("Many"),
			Segment: aws.Int32(seg), TotalSegments: aws.Int32(4), Limit: aws.Int32(40)})
		segCount := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				seen[num(it["id"])]++
				segCount++
			}
		}
		if segCount == 0 || segCount == n {
			t.Errorf("segment %d holds %d of %d items: segments should split the table", seg, segCount, n)
		}
	}
	if len(seen) != n {
		t.Fatalf("segments covered %d distinct items, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("item %s seen %d times", id, c)
		}
	}
	out, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Many"), FilterExpression: aws.String("even = :t"),
		ExpressionAttributeValues: item{":t": Bool(true)}, Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != n/2 || out.ScannedCount != n {
		t.Fatalf("filtered scan: count %d scanned %d", out.Count, out.ScannedCount)
	}
	_, err = r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Many"), Segment: aws.Int32(4), TotalSegments: aws.Int32(4)})
	wantAPIError(t, err, "ValidationException", "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4")
	_, err = r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Many"), Segment: aws.Int32(1)})
	wantAPIError(t, err, "ValidationException", "The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
}

func TestIndexes_QueryGSIAndLSI(t *testing.T) {
	r := startRegion(t)
	ctx := context.Background()
	_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String("Orders"),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("customer"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("order"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("status"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("total"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("customer"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("order"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("by-status"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("status"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("total"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName:  aws.String("by-total"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("customer"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("total"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"note"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	put(t, r.Client, "Orders", item{"customer": S("c1"), "order": N("1"), "status": S("open"), "total": N("30"), "note": S("n1"), "extra": S("e")})
	put(t, r.Client, "Orders", item{"customer": S("c1"), "order": N("2"), "status": S("open"), "total": N("10"), "note": S("n2")})
	put(t, r.Client, "Orders", item{"customer": S("c2"), "order": N("1"), "status": S("shipped"), "total": N("20")})
	put(t, r.Client, "Orders", item{"customer": S("c2"), "order": N("2"), "total": N("5")}) // sparse: not in by-status

	out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Orders"), IndexName: aws.String("by-status"),
		KeyConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: item{":s": S("open")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 || num(out.Items[0]["total"]) != "10" || num(out.Items[1]["total"]) != "30" {
		t.Fatalf("GSI query: %#v", out.Items)
	}
	if _, ok := out.Items[0]["note"]; ok {
		t.Fatalf("KEYS_ONLY index returned a non-key attribute: %#v", out.Items[0])
	}
	if len(out.Items[0]) != 4 {
		t.Fatalf("KEYS_ONLY item should hold table and index keys: %#v", out.Items[0])
	}
	// Moving an item between index partitions updates the index.
	put(t, r.Client, "Orders", item{"customer": S("c1"), "order": N("2"), "status": S("shipped"), "total": N("10")})
	out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Orders"), IndexName: aws.String("by-status"),
		KeyConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: item{":s": S("shipped")}, Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 2 {
		t.Fatalf("after the move, shipped holds %d", out.Count)
	}
	// LSI: items of one customer by total, with the included attribute.
	out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Orders"), IndexName: aws.String("by-total"),
		KeyConditionExpression: aws.String("customer = :c AND #t > :t"), ExpressionAttributeNames: map[string]string{"#t": "total"},
		ExpressionAttributeValues: item{":c": S("c1"), ":t": N("5")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 || num(out.Items[0]["total"]) != "10" || str(out.Items[1]["note"]) != "n1" {
		t.Fatalf("LSI query: %#v", out.Items)
	}
	if _, ok := out.Items[1]["extra"]; ok {
		t.Fatalf("INCLUDE projection returned an attribute it does not include")
	}
	// ALL_ATTRIBUTES on an LSI fetches the whole item; on a KEYS_ONLY GSI it is refused.
	out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Orders"), IndexName: aws.String("by-total"),
		KeyConditionExpression: aws.String("customer = :c AND #t = :t"), ExpressionAttributeNames: map[string]string{"#t": "total"},
		ExpressionAttributeValues: item{":c": S("c1"), ":t": N("30")},
		Select:                    types.SelectAllAttributes})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || str(out.Items[0]["extra"]) != "e" {
		t.Fatalf("LSI ALL_ATTRIBUTES: %#v", out.Items)
	}
	_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Orders"), IndexName: aws.String("by-status"),
		KeyConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: item{":s": S("open")}, Select: types.SelectAllAttributes})
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index by-status because its projection type is not ALL")
	_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Orders"), IndexName: aws.String("by-status"),
		KeyConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: item{":s": S("open")}, ConsistentRead: aws.Bool(true)})
	wantAPIError(t, err, "ValidationException", "Consistent reads are not supported on global secondary indexes")
	_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Orders"), IndexName: aws.String("nope"),
		KeyConditionExpression: aws.String("customer = :c"), ExpressionAttributeValues: item{":c": S("c1")}})
	wantAPIError(t, err, "ValidationException", "The table does not have the specified index: nope")
	// An index key of the wrong type is refused on write.
	_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Orders"),
		Item: item{"customer": S("c3"), "order": N("1"), "status": N("1")}})
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: Type mismatch for Index Key status Expected: S Actual: N IndexName: by-status")
	// Scan of an index visits only the items it holds.
	sc, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Orders"), IndexName: aws.String("by-status")})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, it := range sc.Items {
		statuses = append(statuses, str(it["status"]))
	}
	sort.Strings(statuses)
	if strings.Join(statuses, ",") != "open,shipped,shipped" {
		t.Fatalf("index scan: %v", statuses)
	}
}

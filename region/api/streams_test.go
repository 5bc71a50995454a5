package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/regiontest"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// streamTableInput is ppHashTable with a stream of viewType.
func streamTableInput(name string, viewType types.StreamViewType) *dynamodb.CreateTableInput {
	in := ppHashTable(name)
	in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: viewType}
	return in
}

// readShard reads a shard from iter to its current end (or, for a closed
// shard, to the end of the shard: the NextShardIterator is then absent).
func readShard(t *testing.T, sc *dynamodbstreams.Client, iter *string) ([]stypes.Record, *string) {
	t.Helper()
	var out []stypes.Record
	for iter != nil {
		res, err := sc.GetRecords(t.Context(), &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(2)})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		out = append(out, res.Records...)
		if res.NextShardIterator == nil {
			return out, nil
		}
		iter = res.NextShardIterator
		if len(res.Records) == 0 {
			return out, iter
		}
	}
	return out, nil
}

// firstShardIterator returns a TRIM_HORIZON iterator of the stream's first
// shard.
func firstShardIterator(t *testing.T, sc *dynamodbstreams.Client, arn *string) (*string, stypes.Shard) {
	t.Helper()
	d, err := sc.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	sh := d.StreamDescription.Shards[0]
	it, err := sc.GetShardIterator(t.Context(), &dynamodbstreams.GetShardIteratorInput{
		StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	return it.ShardIterator, sh
}

func sVal(v stypes.AttributeValue) string {
	if s, ok := v.(*stypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return "?"
}

// Every view type: INSERT, MODIFY and REMOVE with the images the type asks
// for, DynamoDB's record fields, and no record for a write that changes
// nothing.
func TestStreams_ViewTypes(t *testing.T) {
	r := startRegion(t)
	sc := regiontest.NewStreamsClient(r.URL)
	for _, vt := range []types.StreamViewType{types.StreamViewTypeKeysOnly, types.StreamViewTypeNewImage,
		types.StreamViewTypeOldImage, types.StreamViewTypeNewAndOldImages} {
		t.Run(string(vt), func(t *testing.T) {
			name := "s_" + strings.ToLower(string(vt))
			td := mustCreateTable(t, r, streamTableInput(name, vt))
			if td.LatestStreamArn == nil || td.LatestStreamLabel == nil || !strings.Contains(*td.LatestStreamArn, ":us-east-1:") {
				t.Fatalf("stream ARN %v label %v", td.LatestStreamArn, td.LatestStreamLabel)
			}
			put(t, r.Client, name, item{"pk": S("a"), "x": S("1")})
			put(t, r.Client, name, item{"pk": S("a"), "x": S("2")})
			put(t, r.Client, name, item{"pk": S("a"), "x": S("2")}) // changes nothing
			if _, err := r.Client.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: item{"pk": S("a")}}); err != nil {
				t.Fatal(err)
			}
			iter, _ := firstShardIterator(t, sc, td.LatestStreamArn)
			recs, _ := readShard(t, sc, iter)
			if len(recs) != 3 {
				t.Fatalf("%d records, want 3", len(recs))
			}
			wantEvents := []stypes.OperationType{stypes.OperationTypeInsert, stypes.OperationTypeModify, stypes.OperationTypeRemove}
			newImg := vt == types.StreamViewTypeNewImage || vt == types.StreamViewTypeNewAndOldImages
			oldImg := vt == types.StreamViewTypeOldImage || vt == types.StreamViewTypeNewAndOldImages
			for i, rec := range recs {
				if rec.EventName != wantEvents[i] || aws.ToString(rec.EventSource) != "aws:dynamodb" || aws.ToString(rec.EventVersion) != "1.1" ||
					aws.ToString(rec.AwsRegion) != "us-east-1" || len(aws.ToString(rec.EventID)) == 0 {
					t.Errorf("record %d: %+v", i, rec)
				}
				d := rec.Dynamodb
				if sVal(d.Keys["pk"]) != "a" || len(d.Keys) != 1 || string(d.StreamViewType) != string(vt) ||
					aws.ToInt64(d.SizeBytes) <= 0 || d.ApproximateCreationDateTime == nil || len(aws.ToString(d.SequenceNumber)) < 21 {
					t.Errorf("record %d body: %+v", i, d)
				}
				hasNew, hasOld := d.NewImage != nil, d.OldImage != nil
				if hasNew != (newImg && i < 2) || hasOld != (oldImg && i > 0) {
					t.Errorf("record %d (%s): NewImage %v OldImage %v", i, rec.EventName, d.NewImage, d.OldImage)
				}
				if rec.UserIdentity != nil {
					t.Errorf("record %d has a userIdentity", i)
				}
			}
			if newImg && sVal(recs[1].Dynamodb.NewImage["x"]) != "2" {
				t.Errorf("MODIFY NewImage %v", recs[1].Dynamodb.NewImage)
			}
			if oldImg && sVal(recs[1].Dynamodb.OldImage["x"]) != "1" {
				t.Errorf("MODIFY OldImage %v", recs[1].Dynamodb.OldImage)
			}
		})
	}
}

// LATEST, AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER position a reader
// where they say.
func TestStreams_IteratorTypes(t *testing.T) {
	r := startRegion(t)
	sc := regiontest.NewStreamsClient(r.URL)
	td := mustCreateTable(t, r, streamTableInput("iters", types.StreamViewTypeKeysOnly))
	for _, k := range []string{"a", "b", "c"} {
		put(t, r.Client, "iters", item{"pk": S(k)})
	}
	iter, sh := firstShardIterator(t, sc, td.LatestStreamArn)
	all, _ := readShard(t, sc, iter)
	if len(all) != 3 {
		t.Fatalf("%d records", len(all))
	}
	from := func(typ stypes.ShardIteratorType, seq *string) []string {
		t.Helper()
		it, err := sc.GetShardIterator(t.Context(), &dynamodbstreams.GetShardIteratorInput{
			StreamArn: td.LatestStreamArn, ShardId: sh.ShardId, ShardIteratorType: typ, SequenceNumber: seq})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", typ, err)
		}
		recs, next := readShard(t, sc, it.ShardIterator)
		if next == nil {
			t.Fatalf("open shard gave no NextShardIterator")
		}
		var keys []string
		for _, rec := range recs {
			keys = append(keys, sVal(rec.Dynamodb.Keys["pk"]))
		}
		return keys
	}
	if got := from(stypes.ShardIteratorTypeAtSequenceNumber, all[1].Dynamodb.SequenceNumber); strings.Join(got, "") != "bc" {
		t.Errorf("AT_SEQUENCE_NUMBER: %v", got)
	}
	if got := from(stypes.ShardIteratorTypeAfterSequenceNumber, all[1].Dynamodb.SequenceNumber); strings.Join(got, "") != "c" {
		t.Errorf("AFTER_SEQUENCE_NUMBER: %v", got)
	}
	latest, err := sc.GetShardIterator(t.Context(), &dynamodbstreams.GetShardIteratorInput{
		StreamArn: td.LatestStreamArn, ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	put(t, r.Client, "iters", item{"pk": S("d")})
	recs, _ := readShard(t, sc, latest.ShardIterator)
	if len(recs) != 1 || sVal(recs[0].Dynamodb.Keys["pk"]) != "d" {
		t.Errorf("LATEST read %d records", len(recs))
	}
}

// ListStreams with its filter and pages; DescribeStream; disabling keeps
// the old stream readable and closed, and enabling again gives a new label.
func TestStreams_ListDescribeDisable(t *testing.T) {
	r := startRegion(t)
	sc := regiontest.NewStreamsClient(r.URL)
	td := mustCreateTable(t, r, streamTableInput("ldt", types.StreamViewTypeNewImage))
	mustCreateTable(t, r, streamTableInput("other", types.StreamViewTypeKeysOnly))
	mustCreateTable(t, r, ppHashTable("nostream"))
	put(t, r.Client, "ldt", item{"pk": S("a")})

	ls, err := sc.ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{})
	if err != nil || len(ls.Streams) != 2 {
		t.Fatalf("ListStreams: %v %v", ls, err)
	}
	ls, err = sc.ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{Limit: aws.Int32(1)})
	if err != nil || len(ls.Streams) != 1 || ls.LastEvaluatedStreamArn == nil {
		t.Fatalf("ListStreams page 1: %+v %v", ls, err)
	}
	ls2, err := sc.ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{Limit: aws.Int32(1), ExclusiveStartStreamArn: ls.LastEvaluatedStreamArn})
	if err != nil || len(ls2.Streams) != 1 || ls2.LastEvaluatedStreamArn != nil || *ls2.Streams[0].StreamArn == *ls.Streams[0].StreamArn {
		t.Fatalf("ListStreams page 2: %+v %v", ls2, err)
	}
	ls, err = sc.ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{TableName: aws.String("ldt")})
	if err != nil || len(ls.Streams) != 1 || *ls.Streams[0].StreamArn != *td.LatestStreamArn || *ls.Streams[0].TableName != "ldt" {
		t.Fatalf("ListStreams ld: %+v %v", ls, err)
	}

	d, err := sc.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{StreamArn: td.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	sd := d.StreamDescription
	if sd.StreamStatus != stypes.StreamStatusEnabled || sd.StreamViewType != stypes.StreamViewTypeNewImage || aws.ToString(sd.TableName) != "ldt" ||
		len(sd.KeySchema) != 1 || len(sd.Shards) != 1 || sd.Shards[0].SequenceNumberRange.EndingSequenceNumber != nil || sd.Shards[0].ParentShardId != nil {
		t.Fatalf("DescribeStream: %+v", sd)
	}

	// Disable.
	if _, err := r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String("ldt"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	desc := mustDescribeTable(t, r, "ldt")
	if desc.StreamSpecification != nil || aws.ToString(desc.LatestStreamArn) != *td.LatestStreamArn {
		t.Fatalf("after disable: spec %v arn %v", desc.StreamSpecification, desc.LatestStreamArn)
	}
	put(t, r.Client, "ldt", item{"pk": S("b")}) // not in any stream
	d, err = sc.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{StreamArn: td.LatestStreamArn})
	if err != nil || d.StreamDescription.StreamStatus != stypes.StreamStatusDisabled || d.StreamDescription.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil {
		t.Fatalf("disabled stream: %+v %v", d, err)
	}
	iter, _ := firstShardIterator(t, sc, td.LatestStreamArn)
	recs, next := readShard(t, sc, iter)
	if len(recs) != 1 || next != nil {
		t.Fatalf("disabled stream: %d records, next %v", len(recs), next)
	}

	// Enable again: a new stream, with a new label.
	time.Sleep(2 * time.Millisecond) // labels have millisecond resolution
	up, err := r.Client.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String("ldt"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly}})
	if err != nil {
		t.Fatal(err)
	}
	newArn := up.TableDescription.LatestStreamArn
	if aws.ToString(newArn) == *td.LatestStreamArn || aws.ToString(up.TableDescription.LatestStreamLabel) == *td.LatestStreamLabel {
		t.Fatalf("re-enabled stream kept its ARN %v", newArn)
	}
	ls, err = sc.ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{TableName: aws.String("ldt")})
	if err != nil || len(ls.Streams) != 2 {
		t.Fatalf("ListStreams after re-enable: %+v %v", ls, err)
	}
}

// wantAPIError checks an error's code and that its message contains msg.
func wantErrorContaining(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// Errors as DynamoDB gives them: unknown streams and shards, invalid
// input, expired iterators and trimmed positions.
func TestStreams_Errors(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	r := startRegionStore(t, api.Config{Now: func() time.Time { return time.Unix(0, now.Load()) }}, nil, func(c *store.Config) {
		c.StreamRetention = 300 * time.Millisecond
	})
	sc := regiontest.NewStreamsClient(r.URL)
	td := mustCreateTable(t, r, streamTableInput("errs", types.StreamViewTypeKeysOnly))
	put(t, r.Client, "errs", item{"pk": S("a")})
	arn := td.LatestStreamArn
	ctx := t.Context()

	missing := aws.String(strings.Replace(*arn, "table/errs/", "table/nope/", 1))
	_, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: missing})
	wantErrorContaining(t, err, "ResourceNotFoundException", "Requested resource not found: Stream: "+*missing+" not found")
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn,
		ShardId: aws.String("shardId-00000000000000000000-0000ffff"), ShardIteratorType: stypes.ShardIteratorTypeLatest})
	wantErrorContaining(t, err, "ResourceNotFoundException", "Shard")
	_, err = sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("nope")})
	wantErrorContaining(t, err, "ResourceNotFoundException", "Table: nope not found")

	_, err = sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{Limit: aws.Int32(0)})
	wantErrorContaining(t, err, "ValidationException", "Member must have value greater than or equal to 1")
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String("x"), Limit: aws.Int32(1001)})
	wantErrorContaining(t, err, "ValidationException", "Member must have value less than or equal to 1000")
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String("not an iterator")})
	wantErrorContaining(t, err, "ValidationException", "Invalid ShardIterator")

	iter, sh := firstShardIterator(t, sc, arn)
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sh.ShardId,
		ShardIteratorType: stypes.ShardIteratorTypeAtSequenceNumber})
	wantErrorContaining(t, err, "ValidationException", "Sequence number must be specified")
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sh.ShardId,
		ShardIteratorType: "FROM_THE_MIDDLE"})
	wantErrorContaining(t, err, "ValidationException", "Member must satisfy enum value set")

	// Iterators live 15 minutes.
	now.Add(int64(16 * time.Minute))
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
	wantErrorContaining(t, err, "ExpiredIteratorException", "Iterator expired")
	now.Store(time.Now().UnixNano())

	// A position older than the retention.
	iter, _ = firstShardIterator(t, sc, arn)
	regiontest.WaitFor(t, 30*time.Second, func() error {
		_, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "TrimmedDataAccessException" {
			return nil
		}
		return errors.New("not trimmed yet")
	})
}

// With the lab's header, records carry the origin region and the
// overwrote-local marker; without it they are DynamoDB's. TTL deletes carry
// DynamoDB's service identity.
func TestStreams_ExtensionsAndTTL(t *testing.T) {
	r := startRegion(t)
	sc := regiontest.NewStreamsClient(r.URL)
	td := mustCreateTable(t, r, streamTableInput("ext", types.StreamViewTypeKeysOnly))
	put(t, r.Client, "ext", item{"pk": S("a")})
	tbl, err := r.DB.Table("ext")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DB.Update(t.Context(), func(tx *store.Tx) error {
		_, err := tx.DeleteExpired(tbl, attr.Item{"pk": attr.String("a")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	iter, _ := firstShardIterator(t, sc, td.LatestStreamArn)
	recs, _ := readShard(t, sc, iter)
	if len(recs) != 2 || recs[1].UserIdentity == nil || aws.ToString(recs[1].UserIdentity.Type) != "Service" ||
		aws.ToString(recs[1].UserIdentity.PrincipalId) != "dynamodb.amazonaws.com" {
		t.Fatalf("TTL delete record: %+v", recs)
	}

	raw := func(ext bool) string {
		body, _ := json.Marshal(map[string]any{"ShardIterator": *iter})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL, bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDBStreams_20120810.GetRecords")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		if ext {
			req.Header.Set(api.ExtensionsHeader, "1")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return b.String()
	}
	if plain := raw(false); strings.Contains(plain, "globaltables") || !strings.Contains(plain, `"eventName":"INSERT"`) {
		t.Errorf("plain records: %s", plain)
	}
	if ext := raw(true); !strings.Contains(ext, `"globaltables":{"originRegion":"us-east-1","overwroteLocal":false}`) {
		t.Errorf("records with extensions: %s", ext)
	}
}

// Shards roll over; a reader following lineage through DescribeStream
// (Limit and ExclusiveStartShardId included) sees every record once.
func TestStreams_ShardLineage(t *testing.T) {
	r := startRegionStore(t, api.Config{}, nil, func(c *store.Config) { c.StreamShardPeriod = 40 * time.Millisecond })
	sc := regiontest.NewStreamsClient(r.URL)
	td := mustCreateTable(t, r, streamTableInput("roll", types.StreamViewTypeKeysOnly))
	const n = 60
	for i := 0; i < n; i++ {
		put(t, r.Client, "roll", item{"pk": S(string(rune('A' + i)))})
		if i%10 == 9 {
			time.Sleep(50 * time.Millisecond) // let a shard roll over
		}
	}
	var shards []stypes.Shard
	regiontest.WaitFor(t, 30*time.Second, func() error {
		shards = nil
		var start *string
		for {
			d, err := sc.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{StreamArn: td.LatestStreamArn,
				Limit: aws.Int32(2), ExclusiveStartShardId: start})
			if err != nil {
				return err
			}
			shards = append(shards, d.StreamDescription.Shards...)
			if start = d.StreamDescription.LastEvaluatedShardId; start == nil {
				break
			}
		}
		if len(shards) < 3 {
			return errors.New("fewer than 3 shards")
		}
		return nil
	})
	seen := map[string]bool{}
	for i, sh := range shards {
		if i > 0 && aws.ToString(sh.ParentShardId) != aws.ToString(shards[i-1].ShardId) {
			t.Fatalf("shard %s parent %v, want %s", *sh.ShardId, sh.ParentShardId, *shards[i-1].ShardId)
		}
		open := sh.SequenceNumberRange.EndingSequenceNumber == nil
		if open != (i == len(shards)-1) {
			t.Fatalf("shard %d open=%v", i, open)
		}
		it, err := sc.GetShardIterator(t.Context(), &dynamodbstreams.GetShardIteratorInput{StreamArn: td.LatestStreamArn,
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, next := readShard(t, sc, it.ShardIterator)
		if !open && next != nil {
			// (The last shard may close meanwhile: shards keep rolling.)
			t.Fatalf("closed shard %d gave a next iterator", i)
		}
		for _, rec := range recs {
			k := sVal(rec.Dynamodb.Keys["pk"])
			if seen[k] {
				t.Fatalf("record of %s seen twice", k)
			}
			seen[k] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("saw %d records, want %d", len(seen), n)
	}
}

// The Streams SDK signs for the service "dynamodb", which the region's
// SigV4 check accepts; a wrong secret is refused as for DynamoDB.
func TestStreams_Signed(t *testing.T) {
	url := startAuthRegion(t, nil)
	streams := func(secret string) *dynamodbstreams.Client {
		return dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(testKeyID, secret, "")})
	}
	if _, err := streams(testSecret).ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{}); err != nil {
		t.Fatalf("signed ListStreams: %v", err)
	}
	_, err := streams("wrong").ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{})
	wantErrorContaining(t, err, "InvalidSignatureException", "signature")
}

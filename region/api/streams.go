package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/globaltables/globaltables/region/api/streamid"
	"github.com/globaltables/globaltables/store"
)

// The DynamoDB Streams API (ListStreams, DescribeStream, GetShardIterator,
// GetRecords), served on the same endpoint as DynamoDB under its own
// X-Amz-Target prefix, as DynamoDB Local serves it. The streams are the
// store's (store/stream.go): each region's stream of a table holds the
// changes that region applied, local and replicated. docs/streams.md says
// what differs from DynamoDB.

// streamsTargetPrefix is the X-Amz-Target prefix of DynamoDB Streams.
const streamsTargetPrefix = "DynamoDBStreams_20120810."

// ExtensionsHeader, set to "1" on a Streams request, adds the lab's own
// fields to each record (origin region, overwrote-local marker). Without
// it records are exactly DynamoDB's.
const ExtensionsHeader = "X-Globaltables-Extensions"

type extensionsKey struct{}

// withExtensions marks ctx when the request asked for the lab's
// extensions; other requests keep their context as it is.
func withExtensions(ctx context.Context, header string) context.Context {
	if header != "1" {
		return ctx
	}
	return context.WithValue(ctx, extensionsKey{}, true)
}

func extensionsOn(ctx context.Context) bool {
	on, _ := ctx.Value(extensionsKey{}).(bool)
	return on
}

// streamOps returns the Streams operations by name.
func (s *Server) streamOpsByName() map[string]opFunc {
	return map[string]opFunc{
		"ListStreams":      s.listStreams,
		"DescribeStream":   s.describeStream,
		"GetShardIterator": s.getShardIterator,
		"GetRecords":       s.getRecords,
	}
}

// Stream errors.

// ExpiredIterator returns an ExpiredIteratorException.
func ExpiredIterator(format string, args ...any) *Error {
	return newError(nsDynamo+"ExpiredIteratorException", http.StatusBadRequest, format, args...)
}

// TrimmedDataAccess returns a TrimmedDataAccessException.
func TrimmedDataAccess(format string, args ...any) *Error {
	return newError(nsDynamo+"TrimmedDataAccessException", http.StatusBadRequest, format, args...)
}

func streamNotFound(arn string) error {
	return ResourceNotFound("Requested resource not found: Stream: %s not found", arn)
}

// streamArn is the ARN of one of this region's streams: the table's ARN
// here, then the label.
func (s *Server) streamArn(info *store.StreamInfo) string {
	return streamid.ARN(s.cfg.Region, s.cfg.AccountID, info)
}

// streamByArn finds the stream an ARN names (the newest, should a table
// re-created in the same millisecond share a label).
func (s *Server) streamByArn(arn string) (*store.StreamInfo, error) {
	infos, err := s.db.Streams()
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	for i := len(infos) - 1; i >= 0; i-- {
		if s.streamArn(infos[i]) == arn {
			return infos[i], nil
		}
	}
	return nil, streamNotFound(arn)
}

// streamShards finds the stream an ARN names and reads its shards.
func (s *Server) streamShards(arn string) (*store.StreamInfo, []store.Shard, error) {
	info, err := s.streamByArn(arn)
	if err != nil {
		return nil, nil, err
	}
	_, shards, err := s.db.Stream(info.ID)
	if errors.Is(err, store.ErrStreamNotFound) {
		return nil, nil, streamNotFound(arn)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read stream %d: %w", info.ID, err)
	}
	return info, shards, nil
}

// findShard returns the shard of shards whose ID is id.
func findShard(shards []store.Shard, id string) (store.Shard, bool) {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		if n, err := strconv.ParseUint(id[i+1:], 16, 32); err == nil {
			for _, sh := range shards {
				if sh.Index == uint32(n) && streamid.ShardID(sh) == id {
					return sh, true
				}
			}
		}
	}
	return store.Shard{}, false
}

func parseSeq(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// ListStreams.

type listStreamsInput struct {
	TableName               *string `json:"TableName"`
	Limit                   *int64  `json:"Limit"`
	ExclusiveStartStreamArn *string `json:"ExclusiveStartStreamArn"`
}

type streamSummary struct {
	StreamArn   string `json:"StreamArn"`
	TableName   string `json:"TableName"`
	StreamLabel string `json:"StreamLabel"`
}

type listStreamsOutput struct {
	Streams                []streamSummary `json:"Streams"`
	LastEvaluatedStreamArn string          `json:"LastEvaluatedStreamArn,omitempty"`
}

const maxStreamListLimit = 100

func checkLimit(c *checker, limit *int64, most int64) {
	if limit == nil {
		return
	}
	if *limit < 1 {
		c.fail(limit, "limit", "Member must have value greater than or equal to 1")
	}
	if *limit > most {
		c.fail(limit, "limit", fmt.Sprintf("Member must have value less than or equal to %d", most))
	}
}

func checkArn(c *checker, path string, arn *string) {
	if arn == nil {
		return
	}
	if n := len(*arn); n < 37 || n > 1024 {
		c.fail(*arn, path, "Member must have length greater than or equal to 37")
		if n > 1024 {
			c.errs[len(c.errs)-1] = fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 1024", *arn, path)
		}
	}
}

func (s *Server) listStreams(ctx context.Context, body []byte) (any, error) {
	var in listStreamsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	if in.TableName != nil {
		c.tableName("tableName", in.TableName)
	}
	checkLimit(&c, in.Limit, maxStreamListLimit)
	checkArn(&c, "exclusiveStartStreamArn", in.ExclusiveStartStreamArn)
	if err := c.err(); err != nil {
		return nil, err
	}
	infos, err := s.db.Streams()
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	limit := maxStreamListLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	out := listStreamsOutput{Streams: []streamSummary{}}
	started := in.ExclusiveStartStreamArn == nil
	for _, info := range infos {
		if in.TableName != nil && info.Table != *in.TableName {
			continue
		}
		arn := s.streamArn(info)
		if !started {
			started = arn == *in.ExclusiveStartStreamArn
			continue
		}
		if len(out.Streams) == limit {
			out.LastEvaluatedStreamArn = out.Streams[limit-1].StreamArn
			break
		}
		out.Streams = append(out.Streams, streamSummary{StreamArn: arn, TableName: info.Table, StreamLabel: info.Label})
	}
	if in.TableName != nil && len(out.Streams) == 0 && in.ExclusiveStartStreamArn == nil {
		if _, err := s.db.Table(*in.TableName); errors.Is(err, store.ErrTableNotFound) {
			return nil, tableNotFound(*in.TableName)
		}
	}
	return out, nil
}

// DescribeStream.

type describeStreamInput struct {
	StreamArn             *string `json:"StreamArn"`
	Limit                 *int64  `json:"Limit"`
	ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber,omitempty"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardDescription struct {
	ShardId             string              `json:"ShardId"`
	ParentShardId       string              `json:"ParentShardId,omitempty"`
	SequenceNumberRange sequenceNumberRange `json:"SequenceNumberRange"`
}

type streamDescription struct {
	StreamArn               string             `json:"StreamArn"`
	StreamLabel             string             `json:"StreamLabel"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamViewType          string             `json:"StreamViewType"`
	CreationRequestDateTime float64            `json:"CreationRequestDateTime"`
	TableName               string             `json:"TableName"`
	KeySchema               []KeySchemaElement `json:"KeySchema"`
	Shards                  []shardDescription `json:"Shards"`
	LastEvaluatedShardId    string             `json:"LastEvaluatedShardId,omitempty"`
}

type describeStreamOutput struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

func requireArn(arn *string) error {
	if arn == nil {
		return Validation("1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null")
	}
	return nil
}

func (s *Server) describeStream(ctx context.Context, body []byte) (any, error) {
	var in describeStreamInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := requireArn(in.StreamArn); err != nil {
		return nil, err
	}
	var c checker
	checkArn(&c, "streamArn", in.StreamArn)
	checkLimit(&c, in.Limit, maxStreamListLimit)
	if id := in.ExclusiveStartShardId; id != nil && (len(*id) < 28 || len(*id) > 65) {
		c.fail(*id, "exclusiveStartShardId", "Member must have length greater than or equal to 28")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	info, shards, err := s.streamShards(*in.StreamArn)
	if err != nil {
		return nil, err
	}
	d := streamDescription{
		StreamArn:               *in.StreamArn,
		StreamLabel:             info.Label,
		StreamStatus:            "ENABLED",
		StreamViewType:          info.ViewType,
		CreationRequestDateTime: epochSeconds(info.CreatedAt),
		TableName:               info.Table,
		KeySchema:               keySchemaOf(info.Hash, info.Range),
		Shards:                  []shardDescription{},
	}
	if !info.Enabled() {
		d.StreamStatus = "DISABLED"
	}
	limit := maxStreamListLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	started := in.ExclusiveStartShardId == nil
	for _, sh := range shards {
		id := streamid.ShardID(sh)
		if !started {
			started = id == *in.ExclusiveStartShardId
			continue
		}
		if len(d.Shards) == limit {
			d.LastEvaluatedShardId = d.Shards[limit-1].ShardId
			break
		}
		sd := shardDescription{ShardId: id, SequenceNumberRange: sequenceNumberRange{StartingSequenceNumber: streamid.SequenceNumber(sh.Start)}}
		if sh.Parent >= 0 {
			for _, p := range shards {
				if int64(p.Index) == sh.Parent {
					sd.ParentShardId = streamid.ShardID(p)
				}
			}
			// A parent trimmed after its retention is no longer named.
		}
		if !sh.Open() {
			sd.SequenceNumberRange.EndingSequenceNumber = streamid.SequenceNumber(sh.End)
		}
		d.Shards = append(d.Shards, sd)
	}
	return describeStreamOutput{d}, nil
}

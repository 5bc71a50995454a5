package api

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/globaltables/globaltables/region/api/streamid"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// Shard iterators and GetRecords.

// iteratorLifetime is how long a shard iterator may be used, as in
// DynamoDB.
const iteratorLifetime = 15 * time.Minute

// Limits of GetRecords, as in DynamoDB.
const (
	maxGetRecords   = 1000
	maxRecordsBytes = 1 << 20
)

// shardIterator is the position a shard iterator stands for: records of
// the shard after seq. It is handed out as the stream's ARN, "|1|" and a
// base64 body, like DynamoDB's iterators, and bound to the region that
// issued it (stream IDs are each region's own).
type shardIterator struct {
	region string
	stream uint64
	shard  uint32
	after  uint64
	issued time.Time
}

func (it shardIterator) encode(arn string) string {
	b := make([]byte, 0, 64)
	b = binary.BigEndian.AppendUint64(b, it.stream)
	b = binary.BigEndian.AppendUint32(b, it.shard)
	b = binary.BigEndian.AppendUint64(b, it.after)
	b = binary.BigEndian.AppendUint64(b, uint64(it.issued.UnixMilli()))
	b = append(b, it.region...)
	return arn + "|1|" + base64.RawURLEncoding.EncodeToString(b)
}

// decodeIterator parses an iterator; arn is the stream ARN it starts with.
func decodeIterator(s string) (it shardIterator, arn string, ok bool) {
	i := strings.LastIndex(s, "|1|")
	if i < 0 {
		return it, "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(s[i+3:])
	if err != nil || len(b) < 28 {
		return it, "", false
	}
	it.stream = binary.BigEndian.Uint64(b)
	it.shard = binary.BigEndian.Uint32(b[8:])
	it.after = binary.BigEndian.Uint64(b[12:])
	it.issued = time.UnixMilli(int64(binary.BigEndian.Uint64(b[20:])))
	it.region = string(b[28:])
	return it, s[:i], true
}

type getShardIteratorInput struct {
	StreamArn         *string `json:"StreamArn"`
	ShardId           *string `json:"ShardId"`
	ShardIteratorType *string `json:"ShardIteratorType"`
	SequenceNumber    *string `json:"SequenceNumber"`
}

type getShardIteratorOutput struct {
	ShardIterator string `json:"ShardIterator"`
}

const (
	iterTrimHorizon = "TRIM_HORIZON"
	iterLatest      = "LATEST"
	iterAt          = "AT_SEQUENCE_NUMBER"
	iterAfter       = "AFTER_SEQUENCE_NUMBER"
)

func (in *getShardIteratorInput) check() error {
	var c checker
	if in.StreamArn == nil {
		c.fail(nil, "streamArn", mustNotBeNull)
	}
	checkArn(&c, "streamArn", in.StreamArn)
	if in.ShardId == nil {
		c.fail(nil, "shardId", mustNotBeNull)
	} else if n := len(*in.ShardId); n < 28 {
		c.fail(*in.ShardId, "shardId", "Member must have length greater than or equal to 28")
	} else if n > 65 {
		c.fail(*in.ShardId, "shardId", "Member must have length less than or equal to 65")
	}
	if in.ShardIteratorType == nil {
		c.fail(nil, "shardIteratorType", mustNotBeNull)
	}
	c.enum("shardIteratorType", in.ShardIteratorType, iterTrimHorizon, iterLatest, iterAt, iterAfter)
	if q := in.SequenceNumber; q != nil {
		if n := len(*q); n < 21 {
			c.fail(*q, "sequenceNumber", "Member must have length greater than or equal to 21")
		} else if n > 40 {
			c.fail(*q, "sequenceNumber", "Member must have length less than or equal to 40")
		}
	}
	return c.err()
}

func (s *Server) getShardIterator(ctx context.Context, body []byte) (any, error) {
	var in getShardIteratorInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	info, shards, err := s.streamShards(*in.StreamArn)
	if err != nil {
		return nil, err
	}
	sh, ok := findShard(shards, *in.ShardId)
	if !ok {
		return nil, ResourceNotFound("Requested resource not found: Shard: %s in Stream: %s not found", *in.ShardId, *in.StreamArn)
	}
	horizon, err := s.db.StreamTrimHorizon(info.ID)
	if err != nil {
		return nil, fmt.Errorf("read stream %d: %w", info.ID, err)
	}
	it := shardIterator{region: s.cfg.Region, stream: info.ID, shard: sh.Index, issued: s.cfg.Now()}
	switch typ := *in.ShardIteratorType; typ {
	case iterTrimHorizon:
		it.after = max(sh.Start-1, horizon)
	case iterLatest:
		if !sh.Open() {
			it.after = sh.End
			break
		}
		last, err := s.db.StreamLatest(info.ID)
		if err != nil {
			return nil, fmt.Errorf("read stream %d: %w", info.ID, err)
		}
		it.after = max(sh.Start-1, last)
	default:
		if in.SequenceNumber == nil {
			return nil, Validation("Sequence number must be specified for shard iterator type %s", typ)
		}
		seq, ok := parseSeq(*in.SequenceNumber)
		if !ok || seq < sh.Start || (!sh.Open() && seq > sh.End) {
			return nil, Validation("Invalid SequenceNumber for ShardIteratorType %s: %s is not in shard %s", typ, *in.SequenceNumber, *in.ShardId)
		}
		if seq <= horizon {
			return nil, trimmedPosition(*in.SequenceNumber)
		}
		it.after = seq
		if typ == iterAt {
			it.after = seq - 1
		}
	}
	return getShardIteratorOutput{it.encode(*in.StreamArn)}, nil
}

func trimmedPosition(seq string) error {
	return TrimmedDataAccess("The operation attempted to read past the oldest stream record in a shard: sequence number %s has been trimmed", seq)
}

type getRecordsInput struct {
	ShardIterator *string `json:"ShardIterator"`
	Limit         *int64  `json:"Limit"`
}

type getRecordsOutput struct {
	Records           []streamRecordJSON `json:"Records"`
	NextShardIterator string             `json:"NextShardIterator,omitempty"`
}

type streamRecordJSON struct {
	EventID      string            `json:"eventID"`
	EventName    string            `json:"eventName"`
	EventVersion string            `json:"eventVersion"`
	EventSource  string            `json:"eventSource"`
	AwsRegion    string            `json:"awsRegion"`
	Dynamodb     streamRecordBody  `json:"dynamodb"`
	UserIdentity *userIdentity     `json:"userIdentity,omitempty"`
	Globaltables *recordExtensions `json:"globaltables,omitempty"`
}

type streamRecordBody struct {
	ApproximateCreationDateTime int64     `json:"ApproximateCreationDateTime"`
	Keys                        attr.Item `json:"Keys"`
	NewImage                    attr.Item `json:"NewImage,omitempty"`
	OldImage                    attr.Item `json:"OldImage,omitempty"`
	SequenceNumber              string    `json:"SequenceNumber"`
	SizeBytes                   int       `json:"SizeBytes"`
	StreamViewType              string    `json:"StreamViewType"`
}

type userIdentity struct {
	PrincipalId string `json:"PrincipalId"`
	Type        string `json:"Type"`
}

// recordExtensions are the lab's fields, sent only to requests with
// ExtensionsHeader.
type recordExtensions struct {
	OriginRegion   string `json:"originRegion"`
	OverwroteLocal bool   `json:"overwroteLocal"`
}

func invalidIterator() error { return Validation("Invalid ShardIterator") }

func (s *Server) getRecords(ctx context.Context, body []byte) (any, error) {
	var in getRecordsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	if in.ShardIterator == nil {
		c.fail(nil, "shardIterator", mustNotBeNull)
	} else if n := len(*in.ShardIterator); n < 1 || n > 2048 {
		c.fail("...", "shardIterator", "Member must have length less than or equal to 2048")
	}
	checkLimit(&c, in.Limit, maxGetRecords)
	if err := c.err(); err != nil {
		return nil, err
	}
	it, arn, ok := decodeIterator(*in.ShardIterator)
	if !ok || it.region != s.cfg.Region {
		return nil, invalidIterator()
	}
	now := s.cfg.Now()
	if now.Sub(it.issued) > iteratorLifetime {
		return nil, ExpiredIterator("Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			it.issued.UTC().Format(time.RFC1123), now.UTC().Format(time.RFC1123), iteratorLifetime.Milliseconds())
	}
	// The iterator names the stream: one read, not a search by ARN.
	info, _, err := s.db.Stream(it.stream)
	if errors.Is(err, store.ErrStreamNotFound) {
		return nil, streamNotFound(arn)
	}
	if err != nil {
		return nil, fmt.Errorf("read stream %d: %w", it.stream, err)
	}
	if s.streamArn(info) != arn {
		return nil, invalidIterator()
	}
	limit := maxGetRecords
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	page, err := s.db.StreamRecords(it.stream, it.shard, it.after, limit, maxRecordsBytes)
	switch {
	case errors.Is(err, store.ErrTrimmed):
		return nil, trimmedPosition(streamid.SequenceNumber(it.after + 1))
	case errors.Is(err, store.ErrStreamNotFound):
		// The shard was trimmed away after its retention.
		return nil, trimmedPosition(streamid.SequenceNumber(it.after + 1))
	case err != nil:
		return nil, fmt.Errorf("read stream %d: %w", it.stream, err)
	}
	out := getRecordsOutput{Records: make([]streamRecordJSON, 0, len(page.Records))}
	ext := extensionsOn(ctx)
	for _, r := range page.Records {
		out.Records = append(out.Records, s.recordJSON(info, r, ext))
	}
	if !page.Exhausted {
		next := it
		next.after, next.issued = page.Next, now
		out.NextShardIterator = next.encode(arn)
	}
	return out, nil
}

// recordJSON renders a record as DynamoDB Streams does.
func (s *Server) recordJSON(info *store.StreamInfo, r *store.StreamRecord, ext bool) streamRecordJSON {
	j := streamRecordJSON{
		EventID:      streamid.EventID(s.cfg.Region, info, r.Seq),
		EventName:    r.EventName,
		EventVersion: "1.1",
		EventSource:  "aws:dynamodb",
		AwsRegion:    s.cfg.Region,
		Dynamodb: streamRecordBody{
			ApproximateCreationDateTime: r.CreatedAt.Unix(),
			Keys:                        r.Keys,
			NewImage:                    r.NewImage,
			OldImage:                    r.OldImage,
			SequenceNumber:              streamid.SequenceNumber(r.Seq),
			SizeBytes:                   r.SizeBytes,
			StreamViewType:              info.ViewType,
		},
	}
	if r.TTL {
		j.UserIdentity = &userIdentity{PrincipalId: "dynamodb.amazonaws.com", Type: "Service"}
	}
	if ext {
		j.Globaltables = &recordExtensions{OriginRegion: r.OriginRegion, OverwroteLocal: r.OverwroteLocal}
	}
	return j
}

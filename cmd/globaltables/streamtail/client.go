package streamtail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/globaltables/globaltables/region/api/sigv4"
)

// extensionsHeader asks a region for the lab's fields in each record
// (api.ExtensionsHeader).
const extensionsHeader = "X-Globaltables-Extensions"

// Endpoint is one region's Streams API.
type Endpoint struct {
	// Region names the region (its name signs requests).
	Region string
	// URL is its DynamoDB endpoint, e.g. http://127.0.0.1:8001.
	URL string
	// HTTP sends the requests; default a client with a 10 s timeout.
	HTTP *http.Client
	// Credential, if set, signs each request.
	Credential *sigv4.Credential
}

// APIError is an error answer of the Streams API.
type APIError struct {
	Status  int
	Type    string // e.g. "ResourceNotFoundException"
	Message string
}

func (e *APIError) Error() string { return e.Type + ": " + e.Message }

// isAPIError reports whether err is an APIError of type typ.
func isAPIError(err error, typ string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Type == typ
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// call sends one Streams operation.
func (e *Endpoint) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDBStreams_20120810."+op)
	req.Header.Set(extensionsHeader, "1")
	if e.Credential != nil {
		if err := sigv4.Sign(req, body, *e.Credential, e.Region, time.Now()); err != nil {
			return fmt.Errorf("sign request: %w", err)
		}
	}
	hc := e.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s in %s: %w", op, e.Region, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s in %s: %w", op, e.Region, err)
	}
	if resp.StatusCode != http.StatusOK {
		var ae struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		json.Unmarshal(b, &ae)
		typ := ae.Type[strings.LastIndexByte(ae.Type, '#')+1:]
		if typ == "" {
			typ = resp.Status
		}
		msg := ae.Message + ae.Msg
		if msg == "" {
			msg = strings.TrimSpace(string(b))
		}
		return fmt.Errorf("%s in %s: %w", op, e.Region, &APIError{Status: resp.StatusCode, Type: typ, Message: msg})
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s in %s: %w", op, e.Region, err)
	}
	return nil
}

// The operations' shapes, as much of them as tail uses.

type streamSummary struct {
	StreamArn   string `json:"StreamArn"`
	StreamLabel string `json:"StreamLabel"`
}

type listStreamsOutput struct {
	Streams                []streamSummary `json:"Streams"`
	LastEvaluatedStreamArn string          `json:"LastEvaluatedStreamArn"`
}

type keySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type shard struct {
	ShardID             string `json:"ShardId"`
	ParentShardID       string `json:"ParentShardId"`
	SequenceNumberRange struct {
		Starting string `json:"StartingSequenceNumber"`
		Ending   string `json:"EndingSequenceNumber"`
	} `json:"SequenceNumberRange"`
}

type streamDescription struct {
	StreamArn            string             `json:"StreamArn"`
	StreamStatus         string             `json:"StreamStatus"`
	KeySchema            []keySchemaElement `json:"KeySchema"`
	Shards               []shard            `json:"Shards"`
	LastEvaluatedShardID string             `json:"LastEvaluatedShardId"`
}

// streamRecord is a GetRecords record: DynamoDB's fields and the lab's.
type streamRecord struct {
	EventName string `json:"eventName"`
	AwsRegion string `json:"awsRegion"`
	Dynamodb  struct {
		ApproximateCreationDateTime float64                    `json:"ApproximateCreationDateTime"`
		Keys                        map[string]json.RawMessage `json:"Keys"`
		SequenceNumber              string                     `json:"SequenceNumber"`
	} `json:"dynamodb"`
	UserIdentity *struct {
		Type string `json:"Type"`
	} `json:"userIdentity"`
	Globaltables *struct {
		OriginRegion   string `json:"originRegion"`
		OverwroteLocal bool   `json:"overwroteLocal"`
	} `json:"globaltables"`
}

// latestStream returns the ARN of table's newest stream, "" if it has
// none.
func (e *Endpoint) latestStream(ctx context.Context, table string) (string, error) {
	var newest streamSummary
	in := map[string]any{"TableName": table}
	for {
		var out listStreamsOutput
		if err := e.call(ctx, "ListStreams", in, &out); err != nil {
			return "", err
		}
		for _, s := range out.Streams {
			if s.StreamLabel > newest.StreamLabel || newest.StreamArn == "" {
				newest = s
			}
		}
		if out.LastEvaluatedStreamArn == "" {
			return newest.StreamArn, nil
		}
		in["ExclusiveStartStreamArn"] = out.LastEvaluatedStreamArn
	}
}

// describe returns a stream's description with all of its shards.
func (e *Endpoint) describe(ctx context.Context, arn string) (*streamDescription, error) {
	var all *streamDescription
	in := map[string]any{"StreamArn": arn}
	for {
		var out struct {
			StreamDescription streamDescription `json:"StreamDescription"`
		}
		if err := e.call(ctx, "DescribeStream", in, &out); err != nil {
			return nil, err
		}
		d := out.StreamDescription
		if all == nil {
			all = &d
		} else {
			all.Shards = append(all.Shards, d.Shards...)
			all.StreamStatus = d.StreamStatus
		}
		if d.LastEvaluatedShardID == "" {
			return all, nil
		}
		in["ExclusiveStartShardId"] = d.LastEvaluatedShardID
	}
}

func (e *Endpoint) iterator(ctx context.Context, arn, shardID, typ, seq string) (string, error) {
	in := map[string]any{"StreamArn": arn, "ShardId": shardID, "ShardIteratorType": typ}
	if seq != "" {
		in["SequenceNumber"] = seq
	}
	var out struct {
		ShardIterator string `json:"ShardIterator"`
	}
	err := e.call(ctx, "GetShardIterator", in, &out)
	return out.ShardIterator, err
}

func (e *Endpoint) records(ctx context.Context, it string) ([]json.RawMessage, string, error) {
	var out struct {
		Records           []json.RawMessage `json:"Records"`
		NextShardIterator string            `json:"NextShardIterator"`
	}
	err := e.call(ctx, "GetRecords", map[string]any{"ShardIterator": it}, &out)
	return out.Records, out.NextShardIterator, err
}

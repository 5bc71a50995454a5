package trigger

import (
	"github.com/globaltables/globaltables/region/api/streamid"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// Event is the payload a Lambda function receives from a DynamoDB stream.
type Event struct {
	Records []Record `json:"Records"`
}

// Record is one stream record as Lambda delivers it: the Streams API's
// record plus eventSourceARN, the stream's ARN.
type Record struct {
	EventID        string        `json:"eventID"`
	EventName      string        `json:"eventName"`
	EventVersion   string        `json:"eventVersion"`
	EventSource    string        `json:"eventSource"`
	AwsRegion      string        `json:"awsRegion"`
	Dynamodb       StreamRecord  `json:"dynamodb"`
	EventSourceARN string        `json:"eventSourceARN"`
	UserIdentity   *UserIdentity `json:"userIdentity,omitempty"`
}

// StreamRecord is the "dynamodb" member of a record.
type StreamRecord struct {
	ApproximateCreationDateTime int64     `json:"ApproximateCreationDateTime"`
	Keys                        attr.Item `json:"Keys"`
	NewImage                    attr.Item `json:"NewImage,omitempty"`
	OldImage                    attr.Item `json:"OldImage,omitempty"`
	SequenceNumber              string    `json:"SequenceNumber"`
	SizeBytes                   int       `json:"SizeBytes"`
	StreamViewType              string    `json:"StreamViewType"`
}

// UserIdentity marks the deletions made by the TTL sweeper, as DynamoDB
// marks them.
type UserIdentity struct {
	PrincipalID string `json:"principalId"`
	Type        string `json:"type"`
}

// record renders a store record as Lambda delivers it.
func record(region, account string, info *store.StreamInfo, r *store.StreamRecord) Record {
	rec := Record{
		EventID:      streamid.EventID(region, info, r.Seq),
		EventName:    r.EventName,
		EventVersion: "1.1",
		EventSource:  "aws:dynamodb",
		AwsRegion:    region,
		Dynamodb: StreamRecord{
			ApproximateCreationDateTime: r.CreatedAt.Unix(),
			Keys:                        r.Keys,
			NewImage:                    r.NewImage,
			OldImage:                    r.OldImage,
			SequenceNumber:              streamid.SequenceNumber(r.Seq),
			SizeBytes:                   r.SizeBytes,
			StreamViewType:              info.ViewType,
		},
		EventSourceARN: streamid.ARN(region, account, info),
	}
	if r.TTL {
		rec.UserIdentity = &UserIdentity{PrincipalID: "dynamodb.amazonaws.com", Type: "Service"}
	}
	return rec
}

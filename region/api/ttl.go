package api

import (
	"context"

	"github.com/globaltables/globaltables/store"
)

// Time to live is kept in store.Table.TTLAttribute and TTLEnabled, which the
// region's TTL sweeper reads. A disabled TTL keeps no attribute name:
// DescribeTimeToLive cannot show the previous one either in DynamoDB.
//
// DynamoDB refuses a second change within about an hour of the previous one
// ("Time to live has been modified multiple times within a fixed interval").
// That cooldown is not reproduced: it would only slow down tests and
// development, which is what this tool is for.

// TTL statuses. ENABLING and DISABLING are never shown: a change takes
// effect when UpdateTimeToLive returns.
const (
	ttlEnabled  = "ENABLED"
	ttlDisabled = "DISABLED"
)

// TimeToLiveSpecification is the request and response shape of
// UpdateTimeToLive.
type TimeToLiveSpecification struct {
	Enabled       *bool   `json:"Enabled"`
	AttributeName *string `json:"AttributeName"`
}

// TimeToLiveDescription is DescribeTimeToLive's answer.
type TimeToLiveDescription struct {
	TimeToLiveStatus string `json:"TimeToLiveStatus"`
	AttributeName    string `json:"AttributeName,omitempty"`
}

type updateTimeToLiveInput struct {
	TableName               *string                  `json:"TableName"`
	TimeToLiveSpecification *TimeToLiveSpecification `json:"TimeToLiveSpecification"`
}

type updateTimeToLiveOutput struct {
	TimeToLiveSpecification TimeToLiveSpecification `json:"TimeToLiveSpecification"`
}

type describeTimeToLiveOutput struct {
	TimeToLiveDescription TimeToLiveDescription `json:"TimeToLiveDescription"`
}

func (in *updateTimeToLiveInput) check() error {
	var c checker
	c.tableName("tableName", in.TableName)
	spec := in.TimeToLiveSpecification
	if spec == nil {
		c.fail(nil, "timeToLiveSpecification", mustNotBeNull)
		return c.err()
	}
	if spec.Enabled == nil {
		c.fail(nil, "timeToLiveSpecification.enabled", mustNotBeNull)
	}
	switch {
	case spec.AttributeName == nil:
		c.fail(nil, "timeToLiveSpecification.attributeName", mustNotBeNull)
	case len(*spec.AttributeName) < 1:
		c.fail(spec.AttributeName, "timeToLiveSpecification.attributeName", "Member must have length greater than or equal to 1")
	case len(*spec.AttributeName) > 255:
		c.fail(spec.AttributeName, "timeToLiveSpecification.attributeName", "Member must have length less than or equal to 255")
	}
	return c.err()
}

// updateTimeToLive implements UpdateTimeToLive. Like DynamoDB's, it is not
// idempotent: enabling an enabled TTL or disabling a disabled one is an
// error, and the attribute can change only through a disable.
func (s *Server) updateTimeToLive(ctx context.Context, body []byte) (any, error) {
	var in updateTimeToLiveInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	spec := in.TimeToLiveSpecification
	enable, name := *spec.Enabled, *spec.AttributeName
	_, err := s.updateSettings(*in.TableName, func(t *store.Table) error {
		switch {
		case t.TTLEnabled && t.TTLAttribute != name:
			return Validation("TimeToLive is active on a different AttributeName: current AttributeName is %s", t.TTLAttribute)
		case t.TTLEnabled && enable:
			return Validation("TimeToLive is already enabled")
		case !t.TTLEnabled && !enable:
			return Validation("TimeToLive is already disabled")
		case enable:
			t.TTLEnabled, t.TTLAttribute = true, name
		default:
			t.TTLEnabled, t.TTLAttribute = false, ""
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return updateTimeToLiveOutput{TimeToLiveSpecification: TimeToLiveSpecification{Enabled: &enable, AttributeName: &name}}, nil
}

// describeTimeToLive implements DescribeTimeToLive.
func (s *Server) describeTimeToLive(ctx context.Context, body []byte) (any, error) {
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
	if !t.TTLEnabled {
		return describeTimeToLiveOutput{TimeToLiveDescription{TimeToLiveStatus: ttlDisabled}}, nil
	}
	return describeTimeToLiveOutput{TimeToLiveDescription{TimeToLiveStatus: ttlEnabled, AttributeName: t.TTLAttribute}}, nil
}

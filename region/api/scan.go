package api

import (
	"context"
	"errors"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

func (s *Server) scan(ctx context.Context, body []byte) (any, error) {
	var in scanInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := requireTableName(in.TableName); err != nil {
		return nil, err
	}
	if err := readConditionalOperatorRule(in.ConditionalOperator); err != nil {
		return nil, err
	}
	c := &checker{}
	in.check(c)
	if in.Segment != nil && *in.Segment < 0 {
		c.fail(in.Segment, "segment", "Member must have value greater than or equal to 0")
	}
	if in.Segment != nil && *in.Segment > 999999 {
		c.fail(in.Segment, "segment", "Member must have value less than or equal to 999999")
	}
	if in.TotalSegments != nil && *in.TotalSegments < 1 {
		c.fail(in.TotalSegments, "totalSegments", "Member must have value greater than or equal to 1")
	}
	if in.TotalSegments != nil && *in.TotalSegments > 1000000 {
		c.fail(in.TotalSegments, "totalSegments", "Member must have value less than or equal to 1000000")
	}
	checkConditions(c, "scanFilter", in.ScanFilter)
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := mixingRule(
		[]param{{"ProjectionExpression", in.ProjectionExpression != nil}, {"FilterExpression", in.FilterExpression != nil}},
		[]param{{"AttributesToGet", in.AttributesToGet != nil}, {"ScanFilter", in.ScanFilter != nil}, {"ConditionalOperator", in.ConditionalOperator != nil}}); err != nil {
		return nil, err
	}
	if err := checkAttributesToGet(in.AttributesToGet); err != nil {
		return nil, err
	}
	legacyFilter, err := filterCondition(in.ScanFilter, in.ConditionalOperator)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Segment != nil && in.TotalSegments == nil:
		return nil, Validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case in.Segment == nil && in.TotalSegments != nil:
		return nil, Validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case in.Segment != nil && *in.Segment >= *in.TotalSegments:
		return nil, Validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d",
			*in.Segment, *in.TotalSegments)
	}
	present := presentExprs("ProjectionExpression", in.ProjectionExpression, "FilterExpression", in.FilterExpression)
	ectx, err := in.context(present, []string{"FilterExpression"})
	if err != nil {
		return nil, err
	}
	p, err := s.parsePlan(&in.readInput, ectx, legacyFilter)
	if err != nil {
		return nil, err
	}
	if err := p.checkStartKey(in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	if err := p.checkKeyPaths(true); err != nil {
		return nil, err
	}
	sc := store.ScanInput{Table: p.table, Start: in.ExclusiveStartKey, TotalSegments: 1}
	if in.TotalSegments != nil {
		sc.Segment, sc.TotalSegments = int(*in.Segment), int(*in.TotalSegments)
	}
	if p.index != nil {
		sc.Index = p.index.Name
	}
	return s.run(p, in.ReturnConsumedCapacity, func(fn func(it, lastKey attr.Item) bool) error {
		err := s.db.Scan(sc, fn)
		if errors.Is(err, store.ErrStartOutsideSegment) {
			return Validation("The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: %d Segment: %d",
				sc.TotalSegments, sc.Segment)
		}
		return err
	})
}

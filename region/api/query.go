package api

import (
	"context"

	"github.com/globaltables/globaltables/region/expr"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// maxPageBytes is DynamoDB's limit on the data one Query or Scan page reads.
const maxPageBytes = 1 << 20

// readInput is what Query and Scan share.
type readInput struct {
	exprInput
	TableName              *string   `json:"TableName"`
	IndexName              *string   `json:"IndexName"`
	FilterExpression       *string   `json:"FilterExpression"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	Select                 *string   `json:"Select"`
	Limit                  *int64    `json:"Limit"`
	ConsistentRead         *bool     `json:"ConsistentRead"`
	ExclusiveStartKey      attr.Item `json:"ExclusiveStartKey"`
	ReturnConsumedCapacity *string   `json:"ReturnConsumedCapacity"`
	AttributesToGet        []string  `json:"AttributesToGet"`
	ConditionalOperator    *string   `json:"ConditionalOperator"`
}

type queryInput struct {
	readInput
	KeyConditionExpression *string          `json:"KeyConditionExpression"`
	ScanIndexForward       *bool            `json:"ScanIndexForward"`
	KeyConditions          legacyConditions `json:"KeyConditions"`
	QueryFilter            legacyConditions `json:"QueryFilter"`
}

type scanInput struct {
	readInput
	Segment       *int64           `json:"Segment"`
	TotalSegments *int64           `json:"TotalSegments"`
	ScanFilter    legacyConditions `json:"ScanFilter"`
}

// readResponse is the response of Query and Scan.
type readResponse struct {
	Items            []attr.Item       `json:"Items,omitempty"`
	Count            int               `json:"Count"`
	ScannedCount     int               `json:"ScannedCount"`
	LastEvaluatedKey attr.Item         `json:"LastEvaluatedKey,omitempty"`
	ConsumedCapacity *ConsumedCapacity `json:"ConsumedCapacity,omitempty"`
	selectCount      bool
}

// check runs the constraint checks Query and Scan share.
func (in *readInput) check(c *checker) {
	c.tableName("tableName", in.TableName)
	if in.IndexName != nil {
		c.tableName("indexName", in.IndexName)
	}
	c.enum("select", in.Select, "SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
	c.enum("returnConsumedCapacity", in.ReturnConsumedCapacity, "INDEXES", "TOTAL", "NONE")
	if in.Limit != nil && *in.Limit < 1 {
		c.fail(in.Limit, "limit", "Member must have value greater than or equal to 1")
	}
}

// readConditionalOperatorRule checks the ConditionalOperator of a Query or
// Scan. DynamoDB reports an unknown one before, and instead of, the other
// constraint violations, in a newer form of its own, whose enumeration
// reads [ALL, OR] (sic; measured in two regions by
// paritysuite/dynamodb-conformance, 2026).
func readConditionalOperatorRule(op *string) error {
	if op == nil || *op == "AND" || *op == "OR" {
		return nil
	}
	return Validation("Failed to satisfy constraint: Member must satisfy enum value set: [ALL, OR]")
}

// readPlan is a validated Query or Scan, ready to run.
type readPlan struct {
	table      *store.Table
	index      *store.Index // nil for the table
	filter     *expr.Condition
	projection *expr.Projection
	selectMode string
	limit      int
	consistent bool
	fetchBase  bool // an LSI read that needs attributes it does not project
}

// parsePlan parses the FilterExpression and ProjectionExpression (or
// AttributesToGet) that Query and Scan share, checks that ectx's names and
// values were all used, and plans the read. legacyFilter is the request's
// QueryFilter or ScanFilter, already translated (nil if none).
func (s *Server) parsePlan(in *readInput, ectx *expr.Context, legacyFilter *expr.Condition) (*readPlan, error) {
	filter, proj, err := parseReadExprs(in, ectx, legacyFilter)
	if err != nil {
		return nil, err
	}
	return s.plan(in, filter, proj)
}

// parseReadExprs parses the FilterExpression and ProjectionExpression (or
// AttributesToGet) of a Query or Scan and checks that ectx's names and
// values were all used: the checks that need no table, which DynamoDB makes
// before it looks the table up.
func parseReadExprs(in *readInput, ectx *expr.Context, legacyFilter *expr.Condition) (*expr.Condition, *expr.Projection, error) {
	filter := legacyFilter
	var err error
	if in.FilterExpression != nil {
		if filter, err = expr.ParseCondition(ectx, "FilterExpression", *in.FilterExpression); err != nil {
			return nil, nil, exprError(err)
		}
	}
	var proj *expr.Projection
	if in.ProjectionExpression != nil {
		if proj, err = expr.ParseProjection(ectx, *in.ProjectionExpression); err != nil {
			return nil, nil, exprError(err)
		}
	}
	if err := ectx.CheckUnused(); err != nil {
		return nil, nil, exprError(err)
	}
	if in.AttributesToGet != nil {
		if proj, err = projectionOf(in.AttributesToGet); err != nil {
			return nil, nil, err
		}
	}
	return filter, proj, nil
}

// plan validates what Query and Scan share once the table is known.
func (s *Server) plan(in *readInput, filter *expr.Condition, proj *expr.Projection) (*readPlan, error) {
	t, err := s.activeTable(*in.TableName)
	if err != nil {
		return nil, err
	}
	p := &readPlan{table: t, filter: filter, projection: proj, limit: -1}
	if in.Limit != nil {
		p.limit = int(*in.Limit)
	}
	p.consistent = in.ConsistentRead != nil && *in.ConsistentRead
	if in.IndexName != nil {
		p.index = findIndex(t, *in.IndexName)
		if p.index == nil {
			return nil, Validation("The table does not have the specified index: %s", *in.IndexName)
		}
		if !p.index.Local && p.consistent {
			return nil, Validation("Consistent reads are not supported on global secondary indexes")
		}
		if !p.index.Local && p.index.Status == "CREATING" {
			return nil, Validation("Cannot read from backfilling global secondary index: %s", p.index.Name)
		}
	}
	sel := ""
	if in.Select != nil {
		sel = *in.Select
	}
	hasProj := in.ProjectionExpression != nil || in.AttributesToGet != nil
	projName := "ProjectionExpression"
	if in.AttributesToGet != nil {
		projName = "AttributesToGet"
	}
	switch sel {
	case "":
		switch {
		case hasProj:
			sel = "SPECIFIC_ATTRIBUTES"
		case p.index != nil:
			sel = "ALL_PROJECTED_ATTRIBUTES"
		default:
			sel = "ALL_ATTRIBUTES"
		}
	case "SPECIFIC_ATTRIBUTES":
		if !hasProj {
			return nil, Validation("One or more parameter values were invalid: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
		}
	case "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT":
		if hasProj {
			return nil, Validation("Cannot specify the %s when choosing to get %s", projName, sel)
		}
		if sel == "ALL_PROJECTED_ATTRIBUTES" && p.index == nil {
			return nil, Validation("One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is not supported for a table without an index")
		}
	}
	p.selectMode = sel
	if p.index != nil && p.index.Projection.Type != "ALL" {
		needsAll := sel == "ALL_ATTRIBUTES"
		if needsAll && !p.index.Local {
			return nil, Validation("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", p.index.Name)
		}
		// A local index fetches what it does not project from the table,
		// as DynamoDB does (at the cost of extra reads).
		p.fetchBase = p.index.Local && (needsAll || sel == "SPECIFIC_ATTRIBUTES" || filter != nil)
	}
	return p, nil
}

func findIndex(t *store.Table, name string) *store.Index {
	for i := range t.GSIs {
		if t.GSIs[i].Name == name {
			return &t.GSIs[i]
		}
	}
	for i := range t.LSIs {
		if t.LSIs[i].Name == name {
			return &t.LSIs[i]
		}
	}
	return nil
}

// startKeyNames are the attributes an ExclusiveStartKey must have: the
// table's key, plus the index's key for an index read.
func (p *readPlan) startKeyNames() []store.KeyElement {
	ks := tableKeys(p.table)
	if p.index == nil {
		return ks
	}
	add := func(ke store.KeyElement) {
		for _, k := range ks {
			if k.Name == ke.Name {
				return
			}
		}
		ks = append(ks, ke)
	}
	add(p.index.Hash)
	if p.index.Range != nil {
		add(*p.index.Range)
	}
	return ks
}

// checkStartKey validates ExclusiveStartKey against the key schema.
func (p *readPlan) checkStartKey(start attr.Item) error {
	if start == nil {
		return nil
	}
	names := p.startKeyNames()
	if len(start) != len(names) {
		if p.index == nil {
			return Validation("The provided starting key is invalid: The provided key element does not match the schema")
		}
		return Validation("The provided starting key is invalid")
	}
	for _, ke := range names {
		v, ok := start[ke.Name]
		if !ok || v.Type != ke.Type {
			if p.index == nil {
				return Validation("The provided starting key is invalid: The provided key element does not match the schema")
			}
			return Validation("The provided starting key is invalid")
		}
	}
	return nil
}

// checkKeyPaths refuses a projection (and, with filter set, a filter) that
// reaches into a key attribute. A Query's filter may not name key
// attributes at all, which it checks separately.
func (p *readPlan) checkKeyPaths(filter bool) error {
	if p.projection != nil {
		if err := checkKeyPaths(p.table, p.projection.Paths()); err != nil {
			return err
		}
	}
	if filter && p.filter != nil {
		return checkKeyPaths(p.table, p.filter.Paths())
	}
	return nil
}

// run evaluates items from iterate, one page's worth, and builds the
// response. iterate calls its argument for each stored item in order until
// it returns false.
func (s *Server) run(p *readPlan, mode *string, iterate func(fn func(it, lastKey attr.Item) bool) error) (*readResponse, error) {
	out := &readResponse{selectCount: p.selectMode == "COUNT"}
	size := 0
	var lastKey attr.Item
	var failed error
	stopped := false
	err := iterate(func(it, lk attr.Item) bool {
		if p.fetchBase {
			rec, err := s.db.GetItem(p.table, keyOf(p.table, it))
			if err != nil {
				failed = err
				return false
			}
			if rec.Deleted || rec.Version.IsZero() {
				return true
			}
			it = rec.Item
		}
		itemSize := attr.ItemSize(it)
		if out.ScannedCount > 0 && size+itemSize > maxPageBytes {
			// The page holds what fits in 1 MB; this item starts the
			// next one, as in DynamoDB.
			stopped = true
			return false
		}
		out.ScannedCount++
		size += itemSize
		lastKey = lk
		keep := true
		if p.filter != nil {
			ok, err := p.filter.Eval(it)
			if err != nil {
				failed = exprError(err)
				return false
			}
			keep = ok
		}
		if keep {
			out.Count++
			if !out.selectCount {
				if p.projection != nil {
					it = p.projection.Apply(it)
				}
				out.Items = append(out.Items, it)
			}
		}
		if p.limit > 0 && out.ScannedCount >= p.limit {
			stopped = true
			return false
		}
		return true
	})
	if failed != nil {
		return nil, failed
	}
	if err != nil {
		return nil, err
	}
	if stopped {
		out.LastEvaluatedKey = lastKey
	}
	m := s.newMeter(mode)
	idx := ""
	if p.index != nil {
		idx = p.index.Name
	}
	m.read(p.table, idx, size, p.consistent, 1)
	out.ConsumedCapacity = m.one(p.table.Name)
	if !out.selectCount && out.Items == nil {
		out.Items = []attr.Item{}
	}
	return out, nil
}

// MarshalJSON renders Items even when empty (DynamoDB sends "Items":[]),
// and leaves them out for Select=COUNT.
func (r *readResponse) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if !r.selectCount {
		dst = append(dst, `"Items":[`...)
		for i, it := range r.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = attr.AppendItemJSON(dst, it)
		}
		dst = append(dst, "],"...)
	}
	dst = append(dst, `"Count":`...)
	dst = appendInt(dst, r.Count)
	dst = append(dst, `,"ScannedCount":`...)
	dst = appendInt(dst, r.ScannedCount)
	if r.LastEvaluatedKey != nil {
		dst = append(dst, `,"LastEvaluatedKey":`...)
		dst = attr.AppendItemJSON(dst, r.LastEvaluatedKey)
	}
	if r.ConsumedCapacity != nil {
		dst = append(dst, `,"ConsumedCapacity":`...)
		dst = appendAnyJSON(dst, r.ConsumedCapacity)
	}
	return append(dst, '}')
}

func (s *Server) query(ctx context.Context, body []byte) (any, error) {
	var in queryInput
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
	checkConditions(c, "queryFilter", in.QueryFilter)
	checkConditions(c, "keyConditions", in.KeyConditions)
	if err := c.err(); err != nil {
		return nil, err
	}
	// KeyConditions may go with the other expressions as long as there is
	// no KeyConditionExpression, as in DynamoDB.
	if err := mixingRule(
		[]param{{"ProjectionExpression", in.ProjectionExpression != nil}, {"FilterExpression", in.FilterExpression != nil}, {"KeyConditionExpression", in.KeyConditionExpression != nil}},
		[]param{{"AttributesToGet", in.AttributesToGet != nil}, {"QueryFilter", in.QueryFilter != nil}, {"ConditionalOperator", in.ConditionalOperator != nil},
			{"KeyConditions", in.KeyConditions != nil && in.KeyConditionExpression != nil}}); err != nil {
		return nil, err
	}
	legacyFilter, err := filterCondition(in.QueryFilter, in.ConditionalOperator)
	if err != nil {
		return nil, err
	}
	if err := checkAttributesToGet(in.AttributesToGet); err != nil {
		return nil, err
	}
	if in.KeyConditionExpression == nil && in.KeyConditions == nil {
		return nil, Validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	present := presentExprs("ProjectionExpression", in.ProjectionExpression, "FilterExpression", in.FilterExpression,
		"KeyConditionExpression", in.KeyConditionExpression)
	ectx, err := in.context(present, []string{"FilterExpression", "KeyConditionExpression"})
	if err != nil {
		return nil, err
	}
	// Everything that needs no table is checked before the table is looked
	// up, as DynamoDB does: the key condition as far as it can be without
	// the key schema, the filter, the projection and unused placeholders.
	var pending *expr.PendingKeyCondition
	if in.KeyConditionExpression != nil {
		if pending, err = expr.PrepareKeyCondition(ectx, *in.KeyConditionExpression); err != nil {
			return nil, exprError(err)
		}
	}
	filter, proj, err := parseReadExprs(&in.readInput, ectx, legacyFilter)
	if err != nil {
		return nil, err
	}
	var keyConds []expr.LegacyCondition
	if in.KeyConditionExpression == nil {
		if keyConds, err = filterConditions(in.KeyConditions); err != nil {
			return nil, err
		}
		if len(keyConds) != 1 && len(keyConds) != 2 {
			return nil, Validation("Conditions can be of length 1 or 2 only")
		}
	}
	t, err := s.activeTable(*in.TableName)
	if err != nil {
		return nil, err
	}
	// The key condition is checked against the key schema of the table or
	// index it queries, which needs the table.
	ks := expr.KeySchema{Hash: t.Hash.Name}
	if t.Range != nil {
		ks.Range = t.Range.Name
	}
	hashType, rangeType := t.Hash.Type, attr.TypeInvalid
	if t.Range != nil {
		rangeType = t.Range.Type
	}
	keyElems := tableKeys(t)
	if in.IndexName != nil {
		if idx := findIndex(t, *in.IndexName); idx != nil {
			ks = expr.KeySchema{Hash: idx.Hash.Name}
			hashType, rangeType = idx.Hash.Type, attr.TypeInvalid
			keyElems = []store.KeyElement{idx.Hash}
			if idx.Range != nil {
				ks.Range = idx.Range.Name
				rangeType = idx.Range.Type
				keyElems = append(keyElems, *idx.Range)
			}
		}
	}
	var kc *expr.KeyCondition
	if pending != nil {
		if kc, err = pending.Resolve(ks); err != nil {
			return nil, exprError(err)
		}
	}
	p, err := s.plan(&in.readInput, filter, proj)
	if err != nil {
		return nil, err
	}
	if kc == nil {
		if kc, err = legacyKeyCondition(keyConds, keyElems); err != nil {
			return nil, err
		}
	}
	for _, ke := range []string{ks.Hash, ks.Range} {
		if _, ok := in.QueryFilter[ke]; ok && ke != "" {
			return nil, Validation("QueryFilter can only contain non-primary key attributes: Primary key attribute: %s", ke)
		}
	}
	if kc.Hash.Type != hashType {
		return nil, Validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
	}
	for _, v := range kc.Range {
		if v.Type != rangeType {
			return nil, Validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
		}
	}
	if kc.RangeOp == "begins_with" && rangeType == attr.TypeN {
		return nil, Validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
	}
	if kc.RangeOp == "BETWEEN" {
		if c, ok := attr.Compare(kc.Range[0], kc.Range[1]); ok && c > 0 {
			return nil, Validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s",
				renderAttr(kc.Range[0]), renderAttr(kc.Range[1]))
		}
	}
	if p.filter != nil {
		for _, path := range p.filter.Paths() {
			for _, ke := range []string{ks.Hash, ks.Range} {
				if ke != "" && len(path) > 0 && path[0].Name == ke {
					return nil, Validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", ke)
				}
			}
		}
	}
	if err := p.checkStartKey(in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	if in.ExclusiveStartKey != nil && !attr.Equal(in.ExclusiveStartKey[ks.Hash], kc.Hash) {
		return nil, Validation("The provided starting key is outside query boundaries based on provided conditions")
	}
	if err := p.checkKeyPaths(false); err != nil {
		return nil, err
	}
	q := store.QueryInput{
		Table:   t,
		Hash:    kc.Hash,
		Range:   store.RangeCond{Op: rangeOp(kc.RangeOp), Values: kc.Range},
		Forward: in.ScanIndexForward == nil || *in.ScanIndexForward,
		Start:   in.ExclusiveStartKey,
	}
	if p.index != nil {
		q.Index = p.index.Name
	}
	return s.run(p, in.ReturnConsumedCapacity, func(fn func(it, lastKey attr.Item) bool) error {
		return s.db.Query(q, fn)
	})
}

// rangeOp maps a key condition's sort-key operator to the store's.
func rangeOp(op string) store.RangeOp {
	switch op {
	case "=":
		return store.RangeEQ
	case "<":
		return store.RangeLT
	case "<=":
		return store.RangeLE
	case ">":
		return store.RangeGT
	case ">=":
		return store.RangeGE
	case "BETWEEN":
		return store.RangeBetween
	case "begins_with":
		return store.RangeBeginsWith
	}
	return store.RangeAll
}

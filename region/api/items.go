package api

import (
	"context"
	"sort"
	"strings"

	"github.com/globaltables/globaltables/region/expr"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// commonWrite is the part of PutItem, UpdateItem and DeleteItem requests
// that they share.
type commonWrite struct {
	exprInput
	TableName                           *string          `json:"TableName"`
	ConditionExpression                 *string          `json:"ConditionExpression"`
	ReturnValues                        *string          `json:"ReturnValues"`
	ReturnConsumedCapacity              *string          `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string          `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure *string          `json:"ReturnValuesOnConditionCheckFailure"`
	Expected                            legacyConditions `json:"Expected"`
	ConditionalOperator                 *string          `json:"ConditionalOperator"`
}

// validate runs the checks that open every single-item write: the
// constraints of its members, then the rule against mixing expression and
// legacy parameters. member names the item or key member and present says
// whether the request carried it; update and updates are UpdateItem's
// UpdateExpression and AttributeUpdates (nil for the other writes).
//
// The constraint violations are listed in the order DynamoDB lists them,
// measured against the service (paritysuite/dynamodb-conformance, 2026):
// ReturnConsumedCapacity, TableName, ReturnValues, then the others, and
// the missing item or key last.
func (w *commonWrite) validate(member string, present bool, update *string, updates map[string]*attributeUpdate) error {
	c := &checker{}
	c.enum("returnConsumedCapacity", w.ReturnConsumedCapacity, "INDEXES", "TOTAL", "NONE")
	itemTableName(c, w.TableName)
	c.enum("returnValues", w.ReturnValues, "ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW")
	c.enum("returnItemCollectionMetrics", w.ReturnItemCollectionMetrics, "SIZE", "NONE")
	c.enum("returnValuesOnConditionCheckFailure", w.ReturnValuesOnConditionCheckFailure, "ALL_OLD", "NONE")
	c.enum("conditionalOperator", w.ConditionalOperator, conditionalOperators...)
	checkExpected(c, w.Expected)
	checkAttributeUpdates(c, updates)
	if !present {
		c.fail(nil, member, "Member must not be null")
	}
	if err := c.err(); err != nil {
		return err
	}
	return mixingRule(
		[]param{{"UpdateExpression", update != nil}, {"ConditionExpression", w.ConditionExpression != nil}},
		[]param{{"AttributeUpdates", updates != nil}, {"Expected", w.Expected != nil}, {"ConditionalOperator", w.ConditionalOperator != nil}})
}

// itemTableName checks the TableName of an item operation. DynamoDB now
// accepts a table ARN there, so an empty name violates only the minimum
// length of 1; other names are checked as table names.
func itemTableName(c *checker, name *string) {
	if name != nil && *name == "" {
		c.fail("", "tableName", "Member must have length greater than or equal to 1")
		return
	}
	c.tableName("tableName", name)
}

// onlyCondition parses the request of a PutItem or DeleteItem, whose one
// expression is the ConditionExpression and which return at most the old
// item.
func (w *commonWrite) onlyCondition() (*expr.Condition, error) {
	if w.ReturnValues != nil && *w.ReturnValues != "NONE" && *w.ReturnValues != "ALL_OLD" {
		return nil, Validation("ReturnValues can only be ALL_OLD or NONE")
	}
	ectx, err := w.context(presentExprs("ConditionExpression", w.ConditionExpression), []string{"ConditionExpression"})
	if err != nil {
		return nil, err
	}
	cond, err := w.condition(ectx)
	if err != nil {
		return nil, err
	}
	if err := ectx.CheckUnused(); err != nil {
		return nil, exprError(err)
	}
	return cond, nil
}

// condition parses the ConditionExpression, or translates the legacy
// Expected, if the request has one.
func (w *commonWrite) condition(ectx *expr.Context) (*expr.Condition, error) {
	if w.Expected != nil {
		return expectedCondition(w.Expected, w.ConditionalOperator)
	}
	if w.ConditionExpression == nil {
		return nil, nil
	}
	cond, err := expr.ParseCondition(ectx, "ConditionExpression", *w.ConditionExpression)
	if err != nil {
		return nil, exprError(err)
	}
	return cond, nil
}

// writeResponse is the response of PutItem, UpdateItem and DeleteItem.
type writeResponse struct {
	Attributes            attr.Item              `json:"Attributes,omitempty"`
	ConsumedCapacity      *ConsumedCapacity      `json:"ConsumedCapacity,omitempty"`
	ItemCollectionMetrics *ItemCollectionMetrics `json:"ItemCollectionMetrics,omitempty"`
	stamp                 writeResult
}

// Headers naming the version a write gave the item, and the item's causal
// context after it: not part of DynamoDB's API (SDKs ignore them), they let
// experiments and tests know which version each acknowledged write got.
const (
	VersionHeader = "x-globaltables-version"
	ContextHeader = "x-globaltables-context"
)

// headers returns the version headers of a write that wrote something.
func (r *writeResponse) headers() [][2]string {
	if r.stamp.version.IsZero() {
		return nil
	}
	tokens := make([]string, 0, len(r.stamp.context))
	for _, v := range r.stamp.context {
		tokens = append(tokens, v.Token())
	}
	sort.Strings(tokens)
	return [][2]string{{VersionHeader, r.stamp.version.Token()}, {ContextHeader, strings.Join(tokens, ",")}}
}

// appendJSON encodes the response without reflection: PutItem, UpdateItem
// and DeleteItem are the hottest write paths.
func (r *writeResponse) appendJSON(dst []byte) []byte {
	o := jsonObject{dst: dst}
	o.item("Attributes", r.Attributes)
	if r.ConsumedCapacity != nil {
		o.any("ConsumedCapacity", r.ConsumedCapacity)
	}
	if r.ItemCollectionMetrics != nil {
		o.any("ItemCollectionMetrics", r.ItemCollectionMetrics)
	}
	return o.close()
}

// ItemCollectionMetrics is returned for writes to tables with local
// secondary indexes when ReturnItemCollectionMetrics is SIZE.
type ItemCollectionMetrics struct {
	ItemCollectionKey   attr.Item `json:"ItemCollectionKey"`
	SizeEstimateRangeGB []float64 `json:"SizeEstimateRangeGB"`
}

// collectionMetrics returns the item collection metrics of a write to t, or
// nil if they were not asked for or t has no local secondary index.
func (s *Server) collectionMetrics(t *store.Table, mode *string, key attr.Item) *ItemCollectionMetrics {
	if mode == nil || *mode != "SIZE" || len(t.LSIs) == 0 {
		return nil
	}
	gb := float64(s.collectionSize(t, key[t.Hash.Name])) / (1 << 30)
	return &ItemCollectionMetrics{
		ItemCollectionKey:   attr.Item{t.Hash.Name: key[t.Hash.Name]},
		SizeEstimateRangeGB: []float64{gb, gb + 1},
	}
}

// collectionSize is the total size of the items that share a partition key
// value: DynamoDB's item collection, which is limited in tables with local
// secondary indexes. It reads the whole partition, so it is only used for
// such tables.
func (s *Server) collectionSize(t *store.Table, hash attr.Value) int64 {
	var n int64
	s.db.Query(store.QueryInput{Table: t, Hash: hash, Forward: true}, func(it, _ attr.Item) bool {
		n += int64(attr.ItemSize(it))
		return true
	})
	return n
}

// checkCollection enforces the item collection size limit of a table with
// local secondary indexes for a write that replaces old with new.
func (s *Server) checkCollection(t *store.Table, old, new attr.Item) error {
	if len(t.LSIs) == 0 || new == nil {
		return nil
	}
	grow := int64(attr.ItemSize(new) - attr.ItemSize(old))
	if grow <= 0 {
		return nil
	}
	if s.collectionSize(t, new[t.Hash.Name])+grow > s.cfg.ItemCollectionLimit {
		return ItemCollectionSizeLimitExceeded()
	}
	return nil
}

type putItemInput struct {
	commonWrite
	Item attr.Item `json:"Item"`
}

// fastFields are the members decodeFast fills.
func (in *putItemInput) fastFields() []fastField {
	return []fastField{
		{name: "TableName", str: &in.TableName},
		{name: "Item", item: &in.Item},
		{name: "ReturnConsumedCapacity", str: &in.ReturnConsumedCapacity},
		{name: "ReturnValues", str: &in.ReturnValues},
	}
}

// decode decodes a PutItem request, without reflection when it has only
// the members SDKs send for a plain put (decodeFast).
func (in *putItemInput) decode(body []byte) error {
	if decodeFast(body, in.fastFields()) {
		return nil
	}
	*in = putItemInput{}
	return decode(body, in)
}

func (s *Server) putItem(ctx context.Context, body []byte) (any, error) {
	var in putItemInput
	if err := in.decode(body); err != nil {
		return nil, err
	}
	if err := in.validate("item", in.Item != nil, nil, nil); err != nil {
		return nil, err
	}
	cond, err := in.onlyCondition()
	if err != nil {
		return nil, err
	}
	t, err := s.activeTable(*in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkItem(t, in.Item, "Item size has exceeded the maximum allowed size"); err != nil {
		return nil, err
	}
	act := &writeAction{table: t, kind: actPut, key: keyOf(t, in.Item), item: in.Item, cond: cond, limit: s.checkCollection}
	return s.runSingleWrite(ctx, act, &in.commonWrite, nil)
}

// runSingleWrite runs one write in its own transaction and builds the
// response of PutItem, UpdateItem or DeleteItem.
func (s *Server) runSingleWrite(ctx context.Context, act *writeAction, w *commonWrite, update *expr.Update) (any, error) {
	var res writeResult
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		res, err = act.do(tx)
		return err
	})
	if err != nil {
		return nil, conditionFailure(err, w.ReturnValuesOnConditionCheckFailure)
	}
	m := s.newMeter(w.ReturnConsumedCapacity)
	m.write(act.table, res.old, res.new, 1)
	out := &writeResponse{ConsumedCapacity: m.one(act.table.Name), stamp: res}
	if w.ReturnValues != nil {
		out.Attributes = returnValues(*w.ReturnValues, res, update)
	}
	out.ItemCollectionMetrics = s.collectionMetrics(act.table, w.ReturnItemCollectionMetrics, act.key)
	return out, nil
}

type deleteItemInput struct {
	commonWrite
	Key attr.Item `json:"Key"`
}

func (s *Server) deleteItem(ctx context.Context, body []byte) (any, error) {
	var in deleteItemInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.validate("key", in.Key != nil, nil, nil); err != nil {
		return nil, err
	}
	cond, err := in.onlyCondition()
	if err != nil {
		return nil, err
	}
	t, err := s.activeTable(*in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, in.Key); err != nil {
		return nil, err
	}
	act := &writeAction{table: t, kind: actDelete, key: in.Key, cond: cond, limit: s.checkCollection}
	return s.runSingleWrite(ctx, act, &in.commonWrite, nil)
}

type updateItemInput struct {
	commonWrite
	Key              attr.Item                   `json:"Key"`
	UpdateExpression *string                     `json:"UpdateExpression"`
	AttributeUpdates map[string]*attributeUpdate `json:"AttributeUpdates"`
}

func (s *Server) updateItem(ctx context.Context, body []byte) (any, error) {
	var in updateItemInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.validate("key", in.Key != nil, in.UpdateExpression, in.AttributeUpdates); err != nil {
		return nil, err
	}
	present := presentExprs("UpdateExpression", in.UpdateExpression, "ConditionExpression", in.ConditionExpression)
	ectx, err := in.context(present, []string{"UpdateExpression", "ConditionExpression"})
	if err != nil {
		return nil, err
	}
	var update *expr.Update
	if in.UpdateExpression != nil {
		if update, err = expr.ParseUpdate(ectx, *in.UpdateExpression); err != nil {
			return nil, exprError(err)
		}
	}
	if in.AttributeUpdates != nil {
		if update, err = legacyUpdate(in.AttributeUpdates); err != nil {
			return nil, err
		}
	}
	cond, err := in.condition(ectx)
	if err != nil {
		return nil, err
	}
	if err := ectx.CheckUnused(); err != nil {
		return nil, exprError(err)
	}
	t, err := s.activeTable(*in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, in.Key); err != nil {
		return nil, err
	}
	if update != nil {
		if err := checkUpdatePaths(t, update.Paths()); err != nil {
			return nil, err
		}
	}
	act := &writeAction{table: t, kind: actUpdate, key: in.Key, update: update, cond: cond, limit: s.checkCollection}
	return s.runSingleWrite(ctx, act, &in.commonWrite, update)
}

type getItemInput struct {
	exprInput
	TableName              *string   `json:"TableName"`
	Key                    attr.Item `json:"Key"`
	ConsistentRead         *bool     `json:"ConsistentRead"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	ReturnConsumedCapacity *string   `json:"ReturnConsumedCapacity"`
	AttributesToGet        []string  `json:"AttributesToGet"`
}

type getItemResponse struct {
	Item             attr.Item         `json:"Item,omitempty"`
	ConsumedCapacity *ConsumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// appendJSON encodes the response without reflection: GetItem is the
// hottest read path.
func (r *getItemResponse) appendJSON(dst []byte) []byte {
	o := jsonObject{dst: dst}
	o.item("Item", r.Item)
	if r.ConsumedCapacity != nil {
		o.any("ConsumedCapacity", r.ConsumedCapacity)
	}
	return o.close()
}

// fastFields are the members decodeFast fills.
func (in *getItemInput) fastFields() []fastField {
	return []fastField{
		{name: "TableName", str: &in.TableName},
		{name: "Key", item: &in.Key},
		{name: "ConsistentRead", b: &in.ConsistentRead},
		{name: "ReturnConsumedCapacity", str: &in.ReturnConsumedCapacity},
		{name: "ProjectionExpression", str: &in.ProjectionExpression},
	}
}

// decode decodes a GetItem request, without reflection when it has only
// the members SDKs send for a plain get (decodeFast).
func (in *getItemInput) decode(body []byte) error {
	if decodeFast(body, in.fastFields()) {
		return nil
	}
	*in = getItemInput{}
	return decode(body, in)
}

func (s *Server) getItem(ctx context.Context, body []byte) (any, error) {
	var in getItemInput
	if err := in.decode(body); err != nil {
		return nil, err
	}
	c := &checker{}
	c.enum("returnConsumedCapacity", in.ReturnConsumedCapacity, "INDEXES", "TOTAL", "NONE")
	itemTableName(c, in.TableName)
	if in.Key == nil {
		c.fail(nil, "key", "Member must not be null")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	proj, err := parseProjection(&in.exprInput, in.ProjectionExpression, in.AttributesToGet)
	if err != nil {
		return nil, err
	}
	t, err := s.activeTable(*in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, in.Key); err != nil {
		return nil, err
	}
	if proj != nil {
		if err := checkKeyPaths(t, proj.Paths()); err != nil {
			return nil, err
		}
	}
	rec, err := s.db.GetItem(t, in.Key)
	if err != nil {
		return nil, err
	}
	consistent := in.ConsistentRead != nil && *in.ConsistentRead
	out := &getItemResponse{}
	size := 0
	if !rec.Deleted && !rec.Version.IsZero() {
		size = attr.ItemSize(rec.Item)
		out.Item = rec.Item
		if proj != nil {
			out.Item = proj.Apply(rec.Item)
		}
		if out.Item == nil {
			// An existing item whose projection is empty is returned as an
			// empty map, which tells the client the item exists.
			out.Item = attr.Item{}
		}
	}
	m := s.newMeter(in.ReturnConsumedCapacity)
	m.read(t, "", size, consistent, 1)
	out.ConsumedCapacity = m.one(t.Name)
	return out, nil
}

// parseProjection parses a ProjectionExpression (or the legacy
// AttributesToGet, translated to one) in the request's expression context,
// checking the placeholders it leaves unused.
func parseProjection(in *exprInput, projection *string, attributesToGet []string) (*expr.Projection, error) {
	if projection != nil && attributesToGet != nil {
		return nil, Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
	}
	ectx, err := in.context(presentExprs("ProjectionExpression", projection), nil)
	if err != nil {
		return nil, err
	}
	var proj *expr.Projection
	if projection != nil {
		if proj, err = expr.ParseProjection(ectx, *projection); err != nil {
			return nil, exprError(err)
		}
	}
	if err := ectx.CheckUnused(); err != nil {
		return nil, exprError(err)
	}
	if attributesToGet != nil {
		return projectionOf(attributesToGet)
	}
	return proj, nil
}

// projectionOf builds the projection of the legacy AttributesToGet list:
// top-level attribute names, taken literally.
func projectionOf(names []string) (*expr.Projection, error) {
	if len(names) == 0 {
		return nil, Validation("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if err := checkAttributesToGet(names); err != nil {
		return nil, err
	}
	ph := map[string]string{}
	list := ""
	for i, n := range names {
		k := "#a" + itoa(i)
		ph[k] = n
		if i > 0 {
			list += ", "
		}
		list += k
	}
	p, err := expr.ParseProjection(expr.NewContext(ph, nil), list)
	if err != nil {
		return nil, exprError(err)
	}
	return p, nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

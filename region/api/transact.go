package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/globaltables/globaltables/region/expr"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// transactAction is one element of TransactItems: exactly one of its
// fields is set.
type transactAction struct {
	ConditionCheck *transactOp `json:"ConditionCheck"`
	Put            *transactOp `json:"Put"`
	Delete         *transactOp `json:"Delete"`
	Update         *transactOp `json:"Update"`
}

type transactOp struct {
	exprInput
	TableName                           *string   `json:"TableName"`
	Key                                 attr.Item `json:"Key"`
	Item                                attr.Item `json:"Item"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	UpdateExpression                    *string   `json:"UpdateExpression"`
	ReturnValuesOnConditionCheckFailure *string   `json:"ReturnValuesOnConditionCheckFailure"`
}

type transactWriteInput struct {
	TransactItems               []transactAction `json:"TransactItems"`
	ClientRequestToken          *string          `json:"ClientRequestToken"`
	ReturnConsumedCapacity      *string          `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string          `json:"ReturnItemCollectionMetrics"`
}

type transactWriteResponse struct {
	ConsumedCapacity      []ConsumedCapacity                 `json:"ConsumedCapacity,omitempty"`
	ItemCollectionMetrics map[string][]ItemCollectionMetrics `json:"ItemCollectionMetrics,omitempty"`
}

// transactPlan is one validated action.
type transactPlan struct {
	act            *writeAction
	returnOnFailed bool
}

func (s *Server) transactWriteItems(ctx context.Context, body []byte) (any, error) {
	var in transactWriteInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c := &checker{}
	switch {
	case in.TransactItems == nil:
		c.fail(nil, "transactItems", "Member must not be null")
	case len(in.TransactItems) == 0:
		c.fail("[]", "transactItems", "Member must have length greater than or equal to 1")
	case len(in.TransactItems) > maxTransactItems:
		c.fail("[...]", "transactItems", "Member must have length less than or equal to 100")
	}
	if in.ClientRequestToken != nil && (len(*in.ClientRequestToken) < 1 || len(*in.ClientRequestToken) > 36) {
		c.fail(*in.ClientRequestToken, "clientRequestToken", "Member must have length less than or equal to 36")
	}
	c.enum("returnConsumedCapacity", in.ReturnConsumedCapacity, "INDEXES", "TOTAL", "NONE")
	c.enum("returnItemCollectionMetrics", in.ReturnItemCollectionMetrics, "SIZE", "NONE")
	if err := c.err(); err != nil {
		return nil, err
	}

	// An idempotent retry: the same token with the same request within the
	// window returns the first outcome without running the writes again.
	var digest [32]byte
	if in.ClientRequestToken != nil {
		digest = in.digest()
		if prev, ok, err := s.tokens.lookup(*in.ClientRequestToken, digest); err != nil {
			return nil, err
		} else if ok {
			return prev, nil
		}
	}

	plans := make([]transactPlan, 0, len(in.TransactItems))
	seen := map[string]bool{}
	size := 0
	for i := range in.TransactItems {
		p, err := s.planTransactAction(&in.TransactItems[i])
		if err != nil {
			return nil, err
		}
		id := p.act.table.Name + "\x00" + keyString(p.act.table, p.act.key)
		if seen[id] {
			return nil, Validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		if p.act.item != nil {
			size += attr.ItemSize(p.act.item)
		}
		plans = append(plans, p)
	}
	if size > maxTransactBytes {
		return nil, Validation("Transaction request size exceeds the maximum allowed size of 4 MB")
	}

	results := make([]writeResult, len(plans))
	reasons := make([]CancellationReason, len(plans))
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		failed := false
		for i, p := range plans {
			reasons[i] = CancellationReason{Code: "None"}
			r, err := p.act.do(tx)
			if err == nil {
				results[i] = r
				continue
			}
			var cf *condFailedError
			var ae *Error
			switch {
			case errors.As(err, &cf):
				reasons[i] = CancellationReason{Code: "ConditionalCheckFailed", Message: "The conditional request failed"}
				if p.returnOnFailed && cf.old != nil {
					reasons[i].Item = cf.old
				}
			case errors.As(err, &ae) && ae.Code() == "ItemCollectionSizeLimitExceededException":
				reasons[i] = CancellationReason{Code: "ItemCollectionSizeLimitExceeded", Message: ae.Message}
			case errors.As(err, &ae):
				reasons[i] = CancellationReason{Code: "ValidationError", Message: ae.Message}
			default:
				return err
			}
			failed = true
		}
		if failed {
			// Returning an error discards the transaction: no action has
			// any effect.
			return errTransactionCanceled
		}
		return nil
	})
	if errors.Is(err, errTransactionCanceled) {
		return nil, TransactionCanceled(reasons)
	}
	if errors.Is(err, store.ErrConflict) {
		for i := range reasons {
			reasons[i] = CancellationReason{Code: "TransactionConflict", Message: "Transaction is ongoing for the item"}
		}
		return nil, TransactionCanceled(reasons)
	}
	if err != nil {
		return nil, err
	}
	m := s.newMeter(in.ReturnConsumedCapacity)
	m.split = true
	out := &transactWriteResponse{}
	for i, p := range plans {
		if p.act.kind == actCheck {
			m.read(p.act.table, "", attr.ItemSize(results[i].old), true, 2)
			continue
		}
		m.write(p.act.table, results[i].old, results[i].new, 2)
		if icm := s.collectionMetrics(p.act.table, in.ReturnItemCollectionMetrics, p.act.key); icm != nil {
			if out.ItemCollectionMetrics == nil {
				out.ItemCollectionMetrics = map[string][]ItemCollectionMetrics{}
			}
			out.ItemCollectionMetrics[p.act.table.Name] = append(out.ItemCollectionMetrics[p.act.table.Name], *icm)
		}
	}
	out.ConsumedCapacity = m.result()
	if in.ClientRequestToken != nil {
		s.tokens.store(*in.ClientRequestToken, digest, out)
	}
	return out, nil
}

var errTransactionCanceled = errors.New("transaction canceled")

// digest identifies the request for ClientRequestToken idempotency. It is
// computed from the decoded request in a canonical form (maps in key order)
// because clients serialise maps in any order: the same request sent twice
// need not be the same bytes.
func (in *transactWriteInput) digest() [32]byte {
	h := sha256.New()
	str := func(p *string) {
		if p == nil {
			h.Write([]byte{0})
			return
		}
		h.Write([]byte{1})
		h.Write(binary.AppendUvarint(nil, uint64(len(*p))))
		h.Write([]byte(*p))
	}
	item := func(it attr.Item) {
		b := attr.AppendItem(nil, it)
		h.Write(binary.AppendUvarint(nil, uint64(len(b))))
		h.Write(b)
	}
	str(in.ReturnConsumedCapacity)
	str(in.ReturnItemCollectionMetrics)
	for _, ta := range in.TransactItems {
		for kind, op := range []*transactOp{ta.ConditionCheck, ta.Put, ta.Delete, ta.Update} {
			if op == nil {
				continue
			}
			h.Write([]byte{byte(kind)})
			str(op.TableName)
			item(op.Key)
			item(op.Item)
			str(op.ConditionExpression)
			str(op.UpdateExpression)
			str(op.ReturnValuesOnConditionCheckFailure)
			names := make(attr.Item, len(op.Names))
			for k, v := range op.Names {
				names[k] = attr.String(v)
			}
			item(names)
			item(attr.Item(op.Values))
		}
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// planTransactAction validates one TransactItems element and turns it into
// a writeAction.
func (s *Server) planTransactAction(ta *transactAction) (transactPlan, error) {
	var op *transactOp
	kind := actCheck
	n := 0
	if ta.ConditionCheck != nil {
		op, kind, n = ta.ConditionCheck, actCheck, n+1
	}
	if ta.Put != nil {
		op, kind, n = ta.Put, actPut, n+1
	}
	if ta.Delete != nil {
		op, kind, n = ta.Delete, actDelete, n+1
	}
	if ta.Update != nil {
		op, kind, n = ta.Update, actUpdate, n+1
	}
	if n != 1 {
		return transactPlan{}, Validation("TransactItems can only contain one of Check, Put, Update or Delete")
	}
	if err := requireTableName(op.TableName); err != nil {
		return transactPlan{}, err
	}
	c := &checker{}
	c.tableName("transactItems.member.tableName", op.TableName)
	c.enum("transactItems.member.returnValuesOnConditionCheckFailure", op.ReturnValuesOnConditionCheckFailure, "ALL_OLD", "NONE")
	if kind == actPut && op.Item == nil {
		c.fail(nil, "transactItems.member.put.item", "Member must not be null")
	}
	if kind != actPut && op.Key == nil {
		c.fail(nil, "transactItems.member.key", "Member must not be null")
	}
	if kind == actCheck && op.ConditionExpression == nil {
		c.fail(nil, "transactItems.member.conditionCheck.conditionExpression", "Member must not be null")
	}
	if kind == actUpdate && op.UpdateExpression == nil {
		c.fail(nil, "transactItems.member.update.updateExpression", "Member must not be null")
	}
	if err := c.err(); err != nil {
		return transactPlan{}, err
	}
	valueExprs := []string{"ConditionExpression"}
	present := presentExprs("ConditionExpression", op.ConditionExpression)
	if kind == actUpdate {
		valueExprs = append([]string{"UpdateExpression"}, valueExprs...)
		present = presentExprs("UpdateExpression", op.UpdateExpression, "ConditionExpression", op.ConditionExpression)
	}
	ectx, err := op.context(present, valueExprs)
	if err != nil {
		return transactPlan{}, err
	}
	act := &writeAction{kind: kind, key: op.Key, limit: s.checkCollection}
	if kind == actUpdate {
		if act.update, err = expr.ParseUpdate(ectx, *op.UpdateExpression); err != nil {
			return transactPlan{}, exprError(err)
		}
	}
	if op.ConditionExpression != nil {
		if act.cond, err = expr.ParseCondition(ectx, "ConditionExpression", *op.ConditionExpression); err != nil {
			return transactPlan{}, exprError(err)
		}
	}
	if err := ectx.CheckUnused(); err != nil {
		return transactPlan{}, exprError(err)
	}
	t, err := s.activeTable(*op.TableName)
	if err != nil {
		return transactPlan{}, err
	}
	act.table = t
	if kind == actPut {
		if err := checkItem(t, op.Item, "Item size has exceeded the maximum allowed size"); err != nil {
			return transactPlan{}, err
		}
		act.item, act.key = op.Item, keyOf(t, op.Item)
	} else if err := checkKey(t, op.Key); err != nil {
		return transactPlan{}, err
	}
	if act.update != nil {
		if err := checkUpdatePaths(t, act.update.Paths()); err != nil {
			return transactPlan{}, err
		}
	}
	rv := op.ReturnValuesOnConditionCheckFailure
	return transactPlan{act: act, returnOnFailed: rv != nil && *rv == "ALL_OLD"}, nil
}

type transactGetInput struct {
	TransactItems []struct {
		Get *struct {
			exprInput
			TableName            *string   `json:"TableName"`
			Key                  attr.Item `json:"Key"`
			ProjectionExpression *string   `json:"ProjectionExpression"`
		} `json:"Get"`
	} `json:"TransactItems"`
	ReturnConsumedCapacity *string `json:"ReturnConsumedCapacity"`
}

type itemResponse struct {
	Item attr.Item `json:"Item,omitempty"`
}

type transactGetResponse struct {
	Responses        []itemResponse     `json:"Responses"`
	ConsumedCapacity []ConsumedCapacity `json:"ConsumedCapacity,omitempty"`
}

func (s *Server) transactGetItems(ctx context.Context, body []byte) (any, error) {
	var in transactGetInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c := &checker{}
	switch {
	case in.TransactItems == nil:
		c.fail(nil, "transactItems", "Member must not be null")
	case len(in.TransactItems) == 0:
		c.fail("[]", "transactItems", "Member must have length greater than or equal to 1")
	case len(in.TransactItems) > maxTransactItems:
		c.fail("[...]", "transactItems", "Member must have length less than or equal to 100")
	}
	c.enum("returnConsumedCapacity", in.ReturnConsumedCapacity, "INDEXES", "TOTAL", "NONE")
	if err := c.err(); err != nil {
		return nil, err
	}
	type getPlan struct {
		table *store.Table
		key   attr.Item
		proj  *expr.Projection
	}
	plans := make([]getPlan, len(in.TransactItems))
	seen := map[string]bool{}
	for i, ti := range in.TransactItems {
		g := ti.Get
		if g == nil {
			return nil, Validation("1 validation error detected: Value null at 'transactItems.%d.member.get' failed to satisfy constraint: Member must not be null", i+1)
		}
		if err := requireTableName(g.TableName); err != nil {
			return nil, err
		}
		if g.Key == nil {
			return nil, Validation("1 validation error detected: Value null at 'transactItems.%d.member.get.key' failed to satisfy constraint: Member must not be null", i+1)
		}
		proj, err := parseProjection(&g.exprInput, g.ProjectionExpression, nil)
		if err != nil {
			return nil, err
		}
		t, err := s.activeTable(*g.TableName)
		if err != nil {
			return nil, err
		}
		if err := checkKey(t, g.Key); err != nil {
			return nil, err
		}
		id := t.Name + "\x00" + keyString(t, g.Key)
		if seen[id] {
			return nil, Validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		plans[i] = getPlan{table: t, key: g.Key, proj: proj}
	}
	// All reads come from one transaction: a consistent snapshot.
	out := &transactGetResponse{Responses: make([]itemResponse, len(plans))}
	sizes := make([]int, len(plans))
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		for i, p := range plans {
			rec, err := tx.Get(p.table, p.key)
			if err != nil {
				return err
			}
			out.Responses[i] = itemResponse{}
			sizes[i] = 0
			if rec.Deleted || rec.Version.IsZero() {
				continue
			}
			sizes[i] = attr.ItemSize(rec.Item)
			it := rec.Item
			if p.proj != nil {
				it = p.proj.Apply(it)
			}
			out.Responses[i].Item = it
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m := s.newMeter(in.ReturnConsumedCapacity)
	m.split = true
	for i, p := range plans {
		m.read(p.table, "", sizes[i], true, 2)
	}
	out.ConsumedCapacity = m.result()
	return out, nil
}

// tokenCache remembers TransactWriteItems client request tokens for
// DynamoDB's ten-minute idempotency window. It lives in memory: a token
// reused after the region restarts runs the transaction again, which its
// conditions (if any) make safe in the usual way.
type tokenCache struct {
	ttl time.Duration

	mu      sync.Mutex // guards entries
	entries map[string]tokenEntry
}

type tokenEntry struct {
	digest [32]byte
	resp   any
	at     time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, entries: map[string]tokenEntry{}}
}

// lookup returns the response remembered for token, if the token was used
// with the same request; a token used with a different request is an
// IdempotentParameterMismatchException.
func (c *tokenCache) lookup(token string, digest [32]byte) (any, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[token]
	if !ok || time.Since(e.at) > c.ttl {
		return nil, false, nil
	}
	if e.digest != digest {
		return nil, false, IdempotentParameterMismatch()
	}
	return e.resp, true, nil
}

func (c *tokenCache) store(token string, digest [32]byte, resp any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for k, e := range c.entries {
		if now.Sub(e.at) > c.ttl {
			delete(c.entries, k)
		}
	}
	c.entries[token] = tokenEntry{digest: digest, resp: resp, at: now}
}

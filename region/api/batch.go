package api

import (
	"context"
	"errors"
	"sort"

	"github.com/globaltables/globaltables/region/expr"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// maxBatchGetBytes is how much data one BatchGetItem returns before it
// leaves the remaining keys in UnprocessedKeys, as DynamoDB does past 16 MB.
const maxBatchGetBytes = 16 << 20

type keysAndAttributes struct {
	exprInput
	Keys                 []attr.Item `json:"Keys"`
	ProjectionExpression *string     `json:"ProjectionExpression,omitempty"`
	ConsistentRead       *bool       `json:"ConsistentRead,omitempty"`
	AttributesToGet      []string    `json:"AttributesToGet,omitempty"`
}

type batchGetInput struct {
	RequestItems           map[string]*keysAndAttributes `json:"RequestItems"`
	ReturnConsumedCapacity *string                       `json:"ReturnConsumedCapacity"`
}

type batchGetResponse struct {
	Responses        map[string][]attr.Item        `json:"Responses"`
	UnprocessedKeys  map[string]*keysAndAttributes `json:"UnprocessedKeys"`
	ConsumedCapacity []ConsumedCapacity            `json:"ConsumedCapacity,omitempty"`
}

// checkRequestItems validates the table names of a batch's RequestItems.
func checkRequestItems[T any](c *checker, items map[string]T, max int, count func(T) int) {
	if items == nil {
		c.fail(nil, "requestItems", "Member must not be null")
		return
	}
	if len(items) == 0 {
		c.fail("{}", "requestItems", "Member must have length greater than or equal to 1")
	}
	for name, v := range items {
		if len(name) < 3 || len(name) > 255 || !namePattern.MatchString(name) {
			c.fail(name, "requestItems", "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]")
		}
		if n := count(v); n < 1 || n > max {
			c.fail(name, "requestItems", "Map value must satisfy constraint: [Member must have length less than or equal to "+itoa(max)+", Member must have length greater than or equal to 1]")
		}
	}
}

// sortedKeys returns the map's keys (table or attribute names) in order, so
// that batches run, and checks report, in a deterministic order.
func sortedKeys[T any](m map[string]T) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// keyString is a canonical encoding of a key, to find duplicates.
func keyString(t *store.Table, key attr.Item) string {
	b := attr.AppendKey(nil, key[t.Hash.Name])
	if t.Range != nil {
		b = attr.AppendKey(b, key[t.Range.Name])
	}
	return string(b)
}

func (s *Server) batchGetItem(ctx context.Context, body []byte) (any, error) {
	var in batchGetInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c := &checker{}
	checkRequestItems(c, in.RequestItems, maxBatchGetKeys, func(k *keysAndAttributes) int {
		if k == nil {
			return 0
		}
		return len(k.Keys)
	})
	c.enum("returnConsumedCapacity", in.ReturnConsumedCapacity, "INDEXES", "TOTAL", "NONE")
	if err := c.err(); err != nil {
		return nil, err
	}
	type plan struct {
		table *store.Table
		req   *keysAndAttributes
		proj  *expr.Projection
	}
	plans := map[string]plan{}
	total := 0
	for _, name := range sortedKeys(in.RequestItems) {
		req := in.RequestItems[name]
		proj, err := parseProjection(&req.exprInput, req.ProjectionExpression, req.AttributesToGet)
		if err != nil {
			return nil, err
		}
		total += len(req.Keys)
		if total > maxBatchGetKeys {
			return nil, Validation("Too many items requested for the BatchGetItem call")
		}
		t, err := s.activeTable(name)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, k := range req.Keys {
			if err := checkKey(t, k); err != nil {
				return nil, err
			}
			ks := keyString(t, k)
			if seen[ks] {
				return nil, Validation("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
		}
		if proj != nil {
			if err := checkKeyPaths(t, proj.Paths()); err != nil {
				return nil, err
			}
		}
		plans[name] = plan{table: t, req: req, proj: proj}
	}

	out := &batchGetResponse{Responses: map[string][]attr.Item{}, UnprocessedKeys: map[string]*keysAndAttributes{}}
	m := s.newMeter(in.ReturnConsumedCapacity)
	size := 0
	for _, name := range sortedKeys(plans) {
		p := plans[name]
		consistent := p.req.ConsistentRead != nil && *p.req.ConsistentRead
		items := []attr.Item{}
		for i, k := range p.req.Keys {
			if size >= maxBatchGetBytes {
				// Hand the rest back, with the request's other parameters,
				// so the client can retry them as they are.
				rest := *p.req
				rest.Keys = p.req.Keys[i:]
				out.UnprocessedKeys[name] = &rest
				break
			}
			rec, err := s.db.GetItem(p.table, k)
			if err != nil {
				return nil, err
			}
			if rec.Deleted || rec.Version.IsZero() {
				m.read(p.table, "", 0, consistent, 1)
				continue
			}
			sz := attr.ItemSize(rec.Item)
			size += sz
			m.read(p.table, "", sz, consistent, 1)
			it := rec.Item
			if p.proj != nil {
				it = p.proj.Apply(it)
			}
			items = append(items, it)
		}
		out.Responses[name] = items
	}
	out.ConsumedCapacity = m.result()
	return out, nil
}

type writeRequest struct {
	PutRequest *struct {
		Item attr.Item `json:"Item"`
	} `json:"PutRequest,omitempty"`
	DeleteRequest *struct {
		Key attr.Item `json:"Key"`
	} `json:"DeleteRequest,omitempty"`
}

type batchWriteInput struct {
	RequestItems                map[string][]writeRequest `json:"RequestItems"`
	ReturnConsumedCapacity      *string                   `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string                   `json:"ReturnItemCollectionMetrics"`
}

type batchWriteResponse struct {
	UnprocessedItems      map[string][]writeRequest          `json:"UnprocessedItems"`
	ConsumedCapacity      []ConsumedCapacity                 `json:"ConsumedCapacity,omitempty"`
	ItemCollectionMetrics map[string][]ItemCollectionMetrics `json:"ItemCollectionMetrics,omitempty"`
}

func (s *Server) batchWriteItem(ctx context.Context, body []byte) (any, error) {
	var in batchWriteInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c := &checker{}
	checkRequestItems(c, in.RequestItems, maxBatchWriteReqs, func(r []writeRequest) int { return len(r) })
	c.enum("returnConsumedCapacity", in.ReturnConsumedCapacity, "INDEXES", "TOTAL", "NONE")
	c.enum("returnItemCollectionMetrics", in.ReturnItemCollectionMetrics, "SIZE", "NONE")
	if err := c.err(); err != nil {
		return nil, err
	}
	var acts []*writeAction
	var origin []struct {
		table string
		req   writeRequest
	}
	total := 0
	for _, name := range sortedKeys(in.RequestItems) {
		reqs := in.RequestItems[name]
		total += len(reqs)
		if total > maxBatchWriteReqs {
			return nil, Validation("Too many items requested for the BatchWriteItem call")
		}
		t, err := s.activeTable(name)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, r := range reqs {
			var act *writeAction
			switch {
			case r.PutRequest != nil && r.DeleteRequest != nil, r.PutRequest == nil && r.DeleteRequest == nil:
				return nil, Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			case r.PutRequest != nil:
				if r.PutRequest.Item == nil {
					return nil, Validation("1 validation error detected: Value null at 'requestItems.%s.member.putRequest.item' failed to satisfy constraint: Member must not be null", name)
				}
				if err := checkItem(t, r.PutRequest.Item, "Item size has exceeded the maximum allowed size"); err != nil {
					return nil, err
				}
				act = &writeAction{table: t, kind: actPut, key: keyOf(t, r.PutRequest.Item), item: r.PutRequest.Item, limit: s.checkCollection}
			default:
				if r.DeleteRequest.Key == nil {
					return nil, Validation("1 validation error detected: Value null at 'requestItems.%s.member.deleteRequest.key' failed to satisfy constraint: Member must not be null", name)
				}
				if err := checkKey(t, r.DeleteRequest.Key); err != nil {
					return nil, err
				}
				act = &writeAction{table: t, kind: actDelete, key: r.DeleteRequest.Key}
			}
			ks := keyString(t, act.key)
			if seen[ks] {
				return nil, Validation("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
			acts = append(acts, act)
			origin = append(origin, struct {
				table string
				req   writeRequest
			}{name, r})
		}
	}

	// The writes share one transaction, so the whole batch costs one
	// fsync. DynamoDB does not promise atomicity for a batch, and doing it
	// atomically is a stronger guarantee, not a weaker one. If the
	// transaction cannot commit, every request comes back unprocessed and
	// the client retries it, as it would after throttling.
	results := make([]writeResult, len(acts))
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		for i, a := range acts {
			r, err := a.do(tx)
			if err != nil {
				return err
			}
			results[i] = r
		}
		return nil
	})
	out := &batchWriteResponse{UnprocessedItems: map[string][]writeRequest{}}
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return nil, err
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		for _, o := range origin {
			out.UnprocessedItems[o.table] = append(out.UnprocessedItems[o.table], o.req)
		}
		return out, nil
	}
	m := s.newMeter(in.ReturnConsumedCapacity)
	for i, a := range acts {
		m.write(a.table, results[i].old, results[i].new, 1)
		if icm := s.collectionMetrics(a.table, in.ReturnItemCollectionMetrics, a.key); icm != nil {
			if out.ItemCollectionMetrics == nil {
				out.ItemCollectionMetrics = map[string][]ItemCollectionMetrics{}
			}
			out.ItemCollectionMetrics[a.table.Name] = append(out.ItemCollectionMetrics[a.table.Name], *icm)
		}
	}
	out.ConsumedCapacity = m.result()
	return out, nil
}

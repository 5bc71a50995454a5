package api

import (
	"errors"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region/expr"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// actionKind says what a writeAction does.
type actionKind int

const (
	actPut actionKind = iota
	actUpdate
	actDelete
	actCheck // TransactWriteItems' ConditionCheck: a condition, no write
)

// writeAction is one item write as PutItem, UpdateItem, DeleteItem, a
// BatchWriteItem request or a TransactWriteItems action describes it. All of
// those share this one write path, so conditions, validation, versions and
// change records behave the same whichever operation wrote the item.
type writeAction struct {
	table  *store.Table
	kind   actionKind
	key    attr.Item
	item   attr.Item       // actPut: the new item
	update *expr.Update    // actUpdate: nil means "ensure the item exists"
	cond   *expr.Condition // optional
	// limit checks the item collection size of tables with local
	// secondary indexes; nil skips the check.
	limit func(t *store.Table, old, new attr.Item) error
}

// writeResult is what a writeAction saw and left.
type writeResult struct {
	old attr.Item // the item before, nil if there was none
	new attr.Item // the item after, nil if there is none
	// version and context are the item's after the write (zero when the
	// action wrote nothing).
	version conflict.Version
	context conflict.Context
}

// stamp reads back the version and context the store gave the item.
func (a *writeAction) stamp(tx *store.Tx, r writeResult) (writeResult, error) {
	rec, err := tx.Get(a.table, a.key)
	if err != nil {
		return r, err
	}
	r.version, r.context = rec.Version, rec.Context
	return r, nil
}

// condFailedError reports a failed condition, with the item it was
// evaluated against (nil if there was none), which ReturnValuesOnCondition
// CheckFailure may return to the client.
type condFailedError struct {
	old attr.Item
}

func (e *condFailedError) Error() string { return "conditional check failed" }

// do runs the action inside tx.
func (a *writeAction) do(tx *store.Tx) (writeResult, error) {
	rec, err := tx.Get(a.table, a.key)
	if err != nil {
		return writeResult{}, err
	}
	var old attr.Item
	if !rec.Deleted && !rec.Version.IsZero() {
		old = rec.Item
	}
	if a.cond != nil {
		ok, err := a.cond.Eval(old)
		if err != nil {
			return writeResult{}, exprError(err)
		}
		if !ok {
			return writeResult{}, &condFailedError{old: old}
		}
	}
	switch a.kind {
	case actCheck:
		return writeResult{old: old, new: old}, nil
	case actPut:
		if err := a.checkLimit(old, a.item); err != nil {
			return writeResult{}, err
		}
		if _, err := tx.Put(a.table, a.item); err != nil {
			return writeResult{}, err
		}
		return a.stamp(tx, writeResult{old: old, new: a.item})
	case actDelete:
		if old == nil {
			return writeResult{}, nil
		}
		if _, err := tx.Delete(a.table, a.key); err != nil {
			return writeResult{}, err
		}
		return a.stamp(tx, writeResult{old: old})
	case actUpdate:
		if old == nil && a.update != nil && a.update.HasOnlyRemovals() {
			// Removing from an item that does not exist leaves nothing to
			// store: DynamoDB creates no item (and so nothing replicates),
			// and ignores removed paths, nested ones included.
			return writeResult{}, nil
		}
		base := old
		if base == nil {
			base = a.key.Clone()
		}
		next := base
		if a.update != nil {
			next, err = a.update.Apply(base)
			if err != nil {
				return writeResult{}, exprError(err)
			}
		}
		if err := checkItem(a.table, next, "Item size to update has exceeded the maximum allowed size"); err != nil {
			return writeResult{}, err
		}
		if err := a.checkLimit(old, next); err != nil {
			return writeResult{}, err
		}
		if _, err := tx.Put(a.table, next); err != nil {
			return writeResult{}, err
		}
		return a.stamp(tx, writeResult{old: old, new: next})
	}
	return writeResult{}, errors.New("unknown write action")
}

func (a *writeAction) checkLimit(old, new attr.Item) error {
	if a.limit == nil {
		return nil
	}
	return a.limit(a.table, old, new)
}

// returnValues computes the Attributes to return for ReturnValues rv.
func returnValues(rv string, res writeResult, update *expr.Update) attr.Item {
	var out attr.Item
	switch rv {
	case "ALL_OLD":
		out = res.old
	case "ALL_NEW":
		out = res.new
	case "UPDATED_OLD":
		if update != nil && res.old != nil {
			out = expr.ProjectPaths(res.old, update.Paths())
		}
	case "UPDATED_NEW":
		if update != nil && res.new != nil {
			out = expr.ProjectPaths(res.new, update.Paths())
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// conditionFailure converts a failed condition of a single-item write into
// ConditionalCheckFailedException, with the old item if the request asked
// for it.
func conditionFailure(err error, returnOnFailure *string) error {
	var cf *condFailedError
	if !errors.As(err, &cf) {
		return err
	}
	e := ConditionalCheckFailed()
	if returnOnFailure != nil && *returnOnFailure == "ALL_OLD" && cf.old != nil {
		e.Item = cf.old
	}
	return e
}

package api

import (
	"errors"
	"strings"

	"github.com/globaltables/globaltables/region/expr"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// The legacy (pre-expression) parameters: Expected, ConditionalOperator,
// QueryFilter, ScanFilter, KeyConditions, AttributeUpdates and
// AttributesToGet. This file decodes and validates them with DynamoDB's
// messages; region/expr translates them onto the expression engine, so
// they are evaluated by the same code as the expressions.

// legacyCondition is one entry of Expected, QueryFilter, ScanFilter or
// KeyConditions (Exists and Value are Expected's only).
type legacyCondition struct {
	AttributeValueList []attr.Value `json:"AttributeValueList"`
	ComparisonOperator *string      `json:"ComparisonOperator"`
	Exists             *bool        `json:"Exists"`
	Value              *attr.Value  `json:"Value"`
}

// legacyConditions is a map of conditions by attribute name.
type legacyConditions map[string]*legacyCondition

// attributeUpdate is one entry of AttributeUpdates.
type attributeUpdate struct {
	Action *string     `json:"Action"`
	Value  *attr.Value `json:"Value"`
}

// conditionalOperators is ConditionalOperator's enumeration, in the order
// DynamoDB lists it.
var conditionalOperators = []string{"OR", "AND"}

// param names a request parameter and says whether the request set it.
type param struct {
	name string
	set  bool
}

// mixingRule returns DynamoDB's error for a request that sets both
// expression and non-expression parameters, naming each set parameter in
// the order DynamoDB lists them.
func mixingRule(exprs, legacy []param) error {
	var e, l []string
	for _, p := range exprs {
		if p.set {
			e = append(e, p.name)
		}
	}
	for _, p := range legacy {
		if p.set {
			l = append(l, p.name)
		}
	}
	if len(e) == 0 || len(l) == 0 {
		return nil
	}
	return Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
		strings.Join(l, ", "), strings.Join(e, ", "))
}

// checkConditions adds the constraint violations of a filter or key
// condition map (path is "queryFilter", "scanFilter" or "keyConditions"):
// a ComparisonOperator is required and must be a known one.
func checkConditions(c *checker, path string, m legacyConditions) {
	for _, name := range sortedKeys(m) {
		lc := m[name]
		if lc == nil {
			continue
		}
		p := path + "." + name + ".member.comparisonOperator"
		if lc.ComparisonOperator == nil {
			c.fail(nil, p, "Member must not be null")
			continue
		}
		c.enum(p, lc.ComparisonOperator, expr.LegacyOperators...)
	}
}

// checkExpected adds the constraint violations of Expected, whose
// ComparisonOperator is optional.
func checkExpected(c *checker, m legacyConditions) {
	for _, name := range sortedKeys(m) {
		if lc := m[name]; lc != nil {
			c.enum("expected."+name+".member.comparisonOperator", lc.ComparisonOperator, expr.LegacyOperators...)
		}
	}
}

// checkAttributeUpdates adds the constraint violations of AttributeUpdates.
func checkAttributeUpdates(c *checker, m map[string]*attributeUpdate) {
	for _, name := range sortedKeys(m) {
		if u := m[name]; u != nil {
			c.enum("attributeUpdates."+name+".member.action", u.Action, "ADD", "DELETE", "PUT")
		}
	}
}

// filterConditions validates QueryFilter, ScanFilter or KeyConditions and
// returns them as expression-engine conditions.
func filterConditions(m legacyConditions) ([]expr.LegacyCondition, error) {
	var out []expr.LegacyCondition
	for _, name := range sortedKeys(m) {
		lc := m[name]
		if lc == nil {
			return nil, Validation("The filter condition for an attribute cannot be null")
		}
		op := *lc.ComparisonOperator // checkConditions requires it
		if err := expr.CheckLegacyOperator(op, lc.AttributeValueList, true); err != nil {
			return nil, exprError(err)
		}
		out = append(out, expr.LegacyCondition{Attr: name, Op: op, Values: lc.AttributeValueList})
	}
	return out, nil
}

// filterCondition is filterConditions joined by ConditionalOperator.
func filterCondition(m legacyConditions, condOp *string) (*expr.Condition, error) {
	conds, err := filterConditions(m)
	if err != nil {
		return nil, err
	}
	return expr.NewLegacyCondition(conds, condOp != nil && *condOp == "OR"), nil
}

// expectedCondition validates Expected and returns it as a condition, with
// DynamoDB's messages and in its order of checks. An entry is either a
// ComparisonOperator with its values (AttributeValueList, or Value as a
// list of one), or the older Exists/Value form: Value alone or with Exists
// true means EQ, Exists false means NULL.
//
// DynamoDB reports these errors inside the envelope of constraint
// violations ("1 validation error detected: ..."), as the service does
// today (characterised by paritysuite/dynamodb-conformance in 2026; older
// recordings show them bare).
func expectedCondition(m legacyConditions, condOp *string) (*expr.Condition, error) {
	cond, err := expectedConditions(m, condOp)
	var ae *Error
	if errors.As(err, &ae) && ae.Code() == "ValidationException" {
		return nil, Validation("1 validation error detected: %s", ae.Message)
	}
	return cond, err
}

func expectedConditions(m legacyConditions, condOp *string) (*expr.Condition, error) {
	var conds []expr.LegacyCondition
	for _, name := range sortedKeys(m) {
		lc := m[name]
		if lc == nil {
			return nil, Validation("One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: %s", name)
		}
		if lc.AttributeValueList != nil && lc.Value != nil {
			return nil, Validation("One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: %s", name)
		}
		if lc.ComparisonOperator != nil {
			op := *lc.ComparisonOperator
			if lc.Exists != nil {
				return nil, Validation("One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: %s", name)
			}
			if op != expr.OpNull && op != expr.OpNotNull && lc.AttributeValueList == nil && lc.Value == nil {
				return nil, Validation("One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: %s for Attribute: %s", op, name)
			}
			vals := lc.AttributeValueList
			if lc.Value != nil {
				vals = []attr.Value{*lc.Value}
			}
			if err := expr.CheckLegacyOperator(op, vals, false); err != nil {
				return nil, exprError(err)
			}
			conds = append(conds, expr.LegacyCondition{Attr: name, Op: op, Values: vals})
			continue
		}
		if lc.AttributeValueList != nil {
			return nil, Validation("One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: %s", name)
		}
		exists := lc.Exists == nil || *lc.Exists
		switch {
		case exists && lc.Value == nil:
			word := "null"
			if lc.Exists != nil {
				word = "true"
			}
			return nil, Validation("One or more parameter values were invalid: Value must be provided when Exists is %s for Attribute: %s", word, name)
		case !exists && lc.Value != nil:
			return nil, Validation("One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: %s", name)
		case exists:
			conds = append(conds, expr.LegacyCondition{Attr: name, Op: expr.OpEQ, Values: []attr.Value{*lc.Value}})
		default:
			conds = append(conds, expr.LegacyCondition{Attr: name, Op: expr.OpNull})
		}
	}
	return expr.NewLegacyCondition(conds, condOp != nil && *condOp == "OR"), nil
}

// legacyUpdate validates AttributeUpdates and returns it as an update.
func legacyUpdate(m map[string]*attributeUpdate) (*expr.Update, error) {
	var ups []expr.LegacyUpdate
	for _, name := range sortedKeys(m) {
		u := m[name]
		if u == nil {
			return nil, Validation("Supplied AttributeValueUpdate is empty, must contain one of the supported actions")
		}
		lu := expr.LegacyUpdate{Attr: name, Action: "PUT", Value: u.Value}
		if u.Action != nil {
			lu.Action = *u.Action
		}
		if err := expr.CheckLegacyUpdate(lu); err != nil {
			return nil, exprError(err)
		}
		ups = append(ups, lu)
	}
	return expr.NewLegacyUpdate(ups), nil
}

// legacyKeyCondition turns validated KeyConditions into the key condition
// of a Query on the key schema ks (hash first, then the optional range key)
// with DynamoDB's messages, checked per key attribute in schema order.
func legacyKeyCondition(conds []expr.LegacyCondition, ks []store.KeyElement) (*expr.KeyCondition, error) {
	byName := map[string]expr.LegacyCondition{}
	for _, lc := range conds {
		byName[lc.Attr] = lc
	}
	kc := &expr.KeyCondition{}
	for i, ke := range ks {
		isHash := i == 0
		if isHash && len(ks) == 1 && len(conds) > 1 {
			return nil, Validation("Query key condition not supported")
		}
		lc, ok := byName[ke.Name]
		if !ok {
			if isHash || len(conds) > 1 {
				return nil, Validation("Query condition missed key schema element: %s", ke.Name)
			}
			continue
		}
		rangeOp, indexable := expr.KeyComparator(lc.Op)
		if !indexable {
			return nil, Validation("Attempted conditional constraint is not an indexable operation")
		}
		for _, v := range lc.Values {
			if v.Type != ke.Type {
				return nil, Validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		if isHash {
			if lc.Op != expr.OpEQ {
				return nil, Validation("Query key condition not supported")
			}
			kc.Hash = lc.Values[0]
			continue
		}
		kc.RangeOp, kc.Range = rangeOp, lc.Values
	}
	return kc, nil
}

// checkAttributesToGet returns DynamoDB's error for a name listed twice.
func checkAttributesToGet(names []string) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			return Validation("One or more parameter values were invalid: Duplicate value in attribute name: %s", n)
		}
		seen[n] = true
	}
	return nil
}

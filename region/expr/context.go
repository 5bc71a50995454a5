package expr

import (
	"sort"
	"strings"

	"github.com/globaltables/globaltables/store/attr"
)

// Context holds one request's ExpressionAttributeNames and
// ExpressionAttributeValues and records which of them the request's
// expressions used. DynamoDB rejects a request that supplies a placeholder
// none of its expressions uses, so the API layer parses every expression of
// a request with the same Context and then calls CheckUnused.
//
// A Context belongs to one request and is not safe for concurrent use. A
// nil *Context behaves as one with no placeholders.
type Context struct {
	names      map[string]string
	values     map[string]attr.Value
	usedNames  map[string]bool
	usedValues map[string]bool
}

// NewContext returns a Context for the request's placeholders. Either map
// may be nil. The maps are read, never modified; parsed expressions keep
// copies of the values they use.
func NewContext(names map[string]string, values map[string]attr.Value) *Context {
	return &Context{
		names:      names,
		values:     values,
		usedNames:  map[string]bool{},
		usedValues: map[string]bool{},
	}
}

// name resolves an expression attribute name such as "#a" and marks it used.
func (c *Context) name(placeholder string) (string, bool) {
	if c == nil {
		return "", false
	}
	n, ok := c.names[placeholder]
	if ok {
		c.usedNames[placeholder] = true
	}
	return n, ok
}

// value resolves an expression attribute value such as ":v" and marks it
// used.
func (c *Context) value(placeholder string) (attr.Value, bool) {
	if c == nil {
		return attr.Value{}, false
	}
	v, ok := c.values[placeholder]
	if ok {
		c.usedValues[placeholder] = true
	}
	return v, ok
}

// CheckUnused returns DynamoDB's error for placeholders that no expression
// parsed with c used: names first, then values, as DynamoDB reports them.
// DynamoDB lists the keys in no particular order; they are sorted here so
// the message is stable.
func (c *Context) CheckUnused() error {
	if c == nil {
		return nil
	}
	if keys := unused(c.names, c.usedNames); len(keys) > 0 {
		return newError("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(keys, ", "))
	}
	if keys := unused(c.values, c.usedValues); len(keys) > 0 {
		return newError("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(keys, ", "))
	}
	return nil
}

func unused[V any](m map[string]V, used map[string]bool) []string {
	var keys []string
	for k := range m {
		if !used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
